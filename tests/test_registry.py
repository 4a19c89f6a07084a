"""The model registry (registry/): the shipped model registered at migrate, blobs, the /models
endpoints, activation and rollback, and which model a worker process uses for a team: hot
reload, the bounded cache, and the fallback when a model cannot be loaded. Real database, real
Redis, real models (the shipped one); no worker processes (tests/test_registry_live.py has them)."""
import io
import tarfile

import pytest

from registry import blobs
from registry.models import ForecastModel, TrainingJob
from tests.registry_helpers import register_model, store_history

pytestmark = pytest.mark.django_db


@pytest.fixture
def shipped():
    return ForecastModel.objects.get(team=None, state="active")


@pytest.fixture(scope="module")
def default_forecaster():
    from django.conf import settings

    from inference.model.storage import load_forecaster

    return load_forecaster(settings.ARGUS_MODEL_DIR, device="cpu")


def test_migrate_registers_the_shipped_model_as_the_active_global_default(shipped, settings, tmp_path):
    import json

    manifest = json.loads((settings.ARGUS_MODEL_DIR / "manifest.json").read_text())
    assert shipped.version == manifest["version"]
    assert shipped.sha256 == blobs.sha256(shipped.blob)
    blobs.unpack(shipped.blob, tmp_path / "m", shipped.sha256)
    for name in ("model.ckpt", "manifest.json", "normalisers.json"):
        assert (tmp_path / "m" / name).read_bytes() == (settings.ARGUS_MODEL_DIR / name).read_bytes()


def test_a_new_shipped_model_replaces_the_global_default(shipped, settings, tmp_path):
    import json
    import shutil

    from registry.defaults import register_shipped_model

    assert register_shipped_model() is False  # already the active default: nothing changes
    newer = tmp_path / "newer"
    shutil.copytree(settings.ARGUS_MODEL_DIR, newer)
    manifest = json.loads((newer / "manifest.json").read_text())
    (newer / "manifest.json").write_text(json.dumps({**manifest, "version": "tft-newer"}))
    settings.ARGUS_MODEL_DIR = newer
    assert register_shipped_model() is True
    assert ForecastModel.objects.get(team=None, state="active").version == "tft-newer"
    assert ForecastModel.objects.get(version=shipped.version).state == "retired"


