"""``manage.py load_demo``: eighteen months of KPI history — every computed KPI has its closed
periods (twelve months or more, three half-years), the dashboard leads with one red and one
amber KPI, the running month's satisfaction falls day by day — and loading twice changes
nothing."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core.management import call_command
from django.db.models import Count, Q
from django.db.models.functions import TruncDate

from complaints.models import Complaint, ComplaintEvent
from itsm.core.models import Contact, Notification, User
from itsm.core.periods import Cycle
from kpi import selectors
from kpi.models import MANUAL, ElementKind, KpiDefinition, KpiForecast, KpiTarget, KpiValue, KpiValueRecord, Status
from kpi.registry import sources
from surveys.models import Answer, CallBack, Campaign, CampaignEvent, Invitation, SurveyResponse, Ticket

pytestmark = pytest.mark.django_db

DECEMBER = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)  # a Friday, 10:00 in Shanghai
JANUARY = datetime(2026, 1, 15, 2, 0, tzinfo=UTC)  # the history then starts in July 2024
COUNTED = (
    Ticket, CallBack, Complaint, ComplaintEvent, Campaign, CampaignEvent, Invitation, SurveyResponse, Answer,
    Contact, User, KpiTarget, KpiValue, KpiValueRecord, KpiForecast, Notification,
)  # fmt: skip
# Closed periods a KPI's cycle allows in eighteen months (a half-year's report falls due on the 15th after it).
CLOSED_AT_LEAST: dict[str, int] = {Cycle.MONTHLY: 12, Cycle.HALF_YEARLY: 3}
# SLA measurements are the catalogue demo's own: the twelve months before this one, the last still open.
MEASURED_MONTHS = {"sla_attainment": 11}


def _load(django_capture_on_commit_callbacks) -> str:
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo", stdout=out)
    return out.getvalue()


def _snapshot() -> dict:
    counts = {model.__name__: model._default_manager.count() for model in COUNTED}
    values = sorted(
        KpiValue.objects.values_list("pk", "period_label", "element_kind", "element_id", "value", "status", "closed")
    )
    stamps = sorted(KpiValue.objects.values_list("pk", "computed_at"))
    return {"counts": counts, "values": values, "stamps": stamps}


def _computed() -> list[KpiDefinition]:
    known = sources()
    return [
        d for d in KpiDefinition.objects.filter(is_active=True).exclude(source=MANUAL) if d.source in known
    ]  # fmt: skip


def _check_history(definitions: list[KpiDefinition]) -> None:
    assert {d.cycle for d in definitions} <= set(CLOSED_AT_LEAST)
    for definition in definitions:
        closed = KpiValue.objects.filter(
            definition=definition, element_kind=ElementKind.OVERALL, is_current=True, closed=True
        )
        wanted = CLOSED_AT_LEAST[definition.cycle]
        assert closed.count() >= wanted, definition.code
        with_data = closed.exclude(value__isnull=True).count()
        assert with_data >= MEASURED_MONTHS.get(definition.code, wanted), (definition.code, with_data)
        if definition.targets.exists():
            # Judged by a target in force then (the seeded ones hold from 2026; earlier ones are added).
            assert not closed.filter(target__isnull=True).exists(), definition.code
        # The running period is computed, not closed.
        assert KpiValue.objects.filter(
            definition=definition, element_kind=ElementKind.OVERALL, is_current=True, closed=False
        ).exists(), definition.code


@pytest.mark.parametrize("now", [DECEMBER, JANUARY], ids=["december", "january"])
def test_load_demo_gives_every_kpi_its_history_and_twice_changes_nothing(django_capture_on_commit_callbacks, now):
    with time_machine.travel(now, tick=False):
        out = _load(django_capture_on_commit_callbacks)
        assert "kpi history:" in out
        first = _snapshot()
        again = _load(django_capture_on_commit_callbacks)
        assert "0 rows created" in again
        assert _snapshot() == first
        _check_history(_computed())


def test_the_dashboard_leads_with_a_red_and_an_amber_kpi_and_the_running_month_falls(
    django_capture_on_commit_callbacks,
):
    with time_machine.travel(DECEMBER, tick=False):
        _load(django_capture_on_commit_callbacks)
        headlines = {card["definition"].code: card["current"] for card in selectors.dashboard()}
    statuses = {code: value.status for code, value in headlines.items() if value is not None}
    assert Status.RED in statuses.values() and Status.AMBER in statuses.values(), statuses
    # The complaint reply time is over two working days in the running half-year (2026-H2) and
    # was amber in the last closed one; call-back satisfaction has drifted down to amber.
    assert statuses["complaint_reply_time"] == Status.RED
    assert headlines["complaint_reply_time"].period_label == "2026-H2"
    reply = KpiDefinition.objects.get(code="complaint_reply_time")
    last_closed = reply.values.get(period_label="2026-H1", element_kind=ElementKind.OVERALL, is_current=True)
    assert last_closed.closed and last_closed.status == Status.AMBER
    assert statuses["incident_satisfaction"] == Status.AMBER
    assert headlines["incident_satisfaction"].period_label == "2026-12"
    satisfaction = KpiDefinition.objects.get(code="incident_satisfaction")
    october = satisfaction.values.get(period_label="2026-10", element_kind=ElementKind.OVERALL)
    assert october.closed and october.status == Status.AMBER
    earlier = satisfaction.values.filter(
        element_kind=ElementKind.OVERALL, closed=True, period_start__lt=date(2026, 9, 1)
    ).values_list("status", flat=True)
    assert set(earlier) == {Status.GREEN}
    # None of the others is off target. (The survey response rate of the running half-year
    # turns amber once the running campaign's invitations have gone out and the periodic check
    # has recomputed it: a third of them are unanswered yet.)
    flagged = ("complaint_reply_time", "incident_satisfaction")
    others = {code: status for code, status in statuses.items() if code not in flagged}
    assert Status.RED not in others.values(), others
    closed_latest = {
        d.code: d.values.filter(element_kind=ElementKind.OVERALL, closed=True).order_by("-period_start")[0].status
        for d in _computed()
        if d.code not in (*flagged, "sla_attainment")  # the SLA demo's October has its breaches
    }
    assert set(closed_latest.values()) == {Status.GREEN}, closed_latest

    # December so far: every call-back of the 1st happy, fewer on each working day after.
    days = (
        CallBack.objects.filter(answered_at__gte=datetime(2026, 11, 30, 16, tzinfo=UTC))
        .annotate(day=TruncDate("answered_at"))
        .values("day")
        .annotate(n=Count("pk"), happy=Count("pk", filter=Q(satisfied=True)))
        .order_by("day")
    )
    share = {row["day"]: row["happy"] / row["n"] for row in days}
    assert share[date(2026, 12, 1)] > share[date(2026, 12, 2)] > share[date(2026, 12, 3)]


def test_closed_values_keep_the_records_behind_them(django_capture_on_commit_callbacks):
    with time_machine.travel(DECEMBER, tick=False):
        _load(django_capture_on_commit_callbacks)
    satisfaction = KpiDefinition.objects.get(code="incident_satisfaction")
    closed = satisfaction.values.filter(element_kind=ElementKind.OVERALL, closed=True, value__isnull=False)
    for value in closed.annotate(records_count=Count("records")):
        assert value.records_count == value.denominator > 0, value.period_label
    # Broken down by engineer: the one most recent unhappy answers are about is the lowest in November.
    november = satisfaction.values.filter(period_label="2026-11", element_kind=ElementKind.TECHNICIAN)
    lowest = min(november, key=lambda value: value.value)
    assert lowest.element_label == str(User.objects.get(username="eng-song"))
