"""Reads of the improvement register: the list a user may see (filtered by ``ItemFilter``), one
item with what its page shows, and the sources of a page's items resolved in a constant number
of queries.

An item's source is a generic relation: resolving it row by row would cost a query per item
(and per part). ``resolve_sources`` groups a page's items by the kind of their source, reads
each kind's records once through the registry (``ImprovementSource.records()``, whose
``select_related`` makes ``describe`` and ``url`` query-free) and each kind's parts once, so a
page costs one or two queries per kind of source on it, whatever the number of rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from itsm.core.models import User

from ..choices import ITEM_OPEN_STATUSES, ItemStatus, Priority
from ..models import ImprovementItem
from ..registry import ImprovementSource, source_for

# Sorting by priority means "most urgent first", not the alphabet.
PRIORITY_RANK = Case(
    When(priority=Priority.HIGH, then=Value(1)),
    When(priority=Priority.MEDIUM, then=Value(2)),
    When(priority=Priority.LOW, then=Value(3)),
    default=Value(4),
    output_field=IntegerField(),
)


def overdue_q(today: date | None = None) -> Q:
    """Items past their close-by date and still to be worked on."""
    return Q(target_date__lt=today or timezone.localdate(), status__in=ITEM_OPEN_STATUSES)


def is_overdue(item: ImprovementItem, today: date | None = None) -> bool:
    return bool(
        item.target_date is not None
        and item.status in ITEM_OPEN_STATUSES
        and item.target_date < (today or timezone.localdate())
    )


def item_list(user: User) -> QuerySet[ImprovementItem]:
    """The register as ``user`` may see it, with what a row shows (owner, plan) and the
    priority's rank for sorting (``priority_rank``)."""
    return (
        ImprovementItem.objects.visible_to(user).select_related("owner", "plan").annotate(priority_rank=PRIORITY_RANK)
    )


def item_get(user: User, pk: int) -> ImprovementItem:
    """One item within ``user``'s reach (``Http404`` otherwise), with its page's relations."""
    queryset = ImprovementItem.objects.visible_to(user).select_related(
        "owner", "plan", "plan__owner", "duplicate_of", "created_by", "source_type"
    )
    return get_object_or_404(queryset, pk=pk)


def suggested_count(user: User) -> int:
    """Suggestions of the system waiting for their owner to accept or dismiss them."""
    return ImprovementItem.objects.visible_to(user).filter(status=ItemStatus.SUGGESTED).count()


def item_duplicates(item: ImprovementItem) -> list[ImprovementItem]:
    return list(item.duplicates.select_related("owner").order_by("created_at", "pk"))


def items_of_source(user: User, kind: str, source_pk: int, part_pk: int | None = None) -> list[ImprovementItem]:
    """Items raised from one source (the create page shows them: is it raised already?)."""
    queryset = ImprovementItem.objects.visible_to(user).filter(source_kind=kind, source_id=source_pk)
    if part_pk is not None:
        queryset = queryset.filter(source_part_id=part_pk)
    return list(queryset.select_related("owner", "plan").order_by("-created_at", "-pk")[:20])


# --- sources ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceLink:
    """What a page shows of an item's source: its kind's label, and — for a reader who may read
    records of that kind — the record's description and link. ``missing``: the record is gone."""

    kind: str
    label: str
    text: str = ""
    url: str = ""
    readable: bool = False
    missing: bool = False


def _label(kind: str, registered: ImprovementSource | None) -> str:
    return str(registered.label) if registered is not None else kind


def describe_source(
    registered: ImprovementSource | None, kind: str, source: Any, part: Any, *, readable: bool = True
) -> SourceLink:
    """The link of one source record (and part) already read."""
    label = _label(kind, registered)
    if registered is None or not readable:
        return SourceLink(kind=kind, label=label)
    if source is None:
        return SourceLink(kind=kind, label=label, text=_("(the record no longer exists)"), readable=True, missing=True)
    return SourceLink(
        kind=kind,
        label=label,
        text=registered.describe(source, part),
        url=registered.url(source, part) or "",
        readable=True,
    )


def resolve_sources(items: Iterable[ImprovementItem], user: User) -> dict[int, SourceLink]:
    """``{item.pk: SourceLink}`` for ``items``: one query per kind of source among them (and one
    per kind with parts), never one per item. A kind ``user`` may not read shows its label only."""
    items = list(items)
    by_kind: dict[str, list[ImprovementItem]] = defaultdict(list)
    for item in items:
        by_kind[item.source_kind].append(item)
    links: dict[int, SourceLink] = {}
    for kind, group in by_kind.items():
        registered = source_for(kind)
        readable = registered is not None and registered.readable_by(user)
        records: dict[int, Any] = {}
        parts: dict[int, Any] = {}
        if registered is not None and readable:
            ids = {item.source_id for item in group if item.source_id is not None}
            if ids:
                records = {record.pk: record for record in registered.records().filter(pk__in=ids)}
            part_class = registered.part_class
            part_ids = {item.source_part_id for item in group if item.source_part_id is not None}
            if part_class is not None and part_ids:
                parts = {part.pk: part for part in part_class._default_manager.filter(pk__in=part_ids)}
        for item in group:
            source = records.get(item.source_id) if item.source_id is not None else None
            part = parts.get(item.source_part_id) if item.source_part_id is not None else None
            links[item.pk] = describe_source(registered, kind, source, part, readable=readable)
    return links


def with_sources(items: Iterable[ImprovementItem], user: User) -> list[dict[str, Any]]:
    """Rows of ``{"item", "source", "overdue"}`` for a table of items."""
    items = list(items)
    links = resolve_sources(items, user)
    today = timezone.localdate()
    return [{"item": item, "source": links[item.pk], "overdue": is_overdue(item, today)} for item in items]
