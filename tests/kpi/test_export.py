"""The records behind a KPI value as CSV / XLSX: a closed value exports the records frozen with
it, a running one the live records; every record, read through a subquery of the frozen ids;
who may; an unknown format."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from openpyxl import load_workbook

from complaints.models import Complaint
from itsm.core.periods import Cycle, period_of
from itsm.core.roles import Role
from kpi.models import KpiDefinition, KpiValue
from kpi.registry import DEFAULT_COLUMNS, KpiSource, source
from kpi.services import kpi_close, kpi_compute, kpi_revise
from kpi.views.export import related_paths
from surveys.models import CallBack
from tests.complaints.factories import make_complaint, role_user
from tests.factories import ContactFactory, OrganisationFactory
from tests.kpi.test_scorecards import callback

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
H1 = period_of(Cycle.HALF_YEARLY, date(2026, 3, 1))
H2 = period_of(Cycle.HALF_YEARLY, date(2026, 8, 1))


def _rated(rating: int, when: datetime, organisation=None) -> Complaint:
    contact = ContactFactory(organisation=organisation) if organisation is not None else None
    complaint = make_complaint(contact=contact)
    Complaint.objects.filter(pk=complaint.pk).update(result_satisfaction=rating, feedback_at=when)
    return complaint


@pytest.fixture
def results():
    """Satisfaction with complaint results: H1 closed (two of organisation X's complaints), H2
    running (one)."""
    definition = KpiDefinition.objects.get(code="complaint_result_satisfaction")
    x = OrganisationFactory(name="X Holdings")
    early = [
        _rated(5, datetime(2026, 3, 3, 10, tzinfo=SHANGHAI), x),
        _rated(2, datetime(2026, 4, 3, 10, tzinfo=SHANGHAI), x),
    ]
    late = [_rated(4, datetime(2026, 8, 3, 10, tzinfo=SHANGHAI), x)]
    kpi_close(definition, H1)
    kpi_compute(definition, H2)
    return {"definition": definition, "x": x, "early": early, "late": late}


def _value(definition, label, kind="overall", element_id=0) -> KpiValue:
    return KpiValue.objects.get(
        definition=definition, period_label=label, element_kind=kind, element_id=element_id, is_current=True
    )


def _url(value: KpiValue, fmt: str) -> str:
    return f"/kpis/{value.definition_id}/values/{value.pk}/records.{fmt}"


def _csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def _english(client):
    client.cookies["django_language"] = "en"
    return client


def test_a_closed_value_exports_its_frozen_records_even_after_one_moved_organisation(client_as, results):
    definition, x, early = results["definition"], results["x"], results["early"]
    closed = _value(definition, "2026-H1", "organisation", x.pk)
    assert closed.closed
    # Moved to another organisation since the period closed: still behind X's frozen value.
    elsewhere = OrganisationFactory(name="Y Trading")
    Complaint.objects.filter(pk=early[1].pk).update(organisation=elsewhere)
    client = _english(client_as(Role.BR_MANAGER.value))
    response = client.get(_url(closed, "csv"))
    rows = _csv(response)
    assert [row["Reference"] for row in rows] == [c.reference for c in sorted(early, key=lambda c: c.pk)]
    # The record as it stands now, under its new organisation.
    assert {row["Reference"]: row["Customer organisation"] for row in rows}[early[1].reference] == "Y Trading"
    assert {row["Satisfaction with the result"] for row in rows} == {"5", "2"}
    assert set(rows[0]) >= {"Received at", "Status", "Reply time (working days)", "Handler"}
    disposition = response["Content-Disposition"]
    assert f"kpi-complaint_result_satisfaction-2026-H1-organisation-{x.pk}-" in disposition and ".csv" in disposition
    # The running drill-down of X would no longer hold it; the frozen export does.
    assert early[1].pk not in set(
        source(definition.source).records(H1, "organisation", x.pk).values_list("pk", flat=True)
    )


def test_a_running_value_exports_the_records_as_they_stand_now(client_as, results):
    definition, x, late = results["definition"], results["x"], results["late"]
    running = _value(definition, "2026-H2")
    assert not running.closed
    # Rated after the last computation: in the live export already.
    newer = _rated(1, datetime(2026, 9, 1, 10, tzinfo=SHANGHAI), x)
    rows = _csv(_english(client_as(Role.AUDITOR.value)).get(_url(running, "csv")))
    assert {row["Reference"] for row in rows} == {late[0].reference, newer.reference}


def test_the_xlsx_opens_with_openpyxl_and_keeps_the_types(client_as, results):
    definition, early = results["definition"], results["early"]
    closed = _value(definition, "2026-H1")
    response = _english(client_as(Role.PROCESS_OWNER.value)).get(_url(closed, "xlsx"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    sheet = workbook.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    assert header[:3] == ["Reference", "Title", "Received at"]
    body = {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    assert set(body) == {c.reference for c in early}
    first = body[early[0].reference]
    assert first["Satisfaction with the result"] == 5 and isinstance(first["Received at"], datetime)


def test_the_export_reads_the_frozen_ids_through_a_subquery_in_constant_queries(client_as, results):
    definition = results["definition"]
    closed = _value(definition, "2026-H1")
    client = _english(client_as(Role.BR_MANAGER.value))
    client.get(_url(closed, "csv"))  # warm the session
    with CaptureQueriesContext(connection) as captured:
        _csv(client.get(_url(closed, "csv")))
    reads = [q["sql"] for q in captured.captured_queries if 'FROM "complaints_complaint"' in q["sql"]]
    assert len(reads) == 1
    # Never a Python list of ids: the frozen ids are a subquery, the related rows joined.
    assert re.search(
        r'"complaints_complaint"\."id" IN \(SELECT U0\."record_id"[^)]* FROM "kpi_kpivaluerecord" U0', reads[0]
    )
    assert 'JOIN "core_organisation"' in reads[0]
    # More frozen records: the same queries.
    more = [_rated(4, datetime(2026, 5, 3, 10, tzinfo=SHANGHAI)) for _ in range(4)]
    kpi_revise(definition, H1, actor=role_user(Role.PROCESS_OWNER), reason="late feedback found")
    bigger = _value(definition, "2026-H1")
    assert bigger.revision == 2
    client.get(_url(bigger, "csv"))
    with CaptureQueriesContext(connection) as again:
        rows = _csv(client.get(_url(bigger, "csv")))
    assert len(rows) == 6 and {c.reference for c in more} <= {row["Reference"] for row in rows}
    assert len(again.captured_queries) == len(captured.captured_queries)
    # The revision before it still exports its own two.
    first = KpiValue.objects.get(definition=definition, period_label="2026-H1", element_kind="overall", revision=1)
    assert len(_csv(client.get(_url(first, "csv")))) == 2


def test_the_records_page_links_to_the_csv_and_the_xlsx(client_as, results):
    closed = _value(results["definition"], "2026-H1")
    page = client_as(Role.BR_MANAGER.value).get(f"/kpis/{closed.definition_id}/values/{closed.pk}/records/")
    html = page.content.decode()
    assert f'href="{_url(closed, "csv")}"' in html and f'href="{_url(closed, "xlsx")}"' in html


def test_the_export_needs_a_role_that_reads_kpis_and_the_records(client_as, results):
    closed = _value(results["definition"], "2026-H1")
    assert client_as(None).get(_url(closed, "csv")).status_code == 403
    assert client_as(Role.SERVICE_DESK.value).get(_url(closed, "csv")).status_code == 200
    # SLA measurements: the service desk reads the KPI, not the measurements behind it.
    sla = KpiDefinition.objects.get(code="sla_attainment")
    kpi_compute(sla, period_of(Cycle.MONTHLY, date(2026, 10, 1)))
    measured = _value(sla, "2026-10")
    assert client_as(Role.SERVICE_DESK.value).get(_url(measured, "xlsx")).status_code == 403
    rows = _csv(client_as(Role.SERVICE_LEVEL_MANAGER.value).get(_url(measured, "csv")))
    assert rows == []  # no measurement: the header alone


def test_an_unknown_format_or_value_is_a_404(client_as, results):
    closed = _value(results["definition"], "2026-H1")
    client = client_as(Role.AUDITOR.value)
    assert client.get(_url(closed, "pdf")).status_code == 404
    assert client.get(f"/kpis/{closed.definition_id + 1000}/values/{closed.pk}/records.csv").status_code == 404
    # A closed value whose records' model is no longer known.
    KpiValue.objects.filter(pk=closed.pk).update(record_model="")
    assert client.get(_url(closed, "csv")).status_code == 404


def test_call_backs_export_with_their_ticket_technician_and_ratings(client_as, results):
    definition = KpiDefinition.objects.get(code="incident_satisfaction")
    period = period_of(Cycle.MONTHLY, date(2026, 10, 1))
    technician = results["early"][0].created_by
    contact = ContactFactory()
    made = callback(technician, contact, datetime(2026, 10, 5, 10, tzinfo=SHANGHAI), (5, 4, 3), fixed=False)
    kpi_close(definition, period)
    value = _value(definition, "2026-10")
    rows = _csv(_english(client_as(Role.SERVICE_DESK.value)).get(_url(value, "csv")))
    assert len(rows) == 1
    row = rows[0]
    assert row["Ticket"] == made.ticket.ticket_ref and row["Technician"] == str(technician)
    assert (row["Service attitude"], row["Service speed"], row["Service effect"]) == ("5", "4", "3")
    assert (row["Satisfied overall"], row["Fault fixed"], row["Answered at"]) == ("Yes", "No", "2026-10-05 10:00:00")
    assert CallBack.objects.filter(pk=made.pk).exists()


def test_a_source_without_columns_exports_id_and_name_and_paths_are_joined():
    bare = KpiSource(
        key="x",
        label="x",
        model="complaints.complaint",
        compute=lambda period, kind: {},
        records=lambda period, kind, element_id: Complaint.objects.none(),
        unit="count",
    )
    with translation.override("en"):
        assert [str(label) for label, _accessor in bare.export_columns()] == ["ID", "Record"]
    assert bare.export_columns() == list(DEFAULT_COLUMNS)
    columns = source("surveys.callback_satisfaction").export_columns()
    assert related_paths(CallBack, columns) == ["ticket__organisation", "ticket__requester__department"]
    assert related_paths(Complaint, source("complaints.reply_time").export_columns()) == [
        "contact__department",
        "handler",
        "organisation",
        "related_service",
    ]
