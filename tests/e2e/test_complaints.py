"""A complaint from the phone call to its closure, in Chromium, as the people involved see it.

The service desk registers it by the form (contact found by phone number), accepts,
investigates and escalates it; the BR manager applies a remedy; the desk records the
customer satisfied with category and root cause; the BR manager resolves it; the customer
opens the link from the result mail on a phone and rates it 5 / settled; the desk closes it.
The timeline shows every step. The live server runs in this process: its mail is Django's
locmem outbox and Celery runs eagerly.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from complaints.models import Complaint
from itsm.core.choices import NotificationStatus
from itsm.core.models import Contact, Notification
from itsm.core.notifications import notification_deliver_due

from .conftest import PHONE, pick

pytestmark = pytest.mark.e2e

SCREENSHOT = "/tmp/complaint-detail.png"  # noqa: S108  (a look at the layout, asked for by the brief)


def act(page, action: str, **fields: str) -> None:
    """Fill the action's small form on the detail page and submit it."""
    form = page.locator(f"form[data-action={action}]")
    expect(form).to_be_visible()
    for name, value in fields.items():
        field = form.locator(f"[name='{action}-{name}']")
        if field.evaluate("el => el.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    expect(page.locator("main .alert-success")).to_be_visible()


def status_of(page) -> str:
    return page.locator("[data-testid=status]").get_attribute("data-status") or ""


def deliver_held_mail() -> None:
    """Mail that is not urgent waits for working hours; deliver it now as the beat would then."""
    Notification.objects.filter(status=NotificationStatus.PENDING).update(send_after=timezone.now())
    notification_deliver_due()


def test_a_complaint_from_the_phone_call_to_closure(new_page, log_in, browser_problems):
    grace = Contact.objects.get(email="grace.lin@hx-bank.example")  # prefers English
    mail.outbox.clear()

    # The service desk takes the call and finds the caller by the number on the display.
    desk = new_page()
    log_in(desk, "desk")
    desk.goto("/complaints/new/")
    expect(desk.locator("#id_channel")).to_have_value("phone")
    pick(desk, "id_contact", "138 0000 0003", "Grace Lin")  # the contact picker (type-ahead)
    expect(desk.locator("#id_contact")).to_have_value(str(grace.pk))
    expect(desk.locator("#id_organisation")).to_have_value(str(grace.organisation_id))
    desk.fill("#id_title", "网银转账页面频繁超时")
    desk.fill("#id_description", "客户反映今天上午网银转账页面多次超时，已影响对公业务。")
    pick(desk, "id_related_service", "托管", "业务系统托管服务")  # a service of the demo catalogue
    desk.fill("#id_external_ticket_ref", "INC-20260310-001")
    with desk.expect_navigation():
        desk.click("[data-testid=register]")
    complaint = Complaint.objects.get(external_ticket_ref="INC-20260310-001")
    expect(desk).to_have_url(re.compile(rf"/complaints/{complaint.pk}/$"))
    expect(desk.locator("main .alert-success")).to_contain_text(complaint.reference)
    assert complaint.contact == grace and status_of(desk) == "registered"

    act(desk, "accept")
    act(desk, "investigate")
    assert status_of(desk) == "investigating"
    act(desk, "escalate", note="客户要求业务关系经理跟进")
    assert status_of(desk) == "escalated"
    expect(desk.locator("[data-testid=escalation-level]")).to_have_attribute("data-level", "1")
    expect(desk.locator("form[data-action=remedy]")).to_be_visible()  # the desk may still remedy

    # The BR manager now owns it and applies the remedy.
    brm = new_page()
    log_in(brm, "brm")
    brm.goto(f"/complaints/{complaint.pk}/")
    expect(brm.locator("[data-testid=owner]")).to_have_text("张关系")
    act(brm, "remedy", diagnosis="转账网关容量不足，高峰排队超时", remedial_actions="扩容转账网关并调整超时参数")
    assert status_of(brm) == "awaiting_feedback"
    expect(brm.locator("[data-deadline=resolution]")).to_have_attribute("data-state", "paused")

    # The customer tells the desk the remedy worked: cause analysis.
    desk.reload()
    act(desk, "customer_satisfied", category="resolution_quality", root_cause="转账网关容量不足")
    assert status_of(desk) == "analysis"

    # The BR manager resolves it; the customer is mailed a link.
    brm.reload()
    act(brm, "resolve", result="已扩容网关，转账响应恢复到 2 秒以内。")
    assert status_of(brm) == "resolved"
    deliver_held_mail()
    to_grace = [m for m in mail.outbox if m.to == [grace.email] and complaint.reference in m.body]
    links = [re.search(r"https?://\S+/complaint-feedback/\S+/", m.body) for m in to_grace]
    [link] = [found for found in links if found]  # the acknowledgement has none, the result one

    # The customer opens it on a phone, in English, and answers.
    phone = new_page(viewport=PHONE, locale="en-US")
    phone.goto(urlsplit(link.group(0)).path)
    expect(phone.locator("html")).to_have_attribute("lang", "en")
    expect(phone.locator("[data-testid=complaint-feedback]")).to_contain_text(complaint.reference)
    expect(phone.locator("[data-testid=result]")).to_contain_text("已扩容网关")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    card = phone.locator("[data-testid=complaint-feedback]").bounding_box()
    last = phone.locator("label[for=rating-1]").bounding_box()
    assert card and last and last["x"] + last["width"] <= card["x"] + card["width"]  # five abreast, inside the card
    rating = phone.locator("label[for=rating-5]")
    box = rating.bounding_box()
    assert box and box["height"] >= 44 and box["width"] >= 44  # a comfortable tap target
    rating.click()
    phone.locator("label[for=settled-yes]").click()
    phone.fill("textarea[name=comment]", "Thank you, works fine now.")
    with phone.expect_navigation():
        phone.get_by_role("button", name="Send my answer").click()
    expect(phone.locator("[data-testid=feedback-thanks]")).to_have_attribute("data-reopened", "no")

    # The desk sees the answer and closes the complaint.
    desk.reload()
    expect(desk.locator("[data-testid=customer-feedback]")).to_contain_text("5/5")
    act(desk, "close")
    assert status_of(desk) == "closed"
    offered = [form.get_attribute("data-action") for form in desk.locator("#actions form[data-action]").all()]
    assert offered == ["reopen"]  # all that is left for a closed complaint

    timeline = desk.locator("[data-testid=timeline] > li")
    actions = [item.get_attribute("data-action") for item in timeline.all()]
    assert actions == [
        "register",
        "accept",
        "investigate",
        "escalate",
        "remedy",
        "customer_satisfied",
        "resolve",
        "customer_feedback",
        "close",
    ]
    expect(timeline.nth(3)).to_contain_text("客户要求业务关系经理跟进")
    expect(timeline.nth(4)).to_contain_text("张关系")
    complaint.refresh_from_db()
    assert (complaint.status, complaint.result_satisfaction, complaint.result_settled) == ("closed", 5, True)

    desk.set_viewport_size({"width": 1400, "height": 900})
    desk.screenshot(path=SCREENSHOT, full_page=True)
    browser_problems.assert_none()
