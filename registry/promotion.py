"""Which model is active for a team: a row change that inference workers see on their next run
(registry.serving). Rolling back is activating an older model, or the global default."""
from django.db import transaction
from django.utils import timezone

from .models import ForecastModel


class CannotActivate(Exception):
    pass


def active_for(team):
    """The model the team's runs use: its own active one, else the global active one."""
    models = ForecastModel.objects.defer("blob")
    own = models.filter(team=team, state=ForecastModel.ACTIVE).first() if team is not None else None
    return own or models.filter(team=None, state=ForecastModel.ACTIVE).first()


def lock_team(team):
    """Serialises the team's activations (a team on the global default has no active row to lock)."""
    from feeds.models import Team

    Team.objects.select_for_update().filter(pk=team.pk).first()


def activate(team, model: ForecastModel) -> ForecastModel:
    """Makes `model` (one of the team's trained models, or the global default) the team's
    active model; the team's previous own active model is retired."""
    if model.team_id not in (None, team.id):
        raise CannotActivate("the model belongs to another team")  # callers look models up by team
    if model.team_id is None:
        if model.state != ForecastModel.ACTIVE:
            raise CannotActivate(f"{model.version} is a retired global default; GET /models names the current one")
    elif model.state not in ForecastModel.USABLE:
        raise CannotActivate(f"{model.version} is {model.state}: it holds no trained model")
    elif not model.size_bytes:
        raise CannotActivate(f"{model.version}'s weights are no longer kept (ARGUS_KEEP_MODELS)")
    with transaction.atomic():
        lock_team(team)
        (ForecastModel.objects.select_for_update().filter(team=team, state=ForecastModel.ACTIVE)
         .exclude(pk=model.pk).update(state=ForecastModel.RETIRED))
        if model.team_id is not None and model.state != ForecastModel.ACTIVE:
            model.state, model.activated = ForecastModel.ACTIVE, timezone.now()
            model.save(update_fields=["state", "activated"])
    return model
