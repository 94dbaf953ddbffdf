"""The process owner's KPI pages: definitions, targets and manual KPIs' values (form, CSV,
closing), with the rules the services keep — breakdowns the source can give, what a closed
period fixes, targets that never overlap, a closed manual value corrected as a revision."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from auditlog.models import LogEntry
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from itsm.core.periodic import run_check
from itsm.core.periods import Cycle, period_of
from itsm.core.roles import Role
from kpi.models import MANUAL, KpiDefinition, KpiTarget, KpiValue, Status
from kpi.services import (
    definition_create,
    definition_update,
    kpi_close,
    kpi_close_manual,
    manual_value_set,
    manual_values_import,
    target_end,
)
from tests.complaints.factories import role_user
from tests.sla.factories import ServiceFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI)  # October's report fell due on 10 November
OCTOBER = period_of(Cycle.MONTHLY, date(2026, 10, 1))
SEPTEMBER = period_of(Cycle.MONTHLY, date(2026, 9, 1))
H1 = period_of(Cycle.HALF_YEARLY, date(2026, 3, 1))
READERS = [Role.BR_MANAGER.value, Role.AUDITOR.value, Role.SERVICE_DESK.value]


@pytest.fixture(autouse=True)
def _november():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def owner():
    return role_user(Role.PROCESS_OWNER)


@pytest.fixture
def manual(owner):
    """A manual monthly KPI (the capacity plan's utilisation, ≤ 80 %, amber to 85 %) by service."""
    definition = definition_create(
        actor=owner,
        code="capacity_utilisation",
        name_zh="容量利用率",
        name_en="Capacity utilisation",
        unit="percent",
        direction="at_most",
        cycle="monthly",
        amber_tolerance=Decimal("5"),
        source=MANUAL,
        breakdowns=["service"],
    )
    KpiDefinition.objects.filter(pk=definition.pk).update(created_at=datetime(2026, 1, 1, tzinfo=SHANGHAI))
    KpiTarget.objects.create(definition=definition, value=Decimal("80"), valid_from=date(2026, 1, 1))
    return KpiDefinition.objects.get(pk=definition.pk)


def _definition_post(definition: KpiDefinition, **changes) -> dict:
    data = {
        "code": definition.code,
        "name_zh": definition.name_zh,
        "name_en": definition.name_en,
        "formula": definition.formula,
        "measurement": definition.measurement,
        "unit": definition.unit,
        "direction": definition.direction,
        "cycle": definition.cycle,
        "owner": definition.owner_id or "",
        "amber_tolerance": str(definition.amber_tolerance),
        "source": definition.source,
        "breakdowns": list(definition.breakdowns),
        "is_active": "on" if definition.is_active else "",
        "sort_order": definition.sort_order,
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not False}


def _english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _csv(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("values.csv", text.encode("utf-8"), content_type="text/csv")


# --- pages: render, constant queries ---------------------------------------------------------


def test_the_list_shows_every_definition_active_or_not_in_constant_queries(client_as, manual):
    client = _english(client_as(Role.PROCESS_OWNER.value))
    client.get("/kpis/manage/")
    with CaptureQueriesContext(connection) as first:
        page = client.get("/kpis/manage/").content.decode()
    assert 'data-kpi="tickets_closed_in_2_working_days"' in page  # inactive, listed too
    assert 'data-kpi="capacity_utilisation"' in page and f'href="/kpis/manage/{manual.pk}/"' in page
    for n in range(3):
        KpiDefinition.objects.create(
            code=f"extra_{n}",
            name_zh="额外",
            name_en="Extra",
            unit="count",
            direction="at_most",
            cycle="monthly",
            source=MANUAL,
        )
    with CaptureQueriesContext(connection) as second:
        client.get("/kpis/manage/")
    assert len(second.captured_queries) == len(first.captured_queries)


def test_the_manage_page_renders_in_constant_queries_whatever_the_targets_and_values(client_as, manual, owner):
    client = _english(client_as(Role.PROCESS_OWNER.value))
    url = f"/kpis/manage/{manual.pk}/"
    manual_value_set(manual, actor=owner, period="2026-09", value=Decimal("70"))
    client.get(url)
    with CaptureQueriesContext(connection) as first:
        response = client.get(url)
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="kpi-targets"' in page and 'data-testid="value-form"' in page
    assert 'data-value="2026-09-overall-0"' in page
    services = ServiceFactory.create_batch(3)
    for service in services:
        KpiTarget.objects.create(definition=manual, value=Decimal("75"), valid_from=date(2026, 1, 1), service=service)
        manual_value_set(
            manual, actor=owner, period="2026-10", element_kind="service", element_id=service.pk, value=Decimal("60")
        )
    with CaptureQueriesContext(connection) as second:
        page = client.get(url).content.decode()
    assert len(second.captured_queries) == len(first.captured_queries)
    assert page.count("data-target=") == 4 and page.count("data-value=") == 4


def test_a_computed_kpis_manage_page_has_no_value_form(client_as):
    definition = KpiDefinition.objects.get(code="complaint_reply_time")
    page = client_as(Role.PROCESS_OWNER.value).get(f"/kpis/manage/{definition.pk}/").content.decode()
    assert 'data-testid="definition-form"' in page and 'data-testid="target-form"' in page
    assert 'data-testid="value-form"' not in page
    assert 'data-source="complaints.reply_time"' in page  # what each computation offers


def test_the_create_and_import_pages_render(client_as, manual):
    client = _english(client_as(Role.PROCESS_OWNER.value))
    assert client.get("/kpis/manage/new/").status_code == 200
    page = client.get(f"/kpis/manage/{manual.pk}/import/").content.decode()
    assert "<code>element_kind</code>" in page and "2026-10" in page


# --- permissions -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", READERS)
def test_only_the_process_owner_manages_kpis(client_as, manual, role):
    client = client_as(role)
    target = KpiTarget.objects.get(definition=manual)
    before = (KpiDefinition.objects.count(), KpiTarget.objects.count(), KpiValue.objects.count())
    base = f"/kpis/manage/{manual.pk}"
    for url in ("/kpis/manage/", "/kpis/manage/new/", f"{base}/", f"{base}/import/"):
        assert client.get(url).status_code == 403, url
    posts = {
        "/kpis/manage/new/": _definition_post(manual, code="stolen"),
        f"{base}/": _definition_post(manual, name_en="Renamed"),
        f"{base}/targets/": {"target-value": "70", "target-valid_from": "2030-01-01", "target-scope": "all"},
        f"{base}/targets/{target.pk}/end/": {f"end-{target.pk}-valid_to": "2026-12-31"},
        f"{base}/values/": {"value-period": "2026-10", "value-element_kind": "overall", "value-value": "50"},
        f"{base}/import/": {"file": _csv("period,element_kind,element_id,value\n2026-10,overall,,50\n")},
    }
    for url, data in posts.items():
        assert client.post(url, data).status_code == 403, url
    assert (KpiDefinition.objects.count(), KpiTarget.objects.count(), KpiValue.objects.count()) == before
    assert KpiDefinition.objects.get(pk=manual.pk).name_en == "Capacity utilisation"
    assert KpiTarget.objects.get(pk=target.pk).valid_to is None


def test_the_services_refuse_anyone_but_the_process_owner(manual):
    reader = role_user(Role.BR_MANAGER)
    with pytest.raises(PermissionDenied):
        definition_update(manual, actor=reader, name_en="x")
    with pytest.raises(PermissionDenied):
        manual_value_set(manual, actor=reader, period="2026-10", value=Decimal("1"))
    with pytest.raises(PermissionDenied):
        target_end(KpiTarget.objects.get(definition=manual), actor=reader, valid_to=date(2026, 12, 31))


# --- definitions -----------------------------------------------------------------------------


def test_the_process_owner_creates_a_kpi_and_the_change_is_audited(client_as):
    client = _english(client_as(Role.PROCESS_OWNER.value))
    data = _definition_post(
        KpiDefinition(
            code="reports_on_time",
            name_zh="报告按时率",
            name_en="Reports on time",
            unit="percent",
            direction="at_least",
            cycle="quarterly",
            source=MANUAL,
            breakdowns=["organisation"],
            amber_tolerance=Decimal("2"),
            is_active=True,
        ),
    )
    response = client.post("/kpis/manage/new/", data)
    definition = KpiDefinition.objects.get(code="reports_on_time")
    assert response.status_code == 302 and response["Location"] == f"/kpis/manage/{definition.pk}/#targets"
    assert (definition.source, definition.breakdowns, definition.cycle) == (MANUAL, ["organisation"], "quarterly")
    entry = LogEntry.objects.get_for_object(definition).get()
    assert entry.actor == client.user and entry.action == LogEntry.Action.CREATE


def test_bad_input_is_a_400_and_writes_nothing(client_as):
    client = _english(client_as(Role.PROCESS_OWNER.value))
    count = KpiDefinition.objects.count()
    for changes in (
        {"code": ""},
        {"source": "nowhere.nothing"},
        {"amber_tolerance": "-1"},
        {"code": "complaint_reply_time"},  # taken
        {"cycle": "weekly"},
    ):
        data = _definition_post(KpiDefinition.objects.get(code="complaint_reply_time"), **changes)
        data["code"] = changes.get("code", "new_code")
        response = client.post("/kpis/manage/new/", data)
        assert response.status_code == 400, changes
        assert 'role="alert"' in response.content.decode()
    assert KpiDefinition.objects.count() == count


def test_a_breakdown_the_source_does_not_give_is_refused_with_a_message(client_as):
    definition = KpiDefinition.objects.get(code="sla_attainment")  # by organisation and service only
    client = _english(client_as(Role.PROCESS_OWNER.value))
    response = client.post(
        f"/kpis/manage/{definition.pk}/",
        _definition_post(definition, breakdowns=["organisation", "technician"], name_en="Renamed"),
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "cannot break its figures down by" in page
    definition.refresh_from_db()
    assert (definition.breakdowns, definition.name_en) == (["organisation", "service"], "SLA attainment")
    with pytest.raises(ValidationError) as refused:
        definition_update(definition, actor=client.user, breakdowns=["category"])
    assert "breakdowns" in refused.value.message_dict


def test_a_breakdown_stored_before_that_the_source_does_not_give_may_stay_until_unticked(owner):
    definition = KpiDefinition.objects.get(code="sla_attainment")
    KpiDefinition.objects.filter(pk=definition.pk).update(breakdowns=["organisation", "service", "technician"])
    definition.refresh_from_db()
    # A rename keeps it (the computation skips it); a new one is refused; unticked, it is gone.
    definition_update(definition, actor=owner, name_en="Renamed", breakdowns=["organisation", "service", "technician"])
    with pytest.raises(ValidationError):
        definition_update(definition, actor=owner, breakdowns=["department", "organisation", "technician"])
    definition_update(definition, actor=owner, breakdowns=["organisation"])
    definition.refresh_from_db()
    assert (definition.name_en, definition.breakdowns) == ("Renamed", ["organisation"])


def test_a_unit_the_computation_does_not_measure_in_is_refused(owner):
    definition = KpiDefinition.objects.get(code="complaint_reply_time")
    with pytest.raises(ValidationError) as refused:
        definition_update(definition, actor=owner, unit="hours")
    assert "unit" in refused.value.message_dict


def test_the_process_owner_edits_a_definition_and_it_is_audited(client_as):
    definition = KpiDefinition.objects.get(code="sla_attainment")
    client = _english(client_as(Role.PROCESS_OWNER.value))
    response = client.post(
        f"/kpis/manage/{definition.pk}/",
        _definition_post(definition, name_en="Service level attainment", amber_tolerance="2.5", breakdowns=["service"]),
    )
    assert response.status_code == 302
    definition.refresh_from_db()
    assert (definition.name_en, definition.amber_tolerance, definition.breakdowns) == (
        "Service level attainment",
        Decimal("2.5"),
        ["service"],
    )
    entry = LogEntry.objects.get_for_object(definition).get(action=LogEntry.Action.UPDATE)
    assert entry.actor == client.user and "name_en" in entry.changes_dict


def test_a_closed_period_fixes_unit_source_and_cycle_and_values_fix_the_code(manual, owner, client_as):
    manual_value_set(manual, actor=owner, period="2026-09", value=Decimal("70"))
    # Only open values: the code is fixed already (the form shows it read-only).
    with pytest.raises(ValidationError) as refused:
        definition_update(manual, actor=owner, code="renamed")
    assert set(refused.value.message_dict) == {"code"}
    page = client_as(Role.PROCESS_OWNER.value).get(f"/kpis/manage/{manual.pk}/").content.decode()
    assert (
        'name="code"' in page and "disabled" in page[page.index('name="code"') - 200 : page.index('name="code"') + 200]
    )
    kpi_close_manual(manual, SEPTEMBER)
    client = _english(client_as(Role.PROCESS_OWNER.value))
    for changes in ({"unit": "hours"}, {"cycle": "quarterly"}, {"source": "complaints.count", "unit": "count"}):
        response = client.post(f"/kpis/manage/{manual.pk}/", _definition_post(manual, **changes))
        assert response.status_code == 400, changes
        assert "Make a new KPI instead" in response.content.decode()
    manual.refresh_from_db()
    assert (manual.unit, manual.cycle, manual.source) == ("percent", "monthly", MANUAL)
    # What does not change the figures' meaning still may.
    definition_update(manual, actor=owner, direction="at_least", name_en="Utilisation")
    assert KpiDefinition.objects.get(pk=manual.pk).direction == "at_least"


def test_a_computed_kpis_closed_period_fixes_its_cycle(owner):
    definition = KpiDefinition.objects.get(code="complaint_result_satisfaction")
    kpi_close(definition, H1)
    with pytest.raises(ValidationError) as refused:
        definition_update(definition, actor=owner, cycle="monthly")
    assert set(refused.value.message_dict) == {"cycle"}


def test_a_new_cycle_before_any_period_closed_drops_the_open_values(manual, owner):
    manual_value_set(manual, actor=owner, period="2026-10", value=Decimal("70"))
    definition_update(manual, actor=owner, cycle="quarterly")
    assert not KpiValue.objects.filter(definition=manual).exists()


# --- targets ---------------------------------------------------------------------------------


def test_targets_are_added_on_the_page_never_overlapping_and_audited(client_as, manual):
    client = _english(client_as(Role.PROCESS_OWNER.value))
    url = f"/kpis/manage/{manual.pk}/targets/"
    overlapping = client.post(url, {"target-value": "75", "target-valid_from": "2026-06-01", "target-scope": "all"})
    assert overlapping.status_code == 400
    assert "Another target of this KPI is in force" in overlapping.content.decode()
    assert KpiTarget.objects.filter(definition=manual).count() == 1
    service = ServiceFactory()
    added = client.post(
        url,
        {
            "target-value": "70",
            "target-valid_from": "2026-06-01",
            "target-scope": "service",
            "target-service": service.pk,
        },
    )
    assert added.status_code == 302
    target = KpiTarget.objects.get(definition=manual, service=service)
    assert target.value == Decimal("70")
    assert LogEntry.objects.get_for_object(target).get().actor == client.user
    missing = client.post(
        url, {"target-value": "70", "target-valid_from": "2027-01-01", "target-scope": "organisation"}
    )
    assert missing.status_code == 400 and KpiTarget.objects.filter(definition=manual).count() == 2


def test_a_target_is_ended_and_an_end_before_its_start_is_refused(client_as, manual):
    client = _english(client_as(Role.PROCESS_OWNER.value))
    target = KpiTarget.objects.get(definition=manual)
    url = f"/kpis/manage/{manual.pk}/targets/{target.pk}/end/"
    early = client.post(url, {f"end-{target.pk}-valid_to": "2025-12-31"})
    assert early.status_code == 400 and "it cannot end before" in early.content.decode()
    assert KpiTarget.objects.get(pk=target.pk).valid_to is None
    assert client.post(url, {f"end-{target.pk}-valid_to": "2026-12-31"}).status_code == 302
    target.refresh_from_db()
    assert target.valid_to == date(2026, 12, 31)
    assert LogEntry.objects.get_for_object(target).get(action=LogEntry.Action.UPDATE).actor == client.user
    # A new target may follow it; moving the end past the next one's start is refused.
    KpiTarget.objects.create(definition=manual, value=Decimal("75"), valid_from=date(2027, 1, 1))
    assert client.post(url, {f"end-{target.pk}-valid_to": "2027-03-31"}).status_code == 400
    other = KpiTarget.objects.create(
        definition=KpiDefinition.objects.get(code="sla_attainment"), value=1, valid_from=date(2030, 1, 1)
    )
    assert (
        client.post(
            f"/kpis/manage/{manual.pk}/targets/{other.pk}/end/", {f"end-{other.pk}-valid_to": "2030-12-31"}
        ).status_code
        == 404
    )


# --- manual values: the form -----------------------------------------------------------------


def test_a_manual_value_is_entered_with_its_target_and_status(client_as, manual):
    client = _english(client_as(Role.PROCESS_OWNER.value))
    url = f"/kpis/manage/{manual.pk}/values/"
    response = client.post(url, {"value-period": "2026-10", "value-element_kind": "overall", "value-value": "83"})
    assert response.status_code == 302
    value = KpiValue.objects.get(definition=manual, period_label="2026-10")
    assert (value.value, value.numerator, value.denominator) == (Decimal("83"), Decimal("83"), Decimal("100"))
    assert (value.target, value.status, value.closed, value.computed_by) == (
        Decimal("80"),
        Status.AMBER,
        False,
        client.user,
    )
    # Entered again while the period is open: replaced, from numerator and denominator.
    client.post(
        url,
        {
            "value-period": "2026-10",
            "value-element_kind": "overall",
            "value-numerator": "150",
            "value-denominator": "200",
        },
    )
    value = KpiValue.objects.get(definition=manual, period_label="2026-10")
    assert (value.value, value.status, value.revision) == (Decimal("75"), Status.GREEN, 1)
    service = ServiceFactory(name="Mail")
    client.post(
        url,
        {"value-period": "2026-10", "value-element_kind": "service", "value-service": service.pk, "value-value": "90"},
    )
    by_service = KpiValue.objects.get(definition=manual, element_kind="service")
    assert (by_service.element_id, by_service.element_label, by_service.status) == (service.pk, "Mail", Status.RED)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"value-period": "2026-13", "value-value": "1"}, "period"),
        ({"value-period": "2026-Q3", "value-value": "1"}, "period"),  # not a monthly period
        ({"value-period": "2026-12", "value-value": "1"}, "period"),  # not begun
        ({"value-period": "2026-10"}, "value"),
        ({"value-period": "2026-10", "value-numerator": "5"}, "denominator"),
        ({"value-period": "2026-10", "value-value": "50", "value-numerator": "1", "value-denominator": "4"}, "value"),
        ({"value-period": "2026-10", "value-value": "-5"}, "value"),
        ({"value-period": "2026-10", "value-element_kind": "organisation", "value-value": "5"}, "element_kind"),
        ({"value-period": "2026-10", "value-element_kind": "service", "value-value": "5"}, "service"),
    ],
)
def test_bad_manual_input_is_a_400_and_stores_nothing(client_as, manual, data, field):
    data = {"value-element_kind": "overall", **data}
    response = client_as(Role.PROCESS_OWNER.value).post(f"/kpis/manage/{manual.pk}/values/", data)
    assert response.status_code == 400
    assert f'id="id_value-{field}_error"' in response.content.decode()
    assert not KpiValue.objects.filter(definition=manual).exists()


