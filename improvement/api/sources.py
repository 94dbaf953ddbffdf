"""Where the API's items come from: each item's source described and linked for a whole page
of items at once.

Items name their source by kind (``improvement.registry``) and record id. ``resolve_sources``
loads the records of a page grouped by the model they are records of (one query per model and
queryset of the kinds present, one per model of the parts named), never one per item, so a
list's query count does not grow with its rows. A kind the caller may not read is named but
not described or linked (its record's text is not theirs to see); a source that is gone, or a
kind no longer registered, is named with no description.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch

from ..models import ImprovementItem
from ..registry import ImprovementSource, source_for


@dataclass(frozen=True)
class ResolvedSource:
    kind: str
    label: str
    id: int | None
    part_id: int | None
    description: str | None
    url: str | None
    readable: bool


def _link(registered: ImprovementSource, record: Any, part: Any) -> str | None:
    try:
        return registered.url(record, part) or None
    except NoReverseMatch:  # the kind's page is not routed (yet)
        return None


def resolve_sources(items: list[ImprovementItem], user: Any) -> dict[int, ResolvedSource]:
    """The source of each of ``items`` (by item pk), described as ``user`` may see it."""
    # (model, queryset factory) → the kinds sharing one query; kinds of one model read alike.
    groups: dict[tuple[str, int], tuple[ImprovementSource, set[int]]] = {}
    parts: dict[str, set[int]] = defaultdict(set)
    part_classes: dict[str, Any] = {}
    for item in items:
        registered = source_for(item.source_kind)
        if registered is None or item.source_id is None or not registered.readable_by(user):
            continue
        key = (registered.model, id(registered.queryset))
        groups.setdefault(key, (registered, set()))[1].add(item.source_id)
        if item.source_part_id is not None and registered.part_model:
            parts[registered.part_model].add(item.source_part_id)
            part_classes[registered.part_model] = registered.part_class
    records: dict[tuple[str, int], dict[int, Any]] = {
        key: registered.records().in_bulk(sorted(ids)) for key, (registered, ids) in groups.items()
    }
    part_records: dict[str, dict[int, Any]] = {
        model_label: part_classes[model_label]._default_manager.in_bulk(sorted(ids))
        for model_label, ids in parts.items()
    }

    resolved: dict[int, ResolvedSource] = {}
    for item in items:
        registered = source_for(item.source_kind)
        label = str(registered.label) if registered is not None else item.source_kind
        description = url = None
        readable = registered is not None and registered.readable_by(user)
        if registered is not None and readable and item.source_id is not None:
            record = records[(registered.model, id(registered.queryset))].get(item.source_id)
            part = None
            if item.source_part_id is not None and registered.part_model:
                part = part_records.get(registered.part_model, {}).get(item.source_part_id)
            if record is not None:
                description = registered.describe(record, part)
                url = _link(registered, record, part)
        resolved[item.pk] = ResolvedSource(
            kind=item.source_kind,
            label=label,
            id=item.source_id,
            part_id=item.source_part_id,
            description=description,
            url=url,
            readable=readable,
        )
    return resolved
