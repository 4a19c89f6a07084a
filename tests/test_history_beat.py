"""The archiver's schedule: celery beat sends it (at most one waiting), a worker runs it, and a
point fed over HTTP shows in /history without anyone running archive_history."""
import time

import requests
from celery.beat import ScheduleEntry

from argus_project.celery import app as celery_app
from history.beat import Scheduler
from history.sending import ARCHIVE_TASK, archive_started
from tests.factories import data_time, make_record


def test_beat_keeps_at_most_one_archiver_waiting(redis_client, settings):
    scheduler = Scheduler(app=celery_app, lazy=True)
    entry = ScheduleEntry(name="archive-history", task=ARCHIVE_TASK, schedule=30, app=celery_app,
                          options={"queue": "history"})
    for _ in range(3):
        scheduler.apply_entry(entry)
    assert redis_client.llen("argus:celery:history") == 1
    archive_started()  # what the task does when it takes the message
    scheduler.apply_entry(entry)
    assert redis_client.llen("argus:celery:history") == 2


def test_a_point_reaches_history_through_beat_and_a_worker(live_stack):
    key = live_stack.create_key("ops")
    base = live_stack.start_web()
    live_stack.start_worker()
    live_stack.start_beat(ARGUS_HISTORY_ARCHIVE_SECONDS=1)
    when = data_time(days_ago=2)
    response = requests.post(base + "/feed/data", json={"records": [make_record("ppdb001", when, mem_used_pct=61.5)]},
                             headers={"X-API-Key": key}, timeout=30)
    assert response.status_code == 200
    deadline = time.monotonic() + 60
    while True:
        body = requests.get(f"{base}/history/servers/ppdb001", params={"start": when, "metrics": "mem_used_pct"},
                            headers={"X-API-Key": key}, timeout=30).json()
        if body["metrics"]["mem_used_pct"][0] is not None:
            break
        assert time.monotonic() < deadline, "the point did not reach history within 60 s"
        time.sleep(0.5)
    assert body["metrics"]["mem_used_pct"][0] == 61.5
