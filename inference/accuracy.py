"""Live forecast accuracy: each run keeps what it forecast for 1, 4 and 8 hours ahead, and a later
run scores it once the actual value of that slot is in the server's window, beside seasonal naive
(the value one day, 288 slots, before the target slot) on the same points.

Redis, per team (core/keys.py):
  accuracy:pending  hash: server -> its forecasts waiting for their slot (PENDING records). A run
                    keeps a server's forecast when its newest slot is a multiple of
                    ARGUS_ACCURACY_ORIGIN_SLOTS, so at most about (12 + 48 + 96) / that entries of
                    77 bytes wait per server; an entry is removed by the first run whose window
                    reaches its slot, scored or not (no actual there, e.g. a gap).
  accuracy:sums     hash: "<day>:<metric>:<horizon>:<sum>" -> float, per data day of the target
                    slot; sums n (points), err (|P50 - actual|), naive (|naive - actual|) and
                    covered (P10 <= actual <= P90). Days before the newest WINDOW_DAYS are deleted
                    as the newest day advances, so the hash holds at most 8 days' fields.

Redis, not the database: the run touches it once per chunk of servers and /status reads it on
every request; a few hundred numbers per team need neither rows nor migrations."""
import numpy as np
from django.conf import settings

from core import keys
from core.redis import get_redis
from core.times import iso
from feeds.schema import SLOT_SECONDS, SLOTS_PER_DAY

from .model.features import TARGETS, target_array

HORIZONS = (("1h", 12), ("4h", 48), ("8h", 96))  # (name, steps of 5 minutes ahead)
WINDOW_DAYS = 7
STATS = ("n", "err", "naive", "covered")
PENDING = np.dtype([("target", "<i4"), ("horizon", "u1"), ("q", "<f4", (len(TARGETS), 3))])  # q: P10, P50, P90


def track(team_id, names, end_slots, windows, forecasts, quantiles):
    """Scores the team's waiting forecasts that these servers' windows now reach, and keeps this
    run's forecasts of them. names[k]'s window (RECORD array) is windows[name], its newest slot
    end_slots[k], its served forecast forecasts[k] [steps, targets, quantiles]."""
    if not len(names):
        return
    team = keys.team(team_id)
    client = get_redis()
    columns = [quantiles.index(q) for q in (0.1, 0.5, 0.9)]
    every = settings.ARGUS_ACCURACY_ORIGIN_SLOTS
    stored = client.hmget(team.accuracy_pending, names)
    due_parts, writes, removals = [], {}, []
    for k, name in enumerate(names):
        pending = np.frombuffer(stored[k], PENDING) if stored[k] else np.empty(0, PENDING)
        end = int(end_slots[k])
        due = pending["target"] <= end
        keep = pending[~due] if due.any() else pending
        if due.any():
            due_parts.append((windows[name], pending[due]))
        if end % every == 0:
            keep = with_new_forecasts(keep, end, forecasts[k], columns)
        if len(keep) == len(pending) and not due.any():
            continue  # unchanged
        if len(keep):
            writes[name] = keep.tobytes()
        else:
            removals.append(name)
    sums = score(due_parts)
    pipe = client.pipeline(transaction=False)
    if writes:
        pipe.hset(team.accuracy_pending, mapping=writes)
    if removals:
        pipe.hdel(team.accuracy_pending, *removals)
    for field, value in sums.items():
        pipe.hincrbyfloat(team.accuracy_sums, field, value)
    pipe.execute()
    if sums:
        drop_old_days(team_id, max(int(field.split(":")[0]) for field in sums))


def with_new_forecasts(keep, end: int, forecast, columns):
    """`keep` plus this forecast at each horizon, unless a forecast for that slot and horizon waits
    already (a run that found the server's window unchanged forecasts the same slots again)."""
    new = np.zeros(len(HORIZONS), PENDING)
    for h, (_, steps) in enumerate(HORIZONS):
        new[h] = (end + steps, h, forecast[steps - 1][:, columns])
    waiting = keep["target"].astype(np.int64) * 8 + keep["horizon"]
    fresh = ~np.isin(new["target"].astype(np.int64) * 8 + new["horizon"], waiting)
    return np.concatenate([keep, new[fresh]])


