"""Reads across sources: the items raised from a record and the plans they belong to (what a
source's page shows), and each page of items with its sources resolved in a constant number
of queries."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.db import models

from ..models import ImprovementItem, ImprovementPlan


def items_from(record: models.Model) -> models.QuerySet[ImprovementItem]:
    """The register's items raised from ``record``, oldest first, with their plans."""
    return (
        ImprovementItem.objects.filter(source_type=ContentType.objects.get_for_model(type(record)), source_id=record.pk)
        .select_related("plan", "owner")
        .order_by("created_at", "pk")
    )


def plans_of_items(items: Iterable[ImprovementItem]) -> list[ImprovementPlan]:
    """The distinct plans of ``items`` (loaded with them), in the order first met."""
    plans: dict[int, ImprovementPlan] = {}
    for item in items:
        plan = item.plan if item.plan_id is not None else None
        if plan is not None and plan.pk not in plans:
            plans[plan.pk] = plan
    return list(plans.values())


def raise_url(kind: str, record: models.Model, part: models.Model | None = None) -> str:
    """The one step a source's page links to: a new item pre-filled from ``record``."""
    from django.urls import reverse
    from django.utils.http import urlencode

    query = {"source": kind, "id": record.pk, **({"part": part.pk} if part is not None else {})}
    return f"{reverse('improvement_item_create')}?{urlencode(query)}"


def source_panel(user, kind: str, record: models.Model) -> dict | None:
    """What a source's page shows of the register (``includes/improvement_panel.html``): the
    items raised from ``record`` with their plans (one query), and the link raising another
    when ``user`` may. ``None`` for a user who may not read the register."""
    from itsm.core.permissions import can

    if not can(user, "view", ImprovementItem):
        return None
    items = list(items_from(record))
    return {
        "items": items,
        "plans": plans_of_items(items),
        "raise_url": raise_url(kind, record) if can(user, "add", ImprovementItem) else "",
    }


def items_by_source(model: type[models.Model], ids: Iterable[int]) -> dict[int, list[ImprovementItem]]:
    """The register's items raised from each of ``ids`` (records of ``model``), in one query:
    what a list of sources shows beside each row."""
    found: dict[int, list[ImprovementItem]] = {}
    rows = ImprovementItem.objects.filter(
        source_type=ContentType.objects.get_for_model(model), source_id__in=list(ids)
    ).order_by("pk")
    for item in rows:
        if item.source_id is not None:
            found.setdefault(item.source_id, []).append(item)
    return found


def may_raise(user) -> bool:
    """Whether ``user`` may raise items (the source pages' "raise an item" links)."""
    from itsm.core.permissions import can

    return can(user, "add", ImprovementItem)
