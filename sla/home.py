"""The service-level queues on the home page (registered with ``itsm.core.home``): underpinning
gaps, monthly reports to approve, reviews due, agreements about to expire."""

from __future__ import annotations

from datetime import date, timedelta

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from itsm.core.home import HOME_ITEMS, PanelContent, PanelItem, register_panel
from itsm.core.roles import Role

from .choices import AgreementStatus, ReportStatus
from .models import Agreement, SlaReport
from .selectors import EXPIRING_WITHIN_DAYS
from .underpinning import UnderpinningStatus, checked_sla_targets, underpinning_report

R = Role
REVIEW_DUE_WITHIN_DAYS = 30


def _days_text(day: date, today: date) -> tuple[str, bool]:
    days = (day - today).days
    if days < 0:
        return _("overdue by %(days)s days") % {"days": -days}, True
    if days == 0:
        return _("due today"), False
    return _("in %(days)s days (%(day)s)") % {"days": days, "day": date_format(day, "Y-m-d")}, False


def underpinning_gaps(user) -> PanelContent:
    # The panel's permission (view targets) sees every target: no row-level scope to apply.
    targets = checked_sla_targets()
    rows = [row for row in underpinning_report(targets) if row.status != UnderpinningStatus.SUPPORTED]
    rows.sort(key=lambda row: row.status != UnderpinningStatus.WEAK)  # weak first: a promise at risk
    items = [
        PanelItem(
            label=f"{row.target.agreement.number} · {row.label}",
            url=reverse("agreement_underpinning", args=[row.target.agreement_id]),
            detail=row.gap,
            badge=row.status_label,
            overdue=row.status == UnderpinningStatus.WEAK,
        )
        for row in rows[:HOME_ITEMS]
    ]
    return PanelContent(count=len(rows), items=items, url=reverse("underpinning_list"))


def reports_to_approve(user) -> PanelContent:
    queryset = (
        SlaReport.objects.visible_to(user)
        .filter(status=ReportStatus.DRAFT)
        .select_related("agreement__counterparty")
        .order_by("period", "agreement__number", "pk")
    )
    items = [
        PanelItem(
            label=f"{report.agreement.number} · {date_format(report.period, 'Y-m')}",
            url=report.get_absolute_url(),
            detail=report.agreement.counterparty.name,
        )
        for report in queryset[:HOME_ITEMS]
    ]
    return PanelContent(count=queryset.count(), items=items, url=reverse("sla_report_list") + "?status=draft")


def _agreement_panel(queryset, day_field: str, url: str) -> PanelContent:
    today = timezone.localdate()
    items = []
    for agreement in queryset[:HOME_ITEMS]:
        day = getattr(agreement, day_field)
        text, overdue = _days_text(day, today)
        items.append(
            PanelItem(
                label=f"{agreement.number} {agreement.title}",
                url=agreement.get_absolute_url(),
                detail=agreement.counterparty.name,
                due=day,
                due_text=text,
                overdue=overdue,
            )
        )
    return PanelContent(count=queryset.count(), items=items, url=url)


def _active(user):
    return Agreement.objects.visible_to(user).filter(status=AgreementStatus.ACTIVE).select_related("counterparty")


def reviews_due(user) -> PanelContent:
    horizon = timezone.localdate() + timedelta(days=REVIEW_DUE_WITHIN_DAYS)
    queryset = _active(user).filter(next_review_on__lte=horizon).order_by("next_review_on", "pk")
    return _agreement_panel(queryset, "next_review_on", reverse("review_due_list"))


def reviews_overdue(user) -> PanelContent:
    queryset = _active(user).filter(next_review_on__lt=timezone.localdate()).order_by("next_review_on", "pk")
    return _agreement_panel(queryset, "next_review_on", reverse("review_due_list"))


def agreements_expiring(user) -> PanelContent:
    today = timezone.localdate()
    queryset = (
        _active(user)
        .filter(valid_to__gte=today, valid_to__lte=today + timedelta(days=EXPIRING_WITHIN_DAYS))
        .order_by("valid_to", "pk")
    )
    return _agreement_panel(queryset, "valid_to", reverse("agreement_list") + "?status=active")


register_panel(
    "sla.underpinning_gaps",
    gettext_lazy("SLA targets weakly or not underpinned"),
    roles=[R.SERVICE_LEVEL_MANAGER],
    permission="sla.view_serviceleveltarget",
    build=underpinning_gaps,
    empty=gettext_lazy("Every SLA target is underpinned."),
    order=40,
)
register_panel(
    "sla.reports_to_approve",
    gettext_lazy("Monthly SLA reports to approve"),
    roles=[R.SERVICE_LEVEL_MANAGER],
    permission="sla.view_slareport",
    build=reports_to_approve,
    empty=gettext_lazy("No report is waiting for approval."),
    order=41,
)
register_panel(
    "sla.reviews_due",
    format_lazy(gettext_lazy("Agreement reviews due within {days} days"), days=REVIEW_DUE_WITHIN_DAYS),
    roles=[R.SERVICE_LEVEL_MANAGER],
    permission="sla.view_agreementreview",
    build=reviews_due,
    empty=format_lazy(gettext_lazy("No review is due in the next {days} days."), days=REVIEW_DUE_WITHIN_DAYS),
    order=42,
)
register_panel(
    "sla.expiring",
    format_lazy(gettext_lazy("Agreements expiring within {days} days"), days=EXPIRING_WITHIN_DAYS),
    roles=[R.SERVICE_LEVEL_MANAGER],
    permission="sla.view_agreement",
    build=agreements_expiring,
    empty=format_lazy(gettext_lazy("No active agreement expires in the next {days} days."), days=EXPIRING_WITHIN_DAYS),
    order=43,
)
register_panel(
    "sla.reviews_overdue",
    gettext_lazy("Overdue agreement reviews"),
    roles=[R.PROCESS_OWNER],
    permission="sla.view_agreementreview",
    build=reviews_overdue,
    empty=gettext_lazy("No agreement review is overdue."),
    order=44,
)
