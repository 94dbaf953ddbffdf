"""Browser tests: Debian's headless Chromium, driven by Playwright, against pytest-django's live server.

No ``playwright install``: the tests use the system Chromium (``/usr/bin/chromium``, or
``E2E_CHROMIUM``), which CI installs with ``scripts/install-system-deps.sh test``. Without it
the e2e tests are skipped with the reason. Every test gets a fresh browser context (cookies,
language) on the live server, with the demo data loaded and the role groups in place.

On a failure the page's screenshot goes to ``test-results/`` (git-ignored) for a look.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from itsm.core.management.commands.load_demo import DEMO_PASSWORD
from itsm.core.roles import Role, sync_role_permissions

# Playwright's sync API keeps an asyncio event loop in this thread for the whole session, so
# Django's "you cannot call this from an async context" guard would refuse every ORM call made
# by the tests and fixtures (not by the live server, which has its own thread). Nothing here is
# really async, so the guard is switched off for the session.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path(os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium"))
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-results"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 667}


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the test so the page fixture knows whether the test failed.
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="package")
def browser():
    """One headless Chromium for the browser tests. Package scope: Playwright's event loop
    stops when they are done, before pytest-django runs the tests that need no database."""
    if not CHROMIUM.exists():
        pytest.skip(f"e2e tests need Chromium at {CHROMIUM} (apt-get install chromium, or set E2E_CHROMIUM)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def demo_data(transactional_db):
    """The role groups and ``load_demo``'s rows (a login per role, organisations, contacts).

    Live-server tests run on a flushed database, so what the migrations created is not
    guaranteed to be there: the groups are synced again and the demo data loaded per test.
    """
    sync_role_permissions()
    groups = set(Group.objects.values_list("name", flat=True))
    missing = {role.value for role in Role} - groups
    assert not missing, f"role groups missing after sync_role_permissions(): {sorted(missing)}"
    call_command("load_demo", stdout=io.StringIO())


@dataclass
class BrowserProblems:
    """What went wrong in the page besides the test's own assertions."""

    errors: list[str] = field(default_factory=list)
    # Refused by the Content-Security-Policy: an inline script, style or handler, or a source
    # the policy does not allow. Any of these fails the test (checked when its pages close).
    policy_violations: list[str] = field(default_factory=list)

    def console(self, message) -> None:
        if "Content Security Policy" in message.text or "Permissions policy violation" in message.text:
            self.policy_violations.append(f"{message.type}: {message.text} ({message.location.get('url', '')})")

    def javascript_error(self, error) -> None:
        self.errors.append(f"JavaScript error: {error}")

    def response(self, response) -> None:
        if response.status >= 400:
            self.errors.append(f"HTTP {response.status}: {response.request.method} {response.url}")

    def assert_none(self) -> None:
        assert not self.errors, "browser reported problems:\n" + "\n".join(self.errors)


@pytest.fixture
def browser_problems() -> BrowserProblems:
    return BrowserProblems()


@pytest.fixture
def new_page(browser, live_server, demo_data, browser_problems, request) -> Iterator[Callable]:
    """``new_page(viewport=..., locale=...)`` → a page in a fresh browser context on the live server.

    The default is a Chinese-speaking desktop browser (``zh-CN``, Asia/Shanghai). JavaScript
    errors and failed requests (4xx/5xx, e.g. a missing static file) are collected in
    ``browser_problems``; anything the Content-Security-Policy or Permissions-Policy refused
    fails the test.
    """
    contexts = []
    pages = []

    def make(*, viewport: dict | None = None, locale: str = "zh-CN"):
        context = browser.new_context(
            base_url=live_server.url,
            viewport=viewport or DESKTOP,
            locale=locale,
            timezone_id="Asia/Shanghai",
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", browser_problems.javascript_error)
        page.on("response", browser_problems.response)
        page.on("console", browser_problems.console)
        pages.append(page)
        return page

    yield make

    failed = getattr(request.node, "report_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid.split("::", 1)[-1])
        for index, page in enumerate(pages):
            if not page.is_closed():
                page.screenshot(path=str(ARTIFACTS / f"{name}-{index}.png"), full_page=True)
    for context in contexts:
        context.close()
    assert not browser_problems.policy_violations, "the page broke its security policy:\n" + "\n".join(
        browser_problems.policy_violations
    )


@pytest.fixture
def page(new_page):
    """A Chinese-speaking desktop browser page on the live server."""
    return new_page()


def pick(page, field_id: str, typed: str, choice: str) -> None:
    """Choose in a type-ahead picker (itsm/core/pickers.py, Tom Select): type ``typed`` into the
    picker of the select ``#field_id`` and click the result that reads ``choice``."""
    from playwright.sync_api import expect

    control = page.locator(f"#{field_id}-ts-control")
    control.click()
    control.fill(typed)
    option = page.locator(f"#{field_id}-ts-dropdown .option", has_text=choice)
    expect(option.first).to_be_visible()
    option.first.click()


@pytest.fixture
def log_in():
    """``log_in(page, "desk")``: sign in through the login form as a demo user."""

    def submit(page, username: str, password: str = DEMO_PASSWORD) -> None:
        if "/login/" not in page.url:
            page.goto("/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        with page.expect_navigation():
            page.click("main form button[type=submit]")

    return submit
