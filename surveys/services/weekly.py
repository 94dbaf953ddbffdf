"""Every write of weekly visit reports (周调查报告), and the Friday reminder.

Each service runs in one transaction under ``set_actor`` (audit trail), validates before it
writes (``ValidationError``; nothing is written) and checks the actor's model permission
(``PermissionDenied``). A report is due before the Monday meeting: 09:00 Asia/Shanghai on the
Monday after its week, or the next working day's 09:00 when that Monday is a holiday.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from itsm.core import calendar as business_calendar
from itsm.core.audit import set_actor
from itsm.core.models import Calendar, Department, Notification, User
from itsm.core.notifications import Recipient, notification_queue
from itsm.core.permissions import can

from ..choices import WeeklyItemKind
from ..models import WeeklyReport, WeeklyReportItem

MEETING_ZONE = ZoneInfo("Asia/Shanghai")
MEETING_TIME = time(9, 0)
# How far back the "weeks open" count looks (a matter open for a year is shown as such).
WEEKS_OPEN_HORIZON = 52


def week_monday(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def weekly_report_due(week_start: date, calendar: Calendar | None = None) -> datetime:
    """When the report of ``week_start``'s week is due: the next Monday meeting, 09:00 Shanghai.

    A Monday that is not a working day (holiday) moves the meeting to the next working day of
    ``calendar`` (the default calendar when None).
    """
    meeting_day = business_calendar.working_day_on_or_after(week_start + timedelta(days=7), calendar)
    return datetime.combine(meeting_day, MEETING_TIME, tzinfo=MEETING_ZONE)


def week_being_reported(now: datetime | None = None, calendar: Calendar | None = None) -> date:
    """The week whose report is worked on now: the current week, except before its Monday
    meeting, when last week's report is still due (the default of a new report)."""
    now = now or timezone.now()
    today = timezone.localtime(now, MEETING_ZONE).date()
    last_week = week_monday(today) - timedelta(days=7)
    return last_week if now < weekly_report_due(last_week, calendar) else week_monday(today)


class ReportState:
    """One state per report, never two at once (the list showed "not submitted" and "late"
    side by side): submitted on time, submitted late, open, or overdue (open past the meeting)."""

    ON_TIME = "on_time"
    LATE = "late"
    OPEN = "open"
    OVERDUE = "overdue"


def weekly_report_state(report: WeeklyReport, due: datetime, now: datetime | None = None) -> str:
    if report.submitted_at is not None:
        return ReportState.LATE if report.submitted_at > due else ReportState.ON_TIME
    return ReportState.OVERDUE if (now or timezone.now()) > due else ReportState.OPEN


def weekly_report_is_late(report: WeeklyReport, calendar: Calendar | None = None) -> bool:
    """Submitted after the due moment, or not submitted and the due moment has passed."""
    due = weekly_report_due(report.week_start, calendar)
    return (report.submitted_at or timezone.now()) > due


def weeks_open(items: list[WeeklyReportItem]) -> dict[int, int]:
    """For each item, in how many weekly reports its matter has appeared (1: raised this week;
    3: raised two reports ago and carried over twice). One query whatever the number of items."""
    departments = {item.report.department_id for item in items}
    if not departments:
        return {}
    latest = max(item.report.week_start for item in items)
    links = dict(
        WeeklyReportItem.objects.filter(
            report__department_id__in=departments,
            report__week_start__lte=latest,
            report__week_start__gt=latest - timedelta(weeks=WEEKS_OPEN_HORIZON),
            carried_from__isnull=False,
        ).values_list("pk", "carried_from_id")
    )
    result = {}
    for item in items:
        count, current = 1, links.get(item.pk) if item.carried_from_id else None
        while current is not None and count <= WEEKS_OPEN_HORIZON:
            count += 1
            current = links.get(current)
        result[item.pk] = count
    return result


def _require(actor: User, verb: str, model) -> None:
    if not can(actor, verb, model):
        raise PermissionDenied(_("Your role may not change weekly visit reports."))


def _carry_over(report: WeeklyReport) -> int:
    """Copy the open items of the department's previous report into ``report`` (once each)."""
    previous = (
        WeeklyReport.objects.filter(department_id=report.department_id, week_start__lt=report.week_start)
        .order_by("-week_start")
        .first()
    )
    if previous is None:
        return 0
    open_items = list(previous.items.filter(resolved=False).order_by("pk"))
    carried = [
        WeeklyReportItem(
            report=report,
            kind=WeeklyItemKind.FOLLOW_UP,
            text=item.text,
            owner_id=item.owner_id,
            carried_from=item,
        )
        for item in open_items
    ]
    # The unique constraint (report, carried_from) makes a second call a no-op per item.
    before = report.items.filter(carried_from__isnull=False).count()
    WeeklyReportItem.objects.bulk_create(carried, ignore_conflicts=True)
    return report.items.filter(carried_from__isnull=False).count() - before


