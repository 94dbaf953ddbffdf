"""itsm.core.exports: streamed CSV / XLSX of any queryset."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import openpyxl
import pytest
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.utils import translation

from itsm.core import exports
from itsm.core.choices import OrganisationKind
from itsm.core.exports import export_response, filename_for, row_values
from itsm.core.models import Organisation
from tests.factories import ContactFactory, OrganisationFactory

pytestmark = pytest.mark.django_db

COLUMNS = [
    ("Name", "name"),
    ("Kind", "kind"),  # a field with choices: its label
    ("Key customer", "is_key_customer"),
    ("Created", "created_at"),
    ("Shout", lambda org: org.name.upper()),
    ("Nothing", lambda org: None),
]


def content(response) -> bytes:
    return b"".join(response.streaming_content)


def csv_rows(response) -> list[list[str]]:
    text = content(response).decode("utf-8")
    assert text.startswith("\ufeff"), "a UTF-8 BOM for Excel"
    return list(csv.reader(io.StringIO(text[1:])))


def test_csv_is_streamed_with_bom_header_and_one_row_per_record():
    OrganisationFactory(name="华北电网", is_key_customer=True)
    OrganisationFactory(name="Acme")
    with translation.override("en"):
        response = export_response(Organisation.objects.order_by("name"), COLUMNS, "csv", "orgs-20261121.csv")
    assert isinstance(response, StreamingHttpResponse) and not isinstance(response, FileResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="orgs-20261121.csv"'
    assert response["Cache-Control"] == "no-store"
    rows = csv_rows(response)
    assert rows[0] == ["Name", "Kind", "Key customer", "Created", "Shout", "Nothing"]
    assert [row[0] for row in rows[1:]] == ["Acme", "华北电网"]
    assert rows[2][1:3] == ["Customer", "Yes"] and rows[2][4] == "华北电网" and rows[2][5] == ""
    assert rows[1][1:3] == ["Customer", "No"]
    supplier = OrganisationFactory(kind=OrganisationKind.SUPPLIER)
    with translation.override("en"):
        assert row_values(supplier, COLUMNS)[1:3] == ["Supplier", "No"]


def test_body_keeps_the_request_language_even_when_read_later():
    OrganisationFactory(kind=OrganisationKind.INTERNAL_TEAM)
    with translation.override("en"):
        response = export_response(Organisation.objects.all(), COLUMNS, "csv", "x.csv")
    with translation.override("zh-hans"):  # the server reads the stream after the view returned
        rows = csv_rows(response)
    assert rows[1][1] == "Internal team"


def test_choice_labels_follow_the_active_language():
    OrganisationFactory(kind=OrganisationKind.SUPPLIER)
    with translation.override("zh-hans"):
        expected = str(OrganisationKind.SUPPLIER.label)
        rows = csv_rows(export_response(Organisation.objects.all(), COLUMNS, "csv", "x.csv"))
    assert rows[1][1] == expected


def test_datetimes_in_local_time_and_dotted_paths():
    contact = ContactFactory(name="李雷", organisation__name="深圳分部")
    moment = datetime(2026, 11, 20, 16, 30, 5, 123, tzinfo=UTC)  # 2026-11-21 00:30:05 in Shanghai
    values = row_values(
        contact,
        [("org", "organisation.name"), ("kind", "organisation.kind"), ("t", lambda c: moment), ("d", lambda c: None)],
    )
    assert values[:2] == ["深圳分部", str(OrganisationKind.CUSTOMER.label)]
    assert values[2] == datetime(2026, 11, 21, 0, 30, 5)  # naive local, no microseconds
    assert values[3] is None
    rows = csv_rows(
        export_response([contact], [("t", lambda c: moment), ("day", lambda c: date(2026, 1, 2))], "csv", "c.csv")
    )
    assert rows[1] == ["2026-11-21 00:30:05", "2026-01-02"]
    # A path through a missing relation is empty, not an error.
    assert row_values(contact, [("x", "department.name")]) == [None]


def test_csv_neutralises_formulas_but_not_numbers():
    OrganisationFactory(name='=HYPERLINK("http://evil")')
    OrganisationFactory(name="@SUM(A1)")
    rows = csv_rows(
        export_response(Organisation.objects.order_by("name"), [("n", "name"), ("neg", lambda o: -5)], "csv", "x.csv")
    )
    assert sorted(row[0] for row in rows[1:]) == ['\'=HYPERLINK("http://evil")', "'@SUM(A1)"]
    assert {row[1] for row in rows[1:]} == {"-5"}


def test_xlsx_is_a_file_response_with_typed_cells_and_text_never_a_formula():
    OrganisationFactory(name="=1+1", is_key_customer=True)
    OrganisationFactory(name="华东\x07客户")  # a control character XML cannot hold
    columns = [
        ("Name", "name"),
        ("Key", "is_key_customer"),
        ("Number", lambda o: 42),
        ("When", lambda o: datetime(2026, 1, 1, 1, 0, tzinfo=UTC)),
    ]
    with translation.override("en"):
        response = export_response(
            Organisation.objects.order_by("name"), columns, "xlsx", "orgs.xlsx", sheet_title="Orgs/2026"
        )
    assert isinstance(response, FileResponse)
    assert response["Content-Type"] == exports.FORMATS["xlsx"]
    assert response["Content-Disposition"] == 'attachment; filename="orgs.xlsx"'
    workbook = openpyxl.load_workbook(io.BytesIO(content(response)))
    sheet = workbook.worksheets[0]
    assert sheet.title == "Orgs 2026"
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Name", "Key", "Number", "When")
    assert rows[1] == ("=1+1", "Yes", 42, datetime(2026, 1, 1, 9, 0))
    assert sheet.cell(row=2, column=1).data_type == "s"
    assert rows[2][0] == "华东客户"


def test_xlsx_without_rows_has_the_header():
    response = export_response(Organisation.objects.none(), COLUMNS, "xlsx", "empty.xlsx")
    rows = list(openpyxl.load_workbook(io.BytesIO(content(response))).worksheets[0].iter_rows(values_only=True))
    assert rows == [tuple(label for label, _accessor in COLUMNS)]


def test_xlsx_continues_on_a_new_sheet_past_the_row_limit(monkeypatch):
    monkeypatch.setattr(exports, "XLSX_MAX_ROWS", 3)  # header + 2 rows a sheet
    for index in range(5):
        OrganisationFactory(name=f"org {index}")
    response = export_response(
        Organisation.objects.order_by("name"), [("Name", "name")], "xlsx", "x.xlsx", sheet_title="Orgs"
    )
    workbook = openpyxl.load_workbook(io.BytesIO(content(response)))
    assert workbook.sheetnames == ["Orgs", "Orgs 2", "Orgs 3"]
    names = [row[0] for sheet in workbook.worksheets for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert names == [f"org {index}" for index in range(5)]
    assert all(sheet.cell(row=1, column=1).value == "Name" for sheet in workbook.worksheets)


def test_rows_are_read_in_chunks_not_all_at_once(monkeypatch):
    OrganisationFactory.create_batch(5)
    calls = []
    original = Organisation.objects.all().iterator.__func__

    def spy(self, chunk_size=None):
        calls.append(chunk_size)
        return original(self, chunk_size=chunk_size)

    monkeypatch.setattr(type(Organisation.objects.all()), "iterator", spy)
    rows = csv_rows(export_response(Organisation.objects.all(), [("n", "name")], "csv", "x.csv"))
    assert len(rows) == 6 and calls == [exports.CHUNK_SIZE]


def test_unknown_format_is_404():
    with pytest.raises(Http404):
        export_response(Organisation.objects.all(), COLUMNS, "pdf", "x.pdf")


def test_filename_for_uses_the_local_date():
    # 2026-11-20 17:00 UTC is already the 21st in Shanghai.
    assert (
        filename_for("complaints", "csv", moment=datetime(2026, 11, 20, 17, 0, tzinfo=UTC)) == "complaints-20261121.csv"
    )
