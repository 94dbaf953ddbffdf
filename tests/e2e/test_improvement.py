"""Continual improvement in Chromium: from a complaint to a verified closure.

A complaint whose cause is analysed: the BR manager plans an improvement from its page (a new
draft plan by title), and the complaint shows the plan. On the plan's page she says how success
is measured, adds an action owned by the service desk (due in five working days), submits the
plan and approves it as the BR manager, and starts the work. The service desk records the
action as done with its evidence. She asks for the effectiveness review, records it as
effective: the plan is closed (the PDCA stage reads "Act"), its item done, and the complaint
page shows the plan closed. Then the register, the tracking sheet and the plan list at a
phone's width: nothing wider than the screen.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from complaints.choices import ComplaintStatus
from improvement.choices import ItemStatus, PlanStatus
from improvement.models import ImprovementPlan
from tests.complaints.factories import make_complaint

from .conftest import PHONE, pick

pytestmark = pytest.mark.e2e

PLAN_TITLE = "夜间值班人手不足整改"


def submit(page, form) -> None:
    with page.expect_navigation():
        form.locator("button[type=submit]").first.click()


def test_a_complaint_goes_round_the_improvement_loop_to_a_verified_closure(page, new_page, log_in):
    complaint = make_complaint(ComplaintStatus.ANALYSIS, title="夜间报障电话长时间无人接听")
    log_in(page, "brm")

    # Plan an improvement from the complaint: a new draft plan.
    page.goto(f"/complaints/{complaint.pk}/")
    form = page.locator('form[data-action="plan_improvement"]')
    form.locator('input[name$="new_plan_title"]').fill(PLAN_TITLE)
    submit(page, form)
    panel = page.get_by_test_id("improvement-panel")
    expect(panel.get_by_test_id("improvement-plans")).to_contain_text(PLAN_TITLE)
    plan = ImprovementPlan.objects.get(title=PLAN_TITLE)
    assert plan.status == PlanStatus.DRAFT and plan.items.get().source == complaint

    # The plan: a target, an action for the service desk, submitted, approved, started.
    with page.expect_navigation():
        panel.get_by_role("link", name=PLAN_TITLE).first.click()
    expect(page.get_by_test_id("pdca-section")).to_be_visible()
    with page.expect_navigation():
        page.get_by_test_id("edit-link").click()
    page.fill("#id_target_measure", "夜间来电 30 秒内接听率 ≥ 90%")
    submit(page, page.locator("main form").first)
    action_form = page.get_by_test_id("action-form")
    action_form.locator("#id_action-title").fill("增设夜间第二值班岗")
    pick(page, "id_action-owner", "王服务台", "王服务台")
    action_form.locator("#id_action-working_days").fill("5")
    submit(page, action_form)
    expect(page.get_by_test_id("plan-actions")).to_contain_text("增设夜间第二值班岗")
    for action in ("submit", "approve", "start"):
        submit(page, page.locator(f'form[data-action="{action}"]'))
    plan.refresh_from_db()
    assert (plan.status, plan.approved_by.username) == (PlanStatus.IN_PROGRESS, "brm")

    # The service desk does the action, with its evidence.
    desk = new_page()
    log_in(desk, "desk")
    desk.goto(plan.get_absolute_url())
    desk.locator("summary.btn-outline-success").first.click()  # "record as done" opens its form
    complete = desk.get_by_test_id("complete-form")
    complete.locator('textarea[name="evidence_note"]').fill("第二值班岗已于本周排班上岗，排班表见共享盘。")
    submit(desk, complete)
    expect(desk.get_by_test_id("plan-actions")).to_contain_text("第二值班岗已于本周排班上岗")

    # Check: the effectiveness review, scheduled then recorded as effective.
    page.reload()
    review = page.locator('form[data-action="request_review"]')
    review.locator('input[name$="review_due_on"]').fill((timezone.localdate() + timedelta(days=20)).isoformat())
    submit(page, review)
    form = page.get_by_test_id("review-form")
    form.locator('input[name="review-result"][value="effective"]').check()
    form.locator('textarea[name="review-evidence_note"]').fill("近四周夜间来电 30 秒内接听率 94%。")
    submit(page, form)
    expect(page.get_by_test_id("pdca-section")).to_contain_text("处理")  # the Act stage
    plan.refresh_from_db()
    assert (plan.status, plan.outcome, plan.items.get().status) == (PlanStatus.CLOSED, "effective", ItemStatus.DONE)

    # The complaint shows its plan, closed.
    page.goto(f"/complaints/{complaint.pk}/")
    expect(page.get_by_test_id("improvement-plans")).to_contain_text(str(plan.get_status_display()))

    # The register, the tracking sheet and the plans fit a phone.
    phone = new_page(viewport=PHONE)
    log_in(phone, "brm")
    for url in ("/improvement/items/", "/improvement/tracking/", "/improvement/plans/", plan.get_absolute_url()):
        phone.goto(url)
        assert not phone.evaluate("document.documentElement.scrollWidth > window.innerWidth"), url
