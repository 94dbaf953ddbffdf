"""The system's intake (periodic check ``improvement.intake``): a KPI period that closed red,
an SLA target breached in consecutive months, a survey question below the KPI target each
suggest one item — run twice, still one — for its owner to accept or dismiss."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from improvement.choices import ItemStatus
from improvement.models import ImprovementItem
from improvement.services.items import item_transition
from itsm.core.periodic import run_check
from itsm.core.roles import Role
from kpi.models import ElementKind, KpiDefinition, KpiValue
from surveys.choices import CampaignStatus
from tests.complaints.factories import role_user
from tests.sla.factories import MeasurementFactory, TargetFactory
from tests.surveys.factories import AnswerFactory, CampaignFactory, QuestionFactory, ResponseFactory

pytestmark = pytest.mark.django_db


def _months_ago(n: int) -> date:
    day = timezone.localdate().replace(day=1)
    for _ in range(n):
        day = (day - timedelta(days=1)).replace(day=1)
    return day


def _kpi_value(definition, status, *, element=ElementKind.OVERALL, closed=True, revision=1, current=True):
    start = _months_ago(1)
    return KpiValue.objects.create(
        definition=definition,
        period_start=start,
        period_end=_months_ago(0) - timedelta(days=1),
        period_label=f"{start:%Y-%m}",
        element_kind=element,
        element_id=0 if element == ElementKind.OVERALL else 7,
        value=Decimal("80"),
        target=Decimal("95"),
        status=status,
        closed=closed,
        revision=revision,
        is_current=current,
        computed_at=timezone.now(),
    )


def test_a_kpi_period_closed_red_suggests_one_item_to_the_kpis_owner_however_often_the_check_runs():
    owner = role_user(Role.PROCESS_OWNER)
    kpi = KpiDefinition.objects.get(code="incident_satisfaction")
    kpi.owner = owner
    kpi.save()
    red = _kpi_value(kpi, "red")
    _kpi_value(KpiDefinition.objects.get(code="service_satisfaction"), "amber")  # amber: nothing
    _kpi_value(KpiDefinition.objects.get(code="survey_response_rate"), "red", closed=False)  # still open
    run_check("improvement.intake")
    run_check("improvement.intake")
    item = ImprovementItem.objects.get()
    assert (item.status, item.source, item.owner, item.priority) == (ItemStatus.SUGGESTED, red, owner, "high")
    assert item.intake_key == f"kpi-red:{kpi.pk}:{red.period_start.isoformat()}"
    # A revision of the same period is the same miss; a dismissed suggestion stays dismissed.
    item_transition(item=item, action="dismiss", actor=owner, note="a known outage")
    KpiValue.objects.filter(pk=red.pk).update(is_current=False)
    _kpi_value(kpi, "red", revision=2)
    run_check("improvement.intake")
    assert ImprovementItem.objects.get().status == ItemStatus.DISMISSED


def test_an_sla_target_breached_two_months_running_suggests_one_item_per_run(settings):
    target = TargetFactory()
    MeasurementFactory(target=target, period=_months_ago(4), met=False)  # a single breach: nothing
    MeasurementFactory(target=target, period=_months_ago(3), met=True)
    MeasurementFactory(target=target, period=_months_ago(2), met=False)
    second = MeasurementFactory(target=target, period=_months_ago(1), met=False)
    run_check("improvement.intake")
    item = ImprovementItem.objects.get()
    assert (item.source_kind, item.source, item.owner) == ("sla_measurement", second, target.agreement.owner)
    # The run goes on: still the one item.
    MeasurementFactory(target=target, period=_months_ago(0), met=False)
    run_check("improvement.intake")
    assert ImprovementItem.objects.count() == 1
    # Three months running needed: a target breached only twice running suggests nothing;
    # the first target's run (three months now) is the run already suggested.
    settings.IMPROVEMENT_SLA_BREACH_MONTHS = 3
    other = TargetFactory()
    MeasurementFactory(target=other, period=_months_ago(1), met=False)
    MeasurementFactory(target=other, period=_months_ago(0), met=False)
    run_check("improvement.intake")
    assert ImprovementItem.objects.count() == 1


def test_a_survey_question_below_the_kpi_target_suggests_one_item_once_the_results_are_final():
    campaign = CampaignFactory(status=CampaignStatus.CLOSED, closes_at=timezone.now() - timedelta(days=2))
    campaign.closed_at = timezone.now() - timedelta(days=2)
    campaign.save()
    low = QuestionFactory(questionnaire=campaign.questionnaire)
    high = QuestionFactory(questionnaire=campaign.questionnaire)
    for value in (5, 4, 2):  # 66.7 % satisfied: below 95 %
        AnswerFactory(response=ResponseFactory(invitation__campaign=campaign), question=low, value=value)
    for _ in range(3):
        AnswerFactory(response=ResponseFactory(invitation__campaign=campaign), question=high, value=5)
    running = CampaignFactory(status=CampaignStatus.RUNNING)
    AnswerFactory(response=ResponseFactory(invitation__campaign=running), question=QuestionFactory(), value=1)
    run_check("improvement.intake")
    run_check("improvement.intake")
    item = ImprovementItem.objects.get()
    assert (item.source_kind, item.source, item.source_part_id, item.owner) == (
        "survey_question",
        campaign,
        low.pk,
        campaign.owner,
    )
    assert "66.7" in item.description
