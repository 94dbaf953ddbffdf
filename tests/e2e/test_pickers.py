"""Type-ahead pickers in Chromium: the service desk registers a complaint during a call by
typing into the organisation picker and choosing a result, then the contact picker offers
that organisation's contacts and finds one by a single Chinese character; a contact found
first (by the phone number on the display) brings its organisation along."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from complaints.models import Complaint
from itsm.core.models import Contact, Organisation

from .conftest import pick

pytestmark = pytest.mark.e2e


def test_registration_by_typing_in_the_pickers(page, log_in, browser_problems):
    bank = Organisation.objects.get(code="hx-bank")
    chen = Contact.objects.get(email="chen.jianguo@hx-bank.example")
    log_in(page, "desk")
    page.goto("/complaints/new/")
    # The organisation select holds no list of organisations: it is a type-ahead.
    assert page.locator("#id_organisation option").count() == 1

    with page.expect_response(re.compile(r"/pick/organisations/\?.*q=")) as answer:
        pick(page, "id_organisation", "华信", "华信银行")
    assert answer.value.status == 200
    expect(page.locator("#id_organisation")).to_have_value(str(bank.pk))

    # The contact picker now searches that organisation's contacts; one character is enough.
    with page.expect_response(re.compile(rf"/pick/contacts/\?.*organisation={bank.pk}")):
        pick(page, "id_contact", "陈", "陈建国")
    expect(page.locator("#id_contact")).to_have_value(str(chen.pk))

    page.fill("#id_title", "网银登录缓慢")
    page.fill("#id_description", "客户反映网银登录需要一分钟以上。")
    with page.expect_navigation():
        page.click("[data-testid=register]")
    complaint = Complaint.objects.get(title="网银登录缓慢")
    assert complaint.organisation == bank and complaint.contact == chen
    expect(page.locator("main .alert-success")).to_contain_text(complaint.reference)
    browser_problems.assert_none()


def test_a_contact_found_by_phone_brings_its_organisation(page, log_in, browser_problems):
    grace = Contact.objects.get(email="grace.lin@hx-bank.example")
    log_in(page, "desk")
    page.goto("/complaints/new/")
    pick(page, "id_contact", "138 0000 0003", "Grace Lin")
    expect(page.locator("#id_contact")).to_have_value(str(grace.pk))
    expect(page.locator("#id_organisation")).to_have_value(str(grace.organisation_id))
    expect(page.locator("#id_organisation-ts-control").locator("xpath=..")).to_contain_text("华信银行")
    # Another organisation lets go of the contact of the previous one.
    pick(page, "id_organisation", "东州", "东州电力")
    expect(page.locator("#id_contact")).to_have_value("")
    browser_problems.assert_none()
