"""Ticket call-backs in Chromium: the desk's phone call and the customer's mailed link.

The demo data holds due call-backs for resolved tickets (``surveys.demo.callbacks``). The desk
records an unhappy phone answer (the ticket is flagged not closable and a complaint can be
registered from it), and mails another customer a link which they answer on a phone. The live
server runs in this process: its mail is Django's locmem outbox and Celery runs eagerly.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from playwright.sync_api import expect

from surveys.models import CallBack

from .conftest import PHONE
from .test_complaints import deliver_held_mail

pytestmark = pytest.mark.e2e

UNHAPPY_REF = "INC-2026-1"  # 陈建国, resolved two hours ago: due
LINK_REF = "INC-2026-2"  # Grace Lin, resolved ten hours ago: due


def row_of(page, ticket_ref: str):
    """The call-back list's row of one ticket."""
    link = page.locator("td a", has_text=re.compile(rf"^{re.escape(ticket_ref)}$"))
    return page.locator("[data-testid=callback-list] tbody tr", has=link)


def choose(page, name: str, value: str) -> None:
    """Pick one of the answer form's button-like radios by clicking its label."""
    page.locator(f"label[for='{name}-{value}']").click()
    expect(page.locator(f"#{name}-{value}")).to_be_checked()


def test_an_unhappy_phone_call_leads_to_a_complaint(new_page, log_in, browser_problems):
    callback = CallBack.objects.get(ticket__ticket_ref=UNHAPPY_REF)
    assert callback.answered_at is None

    desk = new_page()
    log_in(desk, "desk")
    desk.goto("/surveys/callbacks/")
    row = row_of(desk, UNHAPPY_REF)
    expect(row).to_have_count(1)
    expect(row.locator("[data-testid^=state-]")).to_have_attribute("data-testid", re.compile(r"state-(due|overdue)"))
    with desk.expect_navigation():
        row.get_by_role("link", name=UNHAPPY_REF).click()
    expect(desk).to_have_url(re.compile(rf"/surveys/callbacks/{callback.pk}/$"))
    expect(desk.locator("[data-testid=not-closable]")).to_have_count(0)
    expect(desk.locator("[data-testid=register-complaint]")).to_have_count(0)

    # The customer on the phone: the fault is back, the service was slow, not satisfied.
    choose(desk, "fixed", "no")
    choose(desk, "rating_attitude", "3")
    choose(desk, "rating_speed", "2")
    choose(desk, "rating_effect", "1")
    choose(desk, "satisfied", "no")
    desk.fill("#id_comment", "登录仍然很慢，问题没有解决。")
    with desk.expect_navigation():
        desk.locator("main form:has(#id_comment) button[type=submit]").click()
    expect(desk.locator("main .alert-success")).to_be_visible()

    callback.refresh_from_db()
    assert (callback.fixed, callback.satisfied) == (False, False)
    assert (callback.rating_attitude, callback.rating_speed, callback.rating_effect) == (3, 2, 1)
    assert callback.comment == "登录仍然很慢，问题没有解决。"
    assert callback.method == "phone" and callback.on_behalf
    assert not callback.ticket.closable

    expect(desk.locator("[data-testid=not-closable]")).to_be_visible()
    expect(desk.locator("main")).to_contain_text("登录仍然很慢，问题没有解决。")
    register = desk.locator("[data-testid=register-complaint]")
    expect(register).to_be_visible()

    # From the call-back straight to the complaint form, the ticket already filled in.
    with desk.expect_navigation():
        register.click()
    expect(desk).to_have_url(re.compile(r"/complaints/new/\?"))
    expect(desk.locator("#id_external_ticket_ref")).to_have_value(UNHAPPY_REF)
    expect(desk.locator("#id_channel")).to_have_value("phone")
    expect(desk.locator("#id_title")).to_have_value(re.compile(re.escape(UNHAPPY_REF)))
    ticket = callback.ticket
    if ticket.organisation_id:
        expect(desk.locator("#id_organisation")).to_have_value(str(ticket.organisation_id))

    # The list shows it answered and dissatisfied.
    desk.goto("/surveys/callbacks/?state=dissatisfied")
    expect(row_of(desk, UNHAPPY_REF).locator("[data-testid=state-dissatisfied]")).to_be_visible()
    browser_problems.assert_none()


def test_the_customer_answers_through_the_mailed_link(new_page, log_in, browser_problems):
    callback = CallBack.objects.get(ticket__ticket_ref=LINK_REF)
    assert callback.answered_at is None and callback.link_sent_at is None
    mail.outbox.clear()

    desk = new_page()
    log_in(desk, "desk")
    desk.goto(f"/surveys/callbacks/{callback.pk}/")
    with desk.expect_navigation():
        desk.locator(f"form[action$='/surveys/callbacks/{callback.pk}/send-link/'] button[type=submit]").click()
    expect(desk.locator("main .alert-success")).to_be_visible()
    callback.refresh_from_db()
    assert callback.link_sent_at is not None

    deliver_held_mail()
    email = callback.ticket.requester_email
    to_customer = [m for m in mail.outbox if m.to == [email] and LINK_REF in m.body]
    links = [re.search(r"https?://\S+/c/\S+/", m.body) for m in to_customer]
    [link] = [found for found in links if found]
    path = urlsplit(link.group(0)).path

    # The customer opens it on a phone and answers: fixed, good service, satisfied.
    phone = new_page(viewport=PHONE, locale="en-US")
    phone.goto(path)
    card = phone.locator("[data-testid=callback-answer]")
    expect(card).to_contain_text(LINK_REF)
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    box = phone.locator("label[for=rating_attitude-5]").bounding_box()
    assert box and box["height"] >= 44 and box["width"] >= 44  # a comfortable tap target
    choose(phone, "fixed", "yes")
    choose(phone, "rating_attitude", "5")
    choose(phone, "rating_speed", "4")
    choose(phone, "rating_effect", "5")
    choose(phone, "satisfied", "yes")
    phone.fill("#id_comment", "Printer works again, thanks.")
    with phone.expect_navigation():
        card.locator("button[type=submit]").click()
    expect(phone.locator("[data-testid=callback-thanks]")).to_be_visible()

    callback.refresh_from_db()
    assert callback.answered_at is not None and callback.method == "link" and not callback.on_behalf
    assert (callback.fixed, callback.satisfied, callback.rating_attitude) == (True, True, 5)
    assert callback.ticket.closable

    # The link works once: opening it again says it was answered already (410).
    response = phone.goto(path)
    assert response is not None and response.status == 410
    expect(phone.locator("[data-token-error]")).to_have_attribute("data-token-error", "used")
    expect(phone.locator("form textarea")).to_have_count(0)

    # The desk's list shows it answered and satisfied; nothing is left to do on it.
    desk.goto("/surveys/callbacks/?state=answered")
    expect(row_of(desk, LINK_REF).locator("[data-testid=state-satisfied]")).to_be_visible()
    desk.goto("/surveys/callbacks/")
    expect(row_of(desk, LINK_REF)).to_have_count(0)
    desk.goto(f"/surveys/callbacks/{callback.pk}/")
    expect(desk.locator("main")).to_contain_text("Printer works again, thanks.")
    expect(desk.locator("form[action$='/send-link/']")).to_have_count(0)
    expect(desk.locator("[data-testid=register-complaint]")).to_have_count(0)

    # The only failed request was the deliberate second visit.
    assert browser_problems.errors == [f"HTTP 410: GET {phone.url}"]
