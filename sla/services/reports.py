"""The monthly SLA report: drafted after month end, approved by the service level manager,
mailed to the customer's contacts.

A report holds its ``figures`` as JSON: per target of the agreement its metric, priority,
target value and unit, and the month's actual and whether it was met (both empty when the
month has no measurement), plus counts of met / breached / missing targets and the
attainment (met out of measured). While the report is a draft its figures can be recomputed
(``sla_report_draft`` again); approval freezes them — the month is closed from then on
(``month_closed``; the measurement service refuses changes to a closed month) and the report
reads the same forever, whatever happens to the measurements or targets later.

Every write runs in one transaction under ``set_actor`` (the audit trail names who did it;
``actor=None`` is the system, i.e. the periodic check). Mail is recorded once per report and
contact (``sla_report:<id>:contact:<id>``) and leaves after commit, so sending twice mails
nobody twice.
"""

from __future__ import annotations

import logging
from calendar import monthrange
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from itsm.core import calendar as business_calendar
from itsm.core.audit import set_actor
from itsm.core.models import Contact, Notification, User
from itsm.core.notifications import Recipient, notification_queue
from itsm.core.permissions import can

from ..choices import AgreementKind, AgreementStatus, Metric, Priority, ReportStatus, TargetUnit
from ..models import Agreement, Measurement, ServiceLevelTarget, SlaReport

logger = logging.getLogger(__name__)

# Statuses of an agreement that was (or still is) in force: a report can be made for it.
IN_FORCE_STATUSES = frozenset({AgreementStatus.ACTIVE, AgreementStatus.EXPIRED, AgreementStatus.TERMINATED})
CLOSED_STATUSES = frozenset({ReportStatus.APPROVED, ReportStatus.SENT})
FIGURES_VERSION = 1


# --- months ------------------------------------------------------------------------------------


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(period: date) -> date:
    return (period.replace(day=1) + timedelta(days=32)).replace(day=1)


def previous_month(period: date) -> date:
    return (period.replace(day=1) - timedelta(days=1)).replace(day=1)


def month_last_day(period: date) -> date:
    return period.replace(day=monthrange(period.year, period.month)[1])


def drafting_day(period: date) -> date:
    """The day ``period``'s reports are drafted: the first working day of the next month."""
    return business_calendar.working_day_on_or_after(next_month(period))


def month_closed(*, agreement_id: int, period: date) -> bool:
    """Whether ``period`` of the agreement is closed: its report is approved (or sent). The
    measurements of a closed month never change."""
    return SlaReport.objects.filter(
        agreement_id=agreement_id, period=month_start(period), status__in=CLOSED_STATUSES
    ).exists()


# --- figures -----------------------------------------------------------------------------------


def _number(value: Decimal | None) -> str | None:
    """A decimal as the figures store it: exact, no exponent, no trailing zeros."""
    if value is None:
        return None
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def compute_figures(agreement: Agreement, period: date) -> dict[str, Any]:
    """The figures of ``agreement`` for ``period`` from its targets and their measurements
    (two queries). Labels are not stored, only codes: the report reads in any language."""
    targets = list(ServiceLevelTarget.objects.filter(agreement=agreement).order_by("priority", "metric", "name", "pk"))
    measured = {m.target_id: m for m in Measurement.objects.filter(target__agreement=agreement, period=period)}
    rows = []
    met = breached = missing = 0
    for target in targets:
        measurement = measured.get(target.pk)
        if measurement is None:
            missing += 1
        elif measurement.met:
            met += 1
        else:
            breached += 1
        rows.append(
            {
                "target_id": target.pk,
                "metric": target.metric,
                "name": target.name,
                "priority": target.priority,
                "value": _number(target.value),
                "unit": target.unit,
                "actual": _number(measurement.actual) if measurement else None,
                "met": measurement.met if measurement else None,
                "sample_size": measurement.sample_size if measurement else None,
                "note": measurement.note if measurement else "",
            }
        )
    measured_count = met + breached
    attainment = _number((Decimal(met) * 100 / measured_count).quantize(Decimal("0.1"))) if measured_count else None
    return {
        "version": FIGURES_VERSION,
        "period": period.strftime("%Y-%m"),
        "agreement": {
            "number": agreement.number,
            "title": agreement.title,
            "counterparty": str(agreement.counterparty),
            "version": agreement.version,
        },
        "targets": rows,
        "counts": {"targets": len(rows), "met": met, "breached": breached, "missing": missing},
        "attainment": attainment,
    }


def _same_figures(one: dict[str, Any], other: dict[str, Any]) -> bool:
    keys = ("targets", "counts", "attainment")
    return all(one.get(key) == other.get(key) for key in keys)


def figures_out_of_date(report: SlaReport) -> bool:
    """Whether a draft's figures differ from what the measurements and targets say now (two
    queries). An approved report is never out of date: its figures are final."""
    if report.status != ReportStatus.DRAFT:
        return False
    return not _same_figures(report.figures, compute_figures(report.agreement, report.period))


