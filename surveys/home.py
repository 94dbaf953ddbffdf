"""The satisfaction queues on the home page (registered with ``itsm.core.home``): call-backs
due, this week's visit reports, campaigns to approve or running."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from itsm.core import calendar as business_calendar
from itsm.core.home import HOME_ITEMS, PanelContent, PanelItem, register_panel
from itsm.core.roles import Role

from .choices import CampaignStatus
from .models import CallBack, Campaign, WeeklyReport
from .selectors import weekly_departments
from .services import weekly as weekly_services

R = Role


def _due_text(due: datetime, now: datetime) -> tuple[str, bool]:
    """ "due 15:30" / "overdue since 11-30 15:30", in the calendar's zone."""
    local = timezone.localtime(due)
    if due <= now:
        return _("overdue since %(when)s") % {"when": date_format(local, "m-d H:i")}, True
    same_day = local.date() == timezone.localtime(now).date()
    return _("due %(when)s") % {"when": date_format(local, "H:i" if same_day else "m-d H:i")}, False


def callbacks_due(user) -> PanelContent:
    """Unanswered call-backs due by the end of today, overdue ones first (oldest due first)."""
    now = timezone.now()
    tomorrow = timezone.localdate(now) + timedelta(days=1)
    end_of_today = datetime.combine(tomorrow, time.min, tzinfo=timezone.get_current_timezone())
    queryset = (
        CallBack.objects.visible_to(user)
        .filter(answered_at__isnull=True, due_at__lt=end_of_today)
        .select_related("ticket")
        .order_by("due_at", "pk")
    )
    items = []
    for callback in queryset[:HOME_ITEMS]:
        text, overdue = _due_text(callback.due_at, now)
        ticket = callback.ticket
        items.append(
            PanelItem(
                label=f"{ticket.ticket_ref} {ticket.requester_name}",
                url=callback.get_absolute_url(),
                detail=ticket.requester_phone or ticket.requester_email,
                due=callback.due_at,
                due_text=text,
                overdue=overdue or callback.due_at <= now,
            )
        )
    overdue_count = queryset.filter(due_at__lte=now).count()
    return PanelContent(
        count=queryset.count(),
        items=items,
        url=reverse("callback_list"),
        note=_("%(overdue)s of them overdue") % {"overdue": overdue_count} if overdue_count else "",
    )


def callbacks_overdue(user) -> PanelContent:
    now = timezone.now()
    queryset = (
        CallBack.objects.visible_to(user)
        .filter(answered_at__isnull=True, due_at__lte=now)
        .select_related("ticket")
        .order_by("due_at", "pk")
    )
    items = [
        PanelItem(
            label=f"{cb.ticket.ticket_ref} {cb.ticket.requester_name}",
            url=cb.get_absolute_url(),
            due=cb.due_at,
            due_text=_due_text(cb.due_at, now)[0],
            overdue=True,
        )
        for cb in queryset[:HOME_ITEMS]
    ]
    return PanelContent(count=queryset.count(), items=items, url=reverse("callback_list") + "?state=overdue")


def weekly_this_week(user) -> PanelContent:
    """The week being reported: each department visited weekly, with its report's state."""
    calendar = business_calendar.default_calendar()
    week = weekly_services.week_being_reported(calendar=calendar)
    due = weekly_services.weekly_report_due(week, calendar)
    departments = list(weekly_departments(user)[:50])
    reports = {
        report.department_id: report
        for report in WeeklyReport.objects.visible_to(user).filter(
            week_start=week, department__in=[d.pk for d in departments]
        )
    }
    now = timezone.now()
    labels = {
        weekly_services.ReportState.ON_TIME: _("submitted on time"),
        weekly_services.ReportState.LATE: _("submitted late"),
        weekly_services.ReportState.OPEN: _("not submitted yet"),
        weekly_services.ReportState.OVERDUE: _("overdue, not submitted"),
    }
    missing: list[PanelItem] = []
    filed: list[PanelItem] = []
    for department in departments:
        report = reports.get(department.pk)
        if report is None:
            missing.append(
                PanelItem(
                    label=str(department),
                    url=reverse("weekly_report_create") + f"?department={department.pk}&week={week:%Y-%m-%d}",
                    detail=_("no report yet"),
                    due=due,
                    due_text=_due_text(due, now)[0],
                    overdue=due <= now,
                )
            )
            continue
        state = weekly_services.weekly_report_state(report, due, now)
        filed.append(
            PanelItem(
                label=str(department),
                url=report.get_absolute_url(),
                detail=str(labels[state]),
                due=due,
                overdue=state == weekly_services.ReportState.OVERDUE,
            )
        )
    return PanelContent(
        count=len(missing),
        items=[*missing, *filed][:HOME_ITEMS],  # missing reports first: they are the work
        url=reverse("weekly_meeting") + f"?week={week:%Y-%m-%d}",
        note=_("Week of %(week)s: reports missing for the Monday meeting") % {"week": date_format(week, "Y-m-d")},
    )


