"""CSV and XLSX exports of any queryset, streamed, with no row cap (SPEC §6: "every list exports").

A view declares its columns and hands over the filtered queryset::

    COLUMNS = [(_("Reference"), "reference"), (_("Customer"), "organisation.name"),
               (_("Status"), "status"), (_("Reply time"), lambda c: c.reply_days)]
    return export_response(queryset, COLUMNS, fmt, filename_for("complaints", fmt))

An accessor is a dotted attribute path or a callable taking the row. A path ending on a field
with choices gives the choice's label in the active language; methods on the path are called.
Datetimes are written in local time (``settings.TIME_ZONE``, Asia/Shanghai), booleans as
translated yes / no, nothing as an empty cell.

Memory stays flat whatever the row count: rows are read with ``queryset.iterator(chunk_size)``;
CSV is produced while the client downloads it (``StreamingHttpResponse``), XLSX is written by
openpyxl's write-only workbook to a temporary file that ``FileResponse`` then streams.
"""

from __future__ import annotations

import csv
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

__all__ = ["FORMATS", "Column", "RowReader", "export_response", "filename_for", "row_values"]

Accessor = str | Callable[[Any], Any]
Column = tuple[str | Promise, Accessor]

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
CHUNK_SIZE = 2000
# Excel's sheet holds 1,048,576 rows; beyond that the export continues on a new sheet.
XLSX_MAX_ROWS = 1_048_576
# Excel and LibreOffice run a CSV cell starting with these as a formula ("CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Control characters XML (so XLSX) cannot hold.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
BOM = "\ufeff"


def filename_for(stem: str, fmt: str, *, moment: datetime | None = None) -> str:
    """``complaints-20261121.csv``: the stem, today's local date and the format."""
    return f"{stem}-{timezone.localtime(moment or timezone.now()):%Y%m%d}.{fmt}"


class RowReader:
    """Turns a record into its cells for ``columns``; build one per export, in its language.

    Choice labels and yes / no are translated once, not per cell (Django's
    ``get_<field>_display`` rebuilds and translates the whole choice list on every call).
    """

    def __init__(self, columns: Sequence[Column], zone: ZoneInfo | None = None):
        self.accessors = [(accessor if callable(accessor) else accessor.split(".")) for _label, accessor in columns]
        self.zone = zone or ZoneInfo(settings.TIME_ZONE)
        self.yes, self.no = _("Yes"), _("No")
        self._labels: dict[tuple[type, str], tuple[str, dict[Any, str]] | None] = {}

    def values(self, obj: Any) -> list[Any]:
        return [self._plain(self._resolve(obj, accessor)) for accessor in self.accessors]

    def _choice_labels(self, instance: models.Model, name: str) -> tuple[str, dict[Any, str]] | None:
        """(attname, {value: label}) of ``name`` when it is a field with choices, else None."""
        key = (type(instance), name)
        if key not in self._labels:
            try:
                field = instance._meta.get_field(name)
            except FieldDoesNotExist:
                field = None
            choices = getattr(field, "flatchoices", None) if getattr(field, "choices", None) else None
            attname = getattr(field, "attname", name)
            self._labels[key] = (attname, {value: str(label) for value, label in choices}) if choices else None
        return self._labels[key]

    def _resolve(self, obj: Any, accessor: Callable[[Any], Any] | list[str]) -> Any:
        if callable(accessor):
            return accessor(obj)
        value = obj
        last = len(accessor) - 1
        for index, part in enumerate(accessor):
            if value is None:
                return None
            if index == last and isinstance(value, models.Model):
                labels = self._choice_labels(value, part)
                if labels is not None:  # a field with choices: its label, in the active language
                    stored = getattr(value, labels[0])
                    return labels[1].get(stored, stored)
            value = getattr(value, part, None)
            if callable(value) and not isinstance(value, models.Manager):
                value = value()
        return value

    def _plain(self, value: Any) -> Any:
        """A value as a spreadsheet cell holds it: numbers and naive local datetimes stay typed."""
        if value is None:
            return None
        if isinstance(value, bool):
            return self.yes if value else self.no
        if isinstance(value, datetime):
            if timezone.is_aware(value):
                value = value.astimezone(self.zone)
            return value.replace(tzinfo=None, microsecond=0)
        if isinstance(value, date | time | int | float | Decimal):
            return value
        if isinstance(value, timedelta):
            return round(value.total_seconds() / 3600, 2)  # hours
        return str(value)