def test_a_computed_kpi_takes_no_entered_value(owner, client_as):
    definition = KpiDefinition.objects.get(code="complaint_reply_time")
    client = _english(client_as(Role.PROCESS_OWNER.value))
    data = {"value-period": "2026-H2", "value-element_kind": "overall", "value-value": "1"}
    response = client.post(f"/kpis/manage/{definition.pk}/values/", data)
    assert response.status_code == 400 and "its values cannot be entered" in response.content.decode()
    csv_file = _csv("period,element_kind,element_id,value\n2026-H2,overall,,1\n")
    response = client.post(f"/kpis/manage/{definition.pk}/import/", {"file": csv_file})
    assert response.status_code == 400 and "its values cannot be entered" in response.content.decode()
    assert not KpiValue.objects.filter(definition=definition).exists()
    with pytest.raises(ValidationError) as refused:
        manual_value_set(definition, actor=owner, period="2026-H2", value=Decimal("1"))
    assert "source" in refused.value.message_dict
    with pytest.raises(ValidationError):
        kpi_close_manual(definition, period_of(Cycle.HALF_YEARLY, date(2026, 3, 1)))


def test_a_closed_manual_value_is_corrected_only_as_a_revision_with_a_reason(client_as, manual):
    client = _english(client_as(Role.PROCESS_OWNER.value))
    url = f"/kpis/manage/{manual.pk}/values/"
    client.post(url, {"value-period": "2026-09", "value-element_kind": "overall", "value-value": "70"})
    assert kpi_close_manual(manual, SEPTEMBER) is True
    refused = client.post(
        url,
        {"value-period": "2026-09", "value-element_kind": "overall", "value-value": "90"},
    )
    assert refused.status_code == 400 and "a correction needs a reason" in refused.content.decode()
    assert KpiValue.objects.filter(definition=manual).count() == 1
    corrected = client.post(
        url,
        {
            "value-period": "2026-09",
            "value-element_kind": "overall",
            "value-value": "90",
            "value-reason": "The capacity report was revised.",
        },
    )
    assert corrected.status_code == 302
    first, second = KpiValue.objects.filter(definition=manual).order_by("revision")
    assert (first.value, first.is_current, first.closed) == (Decimal("70"), False, True)
    assert (second.value, second.is_current, second.closed, second.revision, second.status) == (
        Decimal("90"),
        True,
        True,
        2,
        Status.RED,
    )
    assert second.reason == "The capacity report was revised." and second.computed_by == client.user


