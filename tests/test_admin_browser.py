"""The admin as a team manager uses it, in a real browser: Debian's Chromium driven by Playwright
against Argus served by gunicorn (tests.live.LiveStack: its own database, real Redis, real HTTP),
set up with manage.py as an operator would.

Chromium is a system package (`apt-get install -y chromium`; .ci/run installs it where it is
missing). Without it these tests fail, saying so: a skipped browser test would pass CI having
tested nothing.

ARGUS_ADMIN_SCREENSHOTS=docs bin/test tests/test_admin_browser.py writes the README's
screenshots (docs/admin-teams.png, admin-team.png, admin-keys.png); otherwise they go to a
temporary folder."""
import os
import re
from pathlib import Path

import pytest
import requests

from tests.factories import data_time, make_batch

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PASSWORD = "correct horse battery staple"
LIST_CLIP = {"x": 0, "y": 0, "width": 1500, "height": 470}  # a list's screenshot: the rows, not the blank below


@pytest.fixture
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's Chromium (apt-get install -y chromium; .ci/run "
                    f"does it) to run the browser tests", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def argus(live_stack):
    """(the stack, its URL): Argus served by gunicorn, with a superuser made by manage.py.

    Not pytest-django's live_server: its threads share this process's database connections, and
    with Playwright's event loop running here Django hands the test other connections than the
    server's; on the in-memory SQLite test database that failed now and then as the server's
    threads ended."""
    live_stack.env["DJANGO_SUPERUSER_PASSWORD"] = PASSWORD
    live_stack.manage("createsuperuser", "--noinput", "--username", "root", "--email", "root@example.com")
    return live_stack, live_stack.start_web()


@pytest.fixture
def screenshots(tmp_path):
    folder = Path(os.environ.get("ARGUS_ADMIN_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def feed(url, raw_key, minutes_ago=0):
    return requests.post(url + "/feed/data", json={"records": make_batch(45, data_time(minutes_ago=minutes_ago))},
                         headers={"X-API-Key": raw_key}, timeout=30)


def test_a_manager_creates_a_team_and_key_feeds_with_it_sees_its_use_and_revokes_it(browser, argus, screenshots):
    stack, url = argus
    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    page.set_default_timeout(10_000)
    page.goto(url + "/admin/")
    page.fill("#id_username", "root")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    assert page.locator("#user-tools").inner_text().upper().startswith("WELCOME, ROOT")
    assert "API Key Permissions" not in page.content()  # one place for keys: the library's admin is gone

    # a team and its first key, on one page
    page.goto(url + "/admin/feeds/team/add/")
    page.locator("#id_name").press_sequentially("Payments")
    assert page.input_value("#id_slug") == "payments"  # filled in from the name as it is typed
    page.click("#new_api_keys-group .add-row a")
    page.fill("input[name='new_api_keys-0-name']", "prod feeder")
    page.click("input[name='_continue']")
    message = page.locator(".messagelist .warning").inner_text()
    raw = re.search(r"The API key for prod feeder is: ([\w.]+)\.", message).group(1)
    prefix = raw.partition(".")[0]
    page.reload()
    assert raw not in page.content()  # shown once
    assert prefix in page.locator("#api_keys-group").inner_text()
    assert page.locator(".field-servers_tracked .readonly").inner_text() == "0"

    # the key feeds at once
    for minutes_ago in (10, 5, 0):
        assert feed(url, raw, minutes_ago).status_code == 200
    stack.manage("archive_history")  # what celery beat sends every 30 s

    page.reload()
    assert page.locator(".field-servers_tracked .readonly").inner_text() == "45"
    assert page.locator(".field-last_batch .readonly").inner_text() == "just now"
    assert page.locator(".field-warm_up .readonly").inner_text() == "complete (135 points held)"
    assert page.locator(".field-points_stored .readonly").inner_text() == "135"
    key_row = page.locator("#api_keys-group tr", has_text=prefix)
    assert key_row.locator("td.field-last_used_display").inner_text() == "just now"
    assert key_row.locator("td.field-requests_24h").inner_text() == "3"
    page.screenshot(path=screenshots / "admin-team.png", full_page=True)

    page.goto(url + "/admin/feeds/team/")
    team_row = page.locator("#result_list tbody tr", has_text="payments")
    assert team_row.locator("td.field-servers_tracked").inner_text() == "45"
    assert team_row.locator("td.field-active_keys").inner_text() == "1"
    page.screenshot(path=screenshots / "admin-teams.png", clip=LIST_CLIP)

    # the key list: its use, then revoke it
    page.goto(url + "/admin/feeds/teamapikey/")
    row = page.locator("#result_list tbody tr", has_text=prefix)
    assert row.locator("td.field-state").inner_text() == "active"
    assert row.locator("td.field-last_used_display").inner_text() == "just now"
    assert row.locator("td.field-requests_24h").inner_text() == "3"
    row.locator("input.action-select").check()
    page.select_option("select[name='action']", "revoke_selected")
    page.click("button[name='index']")
    assert "Revoked 1 API key" in page.locator(".messagelist").inner_text()
    assert page.locator("#result_list tbody tr", has_text=prefix).locator("td.field-state").inner_text() == "revoked"

    refused = feed(url, raw)
    assert refused.status_code == 401
    assert refused.json() == {"detail": "Invalid or missing API key"}

    # its replacement, made on the key list
    page.click(".object-tools a.addlink")
    page.select_option("#id_team", label="Payments")
    page.fill("#id_name", "prod feeder 2")
    page.click("input[name='_save']")
    message = page.locator(".messagelist").inner_text()
    second = re.search(r"The API key for prod feeder 2 is: ([\w.]+)\.", message).group(1)
    assert feed(url, second).status_code == 200
    page.goto(url + "/admin/feeds/teamapikey/")
    assert second not in page.content()
    row = page.locator("#result_list tbody tr", has_text=second.partition(".")[0])
    assert row.locator("td.field-state").inner_text() == "active"
    assert row.locator("td.field-requests_24h").inner_text() == "1"
    page.screenshot(path=screenshots / "admin-keys.png", clip=LIST_CLIP)
