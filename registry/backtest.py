"""Evidence before promotion: the candidate and the team's active model forecast the team's most
recent held-out days (never trained on) with the evaluation protocol (inference.evaluation: the
served forecast, MAE relative to seasonal naive, geometric mean over server and metric), and the
candidate goes live only if it beats both seasonal naive and the active model by
ARGUS_PROMOTION_MARGIN."""
from django.conf import settings

from feeds.schema import SLOTS_PER_DAY

FIGURES = ("relative_mase", "relative_mase_vs_level_adjusted_seasonal_naive", "worst_vs_seasonal_naive",
           "coverage_80", "wql", "n_series")


def figures_of(forecaster, series, held_out_days: int) -> dict:
    from inference.evaluation import evaluate

    result = evaluate(forecaster, series, held_out=held_out_days * SLOTS_PER_DAY)
    summary = result["summary"]
    return {**{k: round(float(summary[k]), 4) for k in FIGURES if k in summary}, "origins": summary["n_origins"]}


def compare(candidate, active, series, held_out_days: int) -> dict:
    """The backtest figures of both models on the same windows, and the verdict."""
    figures = {"held_out_days": held_out_days, "servers": len(series),
               "candidate": figures_of(candidate, series, held_out_days),
               "active": {"version": active.version, **figures_of(active, series, held_out_days)},
               "margin": settings.ARGUS_PROMOTION_MARGIN}
    figures["promote"], figures["reason"] = verdict(figures["candidate"]["relative_mase"],
                                                    figures["active"]["relative_mase"])
    return figures


def verdict(candidate: float, active: float) -> tuple:
    """(promote, the reason in words) from the two relative MAEs (vs seasonal naive)."""
    margin = settings.ARGUS_PROMOTION_MARGIN
    if not candidate < 1.0:
        return False, f"does not beat seasonal naive on the held-out days ({candidate:.3f} of its error)"
    if not candidate <= active * (1 - margin):
        return False, (f"not {margin:.0%} better than the active model on the held-out days "
                       f"({candidate:.3f} against {active:.3f} of seasonal naive's error)")
    return True, (f"{1 - candidate / active:.1%} better than the active model on the held-out days "
                  f"({candidate:.3f} against {active:.3f} of seasonal naive's error)")
