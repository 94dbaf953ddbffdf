"""The system's intake: every registered rule's findings become suggested items.

``intake_run`` asks each intake rule (``improvement.registry.intake_rule``) for its findings
and suggests one item per finding key (``item_suggest``): a finding seen before — whatever
became of its item — suggests nothing, so the check runs as often as beat likes.
"""

from __future__ import annotations

import logging

from ..registry import intake_rules
from .items import item_suggest

logger = logging.getLogger(__name__)


def intake_run() -> dict[str, int]:
    """Run every intake rule once; returns the number of new suggestions per rule."""
    created: dict[str, int] = {}
    for rule in intake_rules():
        count = 0
        for suggestion in rule.func():
            _item, new = item_suggest(
                key=suggestion.key,
                source_kind=suggestion.kind,
                source=suggestion.source,
                source_part=suggestion.part,
                title=suggestion.title,
                description=suggestion.description,
                priority=suggestion.priority,
                owner=suggestion.owner,
            )
            count += int(new)
        created[rule.name] = count
    return created
