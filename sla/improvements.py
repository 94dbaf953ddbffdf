"""What service levels give the improvement register (``improvement.registry``): a monthly
measurement (a breach), a monthly SLA report and an agreement review are sources of
improvement items; a target breached in consecutive months (two by default,
``IMPROVEMENT_SLA_BREACH_MONTHS``) suggests one by itself."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from improvement.registry import ImprovementSource, Suggestion, intake_rule, register_source

from .models import AgreementReview, Measurement, SlaReport

# How many months back the intake looks for a run of breaches.
INTAKE_MONTHS = 6


def breach_months() -> int:
    return max(1, int(getattr(settings, "IMPROVEMENT_SLA_BREACH_MONTHS", 2)))


def _measurement_label(measurement: Measurement, part: object) -> str:
    target = measurement.target
    return f"{target.agreement.number} · {target} · {measurement.period:%Y-%m}"


def _measurement_url(measurement: Measurement, part: object) -> str:
    query = urlencode({"agreement": str(measurement.target.agreement_id), "month": f"{measurement.period:%Y-%m}"})
    return f"{reverse('measurement_list')}?{query}"


def _measurement_prefill(measurement: Measurement, part: object) -> dict:
    target = measurement.target
    return {
        "title": (
            _("%(agreement)s: %(target)s missed in %(month)s")
            % {"agreement": target.agreement.number, "target": target, "month": f"{measurement.period:%Y-%m}"}
        )[:200],
        "description": _("Actual %(actual)s against the target %(target)s.")
        % {"actual": measurement.actual, "target": format(target.value.normalize(), "f")},
        "priority": "high",
    }


MEASUREMENT = register_source(
    ImprovementSource(
        kind="sla_measurement",
        label=gettext_lazy("SLA measurement"),
        model="sla.measurement",
        describe=_measurement_label,
        url=_measurement_url,
        prefill=_measurement_prefill,
        queryset=lambda: Measurement.objects.select_related("target__agreement"),
    )
)
SLA_REPORT = register_source(
    ImprovementSource(
        kind="sla_report",
        label=gettext_lazy("Monthly SLA report"),
        model="sla.slareport",
        describe=lambda report, part: f"{report.agreement.number} {report.period:%Y-%m}",
        prefill=lambda report, part: {
            "title": (
                _("SLA report %(agreement)s %(month)s")
                % {"agreement": report.agreement.number, "month": f"{report.period:%Y-%m}"}
            )[:200],
            "description": report.summary,
        },
        queryset=lambda: SlaReport.objects.select_related("agreement"),
    )
)
AGREEMENT_REVIEW = register_source(
    ImprovementSource(
        kind="agreement_review",
        label=gettext_lazy("Agreement review"),
        model="sla.agreementreview",
        describe=lambda review, part: f"{review.agreement.number} {review.held_on:%Y-%m-%d}",
        url=lambda review, part: reverse("agreement_review_detail", args=[review.pk]),
        prefill=lambda review, part: {
            "title": (_("Review of %(agreement)s") % {"agreement": review.agreement.number})[:200],
            "description": review.findings,
        },
        queryset=lambda: AgreementReview.objects.select_related("agreement"),
    )
)


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


@intake_rule("sla.consecutive_breaches")
def consecutive_breaches() -> Iterator[Suggestion]:
    """A target breached in ``IMPROVEMENT_SLA_BREACH_MONTHS`` consecutive months suggests one
    item (per run of breaches) to the agreement's owner; the source is the run's latest month."""
    needed = breach_months()
    today = timezone.localdate()
    first = _month_index(today) - INTAKE_MONTHS - needed
    since = date(first // 12, first % 12 + 1, 1)
    breaches = (
        Measurement.objects.filter(met=False, period__gte=since)
        .select_related("target__agreement__owner")
        .order_by("target_id", "period")
    )
    by_target: dict[int, list[Measurement]] = defaultdict(list)
    for measurement in breaches:
        by_target[measurement.target_id].append(measurement)
    for runs in by_target.values():
        start = 0
        for index in range(1, len(runs) + 1):
            ended = index == len(runs) or _month_index(runs[index].period) != _month_index(runs[index - 1].period) + 1
            if not ended:
                continue
            run = runs[start:index]
            start = index
            if len(run) < needed:
                continue
            latest = run[needed - 1]
            target = latest.target
            yield Suggestion(
                # One per run of breaches: a run that goes on does not suggest again.
                key=f"sla-breach:{target.pk}:{run[0].period:%Y-%m}",
                kind="sla_measurement",
                source=latest,
                title=(
                    _("%(agreement)s: %(target)s breached %(months)s months running")
                    % {"agreement": target.agreement.number, "target": target, "months": needed}
                )[:200],
                description=_("Breached in %(months)s.")
                % {"months": ", ".join(f"{m.period:%Y-%m}" for m in run[:needed])},
                priority="high",
                owner=target.agreement.owner,
            )
