"""Forecasts from each host's own daily rhythm, blended with the model's by their recent skill.

The model alone forecasts roughly a level on real hosts: its sense of the day comes from the
clock, learned on the simulator. Most real hosts repeat their own yesterday, at their own hours.
So for the metrics with a daily rhythm (CYCLIC) each server gets, beside the model's forecast,
four forecasts from its own history:

  seasonal_naive     the same time yesterday
  smoothed_seasonal  yesterday smoothed over an hour, shifted by how far the last hour's median
                     runs from the same hour yesterday (the shift fading by 0.97 per step)
  daily_profile      an exponentially weighted profile of the server's days (each new day
                     weighs PROFILE_ALPHA), shifted likewise
  recent_median      the median of the last hour (robust to one noisy point)

and the five are blended with weights proportional to each one's error ** -SKILL_POWER, the
error being its mean absolute error when it forecast the last three 8-hour stretches
(backtests from 8, 16 and 24 hours ago; the last, the same hours as the coming forecast a day
earlier, counts double). A server whose yesterday predicts today follows
yesterday; a noisy server without a rhythm follows its recent median or the model. The model's
P10-P90 band is recentred on the blend and scaled so that it held 80 % of the backtests' actual
values (split conformal calibration, per server and metric).

Weights and bands are refreshed every REFRESH_SLOTS of data time (the model's backtests cost
three more forward passes); the profile and them are kept per server (SeasonalState, stored by
inference.seasonal_state). The window needs two days (ARGUS_WINDOW_SLOTS >= WINDOW_SLOTS).
Slow metrics (memory, swap, disk) keep the model's forecast: their level and climbs matter, not
a daily shape. So does I/O wait, whose storms are spikes, not a rhythm: blended, yesterday's
spikes were forecast again (8 false alert episodes more in bench/incidents.py, seed 4242). docs/model.md has the measurements that chose every constant here (on the
training hosts of the host split; the evaluation hosts were measured once).
"""
from __future__ import annotations

import struct
import warnings
from dataclasses import dataclass

import numpy as np

from feeds.schema import SLOT_SECONDS, SLOTS_PER_DAY

from .baselines import LEVEL_DECAY, LEVEL_WINDOW
from .model.features import TARGETS, clip_to_ranges, target_array

CYCLIC = ("cpu_pct", "load_average")
CANDIDATES = ("model", "seasonal_naive", "smoothed_seasonal", "daily_profile", "recent_median")
BACKTESTS = 3  # 8-hour stretches, ending now, 8 and 16 hours ago
# How much each backtest counts in a candidate's error: the oldest covers the same hours of the
# day as the forecast about to be made (the 8 hours from a day ago), which on a daily host says
# most about how the candidate will do next (docs/model.md: chosen on the training fold)
BACKTEST_WEIGHTS = np.array([1.0, 1.0, 2.0]) / 4.0
REFRESH_SLOTS = 12  # weights and bands are recomputed after an hour of new data
PROFILE_ALPHA = 0.25
# 4, not 8: three backtests span one day, and with a format 3 model, whose errors on a spiky host
# jump from day to day, power 8 picked the day's lucky winner (docs/model.md: training fold)
SKILL_POWER = 4
LEVEL_SLOTS = LEVEL_WINDOW  # "the last hour", as the level-adjusted seasonal naive baseline reads it
SMOOTH_SLOTS = 13  # an hour, centred
COVERAGE = 0.80  # asked of the backtests (docs/model.md: chosen on the training fold)
BAND_SCALE_LIMITS = (0.2, 20.0)
DAY = SLOTS_PER_DAY
WINDOW_SLOTS = 2 * DAY + LEVEL_SLOTS + SMOOTH_SLOTS // 2  # 594: the 24-hour-old backtest needs its own yesterday
CYCLIC_INDEX = [TARGETS.index(t) for t in CYCLIC]
SMOOTHED = CANDIDATES.index("smoothed_seasonal")


def window_slots(forecaster) -> int:
    """The window that gives the blend its backtests and every backtest all of the model's
    inputs (for a model with lagged inputs: the day before its encoder)."""
    return max(WINDOW_SLOTS, forecaster.history_slots + BACKTESTS * forecaster.horizon)


