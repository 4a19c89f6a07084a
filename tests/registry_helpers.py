"""Registry test data: a team's point history written as the archiver writes it, and registered
models made from the shipped model directory (real blobs of a real model)."""
import numpy as np
import pandas as pd

from feeds.schema import SLOT_SECONDS


def store_history(team, servers=4, days=6, seed=1, prefix="ppweb"):
    """`days` whole days of a simulated fleet (ending yesterday) as the team's ServerDay rows;
    returns the records."""
    from inference.simulator import simulate_fleet

    today = pd.Timestamp.now(tz="UTC").normalize().tz_localize(None)
    records, _ = simulate_fleet(servers, days, seed, start=today - pd.Timedelta(days=days), incident_rate=0)
    records["server_name"] = records["server_name"].str.replace("ppdb", prefix)
    store_records(team, records)
    return records


def store_records(team, records):
    """A feed-schema frame as the team's history, as the archiver stores it."""
    from history.archiver import write_days

    write_days(team.id, points_of(records), oldest_day=0)


def points_of(records) -> dict:
    from feeds.schema import METRICS, STATUSES
    from feeds.windows import RECORD

    points = {}
    for name, frame in records.groupby("server_name"):
        array = np.zeros(len(frame), dtype=RECORD)
        array["slot"] = ((frame["timestamp"] - pd.Timestamp(0)) // pd.Timedelta(seconds=SLOT_SECONDS)).to_numpy()
        array["status"] = [STATUSES.index(s) for s in frame["status"]]
        array["values"] = frame[list(METRICS)].to_numpy(np.float32)
        points[name] = array
    return points


def register_model(team, version, state="candidate"):
    """A model row for the team holding the shipped model's blob under another version."""
    from registry import blobs
    from registry.defaults import shipped_model
    from registry.models import ForecastModel

    manifest, blob = shipped_model()
    return ForecastModel.objects.create(version=version, team=getattr(team, "team", team), state=state,
                                        blob=blob, sha256=blobs.sha256(blob), size_bytes=len(blob),
                                        manifest={**manifest, "version": version})

