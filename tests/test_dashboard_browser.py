"""The dashboard in a real browser (Debian's chromium through Playwright) against a real HTTP
server, real Redis, the real database and the tiny model's real predictions: log in, the fleet's
tiles and colours, a server page's forecast band, the explanation's weights, no console errors,
isolation between teams, and the pages at phone width."""
import pytest
from model_fixtures import tiny_fleet, tiny_model, tiny_model_dir  # noqa: F401

from tests.browser import chromium, log_in, watch_console
from tests.dashboard_helpers import LEVEL_COLOURS, PASSWORD, explain_with, member, predicted


def rgb(hex_colour):
    return "rgb({}, {}, {})".format(*(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)))


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


@pytest.fixture
def fleets(transactional_db, settings, team_a, team_b, tiny_model, tiny_model_dir, tiny_fleet):
    explain_with(settings, tiny_model_dir)
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
    ours = predicted(team_a, tiny_model, tiny_fleet, hours=30)
    theirs = predicted(team_b, tiny_model, tiny_fleet, hours=30, prefix="b-")
    member("ana", team_a)
    return sorted(ours["server_name"].unique()), sorted(theirs["server_name"].unique())


@pytest.fixture
def page(browser, live_server, fleets):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.errors = watch_console(page)
    log_in(page, live_server.url, "ana", PASSWORD)
    yield page
    context.close()


def test_the_fleet_page_shows_one_tile_per_server_in_its_levels_colour(page, live_server, fleets):
    ours, _ = fleets
    assert page.url == live_server.url + "/dashboard/"
    page.wait_for_selector("#fleet[data-rendered=true]")
    tiles = page.eval_on_selector_all("[data-server]", """tiles => tiles.map(t => ({
        name: t.dataset.server, level: t.dataset.level, colour: getComputedStyle(t).backgroundColor, text: t.innerText}))""")
    assert sorted(t["name"] for t in tiles) == ours
    labels = {"critical": "Critical", "warning": "Warning", "degraded": "Degraded", "healthy": "Healthy"}
    for tile in tiles:
        assert tile["colour"] == rgb(LEVEL_COLOURS[tile["level"]])
        assert labels[tile["level"]] in tile["text"]  # never colour alone
    counts = {level: int(page.inner_text(f"#count-{level}")) for level in LEVEL_COLOURS}
    assert counts == {level: sum(t["level"] == level for t in tiles) for level in LEVEL_COLOURS}
    assert "Predictions" in page.inner_text("#freshness") and "old" in page.inner_text("#freshness")
    page.fill("#search", ours[0])
    assert page.eval_on_selector_all("[data-server]", "ts => ts.map(t => t.dataset.server)") == [ours[0]]
    assert page.errors == []


def test_a_server_page_draws_the_band_and_explains_with_weights_summing_to_one(page, live_server, fleets):
    ours, _ = fleets
    page.click(f"[data-server='{ours[0]}']")
    page.wait_for_selector("#server[data-rendered=true]")
    page.wait_for_selector("#server[data-explained]")
    assert page.eval_on_selector_all(".chart", "cs => cs.length") == 6
    bands = page.eval_on_selector_all("path.band", "ps => ps.map(p => [p.getAttribute('d').length, p.getBBox().height])")
    assert len(bands) == 6 and all(length > 100 and height > 0 for length, height in bands)
    assert page.eval_on_selector_all("line.threshold", "ls => ls.length") == 6
    assert page.get_attribute("#server", "data-explained") == "true", page.inner_text("#explain-status")
    for group in ("encoder", "decoder", "static"):
        weights = page.eval_on_selector_all(f"table[data-group={group}] [data-weight]",
                                            "cells => cells.map(c => parseFloat(c.dataset.weight))")
        assert len(weights) >= 1 and abs(sum(weights) - 1) < 1e-6
        assert page.inner_text(f"table[data-group={group}] [data-total]") == "100.0 %"
    page.click("[data-range='7d']")
    page.wait_for_selector("[data-range='7d'][aria-pressed=true]")
    assert page.errors == []


def test_another_teams_server_is_a_404(page, live_server, fleets):
    _, theirs = fleets
    response = page.goto(f"{live_server.url}/dashboard/servers/{theirs[0]}")
    assert response.status == 404 and "Not found" in page.inner_text("h1")
    assert page.request.get(f"{live_server.url}/dashboard/api/servers/{theirs[0]}").status == 404
    assert page.request.get(f"{live_server.url}/dashboard/api/explain/{theirs[0]}").status == 404


def test_the_pages_fit_a_phone_and_tiles_are_reached_with_the_keyboard(page, live_server, fleets):
    ours, _ = fleets
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(live_server.url + "/dashboard/")
    page.wait_for_selector("#fleet[data-rendered=true]")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.focus("#search")
    for _ in range(8):  # from the search box past the filters to the first tile
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.dataset.server"):
            break
    assert page.evaluate("document.activeElement.dataset.server") in ours
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_selector("#server[data-rendered=true]")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.errors == []


def test_without_chromium_the_browser_tests_fail_and_say_how_to_install_it(monkeypatch):
    from pathlib import Path

    from tests import browser

    monkeypatch.setattr(browser, "CHROMIUM", Path("/nonexistent/chromium"))
    with pytest.raises(AssertionError, match=r"/nonexistent/chromium is missing.*apt-get install -y chromium"):
        with chromium():
            pass


def test_the_fleet_page_refreshes_itself_and_shows_stale_servers(browser, live_server, fleets, settings, team_a,
                                                                  tiny_model, tiny_fleet):
    import pandas as pd

    from inference.runner import run_team_predictions
    from tests.dashboard_helpers import fleet_records, store

    settings.ARGUS_DASHBOARD_REFRESH_SECONDS = 1
    ours, _ = fleets
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors = watch_console(page)
    log_in(page, live_server.url, "ana", PASSWORD)
    page.wait_for_selector("#fleet[data-tick='1']")
    assert "no stale servers" in page.inner_text("#freshness")
    page.evaluate("window.loadedOnce = true")  # gone if the page were reloaded
    # an hour and ten minutes more for every server but one, which is then over an hour behind
    last_hour = fleet_records(tiny_fleet, hours=70 / 60)
    later = last_hour[last_hour["server_name"] != ours[0]]
    # (70 minutes past the wall clock, where the fleet's data already ends: stored as of now + 2 h)
    store(team_a, later.assign(timestamp=later["timestamp"] + pd.Timedelta(minutes=70)),
          now=(pd.Timestamp.now(tz="UTC") + pd.Timedelta(hours=2)).to_pydatetime())
    run_team_predictions(team_a.team.id, tiny_model)
    page.wait_for_selector("#fleet[data-tick='2']")
    assert page.evaluate("window.loadedOnce") is True
    assert "1 stale server" in page.inner_text("#freshness")
    stale = page.eval_on_selector_all(".tile.stale", "ts => ts.map(t => [t.dataset.server, t.innerText])")
    assert [name for name, _ in stale] == [ours[0]] and "stale" in stale[0][1]
    context.close()
    assert errors == []
