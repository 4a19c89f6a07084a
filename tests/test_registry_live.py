"""Models per team end to end, with real processes: gunicorn, an inference worker, the trainer
(bin/worker on the `training` queue) and celery beat (the archiver that turns the feed into the
history a fine-tune trains on). Two teams train; one promotes by hand and rolls back, with no
worker restart; the other's model is damaged in the database and its runs fall back; a running
job is cancelled."""
import sqlite3
import time

import pandas as pd
import pytest
import requests

from inference.simulator import simulate_fleet
from tests.feeding import feed_frame, wait_for_predictions

pytestmark = pytest.mark.slow
DAYS = 7


def fleet(servers, seed, prefix):
    now = pd.Timestamp.now(tz="UTC").tz_localize(None).floor("5min")
    records, _ = simulate_fleet(servers, DAYS, seed, start=now - pd.Timedelta(days=DAYS), incident_rate=0)
    records["server_name"] = records["server_name"].str.replace("ppdb", prefix)
    return records[records["timestamp"] <= now]


class Api:
    def __init__(self, base, key):
        self.base, self.headers = base, {"X-API-Key": key}

    def get(self, path):
        return requests.get(self.base + path, headers=self.headers, timeout=30)

    def post(self, path, body=None):
        return requests.post(self.base + path, json=body, headers=self.headers, timeout=30)

    def delete(self, path):
        return requests.delete(self.base + path, headers=self.headers, timeout=30)

    def train(self, body, timeout=120):
        """POST /models/train once the archiver has stored enough history (422 until then)."""
        deadline = time.monotonic() + timeout
        while True:
            response = self.post("/models/train", body)
            if response.status_code != 422 or time.monotonic() > deadline:
                assert response.status_code == 202, response.text
                return response.json()["job"]
            time.sleep(1)

    def wait_job(self, job, until, timeout=400):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            body = self.get(f"/models/jobs/{job}").json()
            if until(body):
                return body
            assert body["state"] not in ("failed", "cancelled") or until(body), body
            time.sleep(0.5)
        raise TimeoutError(f"job {job}: {body}")


def next_run_model(api, frame, key):
    """Feeds one more tick and returns the model version of the run that covers it."""
    last = frame["timestamp"].max()
    tick_frame = frame[frame["timestamp"] == last].assign(timestamp=last + pd.Timedelta(minutes=5))
    tick = feed_frame(api.base, key, tick_frame)
    return wait_for_predictions(api.base, key, tick, timeout=180)["model"]["version"], tick_frame


def test_teams_fine_tune_promote_roll_back_and_cancel_without_a_worker_restart(live_stack):
    base = live_stack.start_web(ARGUS_RATE_ADMIN="1000/min", ARGUS_RATE_READ="1000/min")
    live_stack.start_worker()
    live_stack.start_trainer(ARGUS_TRAIN_BATCHES_PER_EPOCH=10)
    live_stack.start_beat(ARGUS_HISTORY_ARCHIVE_SECONDS=1)
    key_a, key_b = live_stack.create_key("team-a"), live_stack.create_key("team-b")
    a, b = Api(base, key_a), Api(base, key_b)
    frame_a, frame_b = fleet(6, 11, "ppweb"), fleet(4, 12, "ppapp")
    feed_frame(base, key_a, frame_a, ticks_per_request=288)
    feed_frame(base, key_b, frame_b, ticks_per_request=288)
    shipped = a.get("/models").json()["active"]

    # both teams fine-tune (the one trainer takes the jobs in turn)
    job_a = a.train({"max_minutes": 0.2, "days": DAYS})
    job_b = b.train({"max_minutes": 0.2, "days": DAYS})
    assert a.post("/models/train", {"max_minutes": 0.2}).status_code == 409
    seen = a.wait_job(job_a, lambda j: j["state"] == "running" and "epoch" in j["progress"], timeout=300)
    assert seen["progress"]["train_loss"] is not None
    done_a = a.wait_job(job_a, lambda j: j["state"] == "succeeded")
    done_b = b.wait_job(job_b, lambda j: j["state"] == "succeeded")
    models_a = {m["version"]: m for m in a.get("/models").json()["models"]}
    models_b = {m["version"]: m for m in b.get("/models").json()["models"]}
    candidate = models_a[done_a["model"]]
    assert candidate["team"] == "team-a" and candidate["state"] in ("candidate", "active")
    figures = candidate["figures"]
    assert figures["servers"] == 6 and figures["held_out_days"] == 2  # team a's six servers, no more
    assert 0 < figures["candidate"]["relative_mase"] and figures["active"]["version"] == shipped
    assert candidate["reason"] == figures["reason"]
    assert models_b[done_b["model"]]["figures"]["servers"] == 4  # team b's four
    assert done_a["model"] not in models_b and done_b["model"] not in models_a  # neither sees the other's
    assert b.post(f"/models/{done_a['model']}/activate").status_code == 404

    # promotion by hand: the next run of team a uses the candidate, with no worker restart
    assert a.post(f"/models/{done_a['model']}/activate").json() == {"active": done_a["model"]}
    version, frame_a = next_run_model(a, frame_a, key_a)
    assert version == done_a["model"]
    version_b, frame_b = next_run_model(b, frame_b, key_b)
    assert version_b == b.get("/models").json()["active"] != done_a["model"]
    # a model whose blob is damaged in the database (a copy of team a's, cut short, given to team
    # b): the worker's next run falls back to the global default and /status says why
    with sqlite3.connect(live_stack.tmp_path / "db.sqlite3") as db:
        db.execute("INSERT INTO registry_forecastmodel (version, team_id, state, blob, sha256, size_bytes, manifest,"
                   " description, figures, reason, created) SELECT 'team-b-damaged', (SELECT id FROM feeds_team"
                   " WHERE slug = 'team-b'), 'candidate', substr(blob, 1, 1000), sha256, size_bytes, manifest,"
                   " description, figures, reason, created FROM registry_forecastmodel WHERE version = ?",
                   (done_a["model"],))
    assert b.post("/models/team-b-damaged/activate").json() == {"active": "team-b-damaged"}
    version_b, frame_b = next_run_model(b, frame_b, key_b)
    assert version_b == shipped
    fallback = b.get("/status").json()["model_fallback"]
    assert fallback["wanted"] == "team-b-damaged" and fallback["used"] == shipped and "corrupt" in fallback["error"]
    # rollback to the global default
    assert a.post(f"/models/{shipped}/activate").json() == {"active": shipped}
    version, frame_a = next_run_model(a, frame_a, key_a)
    assert version == shipped
    assert a.get("/status").json()["model_fallback"] is None

    # a running job cancelled stops within 30 s and changes nothing active
    job = a.train({"max_minutes": 5, "days": DAYS})
    a.wait_job(job, lambda j: j["state"] == "running" and "epoch" in j["progress"], timeout=300)
    asked = time.monotonic()
    assert a.delete(f"/models/jobs/{job}").status_code == 200
    ended = a.wait_job(job, lambda j: j["state"] == "cancelled", timeout=30)
    assert time.monotonic() - asked < 30
    assert a.get("/models").json()["active"] == shipped
    assert {m["version"]: m["state"] for m in a.get("/models").json()["models"]}[ended["model"]] == "cancelled"