@dataclass
class SeasonalState:
    """One server's kept state: its daily profile of the CYCLIC metrics (slot of day -> value,
    NaN = not seen) holding every slot up to profile_slot, and the blend's weights and band
    scales as computed at skill_slot."""

    profile_slot: int
    skill_slot: int
    profile: np.ndarray  # float32 [DAY, len(CYCLIC)]
    weights: np.ndarray  # float32 [len(CYCLIC), len(CANDIDATES)]
    band: np.ndarray  # float32 [len(CYCLIC)]

    HEADER = struct.Struct("<qq")

    @classmethod
    def new(cls) -> "SeasonalState":
        k, c = len(CYCLIC), len(CANDIDATES)
        weights = np.zeros((k, c), np.float32)
        weights[:, 0] = 1.0  # the model alone until there is a backtest
        return cls(-1, -1, np.full((DAY, k), np.nan, np.float32), weights, np.ones(k, np.float32))

    def pack(self) -> bytes:
        return (self.HEADER.pack(self.profile_slot, self.skill_slot) + self.profile.astype("<f4").tobytes()
                + self.weights.astype("<f4").tobytes() + self.band.astype("<f4").tobytes())

    @classmethod
    def unpack(cls, blob: bytes) -> "SeasonalState":
        k, c = len(CYCLIC), len(CANDIDATES)
        profile_slot, skill_slot = cls.HEADER.unpack_from(blob)
        floats = np.frombuffer(blob, "<f4", offset=cls.HEADER.size)
        if len(floats) != DAY * k + k * c + k:
            raise ValueError("seasonal state of another layout")
        return cls(profile_slot, skill_slot, floats[:DAY * k].reshape(DAY, k).copy(),
                   floats[DAY * k:DAY * k + k * c].reshape(k, c).copy(), floats[-k:].copy())


def fold_profile(profile: np.ndarray, history: np.ndarray, slots: np.ndarray) -> np.ndarray:
    """The profile [DAY, k] with each value of history [L, k] (consecutive slots, oldest first)
    folded in at its slot of day. NaN values are skipped; a slot seen first takes the value."""
    out = profile.copy()
    for start in range(0, len(history), DAY):  # a day at a time: its slots are all different
        value, at = history[start:start + DAY], slots[start:start + DAY] % DAY
        old = out[at]
        new = np.where(np.isnan(old), value, (1 - PROFILE_ALPHA) * old + PROFILE_ALPHA * value)
        out[at] = np.where(np.isfinite(value), new, old)
    return out


def _nanmedian(x, axis):
    """np.nanmedian without its warning for all-NaN slices (new servers and gaps have them),
    and without its cost where nothing is missing (the usual case: np.median is 20x faster)."""
    if np.isfinite(x).all():
        return np.median(x, axis=axis)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(x, axis=axis)


def own_forecasts(history: np.ndarray, end_slot: int, profile: np.ndarray, horizon: int) -> np.ndarray:
    """The four forecasts from the server's own history [L >= DAY + LEVEL_SLOTS, k] ending at
    end_slot: [4, horizon, k] (CANDIDATES after "model"), NaN where one has nothing to go on."""
    steps = np.arange(1, horizon + 1)
    fade = (LEVEL_DECAY ** steps)[:, None]
    recent = _nanmedian(history[-LEVEL_SLOTS:], axis=0)  # [k]
    yesterday = history[-DAY:-DAY + horizon]
    pad = SMOOTH_SLOTS // 2
    around = history[-DAY - pad:-DAY + horizon + pad]
    smoothed = np.stack([np.convolve(np.nan_to_num(around[:, j], nan=recent[j]), np.ones(SMOOTH_SLOTS) / SMOOTH_SLOTS,
                                     mode="valid") for j in range(history.shape[1])], axis=1)
    smoothed = np.where(np.isfinite(yesterday), smoothed, np.nan)  # no yesterday, no forecast
    shift = recent - _nanmedian(history[-DAY - LEVEL_SLOTS:-DAY], axis=0)
    smoothed_seasonal = smoothed + np.nan_to_num(shift) * fade
    ahead = profile[(end_slot + steps) % DAY]
    profile_shift = recent - _nanmedian(profile[(end_slot - np.arange(LEVEL_SLOTS)) % DAY], axis=0)
    daily_profile = ahead + np.nan_to_num(profile_shift) * fade
    return np.stack([yesterday, smoothed_seasonal, daily_profile, np.broadcast_to(recent, yesterday.shape)])


