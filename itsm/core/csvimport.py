"""Reading an uploaded CSV file for an all-or-nothing import (SLA measurements, manual KPI
values): bounded in size and rows, UTF-8 with or without a BOM (Excel's "CSV UTF-8") or
GB18030 (Excel's plain "CSV" on a Chinese Windows), comma, semicolon or tab separated (the most
frequent in the header line), cells cleaned of control characters. Every refusal is a
``ValidationError`` on ``file`` that says what to do."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .sanitize import clean_text

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationError({"file": _("The file is neither UTF-8 nor GB18030 text.")})


def _delimiter(first_line: str) -> str:
    counts = {delimiter: first_line.count(delimiter) for delimiter in (",", ";", "\t")}
    return max(counts, key=lambda delimiter: counts[delimiter]) if any(counts.values()) else ","


def read_csv(file: Any, *, max_bytes: int = MAX_BYTES, max_rows: int = MAX_ROWS) -> list[list[str]]:
    """The file's records, the header first, each cell cleaned and stripped."""
    too_large = _("The file is larger than %(limit)s MB.") % {"limit": max_bytes >> 20}
    size = getattr(file, "size", None)
    if size is not None and size > max_bytes:
        raise ValidationError({"file": too_large})
    if hasattr(file, "seek"):
        file.seek(0)
    data = file.read(max_bytes + 1)
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > max_bytes:
        raise ValidationError({"file": too_large})
    if b"\x00" in data:
        raise ValidationError({"file": _("This is not a CSV text file.")})
    text = _decode(data)
    if not text.strip():
        raise ValidationError({"file": _("The file is empty.")})
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text.splitlines()[0])))
    except csv.Error as exc:
        raise ValidationError({"file": _("The file is not valid CSV: %(error)s") % {"error": exc}}) from exc
    if len(records) - 1 > max_rows:
        raise ValidationError({"file": _("At most %(count)s rows at once.") % {"count": max_rows}})
    return [[clean_text(cell).strip() for cell in record] for record in records]
