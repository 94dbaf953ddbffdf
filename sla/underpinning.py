"""The underpinning check: are the SLA's promises backed by the OLAs and UCs behind them?

An SLA target is linked (``ServiceLevelTarget.supported_by``) to the OLA / UC targets that
underpin it: same metric, same priority, a comparable unit (time with time, % with %).
``target_link_support`` / ``target_unlink_support`` are the only writes; each records an
``AgreementEvent`` on the SLA so its history shows who linked what.

**The comparison rule.** A supporting target *supports* an SLA target when, whatever moment a
case starts, the supporting promise is due no later than the SLA's. Every target counts time on
its own clock: 24×7 (no calendar, or an "always open" one) counts every minute; a business
calendar counts only its working hours (e.g. 09:00–18:00, 9 h a working day). A value becomes
*minutes on its own clock*: minutes × 1, hours × 60, working days × the calendar's working-day
length (``itsm.core.calendar.working_day_length``; 24 h on 24×7). Two ways to be sure:

1. **Clock test** — when the supporting clock runs whenever the SLA's clock runs (it is 24×7,
   or both are business calendars of the same country, subdivision and time zone whose
   working hours span the SLA's), the supporting target is due first when its minutes are
   ≤ the SLA's minutes. 240 min and 4 h on the same clock are equal: supported. A 24×7 2 h
   target supports a 1-working-day target (2 elapsed hours hold at most 2 working hours).
2. **Elapsed test** — otherwise compare wall-clock time: the supporting target's *worst case*
   (the case arrives as its working day closes on a Friday: every working day it needs costs
   a whole day, and each five started working days cost a two-day weekend) must be ≤ the
   SLA's *best case* (the case arrives as the SLA's working day opens and runs without a
   break: its minutes, plus only the nights between the working days it needs). 1 working
   day on 09:00–18:00 can take 24 h + a weekend = 72 h, so it does not support a 24×7 2 h
   target — nor a 24×7 48 h one; it does support a 24×7 5-day target (120 h).

A supporting target passing either test supports the SLA target. Public holidays beyond the
weekend (a Golden Week) and per-calendar day overrides are not counted: the check finds
promises that cannot hold in a normal week, not every holiday risk. % targets (availability)
are supported when the underpinning % ≥ the SLA's %. Each linked target is checked on its
own; the check does not add up targets that work in sequence.

An SLA target is ``supported`` when every linked target of a live agreement (draft,
negotiating or active) supports it, ``weak`` when at least one does not (the weakest is
named with the gap: "UC-2026-003 resolves P1 in 4 h; SLA-2026-011 promises 2 h."), and
``missing`` when no linked target is live (targets of expired or terminated agreements
underpin nothing). ``underpinning_report`` reads any number of targets in two queries.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from itsm.core.audit import set_actor
from itsm.core.calendar import working_day_length
from itsm.core.models import User
from itsm.core.permissions import can

from .choices import TIME_UNITS, AgreementKind, AgreementStatus, Metric, TargetUnit
from .models import Agreement, AgreementEvent, ServiceLevelTarget

__all__ = [
    "ENDED_STATUSES",
    "LIVE_STATUSES",
    "Comparison",
    "UnderpinningRow",
    "UnderpinningStatus",
    "agreement_underpinning_summary",
    "compare_targets",
    "format_target_value",
    "supporting_candidates",
    "target_label",
    "target_link_support",
    "target_unlink_support",
    "underpinning_report",
]

DAY = Decimal(1440)  # minutes in a calendar day
WEEKEND_DAYS = 2
WORKING_DAYS_A_WEEK = 5
UNDERPINNING_KINDS = frozenset({AgreementKind.OLA, AgreementKind.UC})
# Agreements whose targets count: a draft or a negotiation is the promise being prepared.
LIVE_STATUSES = frozenset({AgreementStatus.DRAFT, AgreementStatus.NEGOTIATING, AgreementStatus.ACTIVE})
ENDED_STATUSES = frozenset({AgreementStatus.EXPIRED, AgreementStatus.TERMINATED})
# The SLAs whose promises the underpinning list checks.
CHECKED_STATUSES = frozenset({AgreementStatus.NEGOTIATING, AgreementStatus.ACTIVE})


class UnderpinningStatus(models.TextChoices):
    SUPPORTED = "supported", gettext_lazy("Supported")
    WEAK = "weak", gettext_lazy("Weakly supported")
    MISSING = "missing", gettext_lazy("Not underpinned")


STATUS_COLOURS = {
    UnderpinningStatus.SUPPORTED: "success",
    UnderpinningStatus.WEAK: "warning",
    UnderpinningStatus.MISSING: "danger",
}


# --- clocks and conversions --------------------------------------------------------------------


@dataclass(frozen=True)
class _Clock:
    """How a target counts time: around the clock, or a business calendar's working hours."""

    always_open: bool
    day_minutes: Decimal
    calendar_pk: int | None = None
    start: object = None
    end: object = None
    place: tuple[str, str, str] = ("", "", "")

    def covers(self, other: _Clock) -> bool:
        """Whether this clock runs whenever ``other`` runs (so it never falls behind it)."""
        if self.always_open:
            return True
        if other.always_open:
            return False
        if self.calendar_pk is not None and self.calendar_pk == other.calendar_pk:
            return True
        return self.place == other.place and self.start <= other.start and self.end >= other.end  # type: ignore[operator]


