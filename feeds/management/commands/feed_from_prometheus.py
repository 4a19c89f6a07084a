"""manage.py feed_from_prometheus: the Prometheus bridge (feeds.prometheus_bridge)."""
import logging
import os

from django.core.management.base import BaseCommand, CommandError

from feeds.prometheus_bridge.loop import Bridge
from feeds.prometheus_bridge.posting import Poster
from feeds.prometheus_bridge.prometheus import Prometheus
from feeds.prometheus_bridge.queries import build_queries


class Command(BaseCommand):
    help = ("Feed Argus from a Prometheus that scrapes node_exporter: one batch per 5-minute tick with the "
            "contract's 17 fields per instance (README, 'Run it beside Prometheus').")

    def add_arguments(self, parser):
        parser.add_argument("--prometheus", required=True, help="Prometheus base URL, e.g. http://prometheus:9090")
        parser.add_argument("--url", required=True, help="Argus base URL, e.g. http://argus:8000")
        parser.add_argument("--key", default=os.environ.get("ARGUS_BRIDGE_KEY", ""),
                            help="the team's API key (default: $ARGUS_BRIDGE_KEY, which keeps it out of `ps`)")
        parser.add_argument("--every", type=float, default=300,
                            help="seconds between checks (default 300); each 5-minute slot is posted once")
        parser.add_argument("--match", default=os.environ.get("ARGUS_BRIDGE_MATCH", ""),
                            help="label selector of the node_exporter series, e.g. '{job=\"node\"}' (default: "
                            "$ARGUS_BRIDGE_MATCH, else every series)")
        parser.add_argument("--rate-window", default="5m", help="range of the rate() queries (default 5m)")
        parser.add_argument("--mountpoint", default="/", help="filesystem of disk_usage_pct (default /)")
        parser.add_argument("--java-cpu-query", default="",
                            help="PromQL giving java_cpu_pct (0-100) by instance; java_cpu_pct is 0 without it")
        parser.add_argument("--timeout", type=float, default=30, help="seconds per HTTP request (default 30)")
        parser.add_argument("--once", action="store_true", help="post the current tick and exit (status 1 if it failed)")

    def handle(self, prometheus, url, key, every, match, rate_window, mountpoint, java_cpu_query, timeout, once,
               **options):
        if not key:
            raise CommandError("--key (or ARGUS_BRIDGE_KEY) is required")
        if every < 1:
            raise CommandError("--every must be at least 1 second")
        try:
            queries = build_queries(match, rate_window, mountpoint, java_cpu_query)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        # what it posted and skipped is the bridge's output: shown whatever ARGUS_LOG_LEVEL is (-v 0: problems only)
        verbosity = options["verbosity"]
        logging.getLogger("argus.bridge").setLevel(
            logging.WARNING if verbosity == 0 else logging.DEBUG if verbosity >= 3 else logging.INFO)
        bridge = Bridge(Prometheus(prometheus, timeout), Poster(url, key, timeout), queries, every=every)
        if once:
            if bridge.tick() is None:
                raise CommandError("the tick was not posted (see the log above)")
            return
        bridge.run()
