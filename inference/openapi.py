"""Response shapes of the read endpoints, for the OpenAPI schema (documentation only)."""
from drf_spectacular.utils import PolymorphicProxySerializer
from rest_framework import serializers


class Alert(serializers.Serializer):
    server_name = serializers.CharField()
    level = serializers.ChoiceField(choices=["critical", "warning", "degraded"])
    risk_score = serializers.IntegerField(min_value=0, max_value=100)
    profile = serializers.CharField()
    metric = serializers.CharField(help_text="The forecast metric at risk, e.g. mem_used_pct.")
    message = serializers.CharField(help_text='What and when, e.g. "Memory exhaustion predicted in 45 minutes".')
    time_to_issue = serializers.CharField(help_text='"now", "45 minutes", "2 hours 15 minutes": the first '
                                          "forecast step whose P50 (P90 for degraded) reaches the threshold.")
    minutes_to_issue = serializers.IntegerField(allow_null=True)
    since = serializers.CharField(required=False, help_text="When this alert (server and metric) opened, in "
                                  "data time: it stays the same while the alert stays open, whatever its level "
                                  "(GET /alerts/history has every transition).")


class AlertsDocument(serializers.Serializer):
    timestamp = serializers.CharField()
    tick = serializers.IntegerField(required=False)
    count = serializers.IntegerField()
    alerts = Alert(many=True)


class AlertBadge(serializers.Serializer):
    level = serializers.ChoiceField(choices=["critical", "warning", "degraded", "healthy"])
    score = serializers.IntegerField()
    color = serializers.CharField(help_text="critical #FF0000, warning #FFA500, degraded #FFD700, healthy #00FF00")
    emoji = serializers.CharField()
    label = serializers.CharField()


class Quantiles(serializers.Serializer):
    p10 = serializers.ListField(child=serializers.FloatField())
    p50 = serializers.ListField(child=serializers.FloatField())
    p90 = serializers.ListField(child=serializers.FloatField())


class Forecast(serializers.Serializer):
    timestamps = serializers.ListField(child=serializers.CharField(), help_text="96 steps of 5 minutes, "
                                       "starting one step after the server's last point.")
    cpu_pct = serializers.ListField(child=serializers.FloatField(), help_text="P50 of 100 - cpu_idle_pct.")
    mem_pct = serializers.ListField(child=serializers.FloatField(), help_text="P50 of mem_used_pct.")
    quantiles = serializers.DictField(child=Quantiles(), help_text="P10/P50/P90 of every forecast metric: "
                                      "cpu_pct, mem_used_pct, cpu_iowait_pct, swap_used_pct, load_average, disk_usage_pct.")


class ServerPrediction(serializers.Serializer):
    risk_score = serializers.IntegerField(min_value=0, max_value=100)
    profile = serializers.CharField()
    alert = AlertBadge()
    display_metrics = serializers.DictField()
    forecast = Forecast()
    risks = serializers.DictField(help_text="Per scored metric (the six forecast ones and the two CLOSE_WAIT counts): risk, threshold, minutes_to_issue, evidence (now/p50/p90).")
    last_point = serializers.CharField(help_text="Data time of the server's newest point.")
    last_received_age_seconds = serializers.FloatField(help_text="Wall-clock age of that point's arrival.")
    stale = serializers.BooleanField(help_text="Newest point lags the team's newest by more than ARGUS_STALE_SECONDS.")
    gaps = serializers.BooleanField(help_text="The window has a gap longer than ARGUS_MAX_FILL_SECONDS.")


class Summary(serializers.Serializer):
    total_servers = serializers.IntegerField()
    critical = serializers.IntegerField()
    warning = serializers.IntegerField()
    degraded = serializers.IntegerField()
    healthy = serializers.IntegerField()
    fleet_health = serializers.FloatField(help_text="Mean of 100 - risk over the servers.")
    prob_30m = serializers.FloatField(help_text="P(at least one breach within 30 minutes).")
    prob_8h = serializers.FloatField(help_text="P(at least one breach within 8 hours).")
    stale_servers = serializers.IntegerField()
    insufficient_history = serializers.IntegerField()


class Model(serializers.Serializer):
    version = serializers.CharField()
    device = serializers.CharField()


class PredictionsDocument(serializers.Serializer):
    age_seconds = serializers.FloatField(help_text="Seconds since the document was computed.")
    timestamp = serializers.CharField()
    generated_at = serializers.FloatField()
    data_timestamp = serializers.CharField(help_text="Data time of the team's newest point.")
    tick = serializers.IntegerField(help_text="The team's tick the document covers.")
    model = Model()
    compute_seconds = serializers.FloatField()
    summary = Summary()
    predictions = serializers.DictField(child=ServerPrediction(), help_text="By server name.")
    alerts = Alert(many=True)
    insufficient_history = serializers.DictField(child=serializers.IntegerField(),
                                                 help_text="Servers with fewer than 12 points: points held.")


class PredictionsNotReady(serializers.Serializer):
    """Before the team's first prediction: still warming up, or the first run not done yet."""

    error = serializers.ChoiceField(choices=["insufficient_data", "pending"])
    message = serializers.CharField()
    predictions = serializers.DictField(help_text="Empty.")


# 200 answers either shape.
PredictionsResult = PolymorphicProxySerializer(
    component_name="PredictionsResult", serializers=[PredictionsDocument, PredictionsNotReady],
    resource_type_field_name=None)


class AccuracyFigures(serializers.Serializer):
    points = serializers.IntegerField(help_text="Forecast points scored.")
    mae = serializers.FloatField(help_text="Mean |P50 - actual|.")
    seasonal_naive_mae = serializers.FloatField(help_text="Mean |value a day before - actual| on the same points.")
    relative_mae = serializers.FloatField(allow_null=True, help_text="mae / seasonal_naive_mae; below 1 beats "
                                          "seasonal naive; null when seasonal naive was exact.")
    coverage_p10_p90 = serializers.FloatField(help_text="Share of actual values within P10-P90 (0.8 is calibrated).")


class MetricAccuracy(AccuracyFigures):
    horizons = serializers.DictField(child=AccuracyFigures(), help_text="By horizon: 1h, 4h, 8h.")


class AccuracyDocument(serializers.Serializer):
    window_days = serializers.IntegerField(help_text="7: the rolling window, in days of data.")
    horizons = serializers.DictField(child=serializers.IntegerField(), help_text="Minutes ahead of each horizon.")
    start = serializers.CharField(allow_null=True, help_text="First moment of the window (UTC; null before any point).")
    end = serializers.CharField(allow_null=True, help_text="End of the window: the end of the newest scored day.")
    metrics = serializers.DictField(child=MetricAccuracy(), help_text="By forecast metric; only metrics with points.")


class AttentionStep(serializers.Serializer):
    timestamp = serializers.CharField(help_text="A past step of the encoder (UTC)")
    weight = serializers.FloatField()


class ExplanationVariables(serializers.Serializer):
    encoder = serializers.DictField(child=serializers.FloatField(), help_text="input -> weight; sums to 1")
    decoder = serializers.DictField(child=serializers.FloatField(), help_text="input -> weight; sums to 1")
    static = serializers.DictField(child=serializers.FloatField(), help_text="input -> weight; sums to 1")


class Explanation(serializers.Serializer):
    server_name = serializers.CharField()
    tick = serializers.IntegerField(help_text="The team's tick the window was read at")
    model = serializers.CharField(help_text="The version of the model that explained it")
    window_end = serializers.CharField(help_text="The window's newest slot (UTC)")
    variables = ExplanationVariables()
    attention = AttentionStep(many=True, help_text="Oldest first; sums to 1")