def _clock(target: ServiceLevelTarget) -> _Clock:
    calendar = target.calendar
    if calendar is None or calendar.always_open:
        return _Clock(always_open=True, day_minutes=DAY)
    length = Decimal(int(working_day_length(calendar).total_seconds())) / 60
    return _Clock(
        always_open=False,
        day_minutes=length,
        calendar_pk=calendar.pk,
        start=calendar.work_start,
        end=calendar.work_end,
        place=(calendar.country, calendar.subdivision, calendar.time_zone),
    )


def clock_minutes(target: ServiceLevelTarget) -> Decimal:
    """The target's value in minutes on its own clock (working minutes on a business calendar)."""
    if target.unit == TargetUnit.MINUTES:
        return target.value
    if target.unit == TargetUnit.HOURS:
        return target.value * 60
    if target.unit == TargetUnit.WORKING_DAYS:
        return target.value * _clock(target).day_minutes
    raise ValueError(f"{target.unit} is not a time unit")


def _days_needed(minutes: Decimal, clock: _Clock) -> int:
    return math.ceil(minutes / clock.day_minutes) if minutes > 0 else 0


def best_case_elapsed(target: ServiceLevelTarget) -> Decimal:
    """The shortest wall-clock time the target may take, in minutes: it starts as a working day
    opens and runs on, paused only by the nights between the working days it needs."""
    clock, minutes = _clock(target), clock_minutes(target)
    if clock.always_open or minutes <= 0:
        return minutes
    return minutes + (_days_needed(minutes, clock) - 1) * (DAY - clock.day_minutes)


def worst_case_elapsed(target: ServiceLevelTarget) -> Decimal:
    """The longest wall-clock time the target may take in a normal week, in minutes: it starts
    as the working day closes before a weekend; every working day it needs costs a whole day
    and each five started working days a two-day weekend (public holidays not counted)."""
    clock, minutes = _clock(target), clock_minutes(target)
    if clock.always_open or minutes <= 0:
        return minutes
    days = _days_needed(minutes, clock)
    weekends = math.ceil(days / WORKING_DAYS_A_WEEK)
    return minutes + days * (DAY - clock.day_minutes) + weekends * WEEKEND_DAYS * DAY


def _is_time(target: ServiceLevelTarget) -> bool:
    return target.unit in TIME_UNITS


def _comparable(first: ServiceLevelTarget, second: ServiceLevelTarget) -> bool:
    return _is_time(first) == _is_time(second)


