"""A memory leak end to end through the real processes: a feeder posts to gunicorn, the Celery
worker runs the shipped model, the notifier (the `notify` queue's worker) and celery beat push
the alert to a real Alertmanager and to a team webhook. The webhook hangs while the leak builds
up: every run still completes at once, and the events arrive once the endpoint answers again.
When the leak stops (a restart), the alert resolves in Alertmanager and the webhook hears it."""
import json
import time

import pandas as pd
import pytest
import requests

from inference.simulator import simulate_fleet
from tests.feeding import feed_frame, to_records, wait_for_predictions
from tests.live import LiveStack
from tests.notify_helpers import Alertmanager, WebhookReceiver

SECRET = "live-test-webhook-secret-0123456789"
LEAKY, METRIC = "ppapi001", "mem_used_pct"  # web_api: memory threshold 85
HANG_TIMEOUT = 10  # ARGUS_NOTIFY_TIMEOUT: a run that waited on the webhook would take at least this


@pytest.fixture
def stack(tmp_path, redis_url):
    alertmanager = Alertmanager(tmp_path)
    receiver = WebhookReceiver(SECRET)
    stack = LiveStack(tmp_path, redis_url)
    common = {"ARGUS_ALERTMANAGER_URL": alertmanager.url, "ARGUS_NOTIFY_SECONDS": 2,
              "ARGUS_NOTIFY_TIMEOUT": HANG_TIMEOUT, "ARGUS_WEBHOOK_RETRY_SECONDS": 1, "ARGUS_WEBHOOK_MAX_ATTEMPTS": 20}
    try:
        stack.url = stack.start_web(ARGUS_RATE_FEED="100000/min", ARGUS_RATE_READ="100000/min", **common)
        stack.start_worker(**common)
        stack.start_notifier(**common)
        stack.start_beat(**common)
        stack.key = stack.create_key("ops")
        stack.manage("shell", "-c", "from feeds.models import Team; from notify.models import TeamWebhook; "
                     f"TeamWebhook.objects.create(team=Team.objects.get(slug='ops'), url={receiver.url!r}, "
                     f"secret={SECRET!r})")
        stack.alertmanager, stack.receiver = alertmanager, receiver
        yield stack
    finally:
        receiver.stop()
        stack.stop()
        alertmanager.stop()


def post_tick(stack, frame):
    response = requests.post(stack.url + "/feed/data", json={"records": to_records(frame)},
                             headers={"X-API-Key": stack.key}, timeout=30)
    assert response.status_code == 200, response.text
    return wait_for_predictions(stack.url, stack.key, response.json()["tick"], timeout=60)


def leak_events(receiver) -> list:
    return [e["event"] for e in receiver.events() if (e["server_name"], e["metric"]) == (LEAKY, METRIC)]


def wait_for_event(receiver, event, timeout=120):
    deadline = time.monotonic() + timeout
    while event not in leak_events(receiver):
        assert time.monotonic() < deadline, f"no {event} event; received {receiver.events()}"
        time.sleep(0.2)


def test_a_leaks_alert_reaches_alertmanager_and_the_webhook_and_resolves_when_it_stops(stack):
    am, receiver = stack.alertmanager, stack.receiver
    records, _ = simulate_fleet(3, days=1.2, seed=4, incident_rate=0)
    times = sorted(records["timestamp"].unique())
    wait_for_predictions(stack.url, stack.key, feed_frame(stack.url, stack.key, records[records["timestamp"] <= times[-13]]))

    receiver.mode = "hang"  # from now on the endpoint takes requests and never answers
    leak = records[records["timestamp"] > times[-13]].copy()
    base = float(records[(records["server_name"] == LEAKY) & (records["timestamp"] == times[-13])][METRIC].iloc[0])
    for k, t in enumerate(times[-12:], start=1):  # memory climbs to 97% over an hour
        leak.loc[(leak["timestamp"] == t) & (leak["server_name"] == LEAKY), METRIC] = round(base + (97 - base) * k / 12, 1)
        document = post_tick(stack, leak[leak["timestamp"] == t])
        assert document["compute_seconds"] < HANG_TIMEOUT / 2  # the run never waits on the webhook
    (alert,) = am.wait_for(lambda alerts: [a["labels"]["severity"] for a in alerts] == ["critical"],
                           server=LEAKY, metric=METRIC)
    assert alert["labels"]["team"] == "ops" and alert["labels"]["alertname"] == "ArgusIncidentRisk"
    assert alert["annotations"]["summary"].startswith("Memory exhaustion")
    assert receiver.hung >= 1 and leak_events(receiver) == []  # tried, held, nothing delivered yet

    receiver.mode = "ok"
    receiver.released.set()  # the endpoint is back: the retries deliver
    wait_for_event(receiver, "opened")

    restart = leak[leak["timestamp"] == times[-1]].copy()  # the leak stops: a restart frees the memory
    for k in range(1, 4):
        restart["timestamp"] = pd.Timestamp(times[-1]) + pd.Timedelta(minutes=5 * k)
        restart.loc[restart["server_name"] == LEAKY, METRIC] = base
        post_tick(stack, restart)
    am.wait_for(lambda alerts: alerts == [], server=LEAKY, metric=METRIC)
    wait_for_event(receiver, "resolved")
    assert all(r.verified for r in receiver.requests)
    assert {json.loads(r.body)["team"] for r in receiver.requests} == {"ops"}
    events = leak_events(receiver)
    assert events[0] == "opened" and events[-1] == "resolved"
