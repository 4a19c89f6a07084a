"""Per-key rate limits, counted in Redis and shared by every web process."""
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from feeds.models import TeamAPIKey
from core import throttles
from core.rates import parse_rate
from tests.factories import make_batch


def feed(client, tenant, headers=None):
    return client.post("/feed/data", {"records": make_batch(1)}, format="json", **(headers or tenant.headers))


def test_the_feed_allows_60_a_minute_by_default_then_answers_429(client, team_a):
    codes = [feed(client, team_a).status_code for _ in range(61)]
    assert codes == [200] * 60 + [429]
    response = feed(client, team_a)
    retry_after = int(response["Retry-After"])
    assert 1 <= retry_after <= 60
    assert response.json() == {"detail": f"Rate limit exceeded. Try again in {retry_after} seconds."}


def test_reads_allow_30_a_minute_by_default(client, team_a):
    codes = [client.get("/status", **team_a.headers).status_code for _ in range(31)]
    assert codes == [200] * 30 + [429]


def test_feed_and_read_budgets_are_separate(client, team_a, settings):
    settings.ARGUS_RATE_FEED = "2/min"
    assert [feed(client, team_a).status_code for _ in range(3)] == [200, 200, 429]
    assert client.get("/status", **team_a.headers).status_code == 200


def test_limits_are_per_key(client, team_a, team_b, settings):
    settings.ARGUS_RATE_FEED = "2/min"
    _, second_key = TeamAPIKey.objects.create_key(team=team_a.team, name="second")
    assert [feed(client, team_a).status_code for _ in range(3)] == [200, 200, 429]
    assert feed(client, team_a, {"HTTP_X_API_KEY": second_key}).status_code == 200
    assert feed(client, team_b).status_code == 200


def test_the_server_default_comes_from_settings(client, team_a, settings):
    settings.ARGUS_RATE_FEED = "3/min"
    assert [feed(client, team_a).status_code for _ in range(4)] == [200, 200, 200, 429]


def test_a_team_override_in_admin_wins_over_the_default(client, team_a, team_b, settings):
    settings.ARGUS_RATE_FEED = "2/min"
    team_a.team.rate_feed = "4/min"
    team_a.team.save()
    assert [feed(client, team_a).status_code for _ in range(5)] == [200] * 4 + [429]
    assert [feed(client, team_b).status_code for _ in range(3)] == [200, 200, 429]


def test_the_window_slides(team_a):
    def take(now_ms):  # 2 requests a second, on the script's clock
        return throttles.take(team_a.team.id, "feed", team_a.api_key.prefix, 2, 1, now_ms=now_ms)

    assert [take(t) for t in (0, 400, 999)] == [0, 0, 1]  # the third waits 1 ms for the first to expire
    assert take(1000) == 0  # the first left the window
    assert take(1001) == 399  # the second leaves it at 1400
    assert take(1400) == 0


def test_requests_without_a_valid_key_are_not_counted_against_a_key(client, team_a, settings):
    settings.ARGUS_RATE_FEED = "2/min"
    for _ in range(5):
        feed(client, team_a, {"HTTP_X_API_KEY": team_a.api_key.prefix + ".wrong"})
    assert feed(client, team_a).status_code == 200


@pytest.mark.parametrize("rate, parsed", [("60/min", (60, 60)), ("1000/minute", (1000, 60)),
                                          ("5/s", (5, 1)), ("100/hour", (100, 3600))])
def test_rates_parse(rate, parsed):
    assert parse_rate(rate) == parsed


@pytest.mark.parametrize("rate", ["60", "ten/min", "60/fortnight", ""])
def test_a_bad_rate_is_a_clear_error(rate):
    with pytest.raises(ValueError, match="Invalid rate"):
        parse_rate(rate)


def test_100_concurrent_requests_against_two_web_processes_accept_exactly_60(live_stack):
    key = live_stack.create_key("racers")
    url = live_stack.start_web(workers=2) + "/feed/data"
    body = json.dumps({"records": make_batch(3)})

    def send(_):
        return requests.post(url, data=body, headers={"X-API-Key": key, "Content-Type": "application/json"},
                             timeout=30).status_code

    with ThreadPoolExecutor(max_workers=100) as pool:
        codes = list(pool.map(send, range(100)))
    assert codes.count(200) == 60
    assert codes.count(429) == 40
