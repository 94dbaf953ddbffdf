"""Service level management in Chromium: is the SLA's promise backed by the supplier's?

The service level manager proposes a service and accepts it into the catalogue under an RFC,
drafts an SLA with a customer covering it with a P1 resolution target of 2 hours (and starts
negotiating it, so the underpinning check lists it), and a UC with a supplier whose P1
resolution target is 4 hours. She links the UC target under the SLA target on the SLA's
underpinning page: it is weakly supported — the SLA page carries the warning badge and the
underpinning check lists the target with the gap in words. She edits the UC's target (still a
draft, so edited directly) down to 1 hour: the warning disappears everywhere. The names are
fresh, next to the demo catalogue and agreements that ``load_demo`` puts in.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone, translation
from playwright.sync_api import expect

from itsm.core.choices import OrganisationKind
from itsm.core.models import Organisation
from sla.choices import AgreementStatus, Metric, ServiceStatus
from sla.models import Agreement, Service, ServiceLevelTarget
from sla.underpinning import UnderpinningStatus, underpinning_report

from .conftest import pick

pytestmark = pytest.mark.e2e

SERVICE_CODE = "e2e-harbour-ops"
SERVICE_NAME = "港口作业系统运维服务"
SERVICE_RFC = "RFC-2026-E2E-7"
SLA_TITLE = "青岚港务港口作业系统服务级别协议"
UC_TITLE = "迅捷光网港区光纤维护合同"


@pytest.fixture
def parties(demo_data):
    """A customer and a supplier of their own (the demo's have agreements already)."""
    customer = Organisation.objects.create(code="ql-port", name="青岚港务", kind=OrganisationKind.CUSTOMER)
    supplier = Organisation.objects.create(code="xj-fibre", name="迅捷光网", kind=OrganisationKind.SUPPLIER)
    return customer, supplier


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def submit(page, form) -> None:
    """Submit ``form`` with its submit button and wait for the page that answers."""
    with page.expect_navigation():
        form.locator("button[type=submit]").click()


def create_agreement(page, *, kind: str, title: str, counterparty: Organisation, service: Service) -> Agreement:
    """Draft an agreement through the form; return it (read back for its id and number)."""
    today = timezone.localdate()
    page.goto(f"/sla/agreements/new/?kind={kind}")
    form = page.locator("[data-testid=agreement-form]")
    expect(form.locator("#id_kind")).to_have_value(kind)
    form.locator("#id_title").fill(title)
    pick(page, "id_counterparty", counterparty.name, counterparty.name)  # type-ahead pickers
    pick(page, "id_services", service.code, service.code)
    form.locator("#id_valid_from").fill((today - timedelta(days=30)).isoformat())
    form.locator("#id_valid_to").fill((today + timedelta(days=365)).isoformat())
    submit(page, form)
    agreement = Agreement.objects.get(title=title)
    expect(page).to_have_url(re.compile(rf"/sla/agreements/{agreement.pk}/$"))
    expect(page.locator("[data-testid=number]")).to_have_text(agreement.number)
    expect(page.locator("[data-testid=status]")).to_have_attribute("data-status", AgreementStatus.DRAFT)
    return agreement


def add_target(page, *, metric: str, priority: str, value: str, unit: str) -> None:
    """Add a target with the form under the agreement's targets table (24×7: no calendar)."""
    form = page.locator("[data-testid=target-form]")
    form.locator("#id_target-metric").select_option(metric)
    form.locator("#id_target-priority").select_option(priority)
    form.locator("#id_target-value").fill(value)
    form.locator("#id_target-unit").select_option(unit)
    submit(page, form)
    expect(page.locator("main .alert-success")).to_be_visible()
    row = page.locator(f"[data-testid=targets] tr[data-metric={metric}][data-priority={priority}]")
    expect(row).to_have_count(1)


def test_a_weak_underpinning_is_shown_and_clears_when_the_uc_is_fixed(new_page, log_in, browser_problems, parties):
    customer, supplier = parties
    page = new_page()
    log_in(page, "slm")

    # A new service, proposed and accepted into the catalogue under its RFC.
    page.goto("/sla/services/new/")
    form = page.locator("[data-testid=service-form]")
    form.locator("#id_code").fill(SERVICE_CODE)
    form.locator("#id_name").fill(SERVICE_NAME)
    form.locator("#id_category").fill("港口与物流")
    form.locator("#id_description").fill("码头作业、闸口和堆场系统的运行维护。")
    submit(page, form)
    service = Service.objects.get(code=SERVICE_CODE)
    expect(page).to_have_url(re.compile(rf"/sla/services/{service.pk}/$"))
    expect(page.locator("[data-testid=status]")).to_have_attribute("data-status", ServiceStatus.PROPOSED)
    accept = page.locator("form[data-action=accept]")
    accept.locator("#id_accept-rfc_ref").fill(SERVICE_RFC)
    submit(page, accept)
    expect(page.locator("[data-testid=status]")).to_have_attribute("data-status", ServiceStatus.ACCEPTED)
    expect(page.locator("[data-testid=rfc]")).to_have_text(SERVICE_RFC)

    # The SLA with the customer: P1 resolved within 2 hours; negotiating from now on.
    sla = create_agreement(page, kind="sla", title=SLA_TITLE, counterparty=customer, service=service)
    expect(page.locator("[data-testid=services]")).to_contain_text(SERVICE_CODE)
    add_target(page, metric=Metric.RESOLUTION, priority="P1", value="2", unit="hours")
    submit(page, page.locator("form[data-action=negotiate]"))
    expect(page.locator("[data-testid=status]")).to_have_attribute("data-status", AgreementStatus.NEGOTIATING)
    sla_target = ServiceLevelTarget.objects.get(agreement=sla, metric=Metric.RESOLUTION, priority="P1")
    # Nothing underpins it yet: the badge says so.
    expect(page.locator("[data-testid=underpinning-badge]")).to_be_visible()

    # The UC with the supplier: P1 resolved within 4 hours (a draft).
    uc = create_agreement(page, kind="uc", title=UC_TITLE, counterparty=supplier, service=service)
    add_target(page, metric=Metric.RESOLUTION, priority="P1", value="4", unit="hours")
    uc_target = ServiceLevelTarget.objects.get(agreement=uc, metric=Metric.RESOLUTION, priority="P1")
    expect(page.locator("[data-testid=underpinning-badge]")).to_have_count(0)  # only SLAs carry it

    # Link the UC target under the SLA target on the SLA's underpinning page.
    page.goto(f"/sla/agreements/{sla.pk}/underpinning/")
    card = page.locator(f"#target-{sla_target.pk}")
    expect(card).to_have_attribute("data-status", UnderpinningStatus.MISSING)
    link_form = card.locator("[data-testid=link-form]")
    option = link_form.locator("select[name=supporting] option", has_text=uc.number)
    expect(option).to_have_count(1)
    expect(option).to_have_attribute("value", str(uc_target.pk))
    link_form.locator("select[name=supporting]").select_option(str(uc_target.pk))
    submit(page, link_form)
    expect(page).to_have_url(re.compile(rf"/sla/agreements/{sla.pk}/underpinning/#target-{sla_target.pk}$"))
    expect(page.locator("main .alert-success")).to_contain_text(uc.number)

    # Weakly supported, with the gap in words: "UC-… resolves P1 in 4 h; SLA-… promises 2 h."
    with translation.override("zh-hans"):
        [row] = underpinning_report(agreement=sla)
    assert row.status == UnderpinningStatus.WEAK
    assert uc.number in row.gap and sla.number in row.gap
    card = page.locator(f"#target-{sla_target.pk}")
    expect(card).to_have_attribute("data-status", UnderpinningStatus.WEAK)
    expect(card.locator("[data-testid=gap]")).to_have_text(row.gap)
    expect(card.locator("[data-testid=supporting]")).to_have_attribute("data-supported", "no")

    # The SLA page warns; the underpinning check lists the target with the gap.
    page.goto(f"/sla/agreements/{sla.pk}/")
    badge = page.locator("[data-testid=underpinning-badge]")
    expect(badge).to_be_visible()
    expect(badge).to_have_attribute("href", f"/sla/agreements/{sla.pk}/underpinning/")
    page.goto(f"/sla/underpinning/?agreement={sla.pk}")
    listed = page.locator(f"[data-testid=underpinning-row][data-target='{sla_target.pk}']")
    expect(listed).to_have_attribute("data-status", UnderpinningStatus.WEAK)
    expect(listed.locator("[data-testid=gap]")).to_have_text(row.gap)
    expect(listed).to_contain_text(uc.number)
    # The demo's weak bank SLA is listed too, without the filter.
    page.goto("/sla/underpinning/")
    expect(page.locator(f"[data-testid=underpinning-row][data-target='{sla_target.pk}']")).to_have_count(1)
    expect(page.locator("[data-testid=underpinning-row][data-status=weak]")).to_have_count(2)

    # The UC is still a draft: its target is edited directly, down to 1 hour.
    page.goto(f"/sla/agreements/{uc.pk}/")
    uc_row = page.locator(f"[data-testid=targets] tr[data-target='{uc_target.pk}']")
    with page.expect_navigation():
        uc_row.get_by_role("link").click()
    expect(page).to_have_url(re.compile(rf"/sla/agreements/{uc.pk}/targets/{uc_target.pk}/edit/$"))
    edit = page.locator("[data-testid=target-form]")
    expect(edit.locator("#id_value")).to_have_value(re.compile(r"^4(\.0+)?$"))
    edit.locator("#id_value").fill("1")
    submit(page, edit)
    expect(page).to_have_url(re.compile(rf"/sla/agreements/{uc.pk}/#targets$"))
    expect(page.locator(f"tr[data-target='{uc_target.pk}'] [data-testid=target-value]")).to_contain_text("1")
    uc_target.refresh_from_db()
    assert uc_target.value == 1

    # The warning is gone: the SLA page, its underpinning page and the check agree.
    page.goto(f"/sla/agreements/{sla.pk}/")
    expect(page.locator("[data-testid=status]")).to_have_attribute("data-status", AgreementStatus.NEGOTIATING)
    expect(page.locator("[data-testid=underpinning-badge]")).to_have_count(0)
    page.goto(f"/sla/agreements/{sla.pk}/underpinning/")
    card = page.locator(f"#target-{sla_target.pk}")
    expect(card).to_have_attribute("data-status", UnderpinningStatus.SUPPORTED)
    expect(card.locator("[data-testid=gap]")).to_have_count(0)
    expect(card.locator("[data-testid=supporting]")).to_have_attribute("data-supported", "yes")
    page.goto(f"/sla/underpinning/?agreement={sla.pk}")
    expect(page.locator(f"[data-testid=underpinning-row][data-target='{sla_target.pk}']")).to_have_count(0)
    page.goto(f"/sla/underpinning/?agreement={sla.pk}&status=all")
    expect(page.locator(f"[data-testid=underpinning-row][data-target='{sla_target.pk}']")).to_have_attribute(
        "data-status", UnderpinningStatus.SUPPORTED
    )

    browser_problems.assert_none()
