from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from core import views as core_views
from core.metrics_view import metrics_view
from feeds import views as feed_views
from history import views as history_views
from inference import views as inference_views
from registry import views as registry_views
from timeline import views as timeline_views

handler404 = "core.errors.json_404"
handler500 = "core.errors.json_500"

urlpatterns = [
    path("feed/data", feed_views.FeedDataView.as_view(), name="feed-data"),
    path("feed/servers/<path:server_name>", feed_views.ServerView.as_view(), name="feed-server"),
    path("predictions/current", inference_views.PredictionsCurrentView.as_view(), name="predictions-current"),
    path("predictions/servers/<path:server_name>/explain", inference_views.ExplainView.as_view(),
         name="predictions-explain"),
    path("alerts/active", inference_views.AlertsActiveView.as_view(), name="alerts-active"),
    path("alerts/history", timeline_views.AlertHistoryView.as_view(), name="alerts-history"),
    path("accuracy", inference_views.AccuracyView.as_view(), name="accuracy"),
    path("history/servers/<path:server_name>", history_views.ServerHistoryView.as_view(), name="history-server"),
    path("history/export.csv", history_views.ExportView.as_view(), name="history-export"),
    path("models", registry_views.ModelsView.as_view(), name="models"),
    path("models/train", registry_views.TrainView.as_view(), name="models-train"),
    path("models/jobs/<int:job_id>", registry_views.JobView.as_view(), name="models-job"),
    path("models/<str:version>/activate", registry_views.ActivateView.as_view(), name="models-activate"),
    path("status", core_views.StatusView.as_view(), name="status"),
    path("health", core_views.HealthView.as_view(), name="health"),
    path("metrics", metrics_view, name="metrics"),  # Prometheus, with ARGUS_METRICS_TOKEN only
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularRedocView.as_view(url_name="schema"), name="docs"),
    path("admin/", admin.site.urls),
    path("", include("dashboard.urls")),  # /login/, /logout/, /dashboard/...
]
