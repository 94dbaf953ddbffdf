"""Each role's home page in Chromium (issue 9, item 3 and "done when"): every demo login lands
on its own work queues, the queue that holds demo work lists it, and its first item opens; the
complaint list fits a 1366 px screen (item 7)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

# login → (the panels its home shows, in order; the one that holds demo work)
MINE = ["improvement.my_actions", "improvement.suggestions"]
HOMES = {
    "desk": (
        ["complaints.awaiting_acceptance", "surveys.callbacks_due", "surveys.weekly", *MINE],
        "complaints.awaiting_acceptance",
    ),
    "satisfaction": (["surveys.running_campaigns", *MINE, "improvement.reviews_due"], "surveys.running_campaigns"),
    "brm": (
        [
            "complaints.awaiting_acceptance",
            "complaints.my_escalations",
            "kpi.needing_attention",
            "surveys.campaigns_to_approve",
            *MINE,
            "improvement.plans_to_approve",
            "improvement.reviews_due",
        ],
        "complaints.my_escalations",
    ),
    "head": (
        [
            "complaints.level_2",
            "kpi.needing_attention",
            *MINE,
            "improvement.plans_to_approve",
            "improvement.reviews_due",
        ],
        "complaints.level_2",
    ),
    "mrep": (["complaints.level_3", "kpi.needing_attention", *MINE], "complaints.level_3"),
    "owner": (
        [
            "complaints.overdue",
            "kpi.needing_attention",
            "surveys.callbacks_overdue",
            "sla.reviews_overdue",
            *MINE,
            "improvement.reviews_due",
            "core.recent_changes",
        ],
        "complaints.overdue",
    ),
    "slm": (
        [
            "sla.underpinning_gaps",
            "sla.reports_to_approve",
            "sla.reviews_due",
            "sla.expiring",
            *MINE,
            "improvement.reviews_due",
        ],
        "sla.underpinning_gaps",
    ),
    "quality": (
        ["kpi.needing_attention", "surveys.running_campaigns", *MINE, "improvement.reviews_due"],
        "surveys.running_campaigns",
    ),
    "auditor": (["core.recent_changes"], "core.recent_changes"),
}


def test_each_role_lands_on_its_own_work_queues(new_page, log_in, browser_problems):
    for username, (panels, busy) in HOMES.items():
        page = new_page()
        log_in(page, username)
        expect(page.locator("[data-testid=welcome]")).to_be_visible()
        shown = page.locator("[data-panel]").evaluate_all("nodes => nodes.map(n => n.dataset.panel)")
        assert shown == panels, username
        queue = page.locator(f"[data-panel='{busy}']")
        count = int(queue.locator("[data-testid=panel-count]").inner_text())
        items = queue.locator("[data-testid=panel-item]")
        assert count >= 1 and items.count() == min(count, 5), (username, count, items.count())
        first = items.first.locator("a").first
        home = page.url
        with page.expect_navigation() as opened:
            first.click()
        assert opened.value.status == 200 and page.url != home, (username, page.url)
        page.context.close()
    browser_problems.assert_none()


def test_the_administrator_sees_every_queue_and_the_admin_link(page, log_in, browser_problems):
    log_in(page, "admin")
    expect(page.locator("[data-testid=superuser-note]")).to_be_visible()
    shown = set(page.locator("[data-panel]").evaluate_all("nodes => nodes.map(n => n.dataset.panel)"))
    assert shown >= {key for panels, _busy in HOMES.values() for key in panels}
    browser_problems.assert_none()


def test_the_complaint_list_fits_a_1366_pixel_screen(new_page, log_in, browser_problems):
    page = new_page(viewport={"width": 1366, "height": 768})
    log_in(page, "brm")
    page.goto("/complaints/")
    expect(page.locator("main table")).to_be_visible()
    overflow = page.evaluate(
        """() => {
            const table = document.querySelector('main table');
            const box = table.closest('.table-responsive') || table.parentElement;
            return {page: document.documentElement.scrollWidth - document.documentElement.clientWidth,
                    table: table.scrollWidth - box.clientWidth};
        }"""
    )
    assert overflow["page"] <= 0 and overflow["table"] <= 0, overflow
    browser_problems.assert_none()