def row_values(obj: Any, columns: Sequence[Column], zone: ZoneInfo | None = None) -> list[Any]:
    """The cells of one row (typed values; see ``RowReader``)."""
    return RowReader(columns, zone).values(obj)


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date | time):
        return value.isoformat()
    text = str(value)
    if isinstance(value, str) and text.startswith(_FORMULA_START):
        return f"'{text}"
    return text


class _Echo:
    """A file-like object whose ``write`` returns the line, for ``csv.writer`` in a generator."""

    def write(self, value: str) -> str:
        return value


def _rows(queryset: models.QuerySet | Iterable[Any], chunk_size: int) -> Iterator[Any]:
    if isinstance(queryset, models.QuerySet):
        return queryset.iterator(chunk_size=chunk_size)
    return iter(queryset)


def _csv_lines(rows: Iterator[Any], columns: Sequence[Column], language: str | None) -> Iterator[str]:
    # The body is produced after the view returned: keep the request's language and time zone.
    writer = csv.writer(_Echo())
    with translation.override(language):
        reader = RowReader(columns)
        yield BOM + writer.writerow([str(label) for label, _accessor in columns])
        for obj in rows:
            yield writer.writerow([_csv_text(value) for value in reader.values(obj)])


def _xlsx_cell(sheet, value: Any):
    from openpyxl.cell import WriteOnlyCell

    if not isinstance(value, str):
        return value
    cell = WriteOnlyCell(sheet, value=_ILLEGAL_XML.sub("", value))
    cell.data_type = "s"  # never a formula, whatever the text starts with
    return cell


def _xlsx_file(rows: Iterator[Any], columns: Sequence[Column], title: str):
    from openpyxl import Workbook

    reader = RowReader(columns)
    header = [str(label) for label, _accessor in columns]
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    sheet.append(header)
    sheets, used = 1, 1
    for obj in rows:
        if used >= XLSX_MAX_ROWS:
            sheets += 1
            sheet = workbook.create_sheet(f"{title} {sheets}"[:31])
            sheet.append(header)
            used = 1
        sheet.append([_xlsx_cell(sheet, value) for value in reader.values(obj)])
        used += 1
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it after sending
    try:
        workbook.save(handle)
    except BaseException:
        handle.close()
        raise
    handle.seek(0)
    return handle


def export_response(
    queryset: models.QuerySet | Iterable[Any],
    columns: Sequence[Column],
    fmt: str,
    filename: str,
    *,
    sheet_title: str = "export",
    chunk_size: int = CHUNK_SIZE,
) -> HttpResponseBase:
    """A download of ``queryset`` in ``fmt`` (``csv`` or ``xlsx``; anything else is a 404).

    CSV starts with a UTF-8 byte-order mark so Excel reads Chinese correctly, and a text cell
    that a spreadsheet would run as a formula is prefixed with ``'``. XLSX cells keep their
    types (numbers, dates); text is never a formula.
    """
    if fmt not in FORMATS:
        raise Http404(_("Unknown export format."))
    rows = _rows(queryset, chunk_size)
    response: HttpResponseBase
    if fmt == "csv":
        response = StreamingHttpResponse(
            _csv_lines(rows, columns, translation.get_language()), content_type=FORMATS["csv"]
        )
        response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    else:
        title = re.sub(r"[\\/*?:\[\]]", " ", sheet_title)[:31] or "export"
        response = FileResponse(
            _xlsx_file(rows, columns, title), as_attachment=True, filename=filename, content_type=FORMATS["xlsx"]
        )
    response["Cache-Control"] = "no-store"  # personal data: not for shared caches
    return response