def _label(choices: Any, code: str | None) -> Any:
    if not code:
        return ""
    try:
        return choices(code).label
    except ValueError:
        return code  # a code no longer offered: shown as stored


def figure_rows(figures: dict[str, Any]) -> list[dict[str, Any]]:
    """The target rows of ``figures`` with (lazily translated) labels for pages and mail:
    ``metric_label``, ``priority_label``, ``unit_label``, ``state`` ("met", "breached",
    "missing")."""
    rows = []
    for row in figures.get("targets", []):
        state = "missing" if row.get("met") is None else ("met" if row["met"] else "breached")
        rows.append(
            {
                **row,
                "metric_label": row.get("name") or _label(Metric, row.get("metric")),
                "priority_label": row.get("priority") or "",
                "priority_full": _label(Priority, row.get("priority")),
                "unit_label": _label(TargetUnit, row.get("unit")),
                "state": state,
            }
        )
    return rows


# --- checks ------------------------------------------------------------------------------------


def _require(actor: User | None, *verbs: str) -> None:
    if actor is not None and not all(can(actor, verb, SlaReport) for verb in verbs):
        raise PermissionDenied(_("Your role may not draft, approve or send SLA reports."))


def _check_reportable(agreement: Agreement, period: date, today: date) -> None:
    if agreement.kind != AgreementKind.SLA:
        raise ValidationError(
            _("Monthly reports are made for SLAs; %(number)s is an OLA or UC.") % {"number": agreement.number}
        )
    if agreement.status not in IN_FORCE_STATUSES:
        raise ValidationError(
            _("%(number)s has not been in force (it is %(status)s); there is nothing to report.")
            % {"number": agreement.number, "status": agreement.get_status_display()}
        )
    if period >= month_start(today):
        raise ValidationError(
            {"period": _("%(month)s has not ended yet; report on a past month.") % {"month": f"{period:%Y-%m}"}}
        )


# --- drafting ----------------------------------------------------------------------------------


def _draft(*, agreement: Agreement, period: date, actor: User | None, today: date) -> SlaReport:
    period = month_start(period)
    with transaction.atomic(), set_actor(actor):
        # The agreement's lock serialises drafts of its reports (two checks, or a check and a person).
        agreement = Agreement.objects.select_for_update().select_related("counterparty").get(pk=agreement.pk)
        _check_reportable(agreement, period, today)
        report = SlaReport.objects.select_for_update().filter(agreement=agreement, period=period).first()
        if report is not None and report.status != ReportStatus.DRAFT:
            raise ValidationError(
                _("The report of %(month)s is %(status)s; its figures are final.")
                % {"month": f"{period:%Y-%m}", "status": report.get_status_display()}
            )
        figures = compute_figures(agreement, period)
        figures["computed_at"] = timezone.now().isoformat()
        if report is None:
            report = SlaReport(agreement=agreement, period=period, status=ReportStatus.DRAFT)
        report.figures = figures
        report.full_clean()
        report.save()
    return report


def sla_report_draft(*, agreement: Agreement, period: date, actor: User | None = None) -> SlaReport:
    """Draft (or redraft) ``agreement``'s report for the month of ``period``; return it.

    The figures are computed from the agreement's targets and the month's measurements. A
    draft that exists is recomputed; there is only ever one report per agreement and month.
    ``actor=None`` is the system. Raises ``PermissionDenied`` when ``actor`` may not add SLA
    reports; ``ValidationError`` for an agreement that is not an SLA or was never in force, a
    month that has not ended, or a report already approved or sent (its figures are final).
    """
    _require(actor, "add", "change")
    try:
        return _draft(agreement=agreement, period=period, actor=actor, today=timezone.localdate())
    except IntegrityError:
        # Another transaction created the month's report first (the agreement was locked only
        # after it read nothing): redraft that one.
        return _draft(agreement=agreement, period=period, actor=actor, today=timezone.localdate())


def agreements_due_for_report(period: date) -> QuerySet[Agreement]:
    """SLAs in force at some point of ``period`` that have no report for it yet."""
    period = month_start(period)
    zone = timezone.get_current_timezone()
    start = datetime.combine(period, time.min, tzinfo=zone)
    end = datetime.combine(next_month(period), time.min, tzinfo=zone)
    has_report = SlaReport.objects.filter(agreement=OuterRef("pk"), period=period)
    return (
        Agreement.objects.filter(kind=AgreementKind.SLA)
        .filter(
            Q(status=AgreementStatus.ACTIVE)
            | Q(status__in=[AgreementStatus.EXPIRED, AgreementStatus.TERMINATED], ended_at__gte=start)
        )
        .filter(Q(activated_at__isnull=True) | Q(activated_at__lt=end))
        .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=month_last_day(period)))
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=period))
        .filter(~Exists(has_report))
        .order_by("pk")
    )