# --- manual values: the CSV import ------------------------------------------------------------


def test_the_import_is_all_or_nothing_and_lists_every_rows_errors(client_as, manual):
    client = _english(client_as(Role.PROCESS_OWNER.value))
    service = ServiceFactory()
    url = f"/kpis/manage/{manual.pk}/import/"
    bad = (
        "period,element_kind,element_id,value,numerator,denominator\n"
        "2026-09,overall,,70,,\n"  # row 2: good
        "2026-13,overall,,70,,\n"  # row 3: no such month
        f"2026-09,service,{service.pk},abc,,\n"  # row 4: not a number
        "2026-09,organisation,1,50,,\n"  # row 5: not a breakdown of this KPI
        "2026-10,service,999999,50,,\n"  # row 6: no such service
        "2026-09,overall,,71,,\n"  # row 7: row 2 again
    )
    response = client.post(url, {"file": _csv(bad)})
    assert response.status_code == 400
    page = response.content.decode()
    rows = [int(part.split('"')[0]) for part in page.split('data-testid="import-error" data-row="')[1:]]
    assert rows == [3, 4, 5, 6, 7]
    assert "Nothing was stored" in page and "The same period and element as row 2" in page
    assert not KpiValue.objects.filter(definition=manual).exists()
    good = (
        "element_kind;period;element_id;value;numerator;denominator\n"
        "overall;2026-09;;70;;\n"
        f"service;2026-10;{service.pk};;45;50\n"
        "overall;2026-10;0;;0;0\n"
    )
    assert client.post(url, {"file": _csv(good)}).status_code == 302
    stored = {(v.period_label, v.element_kind): (v.value, v.status) for v in KpiValue.objects.filter(definition=manual)}
    assert stored == {
        ("2026-09", "overall"): (Decimal("70"), Status.GREEN),
        ("2026-10", "service"): (Decimal("90"), Status.RED),
        ("2026-10", "overall"): (None, Status.NO_DATA),
    }


