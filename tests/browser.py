"""A real browser for the dashboard's tests and benchmarks: Debian's chromium driven by the
playwright package (never `playwright install`, which downloads a browser of its own)."""
import os
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = Path(os.environ.get("ARGUS_CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
MISSING = ("{} is missing: the dashboard's browser tests need Debian's chromium "
           "(apt-get install -y chromium; .ci/run installs it when it is missing)")


@contextmanager
def chromium():
    """A launched headless chromium (a playwright Browser)."""
    if not CHROMIUM.exists():  # a failure, not a skip: a suite without its browser tests is not green
        raise AssertionError(MISSING.format(CHROMIUM))
    # Playwright's sync API runs an event loop in this thread; Django's ORM, used by the tests
    # beside it, would otherwise refuse to run ("async context"). Only while the browser is up:
    # processes started later inherit the environment (and `check --deploy` rejects the setting).
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            try:
                yield browser
            finally:
                browser.close()
    finally:
        if before is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


def watch_console(page) -> list:
    """Collects the page's console errors and uncaught exceptions into the returned list."""
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def log_in(page, base, username, password):
    page.goto(base + "/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("button[type=submit]")
