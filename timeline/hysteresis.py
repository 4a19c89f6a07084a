"""How one alert (a server and a problem metric) moves between levels from run to run.

Raising is immediate; a drop (to a lower level, or to healthy: resolved) happens only after the
level has been lower than the open one for LOWER_RUNS consecutive runs, so that a risk hovering at
a threshold opens one alert, not one per run. The drop goes to the highest level seen during those
runs: the alert never claims less than the evidence of the last LOWER_RUNS runs.

Pure: levels are ranks (0 healthy, 1 degraded, 2 warning, 3 critical), times are slots."""
from dataclasses import dataclass

LOWER_RUNS = 2


@dataclass(frozen=True)
class OpenAlert:
    level: int  # 1-3
    since: int  # the slot of the run that opened it
    lower_runs: int = 0  # consecutive runs seen below `level`
    lower_peak: int = 0  # the highest level seen during those runs


@dataclass(frozen=True)
class Transition:
    event: str  # opened, escalated, de-escalated, resolved
    level: int
    previous_level: int | None


def advance(alert: OpenAlert | None, level: int, slot: int):
    """(the alert after this run, or None once resolved; the Transition it made, or None)."""
    if alert is None:
        if level == 0:
            return None, None
        return OpenAlert(level, slot), Transition("opened", level, None)
    if level > alert.level:
        return OpenAlert(level, alert.since), Transition("escalated", level, alert.level)
    if level == alert.level:
        return OpenAlert(level, alert.since), None
    runs = alert.lower_runs + 1
    peak = max(alert.lower_peak, level) if alert.lower_runs else level
    if runs < LOWER_RUNS:
        return OpenAlert(alert.level, alert.since, runs, peak), None
    if peak == 0:
        return None, Transition("resolved", 0, alert.level)
    return OpenAlert(peak, alert.since), Transition("de-escalated", peak, alert.level)
