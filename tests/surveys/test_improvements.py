"""Improvement items proposed from survey results: the services' rules and the pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from itsm.core.roles import Role
from itsm.core.testing import assert_constant_queries, assert_nothing_written
from surveys.choices import CampaignStatus, ImprovementPriority, ImprovementStatus
from surveys.models import ImprovementItem
from surveys.services.improvements import improvement_item_create, improvement_item_update
from tests.factories import UserFactory
from tests.surveys.factories import CampaignFactory, QuestionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """These tests read the English messages."""
    with translation.override("en"):
        yield


EDITORS = [Role.SATISFACTION_OWNER, Role.QUALITY_MANAGER, Role.BR_MANAGER]
READERS = [Role.DEPARTMENT_HEAD, Role.MANAGEMENT_REP, Role.PROCESS_OWNER, Role.SERVICE_LEVEL_MANAGER, Role.AUDITOR]
ALLOWED_STATUSES = [CampaignStatus.CLOSED, CampaignStatus.PUBLISHED, CampaignStatus.ANALYSED]
REFUSED_STATUSES = [CampaignStatus.DRAFT, CampaignStatus.IN_REVIEW, CampaignStatus.APPROVED, CampaignStatus.RUNNING]


def _campaign(status=CampaignStatus.CLOSED, **fields):
    return CampaignFactory(status=status, **fields)


def _question(campaign):
    return QuestionFactory(section__questionnaire=campaign.questionnaire)


def _item(campaign=None, **fields):
    campaign = campaign or _campaign()
    fields.setdefault("title", "Shorter waiting times")
    return ImprovementItem.objects.create(campaign=campaign, **fields)


# --- services ----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ALLOWED_STATUSES)
def test_create_from_a_finished_campaign(make_user, status):
    actor = make_user(Role.SATISFACTION_OWNER)
    campaign = _campaign(status)
    question = _question(campaign)
    owner = UserFactory()
    item = improvement_item_create(
        campaign=campaign,
        title="Answer the phone faster",
        description="Ratings of speed are low.",
        priority=ImprovementPriority.HIGH,
        question=question,
        owner=owner,
        actor=actor,
    )
    item.refresh_from_db()
    assert (item.campaign, item.question, item.owner, item.created_by) == (campaign, question, owner, actor)
    assert item.status == ImprovementStatus.PROPOSED
    assert item.priority == ImprovementPriority.HIGH
    entry = LogEntry.objects.get_for_object(item).get()
    assert entry.actor == actor


@pytest.mark.parametrize("status", REFUSED_STATUSES)
def test_create_refused_before_the_campaign_closes(make_user, status):
    actor = make_user(Role.SATISFACTION_OWNER)
    campaign = _campaign(status)
    with assert_nothing_written(ImprovementItem), pytest.raises(ValidationError, match="closed"):
        improvement_item_create(campaign=campaign, title="Too early", priority=ImprovementPriority.LOW, actor=actor)


def test_create_refuses_a_question_of_another_questionnaire(make_user):
    actor = make_user(Role.QUALITY_MANAGER)
    campaign = _campaign()
    foreign = QuestionFactory()
    with assert_nothing_written(ImprovementItem), pytest.raises(ValidationError) as error:
        improvement_item_create(
            campaign=campaign, title="x", priority=ImprovementPriority.LOW, question=foreign, actor=actor
        )
    assert "question" in error.value.message_dict


def test_create_refuses_a_blank_title_and_an_unknown_priority(make_user):
    actor = make_user(Role.BR_MANAGER)
    campaign = _campaign()
    with pytest.raises(ValidationError) as error:
        improvement_item_create(campaign=campaign, title="", priority="urgent", actor=actor)
    assert {"title", "priority"} <= set(error.value.message_dict)
    assert not ImprovementItem.objects.exists()


@pytest.mark.parametrize("role", [*READERS, Role.SERVICE_DESK, None])
def test_create_and_update_refused_without_the_permission(make_user, role):
    actor = make_user(role)
    campaign = _campaign()
    with pytest.raises(PermissionDenied):
        improvement_item_create(campaign=campaign, title="x", priority=ImprovementPriority.LOW, actor=actor)
    item = _item(campaign)
    with pytest.raises(PermissionDenied):
        improvement_item_update(item=item, status=ImprovementStatus.DONE, actor=actor)
    item.refresh_from_db()
    assert item.status == ImprovementStatus.PROPOSED


def test_update_moves_status_and_names_the_plan(make_user):
    actor = make_user(Role.BR_MANAGER)
    campaign = _campaign(CampaignStatus.ANALYSED)
    question = _question(campaign)
    owner = UserFactory()
    item = _item(campaign, question=question, owner=owner)
    item = improvement_item_update(item=item, status=ImprovementStatus.ACCEPTED, priority="high", actor=actor)
    assert (item.status, item.priority, item.owner, item.question) == ("accepted", "high", owner, question)
    with pytest.raises(ValidationError) as error:
        improvement_item_update(item=item, status=ImprovementStatus.IN_PLAN, actor=actor)
    assert "plan_ref" in error.value.message_dict
    item.refresh_from_db()
    assert item.status == ImprovementStatus.ACCEPTED
    item = improvement_item_update(item=item, status=ImprovementStatus.IN_PLAN, plan_ref="SIP-2026-03", actor=actor)
    item.refresh_from_db()
    assert (item.status, item.plan_ref) == (ImprovementStatus.IN_PLAN, "SIP-2026-03")
    # Owner and question are cleared only when given.
    item = improvement_item_update(item=item, owner=None, question=None, actor=actor)
    assert item.owner is None and item.question is None
    assert LogEntry.objects.get_for_object(item).filter(actor=actor).count() == 3


def test_update_refuses_a_foreign_question_and_an_unfinished_campaign(make_user):
    actor = make_user(Role.SATISFACTION_OWNER)
    item = _item()
    with pytest.raises(ValidationError):
        improvement_item_update(item=item, question=QuestionFactory(), actor=actor)
    running = _item(_campaign(CampaignStatus.RUNNING))
    with pytest.raises(ValidationError, match="closed"):
        improvement_item_update(item=running, title="Changed", actor=actor)
    running.refresh_from_db()
    assert running.title == "Shorter waiting times"


# --- pages -------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", EDITORS)
def test_editors_propose_from_a_question(client_as, role):
    campaign = _campaign()
    question = _question(campaign)
    client = client_as(role)
    url = reverse("improvement_item_create", args=[campaign.pk])
    response = client.get(url, {"question": question.pk})
    assert response.status_code == 200
    assert response.context["form"]["question"].value() == question.pk
    response = client.post(
        url, {"title": "Train the desk", "description": "", "priority": "high", "question": question.pk, "owner": ""}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("campaign_results", args=[campaign.pk]) + "#improvements"
    item = ImprovementItem.objects.get()
    assert (item.title, item.priority, item.question, item.created_by) == (
        "Train the desk",
        "high",
        question,
        client.user,
    )


def test_create_page_ignores_a_foreign_question_in_the_link(client_as):
    campaign = _campaign()
    client = client_as(Role.SATISFACTION_OWNER)
    url = reverse("improvement_item_create", args=[campaign.pk])
    response = client.get(url, {"question": QuestionFactory().pk})
    assert response.status_code == 200
    assert response.context["form"]["question"].value() is None
    response = client.post(url, {"title": "x", "priority": "low", "question": QuestionFactory().pk})
    assert response.status_code == 400
    assert not ImprovementItem.objects.exists()


def test_create_page_refuses_invalid_input(client_as):
    campaign = _campaign()
    client = client_as(Role.QUALITY_MANAGER)
    with assert_nothing_written(ImprovementItem):
        response = client.post(reverse("improvement_item_create", args=[campaign.pk]), {"title": "", "priority": "x"})
    assert response.status_code == 400
    assert response.context["form"].errors.keys() >= {"title", "priority"}


def test_create_page_of_a_running_campaign_redirects_with_a_message(client_as):
    campaign = _campaign(CampaignStatus.RUNNING)
    client = client_as(Role.SATISFACTION_OWNER)
    url = reverse("improvement_item_create", args=[campaign.pk])
    with assert_nothing_written(ImprovementItem):
        response = client.post(url, {"title": "x", "priority": "low"})
    assert response.status_code == 302
    assert client.get(url).status_code == 302


@pytest.mark.parametrize("role", [*READERS, Role.SERVICE_DESK, None])
def test_others_may_not_create_or_edit(client_as, role):
    campaign = _campaign()
    item = _item(campaign)
    client = client_as(role)
    create = reverse("improvement_item_create", args=[campaign.pk])
    edit = reverse("improvement_item_edit", args=[item.pk])
    assert client.get(create).status_code == 403
    assert client.get(edit).status_code == 403
    with assert_nothing_written(ImprovementItem):
        assert client.post(create, {"title": "x", "priority": "low"}).status_code == 403
        assert client.post(edit, {"title": "x", "priority": "low", "status": "done"}).status_code == 403


def test_signed_out_users_go_to_login(client):
    item = _item()
    for url in (
        reverse("improvement_item_list"),
        reverse("improvement_item_edit", args=[item.pk]),
        reverse("improvement_item_create", args=[item.campaign_id]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and reverse("login") in response["Location"]


@pytest.mark.parametrize("role", EDITORS)
def test_editors_edit_an_item(client_as, role):
    campaign = _campaign(CampaignStatus.PUBLISHED)
    question = _question(campaign)
    item = _item(campaign, question=question)
    client = client_as(role)
    url = reverse("improvement_item_edit", args=[item.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert response.context["form"]["status"].value() == ImprovementStatus.PROPOSED
    payload = {
        "title": "Shorter waiting times",
        "description": "Joins the desk plan.",
        "priority": "medium",
        "status": ImprovementStatus.IN_PLAN,
        "plan_ref": "",
        "question": question.pk,
        "owner": "",
    }
    response = client.post(url, payload)
    assert response.status_code == 400
    assert "plan_ref" in response.context["form"].errors
    response = client.post(url, {**payload, "plan_ref": "SIP-7"})
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.status, item.plan_ref, item.description) == (
        ImprovementStatus.IN_PLAN,
        "SIP-7",
        "Joins the desk plan.",
    )


def test_edit_of_a_missing_item_is_a_404(client_as):
    assert client_as(Role.BR_MANAGER).get(reverse("improvement_item_edit", args=[999999])).status_code == 404


@pytest.mark.parametrize("role", [*EDITORS, *READERS])
def test_list_for_every_reading_role(client_as, role):
    item = _item()
    response = client_as(role).get(reverse("improvement_item_list"))
    assert response.status_code == 200
    assert item.title in response.content.decode()
    may_edit = role in EDITORS
    assert (reverse("improvement_item_edit", args=[item.pk]) in response.content.decode()) is may_edit


@pytest.mark.parametrize("role", [Role.SERVICE_DESK, None])
def test_list_refused_to_other_roles(client_as, role):
    assert client_as(role).get(reverse("improvement_item_list")).status_code == 403


def test_list_order_filters_and_source_links(client_as):
    campaign = _campaign(title="Half-year survey")
    question = _question(campaign)
    now = timezone.now()
    low = _item(campaign, title="Low one", priority="low")
    old_high = _item(campaign, title="Old high", priority="high", question=question)
    new_high = _item(campaign, title="New high", priority="high", status=ImprovementStatus.DONE)
    medium = _item(campaign, title="Medium one", priority="medium")
    ImprovementItem.objects.filter(pk=old_high.pk).update(created_at=now - timedelta(days=3))
    client = client_as(Role.AUDITOR)
    url = reverse("improvement_item_list")
    response = client.get(url)
    titles = [row["item"].title for row in response.context["rows"]]
    assert titles == ["New high", "Old high", "Medium one", "Low one"]
    body = response.content.decode()
    results_url = reverse("campaign_results", args=[campaign.pk])
    assert f'href="{results_url}"' in body
    assert f'href="{results_url}#question-{question.pk}"' in body
    response = client.get(url, {"priority": "high"})
    assert [row["item"].pk for row in response.context["rows"]] == [new_high.pk, old_high.pk]
    response = client.get(url, {"status": ImprovementStatus.DONE})
    assert [row["item"].pk for row in response.context["rows"]] == [new_high.pk]
    response = client.get(url, {"status": "nonsense"})
    assert response.status_code == 200 and response.context["rows"] == []
    assert low and medium


def test_list_runs_constant_queries(client_as):
    client = client_as(Role.QUALITY_MANAGER)

    def make(count: int) -> None:
        for n in range(count):
            campaign = _campaign()
            _item(campaign, question=_question(campaign), owner=UserFactory(), priority=["high", "low"][n % 2])

    assert_constant_queries(client, reverse("improvement_item_list"), make, few=2, many=20)
