"""Monthly measurements: recording (idempotent by target + month, met computed, closed and
future months refused), the API's bulk record, the CSV import (all or nothing, every error
with its row and column, encodings), and the pages (permissions, constant queries, the
attainment page and its chart)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from auditlog.models import LogEntry
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from itsm.core.charts import BREACH_COLOUR, meta
from itsm.core.testing import ALL_ROLES, ANONYMOUS, assert_constant_queries, assert_nothing_written, role_may
from itsm.core.testing import user_with_role as _user_with_role
from sla.choices import AgreementKind, AgreementStatus, MeasurementSource, Metric, Priority, ReportStatus, TargetUnit
from sla.models import Measurement, ServiceLevelTarget, SlaReport
from sla.services.measurements import (
    IMPORT_MAX_BYTES,
    MeasurementRowsInvalid,
    measurement_bulk_record,
    measurement_record,
    measurements_import_csv,
)
from tests.sla.factories import AgreementFactory, MeasurementFactory, TargetFactory

pytestmark = pytest.mark.django_db

SLM = "service_level_manager"
TODAY = datetime(2026, 11, 15, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
HEADER = "agreement,metric,priority,month,actual,sample_size,note\n"


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def slm(make_user):
    return make_user(SLM)


@pytest.fixture
def agreement():
    return AgreementFactory(kind=AgreementKind.SLA, number="SLA-2026-011", status=AgreementStatus.ACTIVE)


@pytest.fixture
def resolution(agreement):
    """P1 resolution within 2 h."""
    return TargetFactory(agreement=agreement, metric=Metric.RESOLUTION, priority=Priority.P1, value=Decimal(2))


@pytest.fixture
def availability(agreement):
    return TargetFactory(
        agreement=agreement, metric=Metric.AVAILABILITY, priority="", value=Decimal("99.5"), unit=TargetUnit.PERCENT
    )


def record(target, period=date(2026, 10, 1), actual="1.5", actor=None, **fields):
    return measurement_record(
        target=target, period=period, actual=actual, source=MeasurementSource.FORM, actor=actor, **fields
    )


def upload(text: str, *, encoding: str = "utf-8", name: str = "measurements.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


# --- recording ---------------------------------------------------------------------------------


def test_record_creates_the_month_and_computes_met(resolution, slm):
    measurement, created = record(resolution, period=date(2026, 10, 17), actual="1.5", sample_size=12, actor=slm)
    assert created
    assert measurement.period == date(2026, 10, 1)  # any day of the month → the first
    assert measurement.met
    assert (measurement.sample_size, measurement.source, measurement.recorded_by) == (12, "form", slm)
    assert LogEntry.objects.get_for_object(measurement).get().actor == slm


def test_recording_the_same_month_again_updates_the_one_row(resolution, slm):
    first, _created = record(resolution, actual="1.5", actor=slm)
    again, created = record(resolution, period=date(2026, 10, 31), actual="2.5", note="incident 42", actor=slm)
    assert not created
    assert again.pk == first.pk
    assert Measurement.objects.count() == 1
    again.refresh_from_db()
    assert (again.actual, again.met, again.note) == (Decimal("2.5"), False, "incident 42")


def test_an_identical_repeat_writes_nothing(resolution, slm):
    record(resolution, actual="1.5", actor=slm)
    with assert_nothing_written(Measurement):
        _measurement, created = record(resolution, actual="1.50", actor=slm)
    assert not created


@pytest.mark.parametrize(("actual", "met"), [("1.5", True), ("2", True), ("2.01", False), ("0", True), ("30", False)])
def test_time_targets_are_met_at_or_below_the_target(resolution, slm, actual, met):
    assert record(resolution, actual=actual, actor=slm)[0].met is met


@pytest.mark.parametrize(("actual", "met"), [("99.9", True), ("99.5", True), ("99.49", False), ("100", True)])
def test_percent_targets_are_met_at_or_above_the_target(availability, slm, actual, met):
    assert record(availability, actual=actual, actor=slm)[0].met is met


def test_working_day_targets_compare_in_their_unit(agreement, slm):
    target = TargetFactory(agreement=agreement, priority=Priority.P4, value=Decimal(10), unit=TargetUnit.WORKING_DAYS)
    assert record(target, actual="9.5", actor=slm)[0].met
    assert not record(target, period=date(2026, 9, 1), actual="10.5", actor=slm)[0].met


@pytest.mark.parametrize("status", [ReportStatus.APPROVED, ReportStatus.SENT])
def test_a_closed_month_is_refused(resolution, slm, status):
    SlaReport.objects.create(agreement=resolution.agreement, period=date(2026, 10, 1), status=status)
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        record(resolution, actor=slm)
    assert "closed" in " ".join(caught.value.message_dict["period"])
    assert not Measurement.objects.exists()


def test_a_closed_month_keeps_its_figures(resolution, slm):
    measurement = MeasurementFactory(target=resolution, period=date(2026, 9, 1), actual=Decimal(1), met=True)
    SlaReport.objects.create(agreement=resolution.agreement, period=date(2026, 9, 1), status=ReportStatus.APPROVED)
    with assert_nothing_written(Measurement), pytest.raises(ValidationError):
        record(resolution, period=date(2026, 9, 1), actual="5", actor=slm)
    measurement.refresh_from_db()
    assert measurement.actual == Decimal(1)


def test_a_draft_report_leaves_the_month_open(resolution, slm):
    SlaReport.objects.create(agreement=resolution.agreement, period=date(2026, 10, 1), status=ReportStatus.DRAFT)
    assert record(resolution, actor=slm)[1]


def test_a_future_month_is_refused_the_current_one_is_not(resolution, slm):
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        record(resolution, period=date(2026, 12, 1), actor=slm)
    assert caught.value.message_dict["period"] == ["2026-12 is in the future."]
    assert record(resolution, period=date(2026, 11, 30), actor=slm)[0].period == date(2026, 11, 1)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"actual": "-1"}, "actual"),
        ({"actual": "abc"}, "actual"),
        ({"actual": "1.234"}, "actual"),
        ({"sample_size": -3}, "sample_size"),
        ({"note": "x" * 301}, "note"),
    ],
)
def test_bad_input_is_refused_per_field(resolution, slm, fields, field):
    with pytest.raises(ValidationError) as caught:
        record(resolution, actor=slm, **{"actual": "1", **fields})
    assert field in caught.value.message_dict
    assert not Measurement.objects.exists()


def test_a_percentage_above_100_is_refused(availability, slm):
    with pytest.raises(ValidationError) as caught:
        record(availability, actual="100.1", actor=slm)
    assert "actual" in caught.value.message_dict


@pytest.mark.parametrize("role", ["auditor", "br_manager", "service_desk", "process_owner"])
def test_recording_needs_the_measurement_permissions(resolution, make_user, role):
    with pytest.raises(PermissionDenied):
        record(resolution, actor=make_user(role))
    with pytest.raises(PermissionDenied):
        measurement_bulk_record(
            rows=[{"target": resolution.pk, "period": "2026-10", "actual": 1}], source="api", actor=make_user(role)
        )
    with pytest.raises(PermissionDenied):
        measurements_import_csv(file=upload(HEADER + "SLA-2026-011,resolution,P1,2026-10,1,,\n"), actor=make_user(role))
    assert not Measurement.objects.exists()


# --- bulk (the API) ----------------------------------------------------------------------------


def test_bulk_record_is_idempotent_by_target_and_month(resolution, availability, slm):
    rows = [
        {"target": resolution.pk, "period": "2026-10", "actual": "1.5", "sample_size": 20},
        {"target": availability, "period": date(2026, 10, 9), "actual": Decimal("99.2")},
    ]
    result = measurement_bulk_record(rows=rows, source=MeasurementSource.API, actor=slm)
    assert [outcome for _m, outcome in result.items] == ["created", "created"]
    assert [m.met for m, _outcome in result.items] == [True, False]
    again = measurement_bulk_record(
        rows=[rows[0], {**rows[1], "actual": "99.7"}], source=MeasurementSource.API, actor=slm
    )
    assert [outcome for _m, outcome in again.items] == ["unchanged", "updated"]
    assert Measurement.objects.count() == 2
    assert Measurement.objects.get(target=availability).met


def test_bulk_record_reports_every_bad_row_and_writes_nothing(resolution, availability, slm):
    SlaReport.objects.create(agreement=resolution.agreement, period=date(2026, 8, 1), status=ReportStatus.APPROVED)
    rows = [
        {"target": resolution.pk, "period": "2026-10", "actual": "1"},  # fine
        {"target": 999_999, "period": "2026-10", "actual": "1"},  # unknown target
        {"target": resolution.pk, "period": "October", "actual": "1"},  # bad month
        {"target": availability.pk, "period": "2026-10", "actual": "101"},  # > 100 %
        {"target": resolution.pk, "period": "2026-12", "actual": "1"},  # future
        {"target": resolution.pk, "period": "2026-08", "actual": "1"},  # closed
        {"target": resolution.pk, "period": "2026-10-20", "actual": "2"},  # duplicate of row 0
        {"target": resolution.pk, "period": "2026-09", "actual": None},  # no actual
    ]
    with assert_nothing_written(Measurement), pytest.raises(MeasurementRowsInvalid) as caught:
        measurement_bulk_record(rows=rows, source=MeasurementSource.API, actor=slm)
    found = [(error.row, error.column) for error in caught.value.row_errors]
    assert found == [
        (1, "target"),
        (2, "period"),
        (3, "actual"),
        (4, "period"),
        (5, "period"),
        (6, "period"),
        (7, "actual"),
    ]
    assert isinstance(caught.value, ValidationError)


def test_bulk_record_needs_rows(slm):
    with pytest.raises(ValidationError):
        measurement_bulk_record(rows=[], source=MeasurementSource.API, actor=slm)


# --- CSV import --------------------------------------------------------------------------------


GOOD_CSV = (
    HEADER
    + "SLA-2026-011,resolution,P1,2026-09,1.5,40,\n"
    + "SLA-2026-011,resolution,P1,2026-10,2.5,38,two long outages\n"
    + "SLA-2026-011,availability,,2026-10,99.95,,\n"
)


def test_import_records_every_row(resolution, availability, slm):
    result = measurements_import_csv(file=upload(GOOD_CSV), actor=slm)
    assert result.ok
    assert (result.created, result.updated, result.unchanged, result.recorded) == (3, 0, 0, 3)
    october = Measurement.objects.get(target=resolution, period=date(2026, 10, 1))
    assert (october.actual, october.met, october.sample_size, october.note) == (
        Decimal("2.5"),
        False,
        38,
        "two long outages",
    )
    assert set(Measurement.objects.values_list("source", flat=True)) == {"csv"}
    # Importing the same file again changes nothing; a corrected figure updates.
    assert measurements_import_csv(file=upload(GOOD_CSV), actor=slm).unchanged == 3
    fixed = GOOD_CSV.replace("2.5,38", "1.9,38")
    assert measurements_import_csv(file=upload(fixed), actor=slm).updated == 1
    assert Measurement.objects.get(target=resolution, period=date(2026, 10, 1)).met


def test_import_reads_excel_utf8_with_bom_and_gb18030_with_chinese_headers(resolution, slm):
    bom = "\ufeff" + HEADER + "SLA-2026-011,resolution,P1,2026-10,1.5,,\n"
    assert measurements_import_csv(file=upload(bom), actor=slm).created == 1
    chinese = "协议编号,指标,优先级,月份,实际值,样本量,备注\r\nSLA-2026-011,resolution,P1,2026/9,1.2,,夜间故障\r\n"
    result = measurements_import_csv(file=upload(chinese, encoding="gb18030"), actor=slm)
    assert result.ok, result.errors
    assert Measurement.objects.get(period=date(2026, 9, 1)).note == "夜间故障"


def test_import_accepts_labels_semicolons_and_any_column_order(resolution, slm):
    with translation.override("zh-hans"):
        label = str(Metric.RESOLUTION.label)
    text = f"Month;Actual;Agreement;Metric;Priority\n2026-10;1,5;SLA-2026-011;{label};p1\n"
    result = measurements_import_csv(file=upload(text), actor=slm)
    # "1,5" is not a number here: the decimal separator is the point.
    assert [(error.row, error.column) for error in result.errors] == [(2, "actual")]
    result = measurements_import_csv(file=upload(text.replace("1,5", "1.5")), actor=slm)
    assert result.ok, result.errors
    assert Measurement.objects.get().actual == Decimal("1.5")


def test_a_bad_file_writes_nothing_and_reports_every_error_with_row_and_column(resolution, availability, slm):
    SlaReport.objects.create(agreement=resolution.agreement, period=date(2026, 8, 1), status=ReportStatus.SENT)
    text = (
        HEADER
        + "SLA-2026-011,resolution,P1,2026-10,1.5,,\n"  # row 2: fine
        + "SLA-9999-999,resolution,P1,2026-10,1.5,,\n"  # row 3: unknown agreement
        + "SLA-2026-011,resolution,P3,2026-10,1.5,,\n"  # row 4: no such target
        + "SLA-2026-011,speed,P1,2026-10,1.5,,\n"  # row 5: unknown metric
        + "SLA-2026-011,resolution,P1,10/2026,1.5,,\n"  # row 6: bad month
        + "SLA-2026-011,resolution,P1,2026-09,fast,,\n"  # row 7: not a number
        + "SLA-2026-011,resolution,P1,2026-08,1.5,,\n"  # row 8: closed month
        + "SLA-2026-011,resolution,P1,2026-10,1.7,,\n"  # row 9: duplicate of row 2
        + "SLA-2026-011,resolution,P1,2027-01,1.5,,\n"  # row 10: future
        + "SLA-2026-011,availability,,2026-10,120,x,\n"  # row 11: > 100 %, bad count
        + "SLA-2026-011,resolution,P9,2026-07,1.5,,\n"  # row 12: unknown priority
    )
    with assert_nothing_written(Measurement), translation.override("en"):
        result = measurements_import_csv(file=upload(text), actor=slm)
    assert not result.ok
    assert [(error.row, error.column) for error in result.errors] == [
        (3, "agreement"),
        (4, "metric"),
        (5, "metric"),
        (6, "month"),
        (7, "actual"),
        (8, "month"),
        (9, "month"),
        (10, "month"),
        (11, "actual"),
        (11, "sample_size"),
        (12, "priority"),
    ]
    messages = {error.row: error.message for error in result.errors}
    assert messages[3] == "Unknown agreement “SLA-9999-999”."
    assert messages[4] == "SLA-2026-011 has no Resolution time target for P3."
    assert messages[9] == "Duplicate: row 2 already gives this target's 2026-10."
    assert "closed" in messages[8]
    assert messages[10] == "2027-01 is in the future."


def test_missing_and_unknown_columns_are_reported_on_the_header_row(resolution, slm):
    result = measurements_import_csv(
        file=upload("agreement,metric,when,actual\nSLA-2026-011,resolution,x,1\n"), actor=slm
    )
    assert {(error.row, error.column) for error in result.errors} == {(1, "when"), (1, "month")}
    assert not Measurement.objects.exists()


def test_rows_with_a_blank_actual_are_skipped(resolution, availability, slm):
    text = HEADER + "SLA-2026-011,resolution,P1,2026-10,1.5,,\nSLA-2026-011,availability,,2026-10,,,\n\n"
    result = measurements_import_csv(file=upload(text), actor=slm)
    assert (result.created, result.skipped) == (1, 1)
    result = measurements_import_csv(file=upload(HEADER + "SLA-2026-011,availability,,2026-10,,,\n"), actor=slm)
    assert not result.ok  # nothing to record is an error, not a silent success


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"\xff\xfe\x00a\x00b", "not a CSV"),
        (b"\x81\x30\x81", "neither UTF-8 nor GB18030"),
    ],
)
def test_unreadable_files_are_refused(slm, content, message):
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        measurements_import_csv(file=SimpleUploadedFile("m.csv", content), actor=slm)
    assert message in " ".join(caught.value.message_dict["file"])


def test_a_file_over_the_size_limit_is_refused(slm):
    big = SimpleUploadedFile("m.csv", HEADER.encode() + b"x" * IMPORT_MAX_BYTES)
    with pytest.raises(ValidationError) as caught:
        measurements_import_csv(file=big, actor=slm)
    assert "file" in caught.value.message_dict


# --- pages -------------------------------------------------------------------------------------


def _may(role: str, *verbs: str, model=Measurement) -> bool:
    return role_may(role, verbs, model)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_measurement_pages_per_role(client, resolution, role):
    MeasurementFactory(target=resolution)
    read = [reverse("measurement_list")]
    attainment = reverse("target_attainment", args=[resolution.pk])
    write = [reverse("measurement_create"), reverse("measurement_import"), reverse("measurement_import_template")]
    if role == ANONYMOUS:
        for url in [*read, attainment, *write]:
            assert client.get(url).status_code == 302
        return
    client.force_login(_user_with_role(role))
    for url in read:
        assert client.get(url).status_code == (200 if _may(role, "view") else 403), url
    may_attain = _may(role, "view") and _may(role, "view", model=ServiceLevelTarget)
    assert client.get(attainment).status_code == (200 if may_attain else 403)
    missing = reverse("target_attainment", args=[resolution.pk + 1000])
    assert client.get(missing).status_code == (404 if may_attain else 403)
    may_write = _may(role, "add", "change") and _may(role, "view", model=ServiceLevelTarget)
    for url in write:
        assert client.get(url).status_code == (200 if may_write else 403), url
    if not may_write:
        with assert_nothing_written(Measurement):
            response = client.post(
                reverse("measurement_create"), {"target": resolution.pk, "period": "2026-10", "actual": "1"}
            )
            assert response.status_code == 403
            response = client.post(reverse("measurement_import"), {"file": upload(GOOD_CSV)})
            assert response.status_code == 403


def test_measurement_list_filters_and_highlights_breaches(client_as, resolution, availability):
    MeasurementFactory(target=resolution, period=date(2026, 9, 1), actual=Decimal(3), met=False)
    MeasurementFactory(target=resolution, period=date(2026, 10, 1))
    other = TargetFactory(agreement=AgreementFactory(number="UC-1", kind=AgreementKind.UC), value=Decimal(4))
    MeasurementFactory(target=other)
    client = client_as("auditor")
    assert len(client.get(reverse("measurement_list")).context["measurements"]) == 3
    breaches = client.get(reverse("measurement_list"), {"breaches": "on"})
    assert [m.period for m in breaches.context["measurements"]] == [date(2026, 9, 1)]
    assert 'class="table-danger"' in breaches.content.decode()
    october = client.get(reverse("measurement_list"), {"month": "2026-10"})
    assert len(october.context["measurements"]) == 2
    by_agreement = client.get(reverse("measurement_list"), {"agreement": other.agreement_id})
    assert [m.target for m in by_agreement.context["measurements"]] == [other]


def test_measurement_list_runs_constant_queries(client_as, agreement):
    client = client_as(SLM)
    counter = iter(range(10_000))

    def make_rows(count: int) -> None:
        for _ in range(count):
            index = next(counter)
            target = TargetFactory(agreement=agreement, metric=Metric.CUSTOM, name=f"measure {index}")
            MeasurementFactory(target=target, met=index % 2 == 0, recorded_by=_user_with_role(SLM))

    assert_constant_queries(client, reverse("measurement_list"), make_rows, few=3, many=20)


def test_form_records_and_corrects_a_month(client_as, resolution):
    client = client_as(SLM)
    page = client.get(reverse("measurement_create"), {"target": resolution.pk})
    assert page.context["form"].initial["target"] == resolution.pk
    data = {"target": resolution.pk, "period": "2026-10", "actual": "1.5", "sample_size": "9"}
    response = client.post(reverse("measurement_create"), data)
    assert response.status_code == 302
    assert response["Location"] == reverse("target_attainment", args=[resolution.pk])
    response = client.post(reverse("measurement_create"), {**data, "actual": "2.5"})
    assert response.status_code == 302
    measurement = Measurement.objects.get()
    assert (measurement.actual, measurement.met, measurement.source) == (Decimal("2.5"), False, "form")


def test_form_shows_service_refusals_as_a_400(client_as, resolution):
    client = client_as(SLM)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    SlaReport.objects.create(agreement=resolution.agreement, period=date(2026, 10, 1), status=ReportStatus.APPROVED)
    response = client.post(reverse("measurement_create"), {"target": resolution.pk, "period": "2026-10", "actual": "1"})
    assert response.status_code == 400
    assert "the month is closed" in response.content.decode()
    response = client.post(reverse("measurement_create"), {"target": resolution.pk, "period": "2027-01", "actual": "1"})
    assert response.status_code == 400
    assert "2027-01 is in the future." in response.content.decode()
    assert client.post(reverse("measurement_create"), {"period": "soon"}).status_code == 400
    assert not Measurement.objects.exists()


def test_import_page_lists_row_errors_with_400_or_says_how_many(client_as, resolution, availability):
    client = client_as(SLM)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    bad = HEADER + "SLA-2026-011,resolution,P1,2026-10,1.5,,\nSLA-2026-011,resolution,P1,2026-13,x,,\n"
    response = client.post(reverse("measurement_import"), {"file": upload(bad)})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-row="3" data-column="month"' in html
    assert 'data-row="3" data-column="actual"' in html
    assert not Measurement.objects.exists()
    response = client.post(reverse("measurement_import"), {"file": upload(GOOD_CSV)}, follow=True)
    assert response.status_code == 200
    assert "3 measurements recorded" in response.content.decode()
    assert Measurement.objects.count() == 3


def test_import_page_refuses_a_file_that_is_not_csv(client_as):
    client = client_as(SLM)
    response = client.post(reverse("measurement_import"), {"file": upload(GOOD_CSV, name="m.pdf")})
    assert response.status_code == 400
    assert response.context["form"].errors["file"]


def test_the_template_lists_active_targets_and_imports_once_filled_in(client_as, resolution, availability):
    AgreementFactory(number="SLA-DRAFT")  # a draft's targets are not measured yet
    client = client_as(SLM)
    response = client.get(reverse("measurement_import_template"))
    assert response["Content-Type"].startswith("text/csv")
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[0][:5] == ["agreement", "metric", "priority", "month", "actual"]
    assert sorted(row[1] for row in rows[1:]) == ["availability", "resolution"]
    assert {row[3] for row in rows[1:]} == {"2026-10"}
    for row in rows[1:]:
        row[4] = "99.9" if row[1] == "availability" else "1.5"
    filled = io.StringIO()
    csv.writer(filled).writerows(rows)
    response = client.post(reverse("measurement_import"), {"file": upload("\ufeff" + filled.getvalue())})
    assert response.status_code == 302
    assert Measurement.objects.count() == 2


def test_attainment_page_shows_twelve_months_breaches_and_the_trend(client_as, resolution):
    for month, actual in [(11, "1.5"), (12, "3"), (3, "1"), (9, "2.5"), (10, "1.9")]:
        year = 2025 if month > 10 else 2026
        MeasurementFactory(
            target=resolution, period=date(year, month, 1), actual=Decimal(actual), met=Decimal(actual) <= 2
        )
    MeasurementFactory(target=resolution, period=date(2025, 10, 1))  # 13 months back: not shown
    SlaReport.objects.create(agreement=resolution.agreement, period=date(2026, 9, 1), status=ReportStatus.APPROVED)
    response = client_as("auditor").get(reverse("target_attainment", args=[resolution.pk]))
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [row["month"] for row in rows][:2] == [date(2026, 10, 1), date(2026, 9, 1)]
    assert rows[-1]["month"] == date(2025, 11, 1)
    assert len(rows) == 12
    assert (response.context["measured"], response.context["met"]) == (5, 3)
    assert next(row for row in rows if row["month"] == date(2026, 9, 1))["closed"]
    chart = response.context["chart"]  # a Vega-Lite spec: the two breaches stand out, the target is drawn
    assert [point["label"] for point in chart["data"]["values"] if point["fill"] == BREACH_COLOUR] == [
        "2025-12",
        "2026-09",
    ]
    assert len(meta(chart)["notes"]) == 1  # the target line's label
    assert "<svg" in response.content.decode()


def test_attainment_page_includes_the_current_month_once_measured(client_as, resolution):
    MeasurementFactory(target=resolution, period=date(2026, 11, 1))
    rows = client_as("auditor").get(reverse("target_attainment", args=[resolution.pk])).context["rows"]
    assert rows[0]["month"] == date(2026, 11, 1)
    assert rows[-1]["month"] == date(2025, 12, 1)


def test_attainment_page_runs_constant_queries(client_as, resolution):
    client = client_as("auditor")
    months = iter(range(60))

    def make_rows(count: int) -> None:
        for _ in range(count):
            offset = next(months)
            index = 2026 * 12 + 10 - 1 - offset
            MeasurementFactory(target=resolution, period=date(index // 12, index % 12 + 1, 1))

    assert_constant_queries(client, reverse("target_attainment", args=[resolution.pk]), make_rows, few=2, many=12)
