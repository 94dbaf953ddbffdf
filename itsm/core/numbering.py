"""Gap-free yearly references (``SIP-2026-0007``) for records that are never deleted.

``save_numbered`` gives a new record the next reference of its prefix and year — the highest
taken plus one, read under a lock of the latest row — and inserts it in a savepoint; a
concurrent insert of the same reference (the first of a year, where there is no row to lock)
fails on the unique field and is retried with the next number.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, models, transaction
from django.utils import timezone

ATTEMPTS = 10


def next_reference(model: type[models.Model], field: str, prefix: str, width: int) -> str:
    """The next ``<prefix>-<year>-<n>`` of ``model.<field>`` this year (``n`` zero-padded to ``width``)."""
    start = f"{prefix}-{timezone.localtime().year}-"
    latest = (
        model._default_manager.select_for_update()
        .filter(**{f"{field}__startswith": start})
        .order_by(f"-{field}")
        .values_list(field, flat=True)
        .first()
    )
    tail = latest[len(start) :] if latest else ""
    return f"{start}{(int(tail) if tail.isdigit() else 0) + 1:0{width}d}"


def save_numbered(
    instance: models.Model, *, field: str, prefix: str, width: int, then: Callable[[Any], None] | None = None
) -> Any:
    """Insert ``instance`` under the next reference, then run ``then(instance)`` (its related
    rows) in the same savepoint. Call inside the caller's transaction."""
    for attempt in range(ATTEMPTS):
        try:
            with transaction.atomic():
                setattr(instance, field, next_reference(type(instance), field, prefix, width))
                instance.save(force_insert=True)
                if then is not None:
                    then(instance)
            return instance
        except IntegrityError:
            instance.pk = None
            if attempt == ATTEMPTS - 1:
                raise
    return instance