# --- comparing one pair ------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """One linked target measured against the SLA target it underpins.

    ``basis``: ``clock`` (minutes on clocks where the supporting one never falls behind),
    ``elapsed`` (worst-case wall-clock minutes vs the SLA's best case), ``percent`` or
    ``incomparable`` (time against %). ``support_measure`` / ``sla_measure`` are the two
    numbers compared (minutes or %); ``weakness`` orders targets (higher is weaker; > 1 means
    not supported for time). ``live``: the supporting agreement has not ended.
    """

    supporting: ServiceLevelTarget
    supported: bool
    basis: str
    support_measure: Decimal
    sla_measure: Decimal
    weakness: float
    live: bool


def _ratio(part: Decimal, whole: Decimal) -> float:
    if whole > 0:
        return float(part / whole)
    return 0.0 if part <= 0 else math.inf


def compare_targets(sla_target: ServiceLevelTarget, supporting: ServiceLevelTarget) -> Comparison:
    """Whether ``supporting`` supports ``sla_target`` under the module's rule (no query when
    both targets come with their agreement and calendar loaded)."""
    live = supporting.agreement.status not in ENDED_STATUSES
    if not _comparable(sla_target, supporting):
        return Comparison(supporting, False, "incomparable", supporting.value, sla_target.value, math.inf, live)
    if not _is_time(sla_target):
        # Higher is better: compare the unavailability each allows (0.1 % against 0.5 %).
        supported = supporting.value >= sla_target.value
        weakness = _ratio(100 - supporting.value, 100 - sla_target.value)
        return Comparison(supporting, supported, "percent", supporting.value, sla_target.value, weakness, live)
    tests = []
    if _clock(supporting).covers(_clock(sla_target)):
        tests.append(("clock", clock_minutes(supporting), clock_minutes(sla_target)))
    tests.append(("elapsed", worst_case_elapsed(supporting), best_case_elapsed(sla_target)))
    passing = [test for test in tests if test[1] <= test[2]]
    basis, support_measure, sla_measure = (passing or tests)[0]
    return Comparison(
        supporting,
        bool(passing),
        basis,
        support_measure,
        sla_measure,
        _ratio(support_measure, sla_measure),
        live,
    )


# --- wording -----------------------------------------------------------------------------------


def _number(value: Decimal | float) -> str:
    text = format(Decimal(str(value)).quantize(Decimal("0.01")).normalize(), "f")
    return "0" if text in ("-0", "") else text


def _hours(minutes: Decimal) -> str:
    return _("%(hours)s h") % {"hours": _number((minutes / 60).quantize(Decimal("0.1")))}


def format_target_value(target: ServiceLevelTarget) -> str:
    """The value as people say it: 2 h, 30 min, 5 working days, 99.9 %."""
    number = _number(target.value)
    if target.unit == TargetUnit.MINUTES:
        return _("%(value)s min") % {"value": number}
    if target.unit == TargetUnit.HOURS:
        return _("%(value)s h") % {"value": number}
    if target.unit == TargetUnit.WORKING_DAYS:
        count = int(target.value) if target.value == target.value.to_integral_value() else 2
        if _clock(target).always_open:
            # On a 24×7 clock every day is a working day of 24 h: say so, not "working days".
            return ngettext("%(value)s day (24 h)", "%(value)s days (24 h each)", count) % {"value": number}
        return ngettext("%(value)s working day", "%(value)s working days", count) % {"value": number}
    return _("%(value)s %%") % {"value": number}


def target_label(target: ServiceLevelTarget) -> str:
    """Priority, what is measured and the value as people say it: "P1 Resolution time 2 h"."""
    parts = [target.priority, target.name or str(target.get_metric_display()), format_target_value(target)]
    return " ".join(part for part in parts if part)


def _clock_label(target: ServiceLevelTarget) -> str:
    if _clock(target).always_open:
        return _("24×7")
    return str(target.calendar)


def _value_with_clock(target: ServiceLevelTarget, with_clock: bool) -> str:
    value = format_target_value(target)
    if with_clock and _is_time(target):
        return _("%(value)s (%(clock)s)") % {"value": value, "clock": _clock_label(target)}
    return value


def _priority_label(target: ServiceLevelTarget) -> str:
    return target.priority or _("every priority")


def gap_message(sla_target: ServiceLevelTarget, comparison: Comparison) -> str:
    """What falls short, e.g. "UC-2026-003 resolves P1 in 4 h; SLA-2026-011 promises 2 h."."""
    supporting = comparison.supporting
    if comparison.basis == "incomparable":
        return _("%(support)s measures %(support_value)s; %(sla)s promises %(sla_value)s: they cannot be compared.") % {
            "support": supporting.agreement.number,
            "support_value": format_target_value(supporting),
            "sla": sla_target.agreement.number,
            "sla_value": format_target_value(sla_target),
        }
    same_clock = _clock(supporting) == _clock(sla_target)
    support_value = _value_with_clock(supporting, not same_clock)
    if comparison.basis == "elapsed" and not _clock(supporting).always_open:
        support_value = _("%(value)s, up to %(elapsed)s elapsed") % {
            "value": support_value,
            "elapsed": _hours(comparison.support_measure),
        }
    values = {
        "support": supporting.agreement.number,
        "support_value": support_value,
        "sla": sla_target.agreement.number,
        "sla_value": _value_with_clock(sla_target, not same_clock),
        "priority": _priority_label(sla_target),
        "measure": sla_target.name or sla_target.get_metric_display(),
    }
    if sla_target.metric == Metric.RESOLUTION:
        return _("%(support)s resolves %(priority)s in %(support_value)s; %(sla)s promises %(sla_value)s.") % values
    if sla_target.metric == Metric.RESPONSE:
        return _("%(support)s responds to %(priority)s in %(support_value)s; %(sla)s promises %(sla_value)s.") % values
    if sla_target.metric == Metric.AVAILABILITY:
        return _("%(support)s guarantees %(support_value)s availability; %(sla)s promises %(sla_value)s.") % values
    return _("%(support)s promises %(support_value)s for %(measure)s; %(sla)s promises %(sla_value)s.") % values


# --- the report --------------------------------------------------------------------------------


@dataclass
class UnderpinningRow:
    """One SLA target: its status, every linked target compared (weakest first), the weakest
    one and, unless supported, the gap in words."""

    target: ServiceLevelTarget
    status: str
    comparisons: list[Comparison] = field(default_factory=list)
    weakest: ServiceLevelTarget | None = None
    gap: str = ""

    @property
    def status_label(self) -> str:
        return str(UnderpinningStatus(self.status).label)

    @property
    def colour(self) -> str:
        return STATUS_COLOURS[UnderpinningStatus(self.status)]

    @property
    def label(self) -> str:
        return target_label(self.target)

    @property
    def weakest_label(self) -> str:
        return f"{self.weakest.agreement.number} · {target_label(self.weakest)}" if self.weakest else ""

    @property
    def ended(self) -> list[Comparison]:
        return [comparison for comparison in self.comparisons if not comparison.live]


def _weakest_first(comparison: Comparison) -> tuple:
    return (not comparison.live, comparison.supported, -comparison.weakness, comparison.supporting.pk)


def underpinning_row(target: ServiceLevelTarget, supporting: Iterable[ServiceLevelTarget]) -> UnderpinningRow:
    """The row of ``target`` given its linked targets (agreements and calendars loaded)."""
    comparisons = sorted((compare_targets(target, other) for other in supporting), key=_weakest_first)
    live = [comparison for comparison in comparisons if comparison.live]
    if not live:
        ended = [comparison.supporting.agreement.number for comparison in comparisons]
        if ended:
            gap = _("Its underpinning agreements have ended (%(numbers)s); no OLA or UC underpins it now.") % {
                "numbers": ", ".join(ended)
            }
        else:
            gap = _("No OLA or UC underpins this target.")
        return UnderpinningRow(target, UnderpinningStatus.MISSING, comparisons, None, gap)
    weakest = live[0]
    if weakest.supported:
        return UnderpinningRow(target, UnderpinningStatus.SUPPORTED, comparisons, weakest.supporting, "")
    return UnderpinningRow(
        target, UnderpinningStatus.WEAK, comparisons, weakest.supporting, gap_message(target, weakest)
    )


def _with_links(queryset: QuerySet[ServiceLevelTarget]) -> QuerySet[ServiceLevelTarget]:
    linked = ServiceLevelTarget.objects.select_related("agreement", "calendar").order_by("agreement__number", "pk")
    return queryset.select_related("agreement", "calendar").prefetch_related(
        Prefetch("supported_by", queryset=linked, to_attr="linked_targets")
    )


def checked_sla_targets() -> QuerySet[ServiceLevelTarget]:
    """The SLA targets the underpinning list checks: those of negotiating and active SLAs."""
    return ServiceLevelTarget.objects.filter(
        agreement__kind=AgreementKind.SLA, agreement__status__in=CHECKED_STATUSES
    ).order_by("agreement__number", "priority", "metric", "pk")


def underpinning_report(
    targets: QuerySet[ServiceLevelTarget] | None = None, *, agreement: Agreement | None = None
) -> list[UnderpinningRow]:
    """One row per SLA target of ``targets`` (default: those of negotiating and active SLAs),
    or of ``agreement``; targets of OLAs and UCs are left out. Two queries whatever the count."""
    if targets is None:
        targets = (
            ServiceLevelTarget.objects.filter(agreement=agreement).order_by("priority", "metric", "pk")
            if agreement is not None
            else checked_sla_targets()
        )
    elif agreement is not None:
        targets = targets.filter(agreement=agreement)
    targets = _with_links(targets.filter(agreement__kind=AgreementKind.SLA))
    return [underpinning_row(target, target.linked_targets) for target in targets]  # type: ignore[attr-defined]


def agreement_underpinning_summary(agreement: Agreement) -> dict[str, int]:
    """``{"missing": n, "weak": n}`` for ``agreement``'s warning badge (zeros for an OLA or UC)."""
    summary = {UnderpinningStatus.MISSING.value: 0, UnderpinningStatus.WEAK.value: 0}
    if agreement.kind != AgreementKind.SLA:
        return summary
    for row in underpinning_report(agreement=agreement):
        if row.status in summary:
            summary[row.status] += 1
    return summary


