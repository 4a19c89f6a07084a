"""What the dashboard tests share: people in teams, and a team whose windows, history and cached
predictions are real (the tiny model's run over a simulated fleet, in process)."""
import pandas as pd

from dashboard.models import Membership
from feeds.records import validate_batch
from feeds.windows import append_batch
from history.archiver import archive_all
from inference.runner import run_team_predictions
from tests.feeding import to_records

PASSWORD = "correct horse battery staple"
LEVEL_COLOURS = {"critical": "#FF0000", "warning": "#FFA500", "degraded": "#FFD700", "healthy": "#00FF00"}


def member(username, *tenants, staff=False):
    """A user (password PASSWORD) who belongs to the tenants' teams."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(username, password=PASSWORD, is_staff=staff)
    for tenant in tenants:
        Membership.objects.create(user=user, team=tenant.team)
    return user


def fleet_records(tiny_fleet, hours, prefix=None):
    """The tiny fleet's last `hours` of records, moved in time to end at the latest 5-minute slot
    (history keeps only the last ARGUS_HISTORY_DAYS); server names prefixed (another team's fleet)."""
    records, _ = tiny_fleet
    recent = records[records["timestamp"] > records["timestamp"].max() - pd.Timedelta(hours=hours)]
    now = pd.Timestamp.now(tz="UTC").tz_localize(None).floor("5min")
    recent = recent.assign(timestamp=recent["timestamp"] + (now - records["timestamp"].max()))
    if prefix:
        recent = recent.assign(server_name=prefix + recent["server_name"])
    return recent


def store(tenant, records, now=None):
    return append_batch(tenant.team.id, validate_batch(to_records(records), now=now))


def predicted(tenant, tiny_model, tiny_fleet, hours=30, prefix=None, archive=False):
    """Stores the fleet's last hours in the team's windows (and history when archive), runs the
    model for the team and returns the records stored."""
    records = fleet_records(tiny_fleet, hours, prefix)
    store(tenant, records)
    if archive:
        archive_all()
    summary = run_team_predictions(tenant.team.id, tiny_model)
    assert summary["stored"] is True
    return records


def explain_with(settings, model_dir):
    """Explanations (and server pages' warm-up) use this model directory, loaded now, so that no
    page starts loading one in a background thread."""
    from inference.explaining import explainer_model

    settings.ARGUS_MODEL_DIR = model_dir
    return explainer_model()
