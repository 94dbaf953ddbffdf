"""The pages the other flows do not visit, under the Content-Security-Policy (issue 10, item 5):
the admin, the API's own pages and its docs. The ``new_page`` fixture fails a test on
anything the policy refuses; here each page must also work (Swagger UI renders its
operations, the admin's forms and filters open)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def test_the_admin_the_browsable_api_and_the_api_docs_run_under_the_policy(page, log_in, browser_problems):
    log_in(page, "admin")
    for path in ("/admin/", "/admin/core/contact/", "/admin/core/contact/add/", "/admin/auditlog/logentry/"):
        page.goto(path)
        expect(page.locator("#content")).to_be_visible()
    page.goto("/admin/core/contact/?q=%E5%BC%A0")
    expect(page.locator("#changelist")).to_be_visible()

    page.goto("/api/v1/complaints/")
    expect(page.locator(".response-info")).to_be_visible()

    page.goto("/api/docs/")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible(timeout=15_000)
    assert page.locator(".swagger-ui .opblock").count() > 50
    browser_problems.assert_none()


def test_the_api_docs_ask_an_anonymous_visitor_to_log_in(page):
    page.goto("/api/docs/")
    assert "/login/" in page.url