def weekly_report_create(
    *, department: Department, week_start: date, recorder: User, recorded_at: datetime | None = None, actor: User
) -> WeeklyReport:
    """Open the department's report for the week starting ``week_start`` (a Monday).

    Carries every unresolved item of the department's previous report over as a follow-up
    item with the same owner. Raises ``ValidationError`` for a day that is not a Monday or a
    week that already has a report; ``PermissionDenied`` without ``add_weeklyreport``.
    """
    _require(actor, "add", WeeklyReport)
    if week_start.weekday() != 0:
        raise ValidationError({"week_start": _("The week must start on a Monday.")})
    report = WeeklyReport(
        department=department,
        week_start=week_start,
        recorder=recorder,
        recorded_at=recorded_at or timezone.now(),
    )
    if WeeklyReport.objects.filter(department=department, week_start=week_start).exists():
        raise ValidationError({"week_start": _("This department already has a report for that week.")})
    report.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with set_actor(actor), transaction.atomic():
            report.save()
            _carry_over(report)
    except IntegrityError as exc:  # a concurrent create of the same week won
        raise ValidationError({"week_start": _("This department already has a report for that week.")}) from exc
    return report


def weekly_report_carry_over(*, report: WeeklyReport, actor: User) -> int:
    """Carry the previous report's open items into ``report`` again; items already carried are
    skipped. Returns how many were added (0 the second time)."""
    _require(actor, "change", WeeklyReport)
    with set_actor(actor), transaction.atomic():
        return _carry_over(report)


def weekly_item_add(
    *,
    report: WeeklyReport,
    kind: str,
    text: str,
    owner: User | None = None,
    resolved: bool = False,
    user_confirmed: bool = False,
    actor: User,
) -> WeeklyReportItem:
    """Add one matter to ``report``. Raises ``ValidationError`` for an unknown kind or empty text."""
    _require(actor, "add", WeeklyReportItem)
    item = WeeklyReportItem(
        report=report, kind=kind, text=text, owner=owner, resolved=resolved, user_confirmed=user_confirmed
    )
    item.full_clean(exclude=["carried_from"])
    with set_actor(actor), transaction.atomic():
        item.save()
    return item


def weekly_item_update(
    *,
    weeklyreportitem: WeeklyReportItem,
    actor: User,
    kind: str | None = None,
    text: str | None = None,
    owner: User | None = None,
    resolved: bool | None = None,
    user_confirmed: bool | None = None,
) -> WeeklyReportItem:
    """Change an item's kind, text, owner, resolved or confirmed flag (``None``: unchanged, except
    ``owner`` which is always set)."""
    _require(actor, "change", WeeklyReportItem)
    item = weeklyreportitem
    for name, value in (("kind", kind), ("text", text), ("resolved", resolved), ("user_confirmed", user_confirmed)):
        if value is not None:
            setattr(item, name, value)
    item.owner = owner
    item.full_clean(exclude=["carried_from", "report"])
    with set_actor(actor), transaction.atomic():
        item.save()
    return item


def weekly_report_confirm(*, report: WeeklyReport, actor: User) -> WeeklyReport:
    """Record that the visited user confirmed the report."""
    _require(actor, "change", WeeklyReport)
    with set_actor(actor), transaction.atomic():
        report.user_confirmed = True
        report.save(update_fields=["user_confirmed", "updated_at"])
    return report


def weekly_report_submit(*, report: WeeklyReport, actor: User) -> WeeklyReport:
    """Submit the report (once; a second submit keeps the first moment). Whether it was late is
    ``weekly_report_is_late``."""
    _require(actor, "change", WeeklyReport)
    with set_actor(actor), transaction.atomic():
        now = timezone.now()
        WeeklyReport.objects.filter(pk=report.pk, submitted_at__isnull=True).update(submitted_at=now, updated_at=now)
        report.refresh_from_db(fields=["submitted_at", "updated_at"])
    return report


# --- the Friday reminder ------------------------------------------------------------------------


def weekly_reports_remind(now: datetime | None = None) -> int:
    """Mail the last recorder of every department that reported last week but has no submitted
    report for this week yet. Once per department and week (the notification key); returns how
    many reminders were queued now."""
    now = now or timezone.now()
    this_week = week_monday(timezone.localtime(now, MEETING_ZONE).date())
    last_week = this_week - timedelta(days=7)
    submitted_this_week = WeeklyReport.objects.filter(
        department_id=OuterRef("department_id"), week_start=this_week, submitted_at__isnull=False
    )
    due = (
        WeeklyReport.objects.filter(week_start=last_week)
        .annotate(done=Exists(submitted_this_week))
        .filter(done=False)
        .select_related("department__organisation", "recorder")
    )
    sent = 0
    for previous in due:
        recorder = previous.recorder
        if not recorder.email:
            continue
        key = f"weekly_report:{previous.department_id}:{this_week:%Y-%m-%d}:reminder"
        if Notification.objects.filter(key=key).exists():
            continue
        with transaction.atomic():
            notification_queue(
                key=key,
                template="surveys/email/weekly_reminder",
                recipient=Recipient.of(recorder),
                context={
                    "department": str(previous.department),
                    "week_start": this_week,
                    "due": weekly_report_due(this_week),
                    "url": f"{settings.SITE_URL}{reverse('weekly_report_list')}",
                },
            )
            WeeklyReport.objects.filter(department_id=previous.department_id, week_start=this_week).update(
                reminder_sent_at=now
            )
        sent += 1
    return sent
