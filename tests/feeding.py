"""Feeding a live stack over HTTP the way a feeder does, and waiting for its predictions."""
import time

import pandas as pd
import requests


def to_records(frame: pd.DataFrame) -> list:
    return frame.assign(timestamp=frame["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%S")).to_dict("records")


def feed_frame(base, key, frame, ticks_per_request=24) -> int:
    """Posts a simulated fleet's records in time order, several ticks per request, and returns
    the team's tick after the last request."""
    times = sorted(frame["timestamp"].unique())
    tick = None
    for i in range(0, len(times), ticks_per_request):
        chunk = frame[frame["timestamp"].isin(times[i:i + ticks_per_request])]
        response = requests.post(base + "/feed/data", json={"records": to_records(chunk)},
                                 headers={"X-API-Key": key}, timeout=60)
        assert response.status_code == 200, response.text
        tick = response.json()["tick"]
    return tick


def wait_for_predictions(base, key, tick, timeout=120) -> dict:
    """The /predictions/current document once it covers `tick`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = requests.get(base + "/predictions/current", headers={"X-API-Key": key}, timeout=30).json()
        if body.get("tick", -1) >= tick:
            return body
        time.sleep(0.2)
    raise TimeoutError(f"no predictions for tick {tick} within {timeout}s; last: {str(body)[:300]}")