def skill_weights(errors: np.ndarray) -> np.ndarray:
    """errors [..., candidates] (NaN = no backtest) -> weights summing to 1 over candidates,
    proportional to error ** -SKILL_POWER (the model alone where nothing was backtested)."""
    finite = np.isfinite(errors)
    e = np.where(finite, np.maximum(errors, 1e-6), np.inf)
    best = e.min(axis=-1, keepdims=True)
    relative = e / np.where(np.isfinite(best), best, 1.0)  # >= 1, so the power cannot underflow to 0/0
    w = np.where(finite, relative ** -float(SKILL_POWER), 0.0)
    total = w.sum(axis=-1, keepdims=True)
    model_only = np.eye(errors.shape[-1])[0]
    return np.where(total > 0, w / np.where(total > 0, total, 1.0), model_only)


def band_scale(actual: np.ndarray, centre: np.ndarray, low: np.ndarray, high: np.ndarray) -> float:
    """How much the offsets low (<= 0) and high (>= 0) around centre must be scaled for
    COVERAGE of the actual values to fall inside (NaN actuals ignored)."""
    ok = np.isfinite(actual) & np.isfinite(centre)
    if not ok.any():
        return 1.0
    d = (actual - centre)[ok]
    side = np.where(d >= 0, np.maximum(high[ok], 1e-3), np.maximum(-low[ok], 1e-3))
    return float(np.clip(np.quantile(np.abs(d) / side, COVERAGE), *BAND_SCALE_LIMITS))


def forecast(forecaster, values: np.ndarray, end_slots: np.ndarray, server_profiles: list, states: list,
             chunk_size: int = 128) -> np.ndarray:
    """The served forecasts [n, horizon, len(TARGETS), quantiles] for windows values [n, W, 14]
    (last index = each server's end slot, NaN = missing): the model's, with the CYCLIC metrics
    blended as the module docstring says. states (one SeasonalState per server) are updated in
    place: profile folded forward, weights and bands refreshed when due."""
    n, W = values.shape[:2]
    H = forecaster.horizon
    end_slots = np.asarray(end_slots, dtype=np.int64)
    cyclic = target_array(values)[:, :, CYCLIC_INDEX]  # [n, W, k]
    for i, state in enumerate(states):
        fold_forward(state, cyclic[i], int(end_slots[i]))
    due = [i for i, s in enumerate(states) if W >= WINDOW_SLOTS
           and (s.skill_slot < 0 or end_slots[i] - s.skill_slot >= REFRESH_SLOTS)]
    # one model call for now and for the due servers' backtests
    offsets = [(i, 0) for i in range(n)] + [(i, b * H) for i in due for b in range(1, BACKTESTS + 1)]
    windows = np.stack([_pad(values[i, :W - off], W) for i, off in offsets])
    out = forecaster.predict(windows, (end_slots[[i for i, _ in offsets]] - [o for _, o in offsets]) * SLOT_SECONDS,
                             [server_profiles[i] for i, _ in offsets], chunk_size=chunk_size)
    model, backtests = out[:n], out[n:].reshape(len(due), BACKTESTS, *out.shape[1:]) if due else None
    qs = list(forecaster.quantiles)
    lo, mid, hi = qs.index(0.1), qs.index(0.5), qs.index(0.9)
    for d, i in enumerate(due):
        refresh_skill(states[i], cyclic[i], int(end_slots[i]), backtests[d][..., CYCLIC_INDEX, :], (lo, mid, hi))
    served = model.copy()
    if W < DAY + LEVEL_SLOTS + SMOOTH_SLOTS // 2:
        return served  # too short a window to hold a yesterday: the model alone
    for i in np.flatnonzero(np.isfinite(model[:, 0, 0, mid])):
        now_profile = fold_profile(states[i].profile, cyclic[i, -DAY:], end_slots[i] - np.arange(DAY - 1, -1, -1))
        own = own_forecasts(cyclic[i], int(end_slots[i]), now_profile, H)
        served[i][:, CYCLIC_INDEX, :] = blended(model[i][:, CYCLIC_INDEX, :], own, states[i], (lo, mid, hi))
    return clip_to_ranges(served)


