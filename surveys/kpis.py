"""The KPI sources of satisfaction (``kpi.registry``): incident handling satisfaction and
call-backs within 24 hours from ticket call-backs, customer service satisfaction and the
survey response rate from campaigns (reference 000 §7, 002 §二), and for the scorecards
(004 第八条) the technician's three average call-back ratings and the share of faults fixed,
each for a period and a breakdown in one grouped query.

Which records count for a period (the calendar's local days, ``Period.bounds``): a call-back's
satisfaction when it was *answered* in the period; a call-back's promptness when its ticket was
*resolved* in it; a rating answer when its response was *submitted* in it; an invitation when
its campaign *closes* in it (a campaign's response rate is one figure, reported in the period
its survey round ends, never split between two).

Not here: "tickets closed within 2 working days of resolution" (002 §二.7). A ticket records
when it was resolved, not when the service desk closed it in the ITSM system, so there is
nothing to measure that from.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from itsm.core.periods import Period
from kpi.registry import Figures, grouped, in_period, kpi_source, scope

from .choices import InvitationStatus, QuestionKind
from .models import Answer, CallBack, Invitation, Ticket
from .results import DELIVERED, SATISFIED_MIN
from .services.callbacks import CALLBACK_DUE

# A breakdown's column on a call-back. A ticket names no service, so call-backs have no
# service breakdown; the department is the requester's (a ticket does not keep its own).
CALLBACK_FIELDS = {
    "organisation": "ticket__organisation_id",
    "department": "ticket__requester__department_id",
    "technician": "ticket__technician_id",
}
# A breakdown's column on an invitation or an answer: the contact's organisation and
# department at launch, kept on the row.
CAMPAIGN_FIELDS = {
    "organisation": "organisation_id",
    "department": "department_id",
}

# What the records behind a figure export with (the drill-down's CSV / XLSX).
CALLBACK_COLUMNS = [
    (_("Ticket"), "ticket.ticket_ref"),
    (_("Organisation"), "ticket.organisation.name"),
    (_("Requester"), "ticket.requester_name"),
    (_("Department"), "ticket.requester.department.name"),
    (_("Technician"), "ticket.technician_name"),
    (_("Resolved at"), "ticket.resolved_at"),
    (_("Call-back due"), "due_at"),
    (_("Answered at"), "answered_at"),
    (_("Method"), "method"),
    (_("Fault fixed"), "fixed"),
    (_("Service attitude"), "rating_attitude"),
    (_("Service speed"), "rating_speed"),
    (_("Service effect"), "rating_effect"),
    (_("Satisfied overall"), "satisfied"),
    (_("The customer complained"), "complaint_raised"),
    (_("Comment"), "comment"),
]
INVITATION_COLUMNS = [
    (_("Campaign"), "campaign.title"),
    (_("Campaign closes at"), "campaign.closes_at"),
    (_("Organisation"), "organisation.name"),
    (_("Department"), "department.name"),
    (_("Contact"), "contact.name"),
    (_("Email"), "email"),
    (_("Status"), "status"),
    (_("Sent at"), "sent_at"),
    (_("Reminders sent"), "reminders_sent"),
    (_("Answered at"), "answered_at"),
    (_("Marked invalid at"), "bounced_at"),
]
ANSWER_COLUMNS = [
    (_("Campaign"), "campaign.title"),
    (_("Question"), "question"),
    (_("Organisation"), "organisation.name"),
    (_("Department"), "department.name"),
    (_("Submitted at"), "response.submitted_at"),
    (_("Rating"), "value"),
    (_("Comment"), "comment"),
]


# --- incident handling satisfaction (客户事件处理满意度) --------------------------------------


def _answered_callbacks(period: Period) -> QuerySet:
    # An answered call-back always carries ``satisfied`` (a check constraint).
    return CallBack.objects.filter(in_period("answered_at", period))


def _answered_callback_records(period: Period, kind: str, element_id: int) -> QuerySet:
    return scope(_answered_callbacks(period), CALLBACK_FIELDS, kind, element_id)


@kpi_source(
    "surveys.callback_satisfaction",
    label=_("Incident handling satisfaction"),
    model="surveys.callback",
    unit="percent",
    records=_answered_callback_records,
    breakdowns=CALLBACK_FIELDS,
    columns=CALLBACK_COLUMNS,
)
def callback_satisfaction(period: Period, kind: str) -> dict[int, Figures]:
    """Share of the call-backs answered in the period whose customer said they were satisfied
    overall: the call-back's yes / no ``satisfied`` answer (002 §二.2, "用户对报障处理效果是否满意").
    The three 1–5 ratings of the technician do not decide it. Numerator: call-backs answered
    satisfied; denominator: call-backs answered."""
    return grouped(
        _answered_callbacks(period),
        CALLBACK_FIELDS,
        kind,
        numerator=Count("pk", filter=Q(satisfied=True)),
        denominator=Count("pk"),
    )


# --- the technician's ratings and the fixed rate (the scorecards, 004 第八条) ------------------
#
# The three 1–5 ratings a call-back gives the ticket's technician — attitude (服务态度), speed
# (服务速度), effect (服务效果) — averaged: numerator the sum of the ratings, denominator how many
# were given, scale 1, unit "rating" (shown "4.3 / 5"). One source per rating, registered from
# one definition.


def _rated_callbacks(period: Period, rating: str) -> QuerySet:
    return _answered_callbacks(period).filter(**{f"{rating}__isnull": False})


def _register_rating(field: str, key: str, label: Promise, aspect: str) -> None:
    def records(period: Period, kind: str, element_id: int) -> QuerySet:
        return scope(_rated_callbacks(period, field), CALLBACK_FIELDS, kind, element_id)

    def compute(period: Period, kind: str) -> dict[int, Figures]:
        return grouped(
            _rated_callbacks(period, field), CALLBACK_FIELDS, kind, numerator=Sum(field), denominator=Count("pk")
        )

    compute.__doc__ = (
        f"The average 1–5 rating of the technician's {aspect} in the call-backs answered in the "
        "period. Numerator: the sum of the ratings; denominator: the call-backs that gave one."
    )
    kpi_source(
        key,
        label=label,
        model="surveys.callback",
        unit="rating",
        records=records,
        breakdowns=CALLBACK_FIELDS,
        scale=Decimal(1),
        columns=CALLBACK_COLUMNS,
    )(compute)


_register_rating(
    "rating_attitude",
    "surveys.callback_rating_attitude",
    _("Service attitude (average rating)"),
    "service attitude (服务态度)",
)
_register_rating(
    "rating_speed", "surveys.callback_rating_speed", _("Service speed (average rating)"), "service speed (服务速度)"
)
_register_rating(
    "rating_effect", "surveys.callback_rating_effect", _("Service effect (average rating)"), "service effect (服务效果)"
)


def _fix_answered(period: Period) -> QuerySet:
    return _answered_callbacks(period).filter(fixed__isnull=False)


def _fix_answered_records(period: Period, kind: str, element_id: int) -> QuerySet:
    return scope(_fix_answered(period), CALLBACK_FIELDS, kind, element_id)


@kpi_source(
    "surveys.callback_fixed_rate",
    label=_("Faults fixed (call-backs)"),
    model="surveys.callback",
    unit="percent",
    records=_fix_answered_records,
    breakdowns=CALLBACK_FIELDS,
    columns=CALLBACK_COLUMNS,
)
def callback_fixed_rate(period: Period, kind: str) -> dict[int, Figures]:
    """Share of the call-backs answered in the period in which the customer said the fault was
    fixed (问题解决率, "is the fault fixed?"). Numerator: call-backs answered "fixed"; denominator:
    call-backs answered (every answer says yes or no)."""
    return grouped(
        _fix_answered(period),
        CALLBACK_FIELDS,
        kind,
        numerator=Count("pk", filter=Q(fixed=True)),
        denominator=Count("pk"),
    )


def _complaining(period: Period) -> QuerySet:
    return _answered_callbacks(period).filter(complaint_raised=True)


def _complaining_records(period: Period, kind: str, element_id: int) -> QuerySet:
    return scope(_complaining(period), CALLBACK_FIELDS, kind, element_id)


@kpi_source(
    "surveys.callback_complaints",
    label=_("Complaints made at call-back"),
    model="surveys.callback",
    unit="count",
    records=_complaining_records,
    breakdowns=CALLBACK_FIELDS,
    scale=Decimal(1),
    columns=CALLBACK_COLUMNS,
)
def callback_complaints(period: Period, kind: str) -> dict[int, Figures]:
    """The call-backs answered in the period in which the customer complained about the ticket
    (``complaint_raised``): complaints against the ticket's technician. Numerator: the count;
    denominator 1, so the value is the count itself (none is 0, not "no data")."""
    figures = grouped(_complaining(period), CALLBACK_FIELDS, kind, numerator=Count("pk"), denominator=Count("pk"))
    return {key: Figures(f.numerator, Decimal(1)) for key, f in figures.items()}


# --- call-backs within 24 hours -----------------------------------------------------------


def _callbacks_due(period: Period) -> QuerySet:
    """Call-backs of the tickets resolved in the period, except those still unanswered whose
    24 hours have not run out yet: they are neither made nor missed so far."""
    undecided = Q(answered_at__isnull=True, ticket__resolved_at__gt=timezone.now() - CALLBACK_DUE)
    return CallBack.objects.filter(in_period("ticket__resolved_at", period)).exclude(undecided)


def _callbacks_due_records(period: Period, kind: str, element_id: int) -> QuerySet:
    return scope(_callbacks_due(period), CALLBACK_FIELDS, kind, element_id)


@kpi_source(
    "surveys.callback_within_24h",
    label=_("Call-backs within 24 hours"),
    model="surveys.callback",
    unit="percent",
    records=_callbacks_due_records,
    breakdowns=CALLBACK_FIELDS,
    columns=CALLBACK_COLUMNS,
)
def callback_within_24h(period: Period, kind: str) -> dict[int, Figures]:
    """Share of the tickets resolved in the period (each needs a call-back) whose call-back was
    answered within 24 wall-clock hours of the resolution, nights and holidays included (the
    call-back's own due time, ``CALLBACK_DUE``). Numerator: call-backs answered at most 24 h
    after the ticket's resolution; denominator: the period's call-backs, answered or overdue
    (one still unanswered within its 24 hours is left out until it is made or missed)."""
    on_time = Q(answered_at__lte=F("ticket__resolved_at") + CALLBACK_DUE)
    return grouped(
        _callbacks_due(period),
        CALLBACK_FIELDS,
        kind,
        numerator=Count("pk", filter=on_time),
        denominator=Count("pk"),
    )


# --- tickets closed within 2 working days of resolution (reference 002 §二.7) ---------------

# A breakdown's column on a ticket.
TICKET_FIELDS = {
    "organisation": "organisation_id",
    "department": "requester__department_id",
    "technician": "technician_id",
}
TICKET_COLUMNS = [
    (_("Ticket"), "ticket_ref"),
    (_("Customer organisation"), "organisation.name"),
    (_("Requester"), "requester_name"),
    (_("Technician"), "technician_name"),
    (_("Resolved at"), "resolved_at"),
    (_("To be closed by"), "close_due_at"),
    (_("Closed at"), "closed_at"),
]


def _tickets_to_close(period: Period) -> QuerySet:
    """Tickets resolved in the period that carry a close deadline (ingested since the ITSM feed
    sends close times), except those still open before it: neither made nor missed so far."""
    undecided = Q(closed_at__isnull=True, close_due_at__gt=timezone.now())
    return Ticket.objects.filter(in_period("resolved_at", period), close_due_at__isnull=False).exclude(undecided)


def _tickets_to_close_records(period: Period, kind: str, element_id: int) -> QuerySet:
    return scope(_tickets_to_close(period), TICKET_FIELDS, kind, element_id)


@kpi_source(
    "surveys.tickets_closed_in_2_working_days",
    label=_("Tickets closed within 2 working days"),
    model="surveys.ticket",
    unit="percent",
    records=_tickets_to_close_records,
    breakdowns=TICKET_FIELDS,
    columns=TICKET_COLUMNS,
)
def tickets_closed_in_2_working_days(period: Period, kind: str) -> dict[int, Figures]:
    """Share of the tickets resolved in the period that the ITSM system closed within 2 working
    days of the resolution (by the calendar, worked out at ingestion: ``close_due_at``).
    Numerator: closed by then; denominator: closed, or still open past it."""
    on_time = Q(closed_at__isnull=False, closed_at__lte=F("close_due_at"))
    return grouped(
        _tickets_to_close(period), TICKET_FIELDS, kind, numerator=Count("pk", filter=on_time), denominator=Count("pk")
    )


# --- customer service satisfaction (客户服务满意度) ------------------------------------------


def _rating_answers(period: Period) -> QuerySet:
    return Answer.objects.filter(
        in_period("response__submitted_at", period), question__kind=QuestionKind.RATING, value__isnull=False
    )


def _rating_answer_records(period: Period, kind: str, element_id: int) -> QuerySet:
    return scope(_rating_answers(period), CAMPAIGN_FIELDS, kind, element_id)


@kpi_source(
    "surveys.campaign_satisfaction",
    label=_("Customer service satisfaction"),
    model="surveys.answer",
    unit="percent",
    records=_rating_answer_records,
    breakdowns=CAMPAIGN_FIELDS,
    columns=ANSWER_COLUMNS,
)
def campaign_satisfaction(period: Period, kind: str) -> dict[int, Figures]:
    """Share of the answers to rating questions (1–5), in the survey responses submitted in the
    period, that are satisfied: 4 or 5 (``surveys.results.SATISFIED_MIN``, as on a campaign's
    results page). Numerator: rating answers of 4 or 5; denominator: rating answers. Every
    campaign kind counts; NPS, choice and text answers do not."""
    return grouped(
        _rating_answers(period),
        CAMPAIGN_FIELDS,
        kind,
        numerator=Count("pk", filter=Q(value__gte=SATISFIED_MIN)),
        denominator=Count("pk"),
    )


# --- survey response rate (客户满意度调查表反馈率) --------------------------------------------


def _delivered_invitations(period: Period) -> QuerySet:
    return Invitation.objects.filter(in_period("campaign__closes_at", period), status__in=DELIVERED)


def _delivered_invitation_records(period: Period, kind: str, element_id: int) -> QuerySet:
    return scope(_delivered_invitations(period), CAMPAIGN_FIELDS, kind, element_id)


@kpi_source(
    "surveys.response_rate",
    label=_("Satisfaction survey response rate"),
    model="surveys.invitation",
    unit="percent",
    records=_delivered_invitation_records,
    breakdowns=CAMPAIGN_FIELDS,
    columns=INVITATION_COLUMNS,
)
def response_rate(period: Period, kind: str) -> dict[int, Figures]:
    """Invitations answered over invitations delivered, for the campaigns whose close date
    (``closes_at``, the planned end of the survey round) falls in the period. Delivered: sent
    or answered; bounced addresses and invitations not sent yet are not in the denominator (as
    on a campaign's results page). Numerator: answered invitations; denominator: delivered
    ones."""
    return grouped(
        _delivered_invitations(period),
        CAMPAIGN_FIELDS,
        kind,
        numerator=Count("pk", filter=Q(status=InvitationStatus.ANSWERED)),
        denominator=Count("pk"),
    )