def supporting_candidates(sla_targets: Iterable[ServiceLevelTarget]) -> dict[int, list[ServiceLevelTarget]]:
    """For each SLA target (by pk), the OLA / UC targets of live agreements it may be linked to
    (same metric and priority, comparable unit), in one query."""
    sla_targets = list(sla_targets)
    keys = {(target.metric, target.priority) for target in sla_targets}
    if not keys:
        return {}
    pool = (
        ServiceLevelTarget.objects.filter(
            agreement__kind__in=UNDERPINNING_KINDS,
            agreement__status__in=LIVE_STATUSES,
            metric__in={metric for metric, _priority in keys},
        )
        .select_related("agreement", "calendar")
        .order_by("agreement__number", "pk")
    )
    by_key: dict[tuple[str, str], list[ServiceLevelTarget]] = {}
    for candidate in pool:
        by_key.setdefault((candidate.metric, candidate.priority), []).append(candidate)
    return {
        target.pk: [
            candidate
            for candidate in by_key.get((target.metric, target.priority), [])
            if _comparable(target, candidate)
        ]
        for target in sla_targets
    }


# --- writes ------------------------------------------------------------------------------------


def _require_change(actor: User) -> None:
    if not can(actor, "change", ServiceLevelTarget):
        raise PermissionDenied(_("Your role may not change service level targets."))