def test_the_import_refuses_a_file_without_its_columns(owner, manual):
    result = manual_values_import(manual, actor=owner, file=_csv("month,amount\n2026-10,5\n"))
    assert not result.ok
    assert {(e.row, e.column) for e in result.errors} == {
        (1, "month"),
        (1, "amount"),
        (1, "period"),
        (1, "element_kind"),
        (1, "element_id"),
        (1, "value"),
    }
    assert not KpiValue.objects.filter(definition=manual).exists()


def test_an_imported_correction_of_a_closed_period_needs_its_reason(owner, manual):
    manual_value_set(manual, actor=owner, period="2026-09", value=Decimal("70"))
    kpi_close_manual(manual, SEPTEMBER)
    header = "period,element_kind,element_id,value,reason\n"
    refused = manual_values_import(manual, actor=owner, file=_csv(header + "2026-09,overall,,72,\n"))
    assert [(e.row, e.column) for e in refused.errors] == [(2, "reason")]
    done = manual_values_import(manual, actor=owner, file=_csv(header + "2026-09,overall,,72,Recounted\n"))
    assert done.ok and [(v.revision, v.reason) for v in done.stored] == [(2, "Recounted")]


# --- closing manual periods ------------------------------------------------------------------


def test_the_periodic_check_freezes_manual_periods_when_their_report_falls_due(manual, owner):
    def closed() -> dict[str, tuple]:
        values = KpiValue.objects.filter(definition=manual, closed=True, is_current=True)
        return {v.period_label: (v.element_kind, v.value, v.status) for v in values}

    with time_machine.travel(datetime(2026, 10, 5, 10, tzinfo=SHANGHAI), tick=False):
        manual_value_set(manual, actor=owner, period="2026-09", value=Decimal("70"))
        run_check("kpi.compute_values")
    # September's report is not due yet: open. July and August are, and nothing was entered.
    assert closed() == {"2026-07": ("overall", None, Status.NO_DATA), "2026-08": ("overall", None, Status.NO_DATA)}
    with time_machine.travel(datetime(2026, 10, 20, 10, tzinfo=SHANGHAI), tick=False):
        run_check("kpi.compute_values")
        run_check("kpi.compute_values")  # twice: one freeze
    september = KpiValue.objects.get(definition=manual, period_label="2026-09")
    assert (september.closed, september.value, september.status) == (True, Decimal("70"), Status.GREEN)
    run_check("kpi.compute_values")  # 20 November: October is due, nothing entered → no data
    assert closed()["2026-10"] == ("overall", None, Status.NO_DATA)
    assert KpiValue.objects.filter(definition=manual).count() == 4


