"""The plan pages: the list (action counts in SQL, filters), drafting (with items pre-selected)
and editing (a changed target goes back for approval), a plan's page (PDCA stage in words,
sources, actions, reviews, approval), the forms posted from it (items, actions with evidence,
the effectiveness review, the moves), the evidence downloads; permissions per role, 400 with
nothing written, and query counts that do not grow with the rows."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from improvement.choices import ActionStatus, Effectiveness, ItemStatus, PlanStatus
from improvement.models import (
    EffectivenessReview,
    ImprovementItem,
    ImprovementPlan,
    ImprovementPlanEvent,
    PlanAction,
)
from improvement.services.plans import action_add, action_complete, plan_transition, plan_update
from itsm.core import calendar as business_calendar
from itsm.core.choices import OrganisationKind
from itsm.core.roles import Role
from itsm.core.testing import Resource, assert_constant_queries, assert_nothing_written, check_page_access, page_matrix
from tests.complaints.factories import make_complaint, role_user
from tests.factories import OrganisationFactory
from tests.improvement.factories import make_item, make_plan
from tests.sla.factories import ServiceFactory

pytestmark = pytest.mark.django_db
P = PlanStatus

PLANS = Resource(
    model=ImprovementPlan,
    factory=lambda: make_plan(P.DRAFT),
    pages={
        "list": "improvement_plan_list",
        "detail": "improvement_plan_detail",
        "create": "improvement_plan_create",
        "edit": "improvement_plan_edit",
        "history": "improvement_plan_history",
    },
)
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _english(client):
    client.cookies["django_language"] = "en"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.fixture
def brm(client):
    user = role_user(Role.BR_MANAGER)
    client.force_login(user)
    return user


def _plan_post(user, **fields) -> dict:
    return {
        "title": "Faster night answers",
        "goal": "Answer night calls as fast as day calls",
        "owner": user.pk,
        "target_measure": "90 % within 30 s",
        **fields,
    }


def _move(plan, action: str) -> str:
    return reverse("improvement_plan_transition", args=[plan.pk, action])


def _pdf(name: str = "evidence.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


# --- permissions ------------------------------------------------------------------------------


@pytest.mark.parametrize("case", page_matrix(PLANS), ids=str)
def test_page_access(client, case):
    check_page_access(client, case)


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("improvement_plan_add_items", "plan"),
        ("improvement_plan_review", "plan"),
        ("improvement_action_create", "plan"),
        ("improvement_action_complete", "action"),
        ("improvement_action_cancel", "action"),
    ],
)
def test_the_posted_forms_refuse_a_reader_and_write_nothing(client, make_user, name, args):
    plan = make_plan(P.IN_PROGRESS)
    action = plan.actions.get()
    client.force_login(make_user(Role.AUDITOR))
    url = reverse(name, args=[plan.pk if args == "plan" else action.pk])
    with assert_nothing_written(PlanAction, ImprovementPlanEvent, EffectivenessReview, ImprovementItem):
        assert client.post(url, {"reason": "x", "action-title": "x"}).status_code == 403
    client.logout()
    assert client.post(url, {}).status_code == 302  # signed out: to the login page


def test_a_missing_plan_or_action_is_a_404(client, brm):
    assert client.get(reverse("improvement_plan_detail", args=[999999])).status_code == 404
    assert client.post(reverse("improvement_action_complete", args=[999999]), {}).status_code == 404
    assert client.get(reverse("improvement_action_evidence", args=[999999])).status_code == 404


# --- list -------------------------------------------------------------------------------------


def test_the_list_counts_actions_in_sql_and_shows_the_stage(client, brm):
    plan = make_plan(P.IN_PROGRESS, actions=3)
    first = plan.actions.order_by("due_on").first()
    action_complete(action=first, actor=brm, evidence_note="done")
    response = client.get(reverse("improvement_plan_list"))
    assert response.status_code == 200
    row = response.context["rows"][0]
    assert (row["plan"].actions_done, row["plan"].actions_total) == (1, 3)
    assert row["plan"].next_due == plan.actions.filter(status=ActionStatus.OPEN).order_by("due_on").first().due_on
    page = response.content.decode()
    assert "PDCA: Do" in page and "1 / 3" in page


def test_the_list_filters_by_status_stage_owner_and_overdue_actions(client, brm):
    draft = make_plan(P.DRAFT, title="Draft one")
    running = make_plan(P.IN_PROGRESS, title="Running one")
    review = make_plan(P.EFFECTIVENESS_REVIEW, title="Under review")
    late = running.actions.get()
    PlanAction.objects.filter(pk=late.pk).update(due_on=timezone.localdate() - timedelta(days=2))
    url = reverse("improvement_plan_list")

    def listed(query: str) -> set[int]:
        response = client.get(f"{url}?{query}")
        assert response.status_code == 200
        return {row["plan"].pk for row in response.context["rows"]}

    assert listed("status=draft") == {draft.pk}
    assert listed("stage=plan") == {draft.pk}
    assert listed("stage=do") == {running.pk}
    assert listed("stage=check") == {review.pk}
    assert listed("overdue_actions=true") == {running.pk}
    assert listed("q=review") == {review.pk}
    assert listed(f"owner={brm.pk}") == {draft.pk, running.pk, review.pk}
    response = client.get(f"{url}?stage=nonsense")
    assert response.context["rows"] == [] and response.context["filter_form"].errors


def test_the_list_runs_constant_queries(client, brm):
    count = assert_constant_queries(
        client,
        reverse("improvement_plan_list"),
        lambda n: [make_plan(P.DRAFT, actions=2) for _ in range(n)],
        few=1,
        many=8,
    )
    assert count <= 12


# --- drafting ---------------------------------------------------------------------------------


def test_the_new_plan_page_preselects_the_open_items_it_answers(client, brm):
    first, second = make_item(title="First"), make_item(title="Second")
    done = make_item(ItemStatus.DONE, title="Done already")
    response = client.get(reverse("improvement_plan_create") + f"?items={first.pk},{second.pk},{done.pk},x")
    assert response.status_code == 200
    assert sorted(response.context["form"].initial["items"]) == sorted([first.pk, second.pk])
    page = response.content.decode()
    select = page[page.index('name="items"') :]
    select = select[: select.index("</select>")]
    assert f'value="{first.pk}" selected' in select and f'value="{done.pk}"' not in select


def test_drafting_a_plan_with_scope_and_items_never_sets_its_status(client, brm):
    item = make_item()
    service = ServiceFactory()
    customer = OrganisationFactory(kind=OrganisationKind.CUSTOMER)
    response = client.post(
        reverse("improvement_plan_create"),
        _plan_post(
            brm, items=[item.pk], services=[service.pk], organisations=[customer.pk], status="closed", round="5"
        ),
    )
    plan = ImprovementPlan.objects.get()
    assert response.status_code == 302 and response["Location"] == plan.get_absolute_url()
    assert (plan.status, plan.round) == (P.DRAFT, 1)
    assert list(plan.services.all()) == [service] and list(plan.organisations.all()) == [customer]
    item.refresh_from_db()
    assert (item.status, item.plan) == (ItemStatus.PLANNED, plan)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"goal": ""}, "goal"),
        ({"title": ""}, "title"),
        ({"owner": ""}, "owner"),
        ({"target_value": "abc"}, "target_value"),
    ],
    ids=["no-goal", "no-title", "no-owner", "bad-number"],
)
def test_bad_plan_input_is_a_400_and_nothing_is_written(client, brm, fields, field):
    with assert_nothing_written(ImprovementPlan, ImprovementPlanEvent):
        response = client.post(reverse("improvement_plan_create"), _plan_post(brm, **fields))
    assert response.status_code == 400 and response.context["form"].errors[field]


def test_a_kpi_plan_without_its_target_value_is_refused(client, brm):
    from kpi.models import KpiDefinition

    kpi = KpiDefinition.objects.filter(is_active=True).first()
    with assert_nothing_written(ImprovementPlan):
        response = client.post(reverse("improvement_plan_create"), _plan_post(brm, kpi=kpi.pk))
    assert response.status_code == 400
    assert "target value" in str(response.context["form"].errors)


def test_a_closed_item_cannot_be_answered_by_a_new_plan(client, brm):
    done = make_item(ItemStatus.DONE)
    with assert_nothing_written(ImprovementPlan):
        response = client.post(reverse("improvement_plan_create"), _plan_post(brm, items=[done.pk]))
    assert response.status_code == 400 and "items" in response.context["form"].errors


# --- editing ----------------------------------------------------------------------------------


def test_editing_the_target_of_an_approved_plan_sends_it_back_for_approval(client, brm):
    plan = make_plan(P.APPROVED)
    url = reverse("improvement_plan_edit", args=[plan.pk])
    page = client.get(url).content.decode()
    assert 'data-testid="reapproval-warning"' in page
    response = client.post(
        url, _plan_post(plan.owner, title=plan.title, target_measure="95 % within 20 s"), follow=True
    )
    plan.refresh_from_db()
    assert plan.status == P.SUBMITTED
    assert "back for approval" in response.content.decode()
    detail = client.get(plan.get_absolute_url())
    approval = detail.context["approval"]
    assert approval["awaiting"] and "target measure" in approval["changed"]
    assert 'data-testid="changed-since-approval"' in detail.content.decode()


def test_a_reapproved_plan_says_it_changed_and_was_approved_again(client, brm):
    plan = make_plan(P.APPROVED)
    plan_update(plan=plan, actor=brm, target_measure="95 % within 20 s")
    plan_transition(plan=plan, action="approve", actor=brm)
    response = client.get(plan.get_absolute_url())
    approval = response.context["approval"]
    assert approval["reapproved"] and approval["times"] == 2 and approval["changed"] == []
    assert 'data-testid="reapproved"' in response.content.decode()


def test_editing_never_sets_the_status_and_a_closed_plan_is_not_edited(client, brm):
    plan = make_plan(P.DRAFT)
    response = client.post(
        reverse("improvement_plan_edit", args=[plan.pk]), _plan_post(plan.owner, title="Renamed", status="closed")
    )
    assert response.status_code == 302
    plan.refresh_from_db()
    assert (plan.title, plan.status) == ("Renamed", P.DRAFT)
    closed = make_plan(P.REJECTED)
    assert client.get(reverse("improvement_plan_edit", args=[closed.pk])).status_code == 302


def test_editing_with_bad_input_is_a_400_and_nothing_is_written(client, brm):
    plan = make_plan(P.DRAFT, title="Kept")
    with assert_nothing_written(ImprovementPlan, ImprovementPlanEvent):
        response = client.post(reverse("improvement_plan_edit", args=[plan.pk]), _plan_post(plan.owner, goal=""))
    assert response.status_code == 400
    plan.refresh_from_db()
    assert plan.title == "Kept"


# --- the plan's page --------------------------------------------------------------------------


def test_the_page_shows_the_pdca_stage_in_words_and_the_sources(client, brm):
    complaint = make_complaint(title="Router outage at the branch")
    item = make_item(source=complaint, source_kind="complaint", title="Outage answers")
    plan = make_plan(P.IN_PROGRESS, items=[item])
    response = client.get(plan.get_absolute_url())
    assert response.status_code == 200
    page = response.content.decode()
    assert "PDCA stage: Do" in page and 'aria-current="step"' in page and "(current stage)" in page
    stages = {row["value"]: row for row in response.context["stages"]}
    assert stages["do"]["current"] and stages["plan"]["done"] and not stages["check"]["done"]
    assert item.reference in page and complaint.get_absolute_url() in page and "Router outage" in page
    assert response.context["approval"]["approved_at"] is not None
    assert 'data-testid="plan-actions"' in page and 'data-testid="timeline"' in page


def test_the_page_shows_the_kpi_target_and_its_closed_values_since_approval(client, brm):
    from kpi.models import ElementKind, KpiDefinition, KpiValue, Status

    kpi = KpiDefinition.objects.get(code="complaint_result_satisfaction")
    plan = make_plan(
        P.APPROVED, kpi=kpi, baseline_value=Decimal("90"), target_value=Decimal("95"), target_date=timezone.localdate()
    )
    today = timezone.localdate()
    KpiValue.objects.create(
        definition=kpi,
        period_start=today - timedelta(days=10),
        period_end=today + timedelta(days=5),
        period_label="2099-H1",
        element_kind=ElementKind.OVERALL,
        value=Decimal("96.5"),
        target=Decimal("95"),
        status=Status.GREEN,
        closed=True,
        computed_at=timezone.now(),
    )
    response = client.get(plan.get_absolute_url())
    assert response.context["measured"][0]["period"] == "2099-H1" and response.context["measured"][0]["met"] is True
    page = response.content.decode()
    assert 'data-testid="measured"' in page and "2099-H1" in page and kpi.name in page


def test_the_page_runs_constant_queries_whatever_the_items_actions_and_history(client, brm):
    plan = make_plan(P.IN_PROGRESS)

    def rows(n: int) -> None:
        for _ in range(n):
            make_item(ItemStatus.PLANNED, plan=plan)
            action = action_add(
                plan=plan, actor=brm, title="One more", owner=brm, due_on=timezone.localdate() + timedelta(days=5)
            )
            plan.refresh_from_db()
            if plan.status == P.SUBMITTED:  # an added action sends it back for approval
                plan_transition(plan=plan, action="approve", actor=brm)
                plan_transition(plan=plan, action="start", actor=brm)
            action_complete(action=action, actor=brm, evidence_note="done")

    count = assert_constant_queries(client, plan.get_absolute_url(), rows, few=1, many=6)
    assert count <= 45


def test_a_reader_sees_the_plan_without_any_form(client, make_user):
    plan = make_plan(P.IN_PROGRESS)
    client.force_login(make_user(Role.AUDITOR))
    response = client.get(plan.get_absolute_url())
    context = response.context
    assert response.status_code == 200 and context["action_forms"] == []
    assert context["action_form"] is None and context["add_items_form"] is None and context["review_form"] is None
    assert all(row["complete_form"] is None and row["cancel_form"] is None for row in context["actions"])


def test_an_action_owner_without_a_plan_role_may_record_their_action(client, make_user, brm):
    desk = make_user(Role.SERVICE_DESK)
    plan = make_plan(P.IN_PROGRESS)
    action = action_add(
        plan=plan, actor=brm, title="Desk's part", owner=desk, due_on=timezone.localdate() + timedelta(days=3)
    )
    plan.refresh_from_db()
    plan_transition(plan=plan, action="approve", actor=brm)
    plan_transition(plan=plan, action="start", actor=brm)
    client.force_login(desk)
    rows = {row["action"].pk: row for row in client.get(plan.get_absolute_url()).context["actions"]}
    assert rows[action.pk]["complete_form"] is not None
    assert all(row["complete_form"] is None for pk, row in rows.items() if pk != action.pk)
    response = client.post(reverse("improvement_action_complete", args=[action.pk]), {"evidence_note": "rota changed"})
    assert response.status_code == 302
    action.refresh_from_db()
    assert action.status == ActionStatus.DONE


# --- moves ------------------------------------------------------------------------------------


def test_submit_approve_and_start_through_the_page(client, brm):
    plan = make_plan(P.DRAFT)
    assert client.post(_move(plan, "submit"), {}).status_code == 302
    assert client.post(_move(plan, "approve"), {}).status_code == 302
    assert client.post(_move(plan, "start"), {}).status_code == 302
    plan.refresh_from_db()
    assert (plan.status, plan.approved_by) == (P.IN_PROGRESS, brm)


def test_the_effectiveness_review_is_scheduled_with_its_due_date(client, brm):
    plan = make_plan(P.IN_PROGRESS)
    action_complete(action=plan.actions.get(), actor=brm, evidence_note="done")
    forms = {f.transition.action: f for f in client.get(plan.get_absolute_url()).context["action_forms"]}
    assert "review_due_on" in forms["request_review"].fields
    with assert_nothing_written(EffectivenessReview, ImprovementPlanEvent):
        assert client.post(_move(plan, "request_review"), {"request_review-review_due_on": ""}).status_code == 400
    due = (timezone.localdate() + timedelta(days=30)).isoformat()
    assert client.post(_move(plan, "request_review"), {"request_review-review_due_on": due}).status_code == 302
    plan.refresh_from_db()
    assert plan.status == P.EFFECTIVENESS_REVIEW and plan.reviews.get().due_on.isoformat() == due


def test_review_moves_are_not_offered_as_buttons_and_refused_without_a_review(client, brm):
    plan = make_plan(P.EFFECTIVENESS_REVIEW)
    response = client.get(plan.get_absolute_url())
    assert {f.transition.action for f in response.context["action_forms"]} & {"close", "repeat"} == set()
    assert response.context["review_form"] is not None
    with assert_nothing_written(ImprovementPlanEvent):
        response = client.post(_move(plan, "close"), {"close-outcome_note": "worked"})
    assert response.status_code == 400 and response.context["refused"] is not None


def test_a_role_that_may_not_approve_is_refused(client, make_user):
    plan = make_plan(P.SUBMITTED)
    client.force_login(make_user(Role.QUALITY_MANAGER))  # drafts plans, does not approve them
    with assert_nothing_written(ImprovementPlanEvent):
        assert client.post(_move(plan, "approve"), {}).status_code == 403


# --- items ------------------------------------------------------------------------------------


def test_open_items_join_the_plan_and_a_done_one_is_refused(client, brm):
    plan = make_plan(P.DRAFT)
    item, done = make_item(), make_item(ItemStatus.DONE)
    url = reverse("improvement_plan_add_items", args=[plan.pk])
    with assert_nothing_written(ImprovementPlanEvent):
        assert client.post(url, {"add-items-items": [done.pk]}).status_code == 400
        assert client.post(url, {"add-items-items": []}).status_code == 400
    assert client.post(url, {"add-items-items": [item.pk]}).status_code == 302
    item.refresh_from_db()
    assert (item.status, item.plan) == (ItemStatus.PLANNED, plan)


# --- actions ----------------------------------------------------------------------------------


def test_an_action_due_in_working_days_gets_its_date_from_the_calendar(client, brm):
    plan = make_plan(P.DRAFT)
    response = client.post(
        reverse("improvement_action_create", args=[plan.pk]),
        {"action-title": "Night rota", "action-owner": brm.pk, "action-working_days": "3"},
    )
    assert response.status_code == 302
    action = plan.actions.get(title="Night rota")
    assert action.due_on == business_calendar.add_working_days(timezone.localdate(), 3)


@pytest.mark.parametrize(
    "fields",
    [
        {"action-title": "x", "action-owner": "me"},
        {"action-title": "x", "action-owner": "me", "action-working_days": "2", "action-due_on": "2099-01-01"},
        {"action-title": "", "action-owner": "me", "action-working_days": "2"},
        {"action-title": "x", "action-owner": "me", "action-due_on": "2000-01-01"},
    ],
    ids=["no-due", "both", "no-title", "in-the-past"],
)
def test_bad_action_input_is_a_400_and_nothing_is_written(client, brm, fields):
    plan = make_plan(P.DRAFT)
    fields = {key: (brm.pk if value == "me" else value) for key, value in fields.items()}
    with assert_nothing_written(PlanAction, ImprovementPlanEvent):
        response = client.post(reverse("improvement_action_create", args=[plan.pk]), fields)
    assert response.status_code == 400 and response.context["action_form"].errors


def test_an_action_added_to_an_approved_plan_sends_it_back_for_approval(client, brm):
    plan = make_plan(P.APPROVED)
    due = (timezone.localdate() + timedelta(days=9)).isoformat()
    response = client.post(
        reverse("improvement_action_create", args=[plan.pk]),
        {"action-title": "Extra", "action-owner": brm.pk, "action-due_on": due},
        follow=True,
    )
    plan.refresh_from_db()
    assert plan.status == P.SUBMITTED
    assert "back for approval" in response.content.decode()


def test_completing_an_action_with_a_file_and_downloading_it(client, brm, make_user):
    plan = make_plan(P.IN_PROGRESS)
    action = plan.actions.get()
    response = client.post(
        reverse("improvement_action_complete", args=[action.pk]),
        {"evidence_link": "https://wiki.example/rota", "evidence": _pdf()},
    )
    assert response.status_code == 302
    action.refresh_from_db()
    assert (action.status, action.evidence_link) == (ActionStatus.DONE, "https://wiki.example/rota")
    assert action.done_at is not None
    page = client.get(plan.get_absolute_url()).content.decode()
    assert reverse("improvement_action_evidence", args=[action.pk]) in page
    client.force_login(make_user(Role.AUDITOR))  # reads plans: may download the evidence
    download = client.get(reverse("improvement_action_evidence", args=[action.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    assert download["Content-Type"] == "application/pdf" and "attachment" in download["Content-Disposition"]
    client.force_login(make_user(None))
    assert client.get(reverse("improvement_action_evidence", args=[action.pk])).status_code == 403


@pytest.mark.parametrize(
    "fields",
    [{}, {"evidence_link": "not a url"}, {"evidence": "bad-file"}],
    ids=["no-evidence", "bad-link", "bad-file-type"],
)
def test_completing_without_good_evidence_is_a_400_and_nothing_is_written(client, brm, fields):
    plan = make_plan(P.IN_PROGRESS)
    action = plan.actions.get()
    if fields.get("evidence") == "bad-file":
        fields = {"evidence": SimpleUploadedFile("tool.exe", b"MZ\x90\x00", content_type="application/octet-stream")}
    with assert_nothing_written(ImprovementPlanEvent):
        response = client.post(reverse("improvement_action_complete", args=[action.pk]), fields)
    assert response.status_code == 400
    action.refresh_from_db()
    assert action.status == ActionStatus.OPEN
    assert 'data-testid="complete-form"' in response.content.decode()


def test_an_action_is_done_only_once_the_plan_is_approved(client, brm):
    plan = make_plan(P.DRAFT)
    action = plan.actions.get()
    with assert_nothing_written(ImprovementPlanEvent):
        response = client.post(reverse("improvement_action_complete", args=[action.pk]), {"evidence_note": "done"})
    assert response.status_code == 400


def test_cancelling_an_action_needs_a_reason(client, brm):
    plan = make_plan(P.DRAFT, actions=2)
    action = plan.actions.first()
    url = reverse("improvement_action_cancel", args=[action.pk])
    with assert_nothing_written(ImprovementPlanEvent):
        assert client.post(url, {"reason": ""}).status_code == 400
    assert client.post(url, {"reason": "not needed after all"}).status_code == 302
    action.refresh_from_db()
    assert action.status == ActionStatus.CANCELLED


def test_editing_an_action_changes_it_but_not_its_status(client, brm):
    plan = make_plan(P.DRAFT)
    action = plan.actions.get()
    url = reverse("improvement_action_edit", args=[action.pk])
    assert client.get(url).status_code == 200
    due = (timezone.localdate() + timedelta(days=20)).isoformat()
    response = client.post(
        url, {"title": "Renamed", "description": "", "owner": brm.pk, "due_on": due, "status": "done"}
    )
    assert response.status_code == 302
    action.refresh_from_db()
    assert (action.title, action.due_on.isoformat(), action.status) == ("Renamed", due, ActionStatus.OPEN)
    with assert_nothing_written(PlanAction):
        assert client.post(url, {"title": "", "owner": brm.pk, "due_on": due}).status_code == 400


def test_someone_who_may_not_work_an_action_cannot_edit_it(client, make_user):
    plan = make_plan(P.DRAFT)
    client.force_login(make_user(Role.SERVICE_DESK))  # neither its owner nor a plan role
    assert client.get(reverse("improvement_action_edit", args=[plan.actions.get().pk])).status_code == 403


# --- effectiveness review ---------------------------------------------------------------------


def test_not_effective_sends_the_plan_round_again(client, brm):
    plan = make_plan(P.EFFECTIVENESS_REVIEW)
    response = client.post(
        reverse("improvement_plan_review", args=[plan.pk]),
        {"review-result": Effectiveness.NOT_EFFECTIVE, "review-evidence_note": "still 40 s", "review-evidence": _pdf()},
    )
    assert response.status_code == 302
    plan.refresh_from_db()
    assert (plan.status, plan.round) == (P.IN_PROGRESS, 2)
    review = plan.reviews.get(round=1)
    assert review.result == Effectiveness.NOT_EFFECTIVE and review.evidence
    page = client.get(plan.get_absolute_url()).content.decode()
    assert reverse("improvement_review_evidence", args=[plan.pk, 1]) in page
    download = client.get(reverse("improvement_review_evidence", args=[plan.pk, 1]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    assert client.get(reverse("improvement_review_evidence", args=[plan.pk, 2])).status_code == 404


def test_effective_closes_the_plan_and_its_items(client, brm):
    item = make_item()
    plan = make_plan(P.EFFECTIVENESS_REVIEW, items=[item])
    response = client.post(
        reverse("improvement_plan_review", args=[plan.pk]),
        {"review-result": Effectiveness.EFFECTIVE, "review-evidence_note": "25 s on average"},
    )
    assert response.status_code == 302
    plan.refresh_from_db()
    item.refresh_from_db()
    assert (plan.status, plan.outcome, item.status) == (P.CLOSED, Effectiveness.EFFECTIVE, ItemStatus.DONE)
    stages = {row["value"]: row for row in client.get(plan.get_absolute_url()).context["stages"]}
    assert stages["act"]["current"]


@pytest.mark.parametrize(
    "fields",
    [{"review-result": "effective"}, {"review-result": "great", "review-evidence_note": "x"}],
    ids=["no-evidence", "bad-result"],
)
def test_a_review_without_evidence_or_result_is_a_400_and_nothing_is_written(client, brm, fields):
    plan = make_plan(P.EFFECTIVENESS_REVIEW)
    with assert_nothing_written(ImprovementPlanEvent):
        response = client.post(reverse("improvement_plan_review", args=[plan.pk]), fields)
    assert response.status_code == 400 and response.context["review_form"].errors
    plan.refresh_from_db()
    assert plan.status == P.EFFECTIVENESS_REVIEW


def test_a_review_out_of_turn_is_a_400(client, brm):
    plan = make_plan(P.IN_PROGRESS)
    with assert_nothing_written(ImprovementPlanEvent, EffectivenessReview):
        response = client.post(
            reverse("improvement_plan_review", args=[plan.pk]),
            {"review-result": "effective", "review-evidence_note": "x"},
        )
    assert response.status_code == 400


def test_the_plan_forms_have_no_status_round_or_approval_field():
    from improvement.forms.plans import ActionEditForm, ActionForm, PlanForm

    for form in (PlanForm, ActionForm, ActionEditForm):
        assert not {"status", "round", "approved_by", "approved_at", "outcome"} & set(form.base_fields)


def test_the_review_is_not_offered_while_an_action_of_the_round_is_open(client, brm):
    plan = make_plan(P.IN_PROGRESS)
    response = client.get(plan.get_absolute_url())
    assert "request_review" not in {f.transition.action for f in response.context["action_forms"]}
    assert 'data-testid="review-waits"' in response.content.decode()
    with assert_nothing_written(EffectivenessReview, ImprovementPlanEvent):
        due = (timezone.localdate() + timedelta(days=30)).isoformat()
        response = client.post(_move(plan, "request_review"), {"request_review-review_due_on": due})
    assert response.status_code == 400
    assert "Every action of this round" in response.content.decode()


def test_the_form_pages_run_constant_queries_whatever_is_chosen(client, brm):
    plan = make_plan(P.DRAFT)
    items: list = []

    def scope(n: int) -> None:
        services = [ServiceFactory() for _ in range(n)]
        plan.services.add(*services)
        items.extend(make_item() for _ in range(n))

    assert_constant_queries(client, reverse("improvement_plan_edit", args=[plan.pk]), scope, few=1, many=6)
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("improvement_plan_create") + f"?items={items[0].pk}")
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("improvement_plan_create") + "?items=" + ",".join(str(item.pk) for item in items))
    assert len(one) == len(many)
    action = plan.actions.get()
    assert_constant_queries(
        client, reverse("improvement_action_edit", args=[action.pk]), lambda n: scope(n), few=1, many=4
    )
