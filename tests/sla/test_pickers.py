"""Service-level pickers (sla.pickers) and the pages that use them: services, agreements and
targets are type-ahead, so the agreement, measurement and report pages hold only the chosen
rows whatever the size of the catalogue, the organisations or the agreements."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.urls import reverse

from itsm.core.roles import Role
from itsm.core.testing import (
    ALL_ROLES,
    ANONYMOUS,
    assert_constant_queries,
    assert_nothing_written,
    role_may,
    user_with_role,
)
from sla.choices import AgreementKind, AgreementStatus, ServiceStatus
from sla.models import Agreement, Measurement, Service, ServiceLevelTarget, SlaReport
from tests.factories import OrganisationFactory, UserFactory
from tests.sla.factories import AgreementFactory, ServiceFactory, TargetFactory

pytestmark = pytest.mark.django_db

SLM = Role.SERVICE_LEVEL_MANAGER
SLA_PICKERS = [("pick_services", Service), ("pick_agreements", Agreement), ("pick_targets", ServiceLevelTarget)]


def options(html: str, name: str) -> list[str]:
    select = re.search(rf'<select name="{name}".*?</select>', html, re.S)
    assert select is not None, name
    return re.findall(r'<option value="([^"]*)"', select.group(0))


def values(response) -> list[int]:
    return [row["value"] for row in response.json()["results"]]


@pytest.fixture
def slm(client):
    client.force_login(user_with_role(SLM))
    return client


@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize(("url_name", "model"), SLA_PICKERS, ids=[name for name, _ in SLA_PICKERS])
def test_endpoint_access_per_role(client, role, url_name, model):
    url = reverse(url_name)
    if role == ANONYMOUS:
        assert client.get(url).status_code == 302
        return
    client.force_login(user_with_role(role))
    expected = 200 if role_may(role, ["view"], model) else 403
    assert client.get(url, {"q": "x"}).status_code == expected


def test_services_by_code_or_name_current_only_on_request(slm):
    mail = ServiceFactory(code="mail", name="Corporate mail")
    old = ServiceFactory(code="mail-old", name="Old mail", status=ServiceStatus.RETIRED)
    ServiceFactory(code="vpn", name="VPN")
    url = reverse("pick_services")
    assert set(values(slm.get(url, {"q": "mail"}))) == {mail.pk, old.pk}
    assert values(slm.get(url, {"q": "mail", "current": "1"})) == [mail.pk]
    texts = [row["text"] for row in slm.get(url, {"q": "mail"}).json()["results"]]
    assert texts[0] == "mail · Corporate mail" and texts[1].startswith("mail-old · Old mail (")


def test_agreements_by_number_title_or_counterparty_kind_and_status(slm):
    sla = AgreementFactory(title="Desk support", counterparty=OrganisationFactory(name="Huaxin Bank"))
    active = AgreementFactory(title="Desk support 2")
    Agreement.objects.filter(pk=active.pk).update(status=AgreementStatus.ACTIVE)
    ola = AgreementFactory(kind=AgreementKind.OLA, title="Desk OLA")
    url = reverse("pick_agreements")
    assert set(values(slm.get(url, {"q": "desk"}))) == {sla.pk, active.pk, ola.pk}
    assert values(slm.get(url, {"q": "huaxin"})) == [sla.pk]
    assert values(slm.get(url, {"q": sla.number})) == [sla.pk]
    assert set(values(slm.get(url, {"q": "desk", "kind": "sla"}))) == {sla.pk, active.pk}
    assert values(slm.get(url, {"q": "desk", "kind": "sla", "status": "active,negotiating,bogus"})) == [active.pk]


def test_targets_measurable_only_on_request(slm):
    draft = TargetFactory()
    live = TargetFactory()
    Agreement.objects.filter(pk=live.agreement_id).update(status=AgreementStatus.ACTIVE)
    url = reverse("pick_targets")
    assert set(values(slm.get(url))) == {draft.pk, live.pk}
    assert values(slm.get(url, {"measurable": "1"})) == [live.pk]
    assert values(slm.get(url, {"agreement": draft.agreement_id})) == [draft.pk]
    row = slm.get(url, {"q": live.agreement.number}).json()["results"][0]
    assert row["value"] == live.pk and row["text"].startswith(f"{live.agreement.number} · P1")


@pytest.mark.parametrize(
    ("url_name", "make_rows"),
    [
        ("pick_services", lambda n: ServiceFactory.create_batch(n)),
        ("pick_agreements", lambda n: AgreementFactory.create_batch(n)),
        ("pick_targets", lambda n: TargetFactory.create_batch(n)),
    ],
)
def test_endpoints_run_a_constant_number_of_queries(slm, url_name, make_rows):
    assert assert_constant_queries(slm, reverse(url_name), make_rows, few=3, many=30) <= 6


# --- pages ---------------------------------------------------------------------------------


def test_the_agreement_form_holds_only_the_chosen_counterparty_services_and_owner(slm):
    agreement = AgreementFactory(owner=UserFactory())
    service = ServiceFactory()
    agreement.services.add(service)
    url = reverse("agreement_edit", args=[agreement.pk])
    small = slm.get(url).content.decode()
    OrganisationFactory.create_batch(300)
    ServiceFactory.create_batch(50)
    UserFactory.create_batch(30)
    large = slm.get(url).content.decode()
    assert options(large, "counterparty") == ["", str(agreement.counterparty_id)]
    assert options(large, "services") == [str(service.pk)]
    assert options(large, "owner") == ["", str(agreement.owner_id)]
    assert large.count("<option") == small.count("<option")
    assert "?current=1" in large and f"{reverse('pick_organisations')}?active=1" in large
    created = slm.get(reverse("agreement_create")).content.decode()
    assert options(created, "counterparty") == [""] and options(created, "services") == []


def test_the_agreement_form_refuses_a_counterparty_or_service_it_would_not_offer(slm):
    party = OrganisationFactory(is_active=False)
    retired = ServiceFactory(status=ServiceStatus.RETIRED)
    with assert_nothing_written(Agreement):
        response = slm.post(
            reverse("agreement_create"),
            {"kind": "sla", "title": "T", "counterparty": party.pk, "services": [retired.pk, "x"]},
        )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "counterparty" in errors and "services" in errors


def test_the_agreement_list_filters_do_not_grow(slm):
    agreement = AgreementFactory()
    service = ServiceFactory()
    agreement.services.add(service)
    query = {"counterparty": agreement.counterparty_id, "service": service.pk}
    small = slm.get(reverse("agreement_list"), query).content.decode()
    OrganisationFactory.create_batch(300)
    ServiceFactory.create_batch(50)
    response = slm.get(reverse("agreement_list"), query)
    large = response.content.decode()
    assert agreement.number in large
    assert options(large, "counterparty") == ["", str(agreement.counterparty_id)]
    assert options(large, "service") == ["", str(service.pk)]
    assert large.count("<option") == small.count("<option")
    bad = slm.get(reverse("agreement_list"), {"counterparty": "999999"})
    assert bad.status_code == 200 and agreement.number not in bad.content.decode()


@time_machine.travel("2026-03-02 10:00 +0800", tick=False)
def test_the_measurement_form_offers_targets_by_type_ahead(slm):
    target = TargetFactory()
    Agreement.objects.filter(pk=target.agreement_id).update(status=AgreementStatus.ACTIVE)
    draft_target = TargetFactory()
    TargetFactory.create_batch(20)
    page = slm.get(reverse("measurement_create")).content.decode()
    assert options(page, "target") == [""]
    assert f"{reverse('pick_targets')}?measurable=1" in page
    with assert_nothing_written(Measurement):
        response = slm.post(
            reverse("measurement_create"), {"target": draft_target.pk, "period": "2026-02", "actual": "1"}
        )
    assert response.status_code in (200, 400) and "target" in response.context["form"].errors


def test_the_measurement_and_underpinning_filters_are_pickers(slm):
    agreement = AgreementFactory()
    AgreementFactory.create_batch(20)
    page = slm.get(reverse("measurement_list"), {"agreement": agreement.pk}).content.decode()
    assert options(page, "agreement") == ["", str(agreement.pk)]
    page = slm.get(reverse("underpinning_list")).content.decode()
    assert options(page, "agreement") == [""]
    assert "kind=sla" in page and "status=active%2Cnegotiating" in page


def test_the_report_pages_pick_agreements_by_type_ahead(slm):
    sla = AgreementFactory()
    AgreementFactory.create_batch(20)
    page = slm.get(reverse("sla_report_list"), {"agreement": sla.pk}).content.decode()
    assert options(page, "agreement") == ["", str(sla.pk)]
    assert options(page, "new-agreement") == [""]
    assert "status=active%2Cexpired%2Cterminated" in page
    # An agreement that is not in force cannot be reported on: refused at the form.
    response = slm.post(reverse("sla_report_create"), {"new-agreement": sla.pk, "new-month": "2026-01"})
    assert response.status_code in (302, 400)
    assert not SlaReport.objects.exists()