def test_a_corrupt_or_unsafe_blob_is_refused(shipped, tmp_path):
    damaged = bytearray(shipped.blob)
    damaged[len(damaged) // 2] ^= 0xFF
    with pytest.raises(blobs.BlobError, match="checksum"):
        blobs.unpack(bytes(damaged), tmp_path / "a", shipped.sha256)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("../escape")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    evil = buffer.getvalue()
    with pytest.raises(blobs.BlobError, match="not a plain file"):
        blobs.unpack(evil, tmp_path / "b", blobs.sha256(evil))
    assert not (tmp_path / "escape").exists()


def test_models_lists_the_teams_own_and_the_global_default(client, team_a, team_b, shipped):
    register_model(team_a, "team-a-1")
    register_model(team_b, "team-b-1")
    body = client.get("/models", **team_a.headers).json()
    assert body["active"] == shipped.version
    assert {m["version"]: m["team"] for m in body["models"]} == {"team-a-1": "team-a", shipped.version: None}


def test_activate_promotes_and_rolls_back_within_the_team_only(client, team_a, team_b, shipped):
    first = register_model(team_a, "team-a-1")
    register_model(team_a, "team-a-2")
    assert client.post("/models/team-a-1/activate", **team_a.headers).json() == {"active": "team-a-1"}
    assert client.post("/models/team-a-2/activate", **team_a.headers).json() == {"active": "team-a-2"}
    first.refresh_from_db()
    assert first.state == "retired"
    assert client.post("/models/team-a-1/activate", **team_a.headers).json() == {"active": "team-a-1"}
    assert ForecastModel.objects.get(version="team-a-2").state == "retired"
    # rollback to the global default retires the team's own
    assert client.post(f"/models/{shipped.version}/activate", **team_a.headers).json() == {"active": shipped.version}
    assert not ForecastModel.objects.filter(team=team_a.team, state="active").exists()
    # another team's model does not exist for team b; team b still uses the global default
    response = client.post("/models/team-a-1/activate", **team_b.headers)
    assert response.status_code == 404
    assert client.get("/models", **team_b.headers).json()["active"] == shipped.version


def test_a_model_without_weights_cannot_be_activated(client, team_a):
    register_model(team_a, "team-a-failed", state="failed")
    response = client.post("/models/team-a-failed/activate", **team_a.headers)
    assert response.status_code == 409
    assert "failed" in response.json()["detail"]


def test_training_needs_enough_history_and_says_how_much(client, team_a, settings):
    response = client.post("/models/train", {"max_minutes": 1, "days": 14}, format="json", **team_a.headers)
    assert response.status_code == 422
    assert "has 0 day(s) of history" in response.json()["detail"]
    assert f"at least {settings.ARGUS_BACKTEST_DAYS + 3}" in response.json()["detail"]
    assert not TrainingJob.objects.exists()


@pytest.mark.parametrize("body, field", [({"max_minutes": 0}, "max_minutes"), ({"max_minutes": "5"}, "max_minutes"),
                                         ({"days": 2.5}, "days"), ({"days": 10_000}, "days"), ({"epochs": 3}, "body")])
def test_a_bad_training_request_is_a_400_naming_the_field(client, team_a, body, field):
    response = client.post("/models/train", body, format="json", **team_a.headers)
    assert response.status_code == 400
    assert response.json()["detail"].startswith(field)


def test_one_open_job_per_team_and_a_queued_job_cancels_at_once(client, team_a, team_b):
    store_history(team_a.team, servers=2, days=6)
    response = client.post("/models/train", {"max_minutes": 1, "days": 6}, format="json", **team_a.headers)
    assert response.status_code == 202
    job = response.json()["job"]
    again = client.post("/models/train", {"max_minutes": 1, "days": 6}, format="json", **team_a.headers)
    assert again.status_code == 409 and again.json()["job"] == job
    assert client.get(f"/models/jobs/{job}", **team_b.headers).status_code == 404
    assert client.delete(f"/models/jobs/{job}", **team_b.headers).status_code == 404
    assert client.get(f"/models/jobs/{job}", **team_a.headers).json()["state"] == "queued"
    cancelled = client.delete(f"/models/jobs/{job}", **team_a.headers).json()
    assert cancelled["state"] == "cancelled"
    # a queued job cancelled before the trainer took it is never run
    from registry.finetune import run_job

    assert run_job(job) == "skipped"


def test_a_team_uses_its_active_model_from_the_next_run(team_a, team_b, shipped, default_forecaster):
    from registry.promotion import activate
    from registry.serving import LoadedModels

    models = LoadedModels(default_forecaster, max_loaded=2)
    assert models.for_team(team_a.team.id).forecaster is default_forecaster
    activate(team_a.team, register_model(team_a, "team-a-1"))
    choice = models.for_team(team_a.team.id)
    assert choice.forecaster.version == "team-a-1" and choice.error is None
    assert choice.forecaster is not default_forecaster
    assert models.for_team(team_b.team.id).forecaster is default_forecaster
    # the cache is bounded: the least recently used model goes
    for version in ("team-a-2", "team-a-3"):
        activate(team_a.team, register_model(team_a, version))
        assert models.for_team(team_a.team.id).forecaster.version == version
    assert len(models) == 2


def test_a_corrupt_model_falls_back_and_status_says_so(client, team_a, shipped, default_forecaster):
    from registry.promotion import activate
    from registry.serving import LoadedModels, report

    broken = register_model(team_a, "team-a-broken")
    ForecastModel.objects.filter(pk=broken.pk).update(blob=bytes(broken.blob)[:1000])
    activate(team_a.team, ForecastModel.objects.get(pk=broken.pk))
    models = LoadedModels(default_forecaster)
    choice = models.for_team(team_a.team.id)
    assert choice.forecaster.version == shipped.version
    assert choice.wanted == "team-a-broken" and "corrupt" in choice.error
    report(team_a.team.id, choice)
    status = client.get("/status", **team_a.headers).json()
    assert status["active_model"] == "team-a-broken"
    assert status["model_fallback"]["used"] == shipped.version
    assert "corrupt" in status["model_fallback"]["error"]
    # rolled back: the next run uses the wanted model again and the note goes
    activate(team_a.team, shipped)
    choice = models.for_team(team_a.team.id)
    report(team_a.team.id, choice)
    assert client.get("/status", **team_a.headers).json()["model_fallback"] is None


@pytest.mark.slow  # trains
def test_train_model_for_a_team_runs_a_job_to_a_backtested_model(team_a, team_b, shipped, settings):
    from django.core.management import call_command

    settings.ARGUS_TRAIN_BATCHES_PER_EPOCH = 5
    store_history(team_a.team, servers=3, days=6)
    store_history(team_b.team, servers=2, days=6, seed=2)
    call_command("train_model", "--team", "team-a", "--max-minutes", "0.1", "--days", "6", stdout=io.StringIO())
    job = TrainingJob.objects.get(team=team_a.team)
    assert job.state == "succeeded" and job.finished is not None
    model = ForecastModel.objects.get(pk=job.model_id)
    assert model.team_id == team_a.team.id and model.state in ("candidate", "active")
    assert model.figures["servers"] == 3  # team a's servers only
    assert model.figures["active"]["version"] == shipped.version
    assert model.description["base"] == shipped.version and model.description["epochs_run"] >= 1
    assert blobs.sha256(model.blob) == model.sha256 and model.manifest["version"] == model.version
    assert not TrainingJob.objects.filter(team=team_b.team).exists()


@pytest.mark.parametrize("candidate, active, promote, says", [
    (0.80, 0.90, True, "11.1% better"), (0.89, 0.90, False, "not 2% better"), (1.01, 1.20, False, "seasonal naive")])
def test_a_candidate_is_promoted_only_if_it_beats_seasonal_naive_and_the_active_model_by_the_margin(
        candidate, active, promote, says, settings):
    from registry.backtest import verdict

    settings.ARGUS_PROMOTION_MARGIN = 0.02
    decided, reason = verdict(candidate, active)
    assert decided is promote and says in reason


def test_a_running_job_whose_trainer_died_reads_as_failed_and_frees_the_team(client, team_a):
    from datetime import timedelta

    from django.utils import timezone

    store_history(team_a.team, servers=2, days=6)
    job = TrainingJob.objects.create(team=team_a.team, max_minutes=5, days=6, state="running",
                                     heartbeat=timezone.now() - timedelta(minutes=10))
    body = client.get(f"/models/jobs/{job.pk}", **team_a.headers).json()
    assert body["state"] == "failed" and "trainer stopped answering" in body["log"]
    assert client.post("/models/train", {"max_minutes": 1, "days": 6}, format="json", **team_a.headers).status_code == 202


def test_a_job_ended_or_cancelled_while_it_finished_activates_nothing(team_a):
    from django.db import transaction

    from inference.model.training import TrainingCancelled
    from registry.finetune import still_running

    model = ForecastModel.objects.create(version="team-a-late", team=team_a.team, state="training")
    job = TrainingJob.objects.create(team=team_a.team, max_minutes=1, days=6, state="running", model=model)
    TrainingJob.objects.filter(pk=job.pk).update(cancel_requested=True)
    with pytest.raises(TrainingCancelled), transaction.atomic():
        still_running(job)
    TrainingJob.objects.filter(pk=job.pk).update(cancel_requested=False, state="failed")  # reaped meanwhile
    with transaction.atomic():
        assert still_running(job) is False
    assert job.state == "failed" and ForecastModel.objects.get(pk=model.pk).state == "failed"


def test_old_models_lose_their_weights_but_not_their_record(client, team_a, team_b, settings):
    from registry.retention import prune

    settings.ARGUS_KEEP_MODELS = 2
    for i in range(4):
        register_model(team_a, f"team-a-{i}", state="retired" if i < 3 else "candidate")
    register_model(team_b, "team-b-0", state="retired")
    assert prune(team_a.team) == (2, 0)
    sizes = dict(ForecastModel.objects.filter(team=team_a.team).values_list("version", "size_bytes"))
    assert [v for v, size in sorted(sizes.items()) if size] == ["team-a-2", "team-a-3"]  # the newest two
    assert ForecastModel.objects.get(version="team-b-0").size_bytes > 0  # another team's untouched
    response = client.post("/models/team-a-0/activate", **team_a.headers)
    assert response.status_code == 409 and "no longer kept" in response.json()["detail"]
