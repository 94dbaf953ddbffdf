"""The improvement API (issue 13 item 8): who may do what on ``/api/v1/improvement-items/`` and
``/api/v1/improvement-plans/`` (the role matrix read from the roles table), the register's
list with its filters and each item's source, raising items from sources (and every bad input
refused with a message per field and nothing written), edits of items and plans, constant
query counts on the lists and the plan detail, and the schema.

Plan and item moves, actions and the effectiveness review: ``test_api_plans.py``.

Time is frozen (Monday 2 March 2026, 10:00 in Shanghai). Every test starts in zh-hans: the
ones reading English messages switch with ``english(client)``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from drf_spectacular.generators import SchemaGenerator

from improvement.choices import ItemStatus, PlanStatus
from improvement.models import ImprovementItem, ImprovementItemEvent, ImprovementPlan, ImprovementPlanEvent
from improvement.services.plans import action_add
from itsm.core.choices import OrganisationKind
from itsm.core.roles import Role
from itsm.core.testing import (
    ANONYMOUS,
    NO_ROLE,
    Resource,
    api_matrix,
    assert_constant_queries,
    assert_nothing_written,
    check_api_access,
    user_with_role,
)
from surveys.choices import CampaignStatus
from tests.complaints.factories import make_complaint
from tests.factories import OrganisationFactory
from tests.improvement.factories import make_item, make_plan
from tests.sla.factories import MeasurementFactory, ServiceFactory
from tests.surveys.factories import CampaignFactory, QuestionFactory

pytestmark = pytest.mark.django_db

IS, P = ItemStatus, PlanStatus
ITEMS = "/api/v1/improvement-items/"
PLANS = "/api/v1/improvement-plans/"
BRM = Role.BR_MANAGER.value
DESK = Role.SERVICE_DESK.value
AUDITOR = Role.AUDITOR.value
ROLES = {role.value for role in Role}
NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 2 March 2026, 10:00 in Shanghai
_n = itertools.count(1)


@pytest.fixture(autouse=True)
def _frozen_time():
    with time_machine.travel(NOW, tick=False):
        yield


@contextmanager
def english(client) -> Iterator[None]:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    try:
        with translation.override("en"):
            yield
    finally:
        del client.cookies[settings.LANGUAGE_COOKIE_NAME]


def as_role(api_client, role: str, user=None):
    user = user or user_with_role(role)
    api_client.force_authenticate(user)
    api_client.user = user
    return api_client


def assert_invalid(response, *fields: str) -> dict:
    assert response.status_code == 400, response.content
    body = response.json()
    assert isinstance(body["message"], str) and body["message"]
    for field in fields:
        assert isinstance(body["errors"].get(field), list) and body["errors"][field], body
    return body


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def item_payload(**changes) -> dict:
    """A valid new item: raised from a complaint, which every role that raises items reads."""
    return {
        "source_kind": "complaint",
        "source_id": make_complaint().pk,
        "title": f"Call-backs are late {next(_n)}",
        "priority": "high",
        **changes,
    }


def plan_payload() -> dict:
    return {"title": f"Faster call-backs {next(_n)}", "goal": "Call every customer back within a day."}


# --- who may do what ----------------------------------------------------------------------------

ITEM_RESOURCE = Resource.for_model(ImprovementItem, make_item, pages=(), api_payload=item_payload)
ITEM_EDITS = Resource.for_model(
    ImprovementItem, make_item, pages=(), api_payload=lambda: {"title": f"Edited {next(_n)}", "priority": "low"}
)
PLAN_RESOURCE = Resource.for_model(ImprovementPlan, make_plan, pages=(), api_payload=plan_payload)
READS_AND_CREATE = ("list", "retrieve", "create")
EDITS = ("update", "partial_update")
MATRIX = [
    *(c for c in api_matrix(ITEM_RESOURCE) if c.action in READS_AND_CREATE),
    *(c for c in api_matrix(ITEM_EDITS) if c.action in EDITS),
    *(c for c in api_matrix(PLAN_RESOURCE) if c.action in (*READS_AND_CREATE, *EDITS)),
]


def test_resource_urls_are_the_documented_ones():
    assert ITEM_RESOURCE.api_url() == ITEMS
    assert PLAN_RESOURCE.api_url(7) == f"{PLANS}7/"


@pytest.mark.parametrize("case", MATRIX, ids=str)
def test_api_access(api_client, case):
    check_api_access(api_client, case)


def test_the_matrix_expects_what_the_roles_table_says():
    allowed = {(c.resource.name, c.action, c.role) for c in MATRIX if c.allowed}
    raisers = ROLES - {AUDITOR}
    planners = raisers - {DESK, Role.MANAGEMENT_REP.value}
    for resource in ("improvementitem", "improvementplan"):
        assert {r for n, a, r in allowed if n == resource and a == "list"} == ROLES, resource
        assert not {r for n, _a, r in allowed if n == resource and r in (NO_ROLE, ANONYMOUS)}
    assert {r for n, a, r in allowed if n == "improvementitem" and a == "create"} == raisers
    assert {r for n, a, r in allowed if n == "improvementitem" and a == "partial_update"} == raisers
    assert {r for n, a, r in allowed if n == "improvementplan" and a == "create"} == planners
    assert {r for n, a, r in allowed if n == "improvementplan" and a == "partial_update"} == planners


@pytest.mark.parametrize("role", [BRM, Role.PROCESS_OWNER.value, AUDITOR])
def test_nothing_is_deleted_through_the_api(api_client, role):
    item, plan = make_item(), make_plan()
    as_role(api_client, role)
    for url, model in ((f"{ITEMS}{item.pk}/", ImprovementItem), (f"{PLANS}{plan.pk}/", ImprovementPlan)):
        with assert_nothing_written(model):
            response = api_client.delete(url)
        assert response.status_code == 405, response.content
        assert response.json()["message"]


def test_signed_out_calls_are_refused(api_client):
    plan = make_plan()
    for url in (ITEMS, PLANS, f"{PLANS}{plan.pk}/", f"{PLANS}{plan.pk}/actions/", f"{PLANS}{plan.pk}/events/"):
        assert api_client.get(url).status_code in (401, 403), url


# --- the register -------------------------------------------------------------------------------


def test_an_item_shows_its_source_described_and_linked(api_client):
    measurement = MeasurementFactory(met=False)
    item = make_item(source=measurement)
    body = as_role(api_client, BRM).get(f"{ITEMS}{item.pk}/").json()
    assert (body["reference"], body["status"], body["source_kind"], body["source_id"]) == (
        item.reference,
        "open",
        "sla_measurement",
        measurement.pk,
    )
    source = body["source"]
    assert source["kind"] == "sla_measurement" and source["id"] == measurement.pk and source["part_id"] is None
    assert source["readable"] is True
    assert measurement.target.agreement.number in source["description"]
    assert source["url"].startswith("/sla/measurements/?")
    assert body["allowed_actions"] == ["dismiss", "plan", "complete"]
    assert body["target_date"] and body["overdue"] is False and body["suggested"] is False


def test_a_source_the_caller_may_not_read_is_named_but_not_described(api_client):
    """The service desk raises items but does not read SLA measurements."""
    item = make_item(source=MeasurementFactory(met=False))
    source = as_role(api_client, DESK).get(f"{ITEMS}{item.pk}/").json()["source"]
    assert (source["kind"], source["readable"], source["description"], source["url"]) == (
        "sla_measurement",
        False,
        None,
        None,
    )


def test_an_item_of_a_survey_question_names_the_question(api_client):
    question = QuestionFactory(text="How quickly did we answer?")
    campaign = CampaignFactory(
        questionnaire=question.questionnaire, title="Spring survey", status=CampaignStatus.CLOSED
    )
    response = as_role(api_client, BRM).post(
        ITEMS,
        {"source_kind": "survey_question", "source_id": campaign.pk, "source_part_id": question.pk, "title": "Slow"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    source = response.json()["source"]
    assert (source["id"], source["part_id"]) == (campaign.pk, question.pk)
    assert source["description"] == "Spring survey · How quickly did we answer?"
    assert source["url"].endswith(f"#question-{question.pk}")


def test_the_register_filters(api_client):
    other = user_with_role(Role.QUALITY_MANAGER.value)
    plan = make_plan()
    complaint_item = make_item(source=make_complaint(), source_kind="complaint", priority="high")
    overdue = make_item(target_date=date(2026, 2, 20), owner=other)
    planned = make_item(IS.PLANNED, plan=plan)
    done = make_item(IS.DONE)
    suggested = make_item(IS.SUGGESTED, title="Suggested by intake")
    api = as_role(api_client, BRM)
    assert set(ids(api.get(ITEMS))) == {complaint_item.pk, overdue.pk, planned.pk, done.pk, suggested.pk}
    assert set(ids(api.get(ITEMS, {"status": ["open", "planned"]}))) == {complaint_item.pk, overdue.pk, planned.pk}
    assert ids(api.get(ITEMS, {"priority": "high"})) == [complaint_item.pk]
    assert ids(api.get(ITEMS, {"source_kind": "complaint"})) == [complaint_item.pk]
    assert ids(api.get(ITEMS, {"owner": other.pk})) == [overdue.pk]
    assert ids(api.get(ITEMS, {"plan": plan.pk})) == [planned.pk]
    assert ids(api.get(ITEMS, {"overdue": "true"})) == [overdue.pk]
    assert overdue.pk not in ids(api.get(ITEMS, {"overdue": "false"}))
    assert ids(api.get(ITEMS, {"q": "intake"})) == [suggested.pk]
    assert ids(api.get(ITEMS, {"q": done.reference})) == [done.pk]
    assert api.get(f"{ITEMS}{overdue.pk}/").json()["overdue"] is True
    assert api.get(f"{ITEMS}{suggested.pk}/").json()["suggested"] is True


@pytest.mark.parametrize(
    "query",
    [{"status": "bogus"}, {"priority": "urgent"}, {"source_kind": "audit_finding"}, {"owner": "999999"}, {"plan": "x"}],
)
def test_a_filter_value_that_is_not_valid_is_a_400_naming_it(api_client, query):
    assert_invalid(as_role(api_client, BRM).get(ITEMS, query), *query)


# --- raising items ------------------------------------------------------------------------------


def test_an_item_is_raised_from_a_source(api_client):
    complaint = make_complaint()
    api = as_role(api_client, DESK)
    response = api.post(ITEMS, item_payload(source_id=complaint.pk, description="Twice this month."), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["priority"], body["owner"], body["created_by"]) == (
        "open",
        "high",
        api.user.pk,
        api.user.pk,
    )
    assert body["reference"].startswith("IMP-2026-")
    assert body["source"]["description"] == f"{complaint.reference} {complaint.title}"
    assert body["source"]["url"] == complaint.get_absolute_url()
    assert body["target_date"] == "2026-03-16"  # 10 working days for a high priority
    item = ImprovementItem.objects.get(pk=body["id"])
    assert item.source == complaint and item.source_kind == "complaint"
    assert list(item.events.values_list("action", "to_status")) == [("created", "open")]


def test_an_item_raised_into_a_plan_is_planned(api_client):
    plan = make_plan()
    body = as_role(api_client, BRM).post(ITEMS, item_payload(plan=plan.pk), format="json").json()
    assert (body["status"], body["plan"], body["plan_reference"]) == ("planned", plan.pk, plan.reference)


@pytest.mark.parametrize(
    ("role", "changes", "fields"),
    [
        (BRM, {"source_kind": "audit_finding"}, ["source_kind"]),
        (BRM, {"source_id": 999999}, ["source_id"]),
        (BRM, {"source_id": 0}, ["source_id"]),
        (BRM, {"source_kind": None}, ["source_kind"]),
        (BRM, {"source_part_id": 5}, ["source_part_id"]),
        # The service desk does not read SLA measurements.
        (DESK, {"source_kind": "sla_measurement", "source_id": "measurement"}, ["source_id"]),
        (BRM, {"title": ""}, ["title"]),
        (BRM, {"priority": "urgent"}, ["priority"]),
        (BRM, {"owner": 999999}, ["owner"]),
        (BRM, {"status": "done", "reference": "IMP-1"}, ["status", "reference"]),
        (BRM, {"colour": "red"}, ["colour"]),
        (BRM, {"plan": "closed"}, ["plan"]),
        # Items come from a campaign's final results (the source kind's own refusal).
        (BRM, {"source_kind": "survey_campaign", "source_id": "running campaign"}, ["source_id"]),
    ],
)
def test_bad_input_raising_an_item_is_a_400_with_a_message_per_field_and_nothing_written(
    api_client, role, changes, fields
):
    payload = item_payload()
    if changes.get("source_id") == "measurement":
        changes = {**changes, "source_id": MeasurementFactory().pk}
    if changes.get("source_id") == "running campaign":
        changes = {**changes, "source_id": CampaignFactory().pk}
    if changes.get("plan") == "closed":
        changes = {**changes, "plan": make_plan(P.REJECTED).pk}
    payload.update(changes)
    api = as_role(api_client, role)
    with assert_nothing_written(ImprovementItem, ImprovementItemEvent):
        response = api.post(ITEMS, payload, format="json")
    assert_invalid(response, *fields)


def test_the_messages_of_a_refused_source_say_what_is_wrong(api_client):
    api = as_role(api_client, DESK)
    with english(api):
        unknown = api.post(ITEMS, item_payload(source_kind="audit_finding"), format="json").json()
        missing = api.post(ITEMS, item_payload(source_id=999999), format="json").json()
        unread = api.post(
            ITEMS, item_payload(source_kind="sla_measurement", source_id=MeasurementFactory().pk), format="json"
        ).json()
        status = api.post(ITEMS, item_payload(status="done"), format="json").json()
    assert unknown["errors"]["source_kind"] == ["Unknown source “audit_finding”."]
    assert missing["errors"]["source_id"] == ["There is no such record of this kind."]
    assert unread["errors"]["source_id"] == ["You may not read this source."]
    assert "transitions" in status["errors"]["status"][0]


def test_an_item_is_edited_and_its_status_is_not(api_client):
    item = make_item()
    api = as_role(api_client, Role.QUALITY_MANAGER.value)
    response = api.patch(
        f"{ITEMS}{item.pk}/", {"title": "Night calls wait", "priority": "low", "owner": api.user.pk}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["title"], body["priority"], body["owner"], body["status"]) == (
        "Night calls wait",
        "low",
        api.user.pk,
        "open",
    )
    for changes, field in (
        ({"status": "done"}, "status"),
        ({"source_kind": "complaint"}, "source_kind"),
        ({"plan": make_plan().pk}, "plan"),
        ({"title": ""}, "title"),
        ({"priority": "urgent"}, "priority"),
    ):
        with assert_nothing_written(ImprovementItem, ImprovementItemEvent):
            assert_invalid(api.patch(f"{ITEMS}{item.pk}/", changes, format="json"), field)
    item.refresh_from_db()
    assert (item.title, item.status) == ("Night calls wait", IS.OPEN)


def test_a_done_item_is_reopened_before_it_is_edited(api_client):
    item = make_item(IS.DONE)
    api = as_role(api_client, BRM)
    with assert_nothing_written(ImprovementItem):
        assert_invalid(api.patch(f"{ITEMS}{item.pk}/", {"title": "x"}, format="json"), "non_field_errors")


# --- plans: reading, drafting, editing ----------------------------------------------------------


def test_a_plan_is_drafted_with_its_items_and_scope(api_client):
    items = [make_item(), make_item(source=make_complaint(), source_kind="complaint")]
    service, customer = ServiceFactory(), OrganisationFactory(kind=OrganisationKind.CUSTOMER)
    payload = {
        **plan_payload(),
        "items": [item.pk for item in items],
        "services": [service.pk],
        "organisations": [customer.pk],
        "target_measure": "95 % called back within a day",
        "change_request_ref": "RFC-2026-014",
    }
    response = as_role(api_client, Role.SATISFACTION_OWNER.value).post(PLANS, payload, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["stage"], body["round"], body["owner"]) == ("draft", "plan", 1, api_client.user.pk)
    assert body["reference"].startswith("SIP-2026-")
    assert (body["services"], body["organisations"], body["departments"]) == ([service.pk], [customer.pk], [])
    assert sorted(row["id"] for row in body["items"]) == sorted(item.pk for item in items)
    assert {row["status"] for row in body["items"]} == {"planned"}
    assert {row["source"]["kind"] for row in body["items"]} == {"sla_measurement", "complaint"}
    assert (body["actions"], body["reviews"], body["approved_terms"]) == ([], [], {})
    assert (body["actions_done"], body["actions_total"]) == (0, 0)
    plan = ImprovementPlan.objects.get(pk=body["id"])
    assert list(plan.events.values_list("action", flat=True)) == ["created", "item_added", "item_added"]


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"title": ""}, ["title"]),
        ({"goal": ""}, ["goal"]),
        ({"items": ["done"]}, ["items"]),
        ({"items": [999999]}, ["items"]),
        ({"team": "customer"}, ["team"]),
        ({"kpi": "first"}, ["non_field_errors"]),  # a KPI needs the target value
        ({"target_value": "abc"}, ["target_value"]),
        ({"status": "approved", "round": 2}, ["status", "round"]),
        ({"services": [999999]}, ["services"]),
    ],
)
def test_bad_input_drafting_a_plan_is_a_400_and_nothing_written(api_client, changes, fields):
    from kpi.models import KpiDefinition

    substitutes = {
        "done": lambda: make_item(IS.DONE).pk,
        "customer": lambda: OrganisationFactory(kind=OrganisationKind.CUSTOMER).pk,
        "first": lambda: KpiDefinition.objects.order_by("pk").first().pk,
    }
    changes = {
        key: [substitutes[v]() if v in substitutes else v for v in value]
        if isinstance(value, list)
        else (substitutes[value]() if isinstance(value, str) and value in substitutes else value)
        for key, value in changes.items()
    }
    api = as_role(api_client, BRM)
    with assert_nothing_written(ImprovementPlan, ImprovementPlanEvent, ImprovementItemEvent):
        response = api.post(PLANS, {**plan_payload(), **changes}, format="json")
    assert_invalid(response, *fields)


def test_a_department_plan_names_an_internal_team(api_client):
    team = OrganisationFactory(kind=OrganisationKind.INTERNAL_TEAM)
    response = as_role(api_client, BRM).post(PLANS, {**plan_payload(), "team": team.pk}, format="json")
    assert response.status_code == 201, response.content
    assert (response.json()["team"], response.json()["team_name"]) == (team.pk, team.name)


def test_a_draft_is_edited_and_its_scope_replaced(api_client):
    plan = make_plan(services=[ServiceFactory()])
    service = ServiceFactory()
    response = as_role(api_client, BRM).patch(
        f"{PLANS}{plan.pk}/", {"title": "Call-backs within a day", "services": [service.pk]}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["title"], body["services"], body["status"]) == ("Call-backs within a day", [service.pk], "draft")
    assert_invalid(api_client.patch(f"{PLANS}{plan.pk}/", {"items": [make_item().pk]}, format="json"), "items")


def test_a_closed_plan_is_not_edited(api_client):
    plan = make_plan(P.CLOSED)
    api = as_role(api_client, BRM)
    with assert_nothing_written(ImprovementPlan, ImprovementPlanEvent):
        assert_invalid(api.patch(f"{PLANS}{plan.pk}/", {"title": "x"}, format="json"), "non_field_errors")


def test_the_plan_list_filters_and_counts_actions(api_client):
    other = user_with_role(Role.QUALITY_MANAGER.value)
    draft = make_plan(actions=2)
    running = make_plan(P.IN_PROGRESS, owner=other)
    review = make_plan(P.EFFECTIVENESS_REVIEW, actions=2)
    closed = make_plan(P.CLOSED)
    api = as_role(api_client, AUDITOR)
    rows = {row["id"]: row for row in api.get(PLANS).json()["results"]}
    assert set(rows) == {draft.pk, running.pk, review.pk, closed.pk}
    assert (rows[draft.pk]["actions_done"], rows[draft.pk]["actions_total"]) == (0, 2)
    assert (rows[review.pk]["actions_done"], rows[review.pk]["actions_total"]) == (2, 2)
    assert (rows[closed.pk]["stage"], rows[closed.pk]["outcome"]) == ("act", "effective")
    assert rows[draft.pk]["allowed_actions"] == []  # the auditor changes nothing
    assert set(ids(api.get(PLANS, {"status": ["draft", "closed"]}))) == {draft.pk, closed.pk}
    assert ids(api.get(PLANS, {"stage": "do"})) == [running.pk]
    assert ids(api.get(PLANS, {"stage": "check"})) == [review.pk]
    assert ids(api.get(PLANS, {"owner": other.pk})) == [running.pk]
    assert ids(api.get(PLANS, {"q": closed.reference})) == [closed.pk]
    assert_invalid(api.get(PLANS, {"stage": "done"}), "stage")
    assert_invalid(api.get(PLANS, {"status": "finished"}), "status")


def test_a_plan_detail_shows_stage_round_terms_actions_and_reviews(api_client):
    plan = make_plan(P.CLOSED, actions=2)
    body = as_role(api_client, Role.SERVICE_DESK.value).get(f"{PLANS}{plan.pk}/").json()
    assert (body["status"], body["stage"], body["stage_display"], body["round"], body["outcome"]) == (
        "closed",
        "act",
        str(plan.get_stage_display()),
        1,
        "effective",
    )
    assert body["approved_terms"]["target_measure"] == plan.target_measure
    assert sorted(body["approved_terms"]["actions"]) == sorted(a["id"] for a in body["actions"])
    assert [a["status"] for a in body["actions"]] == ["done", "done"]
    assert all(a["on_time"] is True and a["may_work"] is False for a in body["actions"])
    assert [(r["round"], r["result"], r["evidence_note"]) for r in body["reviews"]] == [
        (1, "effective", "night calls answered in 25 s")
    ]


# --- query counts -------------------------------------------------------------------------------


def test_the_register_runs_a_constant_number_of_queries(api_client):
    api = as_role(api_client, BRM)
    plan = make_plan()

    def rows(n):
        for index in range(n):
            if index % 3 == 0:
                make_item(source=make_complaint(), source_kind="complaint")
            elif index % 3 == 1:
                make_item(IS.PLANNED, plan=plan)
            else:
                question = QuestionFactory()
                campaign = CampaignFactory(questionnaire=question.questionnaire, status=CampaignStatus.CLOSED)
                make_item(source=campaign, source_kind="survey_question", source_part=question)

    count = assert_constant_queries(api, ITEMS, rows, few=3, many=12)
    print("improvement-items list queries:", count)


def test_the_plan_list_runs_a_constant_number_of_queries(api_client):
    api = as_role(api_client, Role.PROCESS_OWNER.value)
    statuses = itertools.cycle([P.DRAFT, P.SUBMITTED, P.IN_PROGRESS, P.CLOSED])

    def rows(n):
        for _ in range(n):
            make_plan(next(statuses), actions=2)

    count = assert_constant_queries(api, PLANS, rows, few=2, many=8)
    print("improvement-plans list queries:", count)


def test_the_plan_detail_runs_a_constant_number_of_queries(api_client):
    api = as_role(api_client, BRM)
    plan = make_plan(actions=1)
    url = f"{PLANS}{plan.pk}/"
    make_item(IS.PLANNED, plan=plan)
    make_item(IS.PLANNED, plan=plan, source=make_complaint(), source_kind="complaint")
    api.get(url)
    with CaptureQueriesContext(connection) as few:
        assert api.get(url).status_code == 200
    for _ in range(4):
        make_item(IS.PLANNED, plan=plan)
        make_item(IS.PLANNED, plan=plan, source=make_complaint(), source_kind="complaint")
    for index in range(5):
        action_add(plan=plan, actor=api.user, title=f"More {index}", owner=api.user, working_days=index + 1)
    with CaptureQueriesContext(connection) as many:
        response = api.get(url)
    assert len(response.json()["items"]) == 10 and len(response.json()["actions"]) == 6
    assert len(few) == len(many), "\n".join(q["sql"] for q in many.captured_queries)


# --- schema -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        return SchemaGenerator().get_schema(request=None, public=True)


def test_every_operation_is_in_the_schema(schema):
    operations = {
        (path, method)
        for path, item in schema["paths"].items()
        if path.startswith(("/api/v1/improvement-items/", "/api/v1/improvement-plans/"))
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    }
    items, plans = "/api/v1/improvement-items/", "/api/v1/improvement-plans/"
    assert operations == {
        (items, "get"),
        (items, "post"),
        (f"{items}{{id}}/", "get"),
        (f"{items}{{id}}/", "put"),
        (f"{items}{{id}}/", "patch"),
        (f"{items}{{id}}/transitions/", "get"),
        (f"{items}{{id}}/transitions/", "post"),
        (f"{items}{{id}}/events/", "get"),
        (plans, "get"),
        (plans, "post"),
        (f"{plans}{{id}}/", "get"),
        (f"{plans}{{id}}/", "put"),
        (f"{plans}{{id}}/", "patch"),
        (f"{plans}{{id}}/transitions/", "get"),
        (f"{plans}{{id}}/transitions/", "post"),
        (f"{plans}{{id}}/events/", "get"),
        (f"{plans}{{id}}/actions/", "get"),
        (f"{plans}{{id}}/actions/", "post"),
        (f"{plans}{{id}}/actions/{{action_id}}/", "patch"),
        (f"{plans}{{id}}/actions/{{action_id}}/complete/", "post"),
        (f"{plans}{{id}}/actions/{{action_id}}/cancel/", "post"),
        (f"{plans}{{id}}/review/", "post"),
    }
    for path, method in operations:
        operation = schema["paths"][path][method]
        assert operation.get("summary"), (method, path)
        assert {"401", "403"} <= set(operation["responses"]), (method, path)
    components = schema["components"]["schemas"]
    assert components["ImprovementItemStatus"]["enum"] == list(ItemStatus.values)
    assert components["ImprovementPlanStatus"]["enum"] == list(PlanStatus.values)
    assert "source" in components["ImprovementItem"]["properties"]
