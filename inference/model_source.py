"""Which model a team's run (and its explanations) uses. inference/ knows only the model every
worker loads from ARGUS_MODEL_DIR; the registry app, which sits above inference, plugs in its
per-team source at startup (registry.apps: registry.serving.LoadedModels). Without it every team
uses the directory model."""
from dataclasses import dataclass


@dataclass
class Choice:
    forecaster: object
    wanted: str | None  # the version the team should use (None: unknown)
    error: str | None = None  # why the wanted model is not the one used
    sha256: str | None = None  # the registry checksum of the model used (None: the directory model)


class DirectoryModel:
    """Every team uses the one model."""

    def __init__(self, default):
        self.default = default

    def for_team(self, team_id) -> Choice:
        return Choice(self.default, self.default.version)

    def report(self, team_id, choice: Choice):
        pass


_factory = DirectoryModel


def plug(factory):
    """factory(default Forecaster) -> an object with for_team(team_id) -> Choice and
    report(team_id, choice), made once per process."""
    global _factory
    _factory = factory


def source_for(default):
    return _factory(default)
