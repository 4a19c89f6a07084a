"""The model registry in Django admin: the model and job lists, the fine-tune action on teams,
cancelling a job and making a model active (tests/test_registry.py covers the API)."""
from registry.models import ForecastModel, TrainingJob
from tests.registry_helpers import register_model, store_history
from tests.test_admin import admin_client  # noqa: F401  (fixture)


def act(admin_client, path, action, pks):
    return admin_client.post(path, {"action": action, "_selected_action": [str(pk) for pk in pks]}, follow=True)


def test_the_fine_tune_action_queues_a_job_or_says_why_not(admin_client, team_a, team_b):
    store_history(team_a.team, servers=2, days=6)
    response = act(admin_client, "/admin/feeds/team/", "fine_tune", [team_a.team.pk, team_b.team.pk])
    text = response.content.decode()
    job = TrainingJob.objects.get(team=team_a.team)
    assert f"Training job {job.pk} queued for team-a" in text
    assert "No training job for team-b: the team has 0 day(s) of history" in text
    assert not TrainingJob.objects.filter(team=team_b.team).exists()
    assert job.requested_by == "admin root"


def test_jobs_are_listed_and_cancelled_from_admin(admin_client, team_a):
    store_history(team_a.team, servers=2, days=6)
    act(admin_client, "/admin/feeds/team/", "fine_tune", [team_a.team.pk])
    job = TrainingJob.objects.get(team=team_a.team)
    listing = admin_client.get("/admin/registry/trainingjob/").content.decode()
    assert "queued" in listing
    act(admin_client, "/admin/registry/trainingjob/", "cancel", [job.pk])
    job.refresh_from_db()
    assert job.state == "cancelled"


def test_make_active_promotes_a_candidate_and_not_a_failed_model(admin_client, team_a):
    candidate = register_model(team_a, "team-a-1")
    failed = register_model(team_a, "team-a-2", state="failed")
    listing = admin_client.get("/admin/registry/forecastmodel/").content.decode()
    assert "team-a-1" in listing and "team-a-2" in listing
    text = act(admin_client, "/admin/registry/forecastmodel/", "make_active", [candidate.pk, failed.pk]).content.decode()
    assert "Now team-a&#x27;s active model: team-a-1" in text
    assert "Not activated: team-a-2 is failed" in text
    assert ForecastModel.objects.get(pk=candidate.pk).state == "active"
    assert ForecastModel.objects.get(pk=failed.pk).state == "failed"


def test_model_pages_show_no_blob_and_allow_no_edits(admin_client, team_a):
    model = register_model(team_a, "team-a-1")
    page = admin_client.get(f"/admin/registry/forecastmodel/{model.pk}/change/")
    assert page.status_code == 200
    assert "field-blob" not in page.content.decode() and "field-sha256" in page.content.decode()
    assert admin_client.get("/admin/registry/forecastmodel/add/").status_code == 403
