"""The improvement module's own source: a review meeting (a decision raises an item)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from .registry import ImprovementSource, register_source

REVIEW_MEETING = register_source(
    ImprovementSource(
        kind="review_meeting",
        label=gettext_lazy("Review meeting"),
        model="improvement.reviewmeeting",
        describe=lambda meeting, part: str(meeting),
    )
)