def campaigns_awaiting_approval(user) -> PanelContent:
    queryset = (
        Campaign.objects.visible_to(user)
        .filter(status=CampaignStatus.IN_REVIEW)
        .select_related("owner")
        .order_by("submitted_at", "pk")
    )
    items = [
        PanelItem(label=c.title, url=c.get_absolute_url(), detail=str(c.owner), due=c.closes_at)
        for c in queryset[:HOME_ITEMS]
    ]
    return PanelContent(count=queryset.count(), items=items, url=reverse("campaign_list") + "?status=in_review")


def running_campaigns(user) -> PanelContent:
    from .views.campaigns import response_rate, with_invitation_counts

    queryset = with_invitation_counts(Campaign.objects.visible_to(user).filter(status=CampaignStatus.RUNNING)).order_by(
        "closes_at", "pk"
    )
    now = timezone.now()
    items = []
    for campaign in queryset[:HOME_ITEMS]:
        answered, delivered = campaign.answered, campaign.delivered  # type: ignore[attr-defined]  # annotated
        rate = response_rate(answered, delivered)
        items.append(
            PanelItem(
                label=campaign.title,
                url=campaign.get_absolute_url(),
                detail=_("%(answered)s of %(delivered)s answered") % {"answered": answered, "delivered": delivered},
                due=campaign.closes_at,
                due_text=_("closes %(when)s") % {"when": date_format(timezone.localtime(campaign.closes_at), "m-d")},
                overdue=campaign.closes_at <= now,
                badge="—" if rate is None else f"{rate} %",
            )
        )
    return PanelContent(count=queryset.count(), items=items, url=reverse("campaign_list") + "?status=running")


register_panel(
    "surveys.callbacks_due",
    gettext_lazy("Call-backs due today and overdue"),
    roles=[R.SERVICE_DESK],
    permission="surveys.view_callback",
    build=callbacks_due,
    empty=gettext_lazy("No call-back is due today."),
    order=20,
)
register_panel(
    "surveys.weekly",
    gettext_lazy("This week's visit reports"),
    roles=[R.SERVICE_DESK],
    permission="surveys.view_weeklyreport",
    build=weekly_this_week,
    empty=gettext_lazy("No department is marked for weekly visits."),
    order=21,
)
register_panel(
    "surveys.campaigns_to_approve",
    gettext_lazy("Survey campaigns awaiting approval"),
    roles=[R.BR_MANAGER],
    permission="surveys.view_campaign",
    build=campaigns_awaiting_approval,
    empty=gettext_lazy("No campaign is waiting for approval."),
    order=30,
)
register_panel(
    "surveys.running_campaigns",
    gettext_lazy("Running survey campaigns"),
    roles=[R.SATISFACTION_OWNER, R.QUALITY_MANAGER],
    permission="surveys.view_campaign",
    build=running_campaigns,
    empty=gettext_lazy("No campaign is running."),
    order=32,
)
register_panel(
    "surveys.callbacks_overdue",
    gettext_lazy("Overdue call-backs"),
    roles=[R.PROCESS_OWNER],
    permission="surveys.view_callback",
    build=callbacks_overdue,
    empty=gettext_lazy("No call-back is overdue."),
    order=33,
)