def _locked_sla_target(sla_target: ServiceLevelTarget) -> ServiceLevelTarget:
    locked = (
        ServiceLevelTarget.objects.select_for_update(of=("self",)).select_related("agreement").get(pk=sla_target.pk)
    )
    if locked.agreement.kind != AgreementKind.SLA:
        raise ValidationError(_("Only the targets of an SLA are underpinned by OLA and UC targets."))
    if locked.agreement.status in ENDED_STATUSES:
        raise ValidationError(
            _("%(number)s has ended; its underpinning no longer changes.") % {"number": locked.agreement.number}
        )
    return locked


def _support_errors(sla_target: ServiceLevelTarget, candidate: ServiceLevelTarget) -> list[str]:
    label = f"{candidate.agreement.number} {target_label(candidate)}"
    errors = []
    if candidate.agreement.kind not in UNDERPINNING_KINDS:
        errors.append(_("%(target)s: only OLA and UC targets can underpin an SLA target.") % {"target": label})
    if candidate.metric != sla_target.metric:
        errors.append(
            _("%(target)s measures %(metric)s; the SLA target measures %(sla_metric)s.")
            % {
                "target": label,
                "metric": candidate.get_metric_display(),
                "sla_metric": sla_target.get_metric_display(),
            }
        )
    if candidate.priority != sla_target.priority:
        errors.append(
            _("%(target)s is for priority %(priority)s; the SLA target is for %(sla_priority)s.")
            % {
                "target": label,
                "priority": candidate.priority or _("every priority"),
                "sla_priority": sla_target.priority or _("every priority"),
            }
        )
    if not _comparable(sla_target, candidate):
        errors.append(
            _("%(target)s is counted in %(unit)s; it cannot be compared with %(sla_unit)s.")
            % {"target": label, "unit": candidate.get_unit_display(), "sla_unit": sla_target.get_unit_display()}
        )
    if candidate.agreement.status in ENDED_STATUSES:
        errors.append(_("%(target)s: %(number)s has ended.") % {"target": label, "number": candidate.agreement.number})
    return errors


