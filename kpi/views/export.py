"""The records behind a KPI value as CSV or XLSX (issue 12 item 6): every record, streamed,
no row cap, with the columns its source declares (``KpiSource.columns``).

A closed value exports the records frozen with it (their ids in ``KpiValueRecord``) as they
stand now — a complaint moved to another organisation since is still in the export, under its
new organisation; a running value exports the records its source finds now. The records are
read by ``itsm.core.exports`` with ``queryset.iterator``, through a subquery of the frozen
ids (never a Python list of them), so 100,000 records are never all in memory; a record
deleted since the value froze is simply not in the file.

Who may: a user who reads KPIs (``kpi.view_kpidefinition``) and the records' model (the file
holds every column of every record, unlike the page's names: a service desk exports the
call-backs and complaints it works with, not survey answers).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.apps import apps
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db import models
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from itsm.core.exports import FORMATS, Column, RowReader, export_response, filename_for
from itsm.core.periods import Period
from itsm.core.permissions import can

from ..models import KpiDefinition, KpiValue, KpiValueRecord
from ..registry import DEFAULT_COLUMNS, sources


def related_paths(model: type[models.Model], columns: Sequence[Column]) -> list[str]:
    """The ``select_related`` paths the dotted accessors of ``columns`` walk through
    (``ticket.organisation.name`` → ``ticket__organisation``), so an export or a page of
    records reads each row's related rows in the same query."""
    paths = set()
    for _label, accessor in columns:
        if callable(accessor):
            continue
        current, trail = model, []
        for part in accessor.split("."):
            try:
                field = current._meta.get_field(part)
            except FieldDoesNotExist:
                break
            if not (field.is_relation and (field.many_to_one or field.one_to_one)):
                break
            trail.append(part)
            current = field.related_model  # type: ignore[assignment]  # a relation: never None
        if trail:
            paths.add("__".join(trail))
    # A longer path already joins its prefixes.
    return sorted(p for p in paths if not any(other.startswith(f"{p}__") for other in paths))


def with_columns(queryset: models.QuerySet, columns: Sequence[Column]) -> models.QuerySet:
    """``queryset`` in id order, joined to what ``columns`` read."""
    related = related_paths(queryset.model, columns)
    queryset = queryset.order_by("pk")
    return queryset.select_related(*related) if related else queryset


def value_records(value: KpiValue) -> tuple[models.QuerySet, list[Column]]:
    """The records behind ``value`` and the columns they export with: the frozen ids of a
    closed value (a subquery), the source's live records of a running one. ``Http404`` when
    the value has no records to export (a manual KPI, a model that no longer exists)."""
    definition = value.definition
    kpi_source = sources().get(definition.source)
    if value.closed:
        try:
            model = apps.get_model(value.record_model)
        except (LookupError, ValueError):
            raise Http404(_("These records are no longer kept.")) from None
        frozen = KpiValueRecord.objects.filter(value=value).values("record_id")
        queryset = model._default_manager.filter(pk__in=frozen)
    else:
        if kpi_source is None:
            raise Http404(_("This KPI has no records behind its values."))
        period = Period(value.period_start, value.period_end, definition.cycle)
        queryset = kpi_source.records(period, value.element_kind, value.element_id)
    # The source's columns fit the records only while it still names their model.
    if kpi_source is not None and kpi_source.model == queryset.model._meta.label_lower:
        columns = kpi_source.export_columns()
    else:
        columns = list(DEFAULT_COLUMNS)
    return with_columns(queryset, columns), columns


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}"  # local already (RowReader)
    return str(value)


def record_rows(records: Iterable[models.Model], columns: Sequence[Column]) -> list[dict[str, Any]]:
    """A page of records as table rows: id, link and each column's text (what the export
    writes, on the page)."""
    reader = RowReader(columns)
    return [
        {
            "id": record.pk,
            "url": record.get_absolute_url() if hasattr(record, "get_absolute_url") else "",
            "cells": [_cell_text(value) for value in reader.values(record)],
        }
        for record in records
    ]


@login_required
@require_GET
def kpi_records_export(request: HttpRequest, pk: int, value_id: int, fmt: str) -> HttpResponseBase:
    if not can(request.user, "view", KpiDefinition):
        raise PermissionDenied
    if fmt not in FORMATS:
        raise Http404(_("Unknown export format."))
    value = get_object_or_404(KpiValue.objects.select_related("definition"), pk=value_id, definition_id=pk)
    queryset, columns = value_records(value)
    if not can(request.user, "view", queryset.model):
        raise PermissionDenied
    definition = value.definition
    element = f"-{value.element_kind}-{value.element_id}" if value.element_id else ""
    return export_response(
        queryset,
        columns,
        fmt,
        filename_for(f"kpi-{definition.code}-{value.period_label}{element}", fmt),
        sheet_title=f"{definition.name} {value.period_label}",
    )


urlpatterns = [
    path("kpis/<int:pk>/values/<int:value_id>/records.<str:fmt>", kpi_records_export, name="kpi_records_export"),
]
