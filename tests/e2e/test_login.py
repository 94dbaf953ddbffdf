"""Signing in, the per-role home page, the language switch and the phone layout, in Chromium.

The site is Chinese first (``LANGUAGE_CODE = "zh-hans"``) with English one click away in the
navbar (SPEC §10); each role lands on a home page with its own card (SPEC §1).
"""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import expect

from itsm.core.management.commands.load_demo import USERS
from itsm.core.roles import ROLE_PERMISSIONS, Role

from .conftest import PHONE

pytestmark = pytest.mark.e2e

HOME = re.compile(r"^https?://[^/]+/$")
FULL_NAMES = {username: full_name for username, _role, full_name, _email in USERS}

# username, role, the card's title in Chinese and in English. Titles are spelled out here
# rather than read from the catalogue, so a broken or missing translation fails.
ROLE_CARDS = [
    ("desk", Role.SERVICE_DESK, "服务台", "Service desk"),
    ("satisfaction", Role.SATISFACTION_OWNER, "客户满意度维护人", "Satisfaction owner"),
    ("brm", Role.BR_MANAGER, "业务关系经理", "Business relationship manager"),
    ("head", Role.DEPARTMENT_HEAD, "部门负责人", "Department head"),
    ("mrep", Role.MANAGEMENT_REP, "管理者代表", "Management representative"),
    ("owner", Role.PROCESS_OWNER, "流程负责人", "Process owner"),
    ("slm", Role.SERVICE_LEVEL_MANAGER, "服务级别经理", "Service level manager"),
    ("quality", Role.QUALITY_MANAGER, "质量管理部", "Quality manager"),
    ("auditor", Role.AUDITOR, "审核员", "Auditor"),
]


def sees_audit_trail(role: Role) -> bool:
    """Only roles holding the audit log's view permission get the "Audit trail" entry."""
    return "auditlog.logentry" in ROLE_PERMISSIONS[role]


def switch_language(page, code: str) -> None:
    with page.expect_navigation():
        page.select_option("#language-select", code)


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_signed_out_visitor_is_sent_to_the_chinese_login_page(page, browser_problems):
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("main h1")).to_have_text("登录")
    expect(page.get_by_label("用户名")).to_be_visible()
    expect(page.get_by_label("密码")).to_be_visible()
    expect(page).to_have_title("登录 · itsm")
    browser_problems.assert_none()


def test_browser_asking_for_another_language_gets_chinese(new_page):
    page = new_page(locale="fr-FR")
    page.goto("/login/")
    expect(page.locator("main h1")).to_have_text("登录")


@pytest.mark.parametrize(("username", "role", "title_zh", "title_en"), ROLE_CARDS, ids=[c[0] for c in ROLE_CARDS])
def test_role_home_page_in_chinese_then_english(page, log_in, browser_problems, username, role, title_zh, title_en):
    page.goto("/")
    expect(page.locator("main h1")).to_have_text("登录")
    log_in(page, username)

    # Chinese by default.
    expect(page).to_have_url(HOME)
    welcome = page.locator("[data-testid=welcome]")
    expect(welcome).to_have_text(f"欢迎，{FULL_NAMES[username]}")
    cards = page.locator("section[data-role]")
    expect(cards).to_have_count(1)
    card = page.locator(f"section[data-role={role.value}]")
    expect(card.locator("h3")).to_have_text(title_zh)
    expect(page.get_by_role("button", name="退出")).to_be_visible()
    if os.environ.get("E2E_SCREENSHOT") and username == "owner":
        page.screenshot(path=os.environ["E2E_SCREENSHOT"], full_page=True)

    audit_link = page.locator("nav a[data-nav=audit_list]")
    if sees_audit_trail(role):
        expect(audit_link).to_have_count(1)
        expect(audit_link).to_be_hidden()  # inside the closed "基础数据" dropdown
        page.locator("nav .dropdown", has=page.locator("a[data-nav=audit_list]")).locator(".dropdown-toggle").click()
        expect(audit_link).to_be_visible()
        expect(audit_link).to_have_text("审计追踪")
    else:
        expect(audit_link).to_have_count(0)
        expect(page.locator("nav")).not_to_contain_text("审计追踪")

    # Switched to English from the navbar; the choice sticks.
    switch_language(page, "en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(welcome).to_have_text(f"Welcome, {FULL_NAMES[username]}")
    expect(card.locator("h3")).to_have_text(title_en)
    expect(page.locator("#language-select")).to_have_value("en")
    if sees_audit_trail(role):
        expect(audit_link).to_have_text("Audit trail")
    else:
        expect(page.locator("nav")).not_to_contain_text("Audit trail")
    page.reload()
    expect(welcome).to_have_text(f"Welcome, {FULL_NAMES[username]}")

    # And back.
    switch_language(page, "zh-hans")
    expect(welcome).to_have_text(f"欢迎，{FULL_NAMES[username]}")
    browser_problems.assert_none()


def test_superuser_without_role_is_told_so_and_sees_administration(page, log_in):
    log_in(page, "admin")
    expect(page.locator("[data-testid=welcome]")).to_have_text("欢迎，管理员")
    # No role of its own: every work queue instead, and the administration one click away.
    expect(page.locator("section[data-role]")).to_have_count(0)
    expect(page.locator("main .alert-warning")).to_have_count(0)
    expect(page.locator("[data-testid=superuser-note]")).to_be_visible()
    expect(page.locator("[data-action=admin]")).to_be_visible()


def test_wrong_password_stays_on_the_login_page_with_a_message(page, log_in):
    page.goto("/login/")
    log_in(page, "desk", password="not-the-password")
    expect(page.locator("main h1")).to_have_text("登录")
    expect(page.locator("main .alert-danger")).to_be_visible()
    expect(page.locator("#id_username")).to_have_value("desk")
    expect(page.locator("[data-testid=welcome]")).to_have_count(0)


def test_log_out_returns_to_the_login_page(page, log_in):
    log_in(page, "brm")
    expect(page.locator("[data-testid=welcome]")).to_contain_text("欢迎")
    with page.expect_navigation():
        page.get_by_role("button", name="退出").click()
    expect(page.locator("main h1")).to_have_text("登录")
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))


def test_login_page_fits_a_phone(new_page, browser_problems):
    page = new_page(viewport=PHONE)
    page.goto("/login/")
    expect(page.locator("main h1")).to_have_text("登录")
    assert no_horizontal_scroll(page)
    submit = page.locator("main form button[type=submit]")
    box = submit.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    browser_problems.assert_none()


@pytest.mark.parametrize("path", ["/", "/organisations/", "/contacts/"])
def test_pages_fit_a_phone(new_page, log_in, path):
    page = new_page(viewport=PHONE)
    log_in(page, "owner")
    page.goto(path)
    expect(page.locator("main h1")).to_be_visible()
    assert no_horizontal_scroll(page), page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    # Wide tables scroll inside their wrapper rather than stacking a heading one glyph per line.
    tallest_heading = page.evaluate(
        "Math.max(0, ...Array.from(document.querySelectorAll('main thead th'), th => th.offsetHeight))"
    )
    assert tallest_heading < 45, f"a column heading wraps on a phone ({tallest_heading}px tall)"


def test_phone_menu_holds_the_language_switch(new_page, log_in):
    page = new_page(viewport=PHONE)
    log_in(page, "desk")
    select = page.locator("#language-select")
    expect(select).to_be_hidden()  # collapsed behind the navbar toggler
    page.get_by_role("button", name="展开或收起导航").click()
    expect(select).to_be_visible()
    switch_language(page, "en")
    expect(page.locator("[data-testid=welcome]")).to_contain_text("Welcome")
