"""The dashboard in a headless browser (Debian's chromium through Playwright), over real HTTP
(one gunicorn process), with a real Celery worker running the model in ARGUS_MODEL_DIR (default: the shipped one).

  .venv/bin/python bench/dashboard.py [--fleet-sizes 45 1000] [--loads 5] [--screenshots docs/]

For each fleet size: a team fed a simulated fleet (45 servers: the demo's, `simulate_feed`, with
a memory leak building up; larger: a day of a simulated fleet), its first predictions awaited;
then
- the fleet page's time to render: from navigation start to the tiles on screen (after the
  frame that shows them), --loads page loads, median and max;
- the server page's payload: every byte the browser receives for one server page (HTML, CSS,
  scripts, the server's document and its explanation), for the worst server;
- GET /predictions/servers/<name>/explain over HTTP, for 45 servers: each computed (the tick's
  first request for it), then each from the tick's cache, --explain-rounds times (the cache
  emptied between rounds), p50 / p99 / max; and the first explanation in a fresh web process,
  which loads the model first, and that process's memory before and after.
With --screenshots DIR, the 45-server team's fleet page and its worst server's page are saved
there (dashboard-fleet.png, dashboard-server.png), as the README shows them."""
import argparse
import os
import secrets
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "argus_project.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-" + os.urandom(30).hex())  # a throwaway installation

from inference.simulator import simulate_fleet  # noqa: E402
from tests.browser import chromium, log_in, watch_console  # noqa: E402
from tests.feeding import feed_frame, wait_for_predictions  # noqa: E402
from tests.live import private_stack  # noqa: E402

PASSWORD = secrets.token_urlsafe(12)


