"""improvement.0002: the register adopts the survey improvement items (source, status, plan),
the complaints' free-text plan references (a plan per reference, one item per complaint) and
the agreement reviews' improvement lines; the old fields then go. The histories stay
append-only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from complaints.models import Complaint
from improvement.models import ImprovementItem, ImprovementPlan
from itsm.core.roles import Role
from sla.models import AgreementReview
from surveys.choices import CampaignStatus
from tests.complaints.factories import make_complaint, role_user
from tests.sla.factories import AgreementFactory
from tests.surveys.factories import CampaignFactory, QuestionFactory

BEFORE = [
    ("improvement", "0001_register_plans_meetings"),
    ("surveys", "0009_ticket_close_time"),
    ("complaints", "0008_complaint_diagnosis"),
    ("sla", "0003_events_on_workflow_event"),
]


def _migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor


def _latest():
    # Every app's latest, so the database is whole again for the tests that follow.
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_survey_items_complaint_references_and_review_lines_join_the_register():
    owner = role_user(Role.SATISFACTION_OWNER)
    campaign = CampaignFactory(status=CampaignStatus.CLOSED)
    question = QuestionFactory(questionnaire=campaign.questionnaire)
    complaints = [make_complaint(title=f"complaint {n}") for n in range(3)]
    agreement = AgreementFactory()
    executor = _migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    SurveyItem = old.get_model("surveys", "ImprovementItem")
    raised = timezone.now() - timedelta(days=40)
    rows = [
        ("Faster replies", "proposed", "", None),
        ("Explain the bill", "accepted", "", question.pk),
        ("Night cover", "in_plan", "SIP-2026-03", question.pk),
        ("Old idea", "rejected", "", None),
        ("Done already", "done", "SIP-2026-03", None),
    ]
    for title, status, plan_ref, question_id in rows:
        item = SurveyItem.objects.create(
            campaign_id=campaign.pk,
            question_id=question_id,
            title=title,
            priority="high",
            status=status,
            plan_ref=plan_ref,
            owner_id=owner.pk,
            created_by_id=owner.pk,
        )
        SurveyItem.objects.filter(pk=item.pk).update(created_at=raised)
    OldComplaint = old.get_model("complaints", "Complaint")
    OldComplaint.objects.filter(pk=complaints[0].pk).update(improvement_plan_ref="SIP-2026-03")
    OldComplaint.objects.filter(pk=complaints[1].pk).update(improvement_plan_ref="月报自动化")
    OldReview = old.get_model("sla", "AgreementReview")
    review = OldReview.objects.create(
        agreement_id=agreement.pk,
        held_on=timezone.localdate(),
        attendees="both sides",
        improvement_items="- 专线双路由改造\n\n• 供应商合同修订\n",
        recorded_by_id=owner.pk,
    )

    _migrate(_latest())

    items = {item.title: item for item in ImprovementItem.objects.all()}
    campaign_type = ContentType.objects.get_for_model(type(campaign))
    survey = [items[title] for title, *_ in rows]
    assert [(i.status, i.source_kind, i.source_part_id) for i in survey] == [
        ("open", "survey_campaign", None),
        ("open", "survey_question", question.pk),
        ("planned", "survey_question", question.pk),
        ("dismissed", "survey_campaign", None),
        ("done", "survey_campaign", None),
    ]
    assert {(i.source_type_id, i.source_id, i.owner_id, i.created_by_id, i.priority) for i in survey} == {
        (campaign_type.pk, campaign.pk, owner.pk, owner.pk, "high")
    }
    assert all(abs((i.created_at - raised).total_seconds()) < 5 for i in survey)
    assert survey[0].source == campaign

    # One plan per reference: the survey item and the complaint naming SIP-2026-03 share it.
    plans = {plan.legacy_ref: plan for plan in ImprovementPlan.objects.all()}
    assert set(plans) == {"SIP-2026-03", "月报自动化"}
    assert all(plan.status == "draft" and plan.reference.startswith("SIP-") for plan in plans.values())
    assert survey[2].plan == plans["SIP-2026-03"]
    from_complaints = ImprovementItem.objects.filter(source_kind="complaint").order_by("source_id")
    assert [(i.source_id, i.status, i.plan.legacy_ref) for i in from_complaints] == [
        (complaints[0].pk, "planned", "SIP-2026-03"),
        (complaints[1].pk, "planned", "月报自动化"),
    ]
    complaint = Complaint.objects.get(pk=complaints[0].pk)
    assert [item.plan.legacy_ref for item in complaint.improvement_items.all()] == ["SIP-2026-03"]
    assert not complaints[2].improvement_items.exists()

    lines = ImprovementItem.objects.filter(source_kind="agreement_review").order_by("pk")
    assert [(i.title, i.status, i.source) for i in lines] == [
        ("专线双路由改造", "open", AgreementReview.objects.get(pk=review.pk)),
        ("供应商合同修订", "open", AgreementReview.objects.get(pk=review.pk)),
    ]
    # Every adopted item has its first history row; references are unique and in sequence.
    assert all(item.events.filter(action="created").exists() for item in ImprovementItem.objects.all())
    assert len({item.reference for item in ImprovementItem.objects.all()}) == ImprovementItem.objects.count()

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE improvement_improvementitemevent SET note = 'x'")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM improvement_improvementplanevent")
