"""The bridge's ticks. Each batch's timestamp is its 5-minute slot; a slot is posted once: a
check that falls in a slot already posted does nothing (with --every below 300), and a slot whose
post failed is tried again at the next check within it. Restarting the bridge within a slot posts
that slot again, which Argus treats as a replacement of the same points (never a second point)."""
import logging
import time
from datetime import datetime, timezone

from feeds.schema import SLOT_SECONDS

from .prometheus import PrometheusError
from .queries import build_records

log = logging.getLogger("argus.bridge")


class Bridge:
    def __init__(self, prometheus, poster, queries: dict, every: float = SLOT_SECONDS, clock=time.time, sleep=time.sleep):
        self.prometheus, self.poster, self.queries = prometheus, poster, queries
        self.every, self.clock, self.sleep = every, clock, sleep
        self.posted_slot = None  # the last slot Argus accepted
        self.previous = {}  # instance -> its last status and kept values (bounded by the instances up names)

    def tick(self):
        """Posts the current slot unless it was posted. Returns the accepted answer's body, or
        None when nothing was posted (already posted, nothing to send, or it failed: logged)."""
        now = self.clock()
        slot = int(now // SLOT_SECONDS) * SLOT_SECONDS
        if slot == self.posted_slot:
            log.debug("slot %s already posted", slot)
            return None
        try:
            answers = {name: self.prometheus.vector(query, now) for name, query in self.queries.items()}
        except PrometheusError as exc:
            log.error("tick %s not posted: %s", iso(slot), exc)
            return None
        tick = build_records(answers, iso(slot), self.previous)
        for instance, missing in sorted(tick.skipped.items()):
            log.warning("skipped instance %s: no series for %s", instance, ", ".join(missing))
        if not tick.records:
            log.warning("tick %s: no instance to post (%d skipped)", iso(slot), len(tick.skipped))
            return None
        body = self.poster.post(tick.records, deadline=slot + SLOT_SECONDS)
        if body is not None:
            self.posted_slot = slot
            log.info("tick %s: posted %d servers (%d skipped): %s", iso(slot), len(tick.records),
                     len(tick.skipped), body.get("status"))
        return body

    def run(self, checks=None):
        """Checks every `every` seconds (on multiples of it, wall clock), forever or `checks` times."""
        done = 0
        while checks is None or done < checks:
            try:
                self.tick()
            except Exception:  # an unexpected answer costs one tick, never the bridge
                log.exception("tick failed; trying again at the next one")
            done += 1
            if checks is not None and done >= checks:
                break
            now = self.clock()
            self.sleep((now // self.every + 1) * self.every - now)


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