def score(due_parts) -> dict:
    """{sums field: increment} for the due forecasts whose target slot and the slot a day before
    it both hold a point (the others are dropped unscored)."""
    entries, actual, naive = [], [], []
    for records, due in due_parts:
        slots = records["slot"].astype(np.int64)
        at, found = locate(slots, due["target"].astype(np.int64))
        before, found_before = locate(slots, due["target"].astype(np.int64) - SLOTS_PER_DAY)
        ok = found & found_before
        entries.append(due[ok])
        actual.append(records["values"][at[ok]])
        naive.append(records["values"][before[ok]])
    if not entries or not sum(len(e) for e in entries):
        return {}
    entries = np.concatenate(entries)
    actual, naive = target_array(np.concatenate(actual)), target_array(np.concatenate(naive))
    q10, q50, q90 = (entries["q"][:, :, i] for i in range(3))
    valid = np.isfinite(actual) & np.isfinite(naive) & np.isfinite(q50)
    values = {"n": valid.astype(np.float64),
              "err": np.where(valid, np.abs(q50 - actual), 0.0),
              "naive": np.where(valid, np.abs(naive - actual), 0.0),
              "covered": (valid & (q10 <= actual) & (actual <= q90)).astype(np.float64)}
    days = entries["target"].astype(np.int64) // SLOTS_PER_DAY
    sums = {}
    for day in np.unique(days):
        for h, (horizon, _) in enumerate(HORIZONS):
            rows = (days == day) & (entries["horizon"] == h)
            if not rows.any():
                continue
            for stat, array in values.items():
                totals = array[rows].sum(axis=0)
                for t, metric in enumerate(TARGETS):
                    if values["n"][rows, t].sum():
                        sums[f"{day}:{metric}:{horizon}:{stat}"] = float(totals[t])
    return sums


def locate(slots, wanted):
    """(index of each wanted slot in the sorted `slots`, whether it is there)."""
    at = np.minimum(np.searchsorted(slots, wanted), len(slots) - 1)  # a window is never empty
    return at, slots[at] == wanted


def drop_old_days(team_id, newest_day: int):
    key = keys.team(team_id).accuracy_sums
    client = get_redis()
    old = [f for f in client.hkeys(key) if int(f.split(b":")[0]) <= newest_day - WINDOW_DAYS]
    if old:
        client.hdel(key, *old)


def forget_server(team_id, server_name: str) -> bool:
    """Drops the server's waiting forecasts (what it already counted stays in the team's sums)."""
    return get_redis().hdel(keys.team(team_id).accuracy_pending, server_name) > 0


def team_accuracy(team_id) -> dict:
    """The rolling WINDOW_DAYS up to the newest scored day: per metric, over every horizon, and per
    horizon. Empty `metrics` before any forecast was scored."""
    sums = {}
    for raw_field, raw_value in get_redis().hgetall(keys.team(team_id).accuracy_sums).items():
        day, metric, horizon, stat = raw_field.decode().split(":")
        sums[(int(day), metric, horizon, stat)] = float(raw_value)
    newest = max((day for day, *_ in sums), default=None)
    document = {"window_days": WINDOW_DAYS, "horizons": {name: steps * SLOT_SECONDS // 60 for name, steps in HORIZONS},
                "start": None, "end": None, "metrics": {}}
    if newest is None:
        return document
    first = newest - WINDOW_DAYS + 1
    document["start"] = iso(first * SLOTS_PER_DAY * SLOT_SECONDS)
    document["end"] = iso((newest + 1) * SLOTS_PER_DAY * SLOT_SECONDS)
    totals = {}  # (metric, horizon) -> {stat: sum over the window's days}
    for (day, metric, horizon, stat), value in sums.items():
        if day >= first:
            entry = totals.setdefault((metric, horizon), dict.fromkeys(STATS, 0.0))
            entry[stat] += value
    for metric in TARGETS:
        per_horizon = {horizon: totals[(metric, horizon)] for horizon, _ in HORIZONS
                       if totals.get((metric, horizon), {}).get("n")}
        if per_horizon:
            overall = {stat: sum(t[stat] for t in per_horizon.values()) for stat in STATS}
            document["metrics"][metric] = {**figures(overall), "horizons": {
                horizon: figures(t) for horizon, t in per_horizon.items()}}
    return document


def figures(totals: dict) -> dict:
    n = totals["n"]
    return {"points": int(round(n)),
            "mae": round(totals["err"] / n, 4),
            "seasonal_naive_mae": round(totals["naive"] / n, 4),
            "relative_mae": round(totals["err"] / totals["naive"], 4) if totals["naive"] > 0 else None,
            "coverage_p10_p90": round(totals["covered"] / n, 4)}


def status_summary(team_id) -> dict:
    """/status's forecast_accuracy: per metric, every horizon together."""
    return {metric: {k: v for k, v in entry.items() if k != "horizons"}
            for metric, entry in team_accuracy(team_id)["metrics"].items()}
