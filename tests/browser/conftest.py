"""Real headless Chromium (Debian's package) driven by Playwright against a live server."""

import os
import shutil
from pathlib import Path

import pytest

from studyapp.services import bank_load

CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
# Playwright's sync API keeps an event loop running in this thread; the ORM calls the
# fixtures make are still plain synchronous calls (the documented way to combine the two).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip("Chromium is not installed (make test installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, bank_dir, settings):
    settings.ALLOWED_HOSTS = ["*"]
    bank_load(bank_dir=bank_dir)
    context = browser.new_context(locale="en-GB", viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.base = live_server.url
    page.console_errors = []  # CSP violations and script errors land here
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
    page.on("pageerror", lambda e: page.console_errors.append(str(e)))
    yield page
    context.close()


@pytest.fixture
def screenshot_dir() -> Path:
    """Where `make screenshot` writes the README's screenshots; the test is skipped otherwise."""
    out = os.environ.get("SCREENSHOT_DIR")
    if not out:
        pytest.skip("SCREENSHOT_DIR not set")
    Path(out).mkdir(parents=True, exist_ok=True)
    return Path(out)