def _pad(window: np.ndarray, length: int) -> np.ndarray:
    return np.concatenate([np.full((length - len(window), window.shape[1]), np.nan, np.float32), window])


def fold_forward(state: SeasonalState, cyclic: np.ndarray, end_slot: int):
    """Folds every slot of the window older than a day and newer than the state's profile into
    it (the last day stays out, so backtests over it never see their own answers)."""
    W = len(cyclic)
    last = end_slot - DAY  # the newest slot the stored profile may hold
    first = max(state.profile_slot + 1, end_slot - W + 1)
    if first > last:
        return
    positions = np.arange(first, last + 1) - (end_slot - W + 1)
    state.profile = fold_profile(state.profile, cyclic[positions], np.arange(first, last + 1))
    state.profile_slot = last


def refresh_skill(state: SeasonalState, cyclic: np.ndarray, end_slot: int, backtests: np.ndarray, qidx):
    """Weights and band scales from the backtests: backtests [BACKTESTS, H, k, quantiles] are the
    model's forecasts from 8, 16 and 24 hours ago."""
    lo, mid, hi = qidx
    H = backtests.shape[1]
    W = len(cyclic)
    errors = np.zeros((len(CYCLIC), len(CANDIDATES)))
    centres, actuals = [], []
    for b in range(1, BACKTESTS + 1):
        history = cyclic[:W - b * H]
        actual = cyclic[W - b * H:W - b * H + H]
        own = own_forecasts(history, end_slot - b * H, state.profile, H)
        candidates = np.concatenate([backtests[b - 1][None, :, :, mid], own])  # [C, H, k]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            errors += BACKTEST_WEIGHTS[b - 1] * np.nanmean(np.abs(candidates - actual[None]), axis=1).T
        centres.append(candidates)
        actuals.append(actual)
    weights = skill_weights(errors)
    # Too little history to backtest yesterday (a server's second day): on real hosts yesterday,
    # smoothed and shifted, is the safer guess than the model alone (docs/model.md).
    weights[np.isnan(errors[:, SMOOTHED])] = np.eye(len(CANDIDATES))[SMOOTHED]
    state.weights = weights.astype(np.float32)
    for j in range(len(CYCLIC)):
        centre = np.concatenate([_weighted(c[:, :, j], backtests[b][:, j, mid], state.weights[j])
                                 for b, c in enumerate(centres)])
        model = backtests[:, :, j, :].reshape(-1, backtests.shape[-1])
        state.band[j] = band_scale(np.concatenate(actuals)[:, j], centre,
                                   model[:, lo] - model[:, mid], model[:, hi] - model[:, mid])
    state.skill_slot = end_slot


def _weighted(candidates: np.ndarray, model: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Σ weight x candidate [C, H] -> [H], a candidate's missing values replaced by the model's."""
    filled = np.where(np.isfinite(candidates), candidates, model[None])
    return (weights[:, None] * filled).sum(axis=0)


def blended(model: np.ndarray, own: np.ndarray, state: SeasonalState, qidx) -> np.ndarray:
    """model [H, k, quantiles] and own [4, H, k] -> the served [H, k, quantiles]: P50 the
    weighted blend, P10/P90 the model's band around it, scaled by the state's band."""
    lo, mid, hi = qidx
    out = model.copy()
    for j in range(len(CYCLIC)):
        centre = _weighted(np.concatenate([model[None, :, j, mid], own[:, :, j]]), model[:, j, mid], state.weights[j])
        # (a barely trained network's quantiles can cross: the band never turns inside out)
        out[:, j, lo] = centre + state.band[j] * np.minimum(model[:, j, lo] - model[:, j, mid], 0)
        out[:, j, mid] = centre
        out[:, j, hi] = centre + state.band[j] * np.maximum(model[:, j, hi] - model[:, j, mid], 0)
    return out
