from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.generic import RedirectView

from . import views

urlpatterns = [
    path("", RedirectView.as_view(url="/dashboard/", permanent=False)),
    path("login/", auth_views.LoginView.as_view(template_name="dashboard/login.html",
                                                redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),  # POST only (a form with CSRF)
    path("dashboard/", views.fleet_page, name="dashboard-fleet"),
    path("dashboard/team", views.switch_team, name="dashboard-team"),
    path("dashboard/servers/<path:server_name>", views.server_page, name="dashboard-server"),
    path("dashboard/api/fleet", views.fleet_json, name="dashboard-api-fleet"),
    path("dashboard/api/servers/<path:server_name>", views.server_json, name="dashboard-api-server"),
    path("dashboard/api/explain/<path:server_name>", views.explain_json, name="dashboard-api-explain"),
]