def test_a_new_manual_kpi_does_not_freeze_periods_from_before_it_existed(owner):
    definition = definition_create(
        actor=owner,
        code="fresh",
        name_zh="新",
        name_en="Fresh",
        unit="count",
        direction="at_most",
        cycle="monthly",
        source=MANUAL,
    )
    manual_value_set(definition, actor=owner, period="2026-03", value=Decimal("4"))  # history entered later
    run_check("kpi.compute_values")
    closed = dict(KpiValue.objects.filter(definition=definition, closed=True).values_list("period_label", "value"))
    # October and September ended before it was defined (20 November) and hold nothing: left alone;
    # March's entered value is frozen, its report long due.
    assert closed == {"2026-03": Decimal("4")}


def test_the_dashboard_and_the_navigation_lead_the_process_owner_here(client_as):
    page = client_as(Role.PROCESS_OWNER.value).get("/kpis/").content.decode()
    assert 'data-testid="kpi-manage-link"' in page and page.count('href="/kpis/manage/"') == 2
    page = client_as(Role.BR_MANAGER.value).get("/kpis/").content.decode()
    assert 'data-testid="kpi-manage-link"' not in page and 'href="/kpis/manage/"' not in page


def test_the_form_marks_the_breakdowns_the_stored_computation_does_not_give(client_as):
    definition = KpiDefinition.objects.get(code="sla_attainment")
    page = _english(client_as(Role.PROCESS_OWNER.value)).get(f"/kpis/manage/{definition.pk}/").content.decode()
    form = page[page.index('data-testid="breakdowns"') :]
    form = form[: form.index("</fieldset>")]
    marked = [part.split('"')[0] for part in form.split('value="')[1:] if "not given by" in part.split("</div>")[0]]
    assert marked == ["department", "technician", "category"]
    assert "not given by" not in client_as(Role.PROCESS_OWNER.value).get("/kpis/manage/new/").content.decode()