def feed_team(stack, base, slug, servers):
    key = stack.create_key(slug)
    stack.manage("add_member", slug, f"viewer-{slug}", "--password", PASSWORD)
    if servers == 45:  # the demo's fleet and story: a memory leak 90 minutes from its breach
        stack.manage("simulate_feed", "--url", base, "--key", key, "--servers", "45", "--backfill-days", "2",
                     "--ticks", "0")
        tick = requests.get(base + "/status", headers={"X-API-Key": key}, timeout=30).json()["tick_count"]
    else:
        records, _ = simulate_fleet(servers, days=1.1, seed=11)
        now = pd.Timestamp.now(tz="UTC").tz_localize(None).floor("5min")  # a fleet reporting now
        records = records.assign(timestamp=records["timestamp"] + (now - records["timestamp"].max()))
        tick = feed_frame(base, key, records, ticks_per_request=max(1, 10_000 // servers))
    document = wait_for_predictions(base, key, tick, timeout=600)
    return key, document


def web_worker_rss(master_pid) -> int:
    """MB resident of the (one) worker process of a gunicorn master."""
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    status = Path(f"/proc/{children[0]}/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) // 1024


def percentiles(samples):
    samples = np.asarray(samples) * 1000
    return f"p50 {np.percentile(samples, 50):.0f} ms, p99 {np.percentile(samples, 99):.0f} ms, max {samples.max():.0f} ms"


def fleet_render(browser, base, slug, loads, servers, screenshot=None):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors = watch_console(page)
    log_in(page, base, f"viewer-{slug}", PASSWORD)
    times = []
    for _ in range(loads):
        page.goto(base + "/dashboard/")
        page.wait_for_selector("#fleet[data-painted-ms]", timeout=60_000)
        assert page.eval_on_selector_all("[data-server]", "ts => ts.length") == servers
        times.append(float(page.get_attribute("#fleet", "data-painted-ms")) / 1000)
    fleet_bytes = len(page.request.get(base + "/dashboard/api/fleet").body())
    if screenshot:
        page.screenshot(path=str(screenshot / "dashboard-fleet.png"))
    context.close()
    assert errors == [], errors
    return times, fleet_bytes


def server_page(browser, base, slug, name, screenshot=None):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors = watch_console(page)
    log_in(page, base, f"viewer-{slug}", PASSWORD)
    page.close()  # the fleet page it landed on may still be fetching: count the server page alone
    page = context.new_page()
    errors = watch_console(page)
    received = []  # (url, bytes) of every response, read as it finishes
    page.on("requestfinished", lambda request: received.append((request.url, request.sizes()["responseBodySize"])))
    page.goto(base + f"/dashboard/servers/{name}")
    page.wait_for_selector("#server[data-rendered=true]", timeout=60_000)
    page.wait_for_selector("#server[data-explained]", timeout=60_000)
    page.wait_for_load_state("networkidle")
    total = sum(size for _, size in received)
    if screenshot:
        page.screenshot(path=str(screenshot / "dashboard-server.png"), full_page=True)
    context.close()
    assert errors == [], errors
    return total, len(received)


def explain_latency(stack, base, key, names, rounds):
    """Each round asks for every server's explanation twice: computed, then cached; between
    rounds the cached explanations are deleted (as a new tick would make them stale)."""
    import redis

    client = redis.Redis.from_url(stack.env["REDIS_URL"])
    session = requests.Session()
    samples = {"computed": [], "cached": []}
    for _ in range(rounds):
        for kind in samples:
            for name in names:
                started = time.perf_counter()
                response = session.get(f"{base}/predictions/servers/{name}/explain", headers={"X-API-Key": key},
                                       timeout=60)
                samples[kind].append(time.perf_counter() - started)
                assert response.status_code == 200, response.text
        for cached in client.scan_iter(match="argus:*:explain:*", count=1000):
            client.delete(cached)
    return samples


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fleet-sizes", type=int, nargs="+", default=[45, 1000])
    parser.add_argument("--loads", type=int, default=5, help="fleet page loads per fleet")
    parser.add_argument("--explain-rounds", type=int, default=4, help="explanations of 45 servers, computed and cached, per round")
    parser.add_argument("--screenshots", type=Path, default=None, help="save the 45-server pages' screenshots here")
    args = parser.parse_args()
    rates = {"ARGUS_RATE_FEED": "100000/min", "ARGUS_RATE_READ": "100000/min"}
    with private_stack() as stack, chromium() as browser:
        # one web process (8 threads), so that every explanation is served by the process whose
        # model is loaded; the first one in a fresh process is measured apart
        base = stack.start_web(workers=1, **rates)
        stack.start_worker()
        print("| servers | fleet page: time to render (median / max) | fleet document | server page payload | "
              "explain, computed | explain, cached |")
        print("|---|---|---|---|---|---|")
        first_explanation = None
        for servers in args.fleet_sizes:
            slug = f"fleet{servers}"
            key, document = feed_team(stack, base, slug, servers)
            if first_explanation is None:  # a fresh web process: the model is loaded on the first one
                fresh = stack.start_web(workers=1, **rates)
                requests.get(f"{fresh}/health", timeout=30)
                rss_before = web_worker_rss(stack.processes[-1].pid)
                started = time.perf_counter()
                response = requests.get(f"{fresh}/predictions/servers/{sorted(document['predictions'])[0]}/explain",
                                        headers={"X-API-Key": key}, timeout=120)
                first_explanation = time.perf_counter() - started
                assert response.status_code == 200, response.text
                rss_after = web_worker_rss(stack.processes[-1].pid)
            shots = args.screenshots if servers == 45 else None
            worst = (document["alerts"][0]["server_name"] if document["alerts"]
                     else sorted(document["predictions"])[0])
            times, fleet_bytes = fleet_render(browser, base, slug, args.loads, len(document["predictions"]), shots)
            payload, responses = server_page(browser, base, slug, worst, shots)
            names = sorted(document["predictions"])[:45]
            explain = explain_latency(stack, base, key, names, args.explain_rounds)
            print(f"| {servers:,} | {np.median(times):.2f} s / {max(times):.2f} s | {fleet_bytes / 1024:.0f} KB | "
                  f"{payload / 1024:.0f} KB ({responses} responses, {worst}) | "
                  f"{percentiles(explain['computed'])} | {percentiles(explain['cached'])} |", flush=True)
        print(f"\nThe first explanation in a fresh web process (its model loaded first): {first_explanation:.2f} s; "
              f"the web process's memory (RSS) {rss_before} MB before it, {rss_after} MB after")


if __name__ == "__main__":
    main()
