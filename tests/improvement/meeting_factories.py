"""Review meeting test data, made through the real services: ``make_meeting(status=...)`` plans
a meeting for a period and holds or cancels it; ``make_kpi_value`` stores a KPI's overall value
of a period (as the KPI app's computation would)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from itertools import count
from typing import Any

from django.utils import timezone

from improvement.choices import MeetingKind, MeetingStatus
from improvement.models import MeetingDecision, ReviewMeeting
from improvement.services.meetings import decision_add, meeting_cancel, meeting_create, meeting_hold
from itsm.core.models import User
from itsm.core.roles import Role
from kpi.models import ElementKind, KpiDefinition, KpiValue, Status, Unit
from tests.complaints.factories import role_user

_codes = count(1)


def this_month() -> str:
    return timezone.localdate().strftime("%Y-%m")


def make_meeting(
    status: str = MeetingStatus.PLANNED,
    *,
    actor: User | None = None,
    period_label: str | None = None,
    kind: str = MeetingKind.REVIEW,
    **fields: Any,
) -> ReviewMeeting:
    """A meeting of this month (unless ``period_label`` says otherwise), moved to ``status``."""
    actor = actor or role_user(Role.BR_MANAGER)
    meeting = meeting_create(
        actor=actor,
        period_label=period_label or this_month(),
        scheduled_at=fields.pop("scheduled_at", timezone.now() + timedelta(days=3)),
        kind=kind,
        **fields,
    )
    if status == MeetingStatus.HELD:
        meeting = meeting_hold(meeting=meeting, actor=actor, minutes="We went through the figures.")
    elif status == MeetingStatus.CANCELLED:
        meeting = meeting_cancel(meeting=meeting, actor=actor, note="The customer could not come.")
    return meeting


def make_decision(
    meeting: ReviewMeeting, *, text: str = "Add a night-shift supervisor", **fields: Any
) -> MeetingDecision:
    actor = fields.pop("actor", None) or role_user(Role.BR_MANAGER)
    return decision_add(meeting=meeting, actor=actor, text=text, **fields)


def make_kpi_definition(**fields: Any) -> KpiDefinition:
    number = next(_codes)
    defaults = {
        "code": f"test_kpi_{number}",
        "name_zh": f"测试指标{number}",
        "name_en": f"Test KPI {number}",
        "unit": Unit.PERCENT,
        "direction": "at_least",
        "cycle": "monthly",
        "source": "manual",
        "sort_order": 900 + number,
    }
    defaults.update(fields)
    return KpiDefinition.objects.create(**defaults)


def make_kpi_value(
    definition: KpiDefinition | None = None,
    *,
    start: date | None = None,
    end: date | None = None,
    label: str = "",
    value: str | None = "93.5",
    target: str = "95",
    status: str = Status.RED,
    closed: bool = False,
) -> KpiValue:
    """``definition``'s overall value of the month holding ``start`` (this month by default)."""
    definition = definition or make_kpi_definition()
    start = start or timezone.localdate().replace(day=1)
    if end is None:
        following = date(start.year + start.month // 12, start.month % 12 + 1, 1)
        end = following - timedelta(days=1)
    return KpiValue.objects.create(
        definition=definition,
        period_start=start,
        period_end=end,
        period_label=label or start.strftime("%Y-%m"),
        element_kind=ElementKind.OVERALL,
        value=None if value is None else Decimal(value),
        target=Decimal(target),
        status=status,
        closed=closed,
        computed_at=timezone.now(),
    )