def sla_reports_draft_due(today: date | None = None) -> int:
    """From the first working day of a month on, draft last month's report of every SLA that
    was in force then and has none yet; return how many were drafted now.

    Idempotent: a month's report is created once (later runs find it and leave it alone,
    draft or not). Before the first working day nothing is drafted: the measurements of the
    last days of the month are still coming in. An agreement that cannot be reported (a
    refused draft) is logged and skipped; the others are still drafted.
    """
    today = today or timezone.localdate()
    period = previous_month(today)
    if today < drafting_day(period):
        return 0
    drafted = 0
    for agreement in agreements_due_for_report(period):
        try:
            _draft(agreement=agreement, period=period, actor=None, today=today)
        except (ValidationError, IntegrityError) as exc:
            logger.warning("SLA report of %s for %s not drafted: %s", agreement.number, period, exc)
            continue
        drafted += 1
    return drafted


# --- approval and sending ----------------------------------------------------------------------


def sla_report_approve(*, report: SlaReport, summary: str, actor: User) -> SlaReport:
    """Approve a draft report: its figures are frozen and its month closed; return it.

    The figures approved are the ones the draft shows: when the month's measurements or the
    agreement's targets changed since it was computed, nothing is approved and the draft must
    be recomputed and checked first. Raises ``PermissionDenied`` without
    ``sla.change_slareport`` (service level managers); ``ValidationError`` when the report is
    not a draft or its figures are out of date.
    """
    _require(actor, "change")
    with transaction.atomic(), set_actor(actor):
        report = SlaReport.objects.select_for_update().select_related("agreement__counterparty").get(pk=report.pk)
        if report.status != ReportStatus.DRAFT:
            raise ValidationError(
                _("Only a draft report can be approved; this one is %(status)s.")
                % {"status": report.get_status_display()}
            )
        if not _same_figures(report.figures, compute_figures(report.agreement, report.period)):
            raise ValidationError(
                _(
                    "The month's measurements or the agreement's targets changed since this draft was "
                    "computed. Recompute the draft, check the figures and approve again."
                )
            )
        report.summary = summary.strip()
        report.status = ReportStatus.APPROVED
        report.approved_by = actor
        report.approved_at = timezone.now()
        report.full_clean()
        report.save()
    return report


def report_contacts(report: SlaReport) -> QuerySet[Contact]:
    """Who receives the report: the customer's active contacts with an email address."""
    return (
        Contact.objects.filter(organisation_id=report.agreement.counterparty_id, is_active=True)
        .exclude(email="")
        .order_by("name", "pk")
    )


def report_mail_key(report: SlaReport, contact: Contact) -> str:
    return f"sla_report:{report.pk}:contact:{contact.pk}"


def report_mails(report: SlaReport) -> QuerySet[Notification]:
    """The mail recorded for ``report`` (one per contact), for its page."""
    return Notification.objects.filter(key__startswith=f"sla_report:{report.pk}:").order_by("created_at", "pk")


def sla_report_send(*, report: SlaReport, actor: User) -> int:
    """Mail an approved report to each active contact (with an email address) of the
    customer, in the contact's language; return how many mails were queued now.

    Once per report and contact: sending again mails only contacts added since (a sent report
    can be sent again for them). The mail carries the figures as a text table and the
    summary; it leaves after commit, within the contact's working hours. The report becomes
    ``sent``. Raises ``PermissionDenied`` without ``sla.change_slareport``; ``ValidationError``
    when the report is not approved yet or the customer has no contact to mail.
    """
    _require(actor, "change")
    with transaction.atomic(), set_actor(actor):
        report = SlaReport.objects.select_for_update().select_related("agreement__counterparty").get(pk=report.pk)
        if report.status not in CLOSED_STATUSES:
            raise ValidationError(_("Approve the report before sending it."))
        contacts = list(report_contacts(report))
        if not contacts:
            raise ValidationError(
                _("%(customer)s has no active contact with an email address; add one first.")
                % {"customer": report.agreement.counterparty}
            )
        keys = {contact.pk: report_mail_key(report, contact) for contact in contacts}
        already = set(Notification.objects.filter(key__in=keys.values()).values_list("key", flat=True))
        context = {
            "report": report,
            "agreement": report.agreement,
            "customer": report.agreement.counterparty,
            "figures": report.figures,
            "rows": figure_rows(report.figures),
            "counts": report.figures.get("counts", {}),
            "attainment": report.figures.get("attainment"),
        }
        queued = 0
        for contact in contacts:
            if keys[contact.pk] in already:
                continue
            notification_queue(
                key=keys[contact.pk],
                template="sla/email/report",
                recipient=Recipient.of(contact),
                context=context,
            )
            queued += 1
        if report.status != ReportStatus.SENT:
            report.status = ReportStatus.SENT
            report.sent_at = timezone.now()
            report.save(update_fields=["status", "sent_at", "updated_at"])
    return queued