def target_link_support(
    *, sla_target: ServiceLevelTarget, supporting: list[ServiceLevelTarget], actor: User
) -> list[ServiceLevelTarget]:
    """Link ``supporting`` OLA / UC targets under ``sla_target``; return those newly linked
    (linking one already linked is a no-op), and record the change on the SLA's history.

    Raises ``PermissionDenied`` without ``sla.change_serviceleveltarget``; ``ValidationError``
    (nothing linked) when none is given, when ``sla_target`` is not an SLA's or its SLA has
    ended, or when any supporting target is not an OLA / UC target of the same metric and
    priority with a comparable unit on a live agreement — one message per problem.
    """
    _require_change(actor)
    if not supporting:
        raise ValidationError({"supporting": _("Choose at least one OLA or UC target.")})
    with transaction.atomic(), set_actor(actor):
        locked = _locked_sla_target(sla_target)
        candidates = list(
            ServiceLevelTarget.objects.select_related("agreement").filter(pk__in=[target.pk for target in supporting])
        )
        errors = [error for candidate in candidates for error in _support_errors(locked, candidate)]
        if errors:
            raise ValidationError({"supporting": errors})
        linked = set(locked.supported_by.values_list("pk", flat=True))
        new = [candidate for candidate in candidates if candidate.pk not in linked]
        if new:
            locked.supported_by.add(*new)
            _record(locked, "underpinning_linked", new, actor)
    return new


def target_unlink_support(
    *, sla_target: ServiceLevelTarget, supporting: list[ServiceLevelTarget], actor: User
) -> list[ServiceLevelTarget]:
    """Remove the links from ``sla_target`` to ``supporting``; return those actually unlinked
    (one not linked is ignored) and record the change on the SLA's history.

    Raises ``PermissionDenied`` without ``sla.change_serviceleveltarget``; ``ValidationError``
    when ``sla_target`` is not an SLA's or its SLA has ended.
    """
    _require_change(actor)
    with transaction.atomic(), set_actor(actor):
        locked = _locked_sla_target(sla_target)
        gone = list(locked.supported_by.select_related("agreement").filter(pk__in=[target.pk for target in supporting]))
        if gone:
            locked.supported_by.remove(*gone)
            _record(locked, "underpinning_unlinked", gone, actor)
    return gone


def _record(sla_target: ServiceLevelTarget, action: str, targets: list[ServiceLevelTarget], actor: User) -> None:
    AgreementEvent.objects.create(
        agreement=sla_target.agreement,
        action=action,
        actor=actor,
        note=target_label(sla_target),
        data={
            "target": sla_target.pk,
            "supporting": [
                {"target": target.pk, "agreement": target.agreement.number, "label": target_label(target)}
                for target in targets
            ],
        },
    )
