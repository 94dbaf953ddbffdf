"""The complaints API: /api/v1/complaints/, {id}/transitions/, {id}/events/ (SPEC §9, issue 3 item 6).

Read-only fields in a write (``status``, ``reference``, level, due dates, …) are refused with a
400 naming the field, not silently dropped; see ``complaints.api.serializers``.
"""

import itertools
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from complaints import services
from complaints.api.serializers import ComplaintTransitionSerializer
from complaints.choices import Category, ComplaintStatus, EventKind, Severity
from complaints.models import Complaint, ComplaintEvent, ComplaintSequence
from complaints.workflow import COMMON_INPUTS, TRANSITIONS
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
from sla.choices import ServiceStatus
from tests.complaints.factories import AT_BRM, AT_HEAD, make_complaint, role_user
from tests.factories import ContactFactory, OrganisationFactory
from tests.sla.factories import ServiceFactory

pytestmark = pytest.mark.django_db

S = ComplaintStatus
URL = "/api/v1/complaints/"
SHANGHAI = ZoneInfo("Asia/Shanghai")
DESK, BRM, HEAD, MREP = Role.SERVICE_DESK, Role.BR_MANAGER, Role.DEPARTMENT_HEAD, Role.MANAGEMENT_REP
AUDITOR = Role.AUDITOR

_n = itertools.count(1)


def detail(complaint) -> str:
    return f"{URL}{complaint.pk}/"


def transitions(complaint) -> str:
    return f"{URL}{complaint.pk}/transitions/"


def events(complaint) -> str:
    return f"{URL}{complaint.pk}/events/"


def create_payload(**changes) -> dict:
    contact = ContactFactory()
    data = {
        "organisation": contact.organisation_id,
        "contact": contact.pk,
        "title": f"Printer queue lost for hours {next(_n)}",
        "description": "The customer could not print invoices all morning.",
        "channel": "phone",
        "severity": Severity.NORMAL,
    }
    return {**data, **changes}


def edit_payload() -> dict:
    return {"title": f"Edited title {next(_n)}", "description": "Edited description.", "channel": "email"}


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def assert_invalid(response, *fields: str) -> dict:
    assert response.status_code == 400, response.content
    body = response.json()
    assert isinstance(body["message"], str) and body["message"]
    for field in fields:
        assert isinstance(body["errors"].get(field), list) and body["errors"][field], body
    return body


def as_role(api_client, role: str):
    user = role_user(role)
    api_client.force_authenticate(user)
    return user


# --- access ----------------------------------------------------------------------------------

# The matrix helper sends one payload to create and update alike; a complaint's update takes
# only its editable details, so the update cells use a resource with an edit payload.
COMPLAINTS = Resource.for_model(Complaint, make_complaint, pages=(), api_payload=create_payload)
COMPLAINT_EDITS = Resource.for_model(Complaint, make_complaint, pages=(), api_payload=edit_payload)
MATRIX = [c for c in api_matrix(COMPLAINTS) if c.action in ("list", "retrieve", "create")] + [
    c for c in api_matrix(COMPLAINT_EDITS) if c.action in ("update", "partial_update")
]


def test_resource_urls_are_the_documented_ones():
    assert COMPLAINTS.api_url() == URL and COMPLAINTS.api_url(7) == f"{URL}7/"


@pytest.mark.parametrize("case", MATRIX, ids=str)
def test_api_access(api_client, case):
    check_api_access(api_client, case)


def test_the_matrix_expects_what_the_roles_table_says():
    allowed = {(c.action, c.role) for c in MATRIX if c.allowed}
    assert {r for a, r in allowed if a == "create"} == {DESK, BRM}
    assert {r for a, r in allowed if a == "update"} == {DESK, BRM, HEAD, MREP}
    assert {r for a, r in allowed if a == "list"} == {r.value for r in Role}
    assert not {r for a, r in allowed if r in (NO_ROLE, ANONYMOUS)}


@pytest.mark.parametrize("role", [DESK, Role.PROCESS_OWNER, AUDITOR, ANONYMOUS])
def test_there_is_no_delete(api_client, role):
    complaint = make_complaint()
    if role != ANONYMOUS:
        as_role(api_client, role)
    with assert_nothing_written(Complaint, ComplaintEvent):
        response = api_client.delete(detail(complaint))
    assert response.status_code == 405 and response.json()["message"]
    assert api_client.delete(URL).status_code == 405


def test_anonymous_is_401_on_every_endpoint(api_client):
    complaint = make_complaint()
    for method, url in [
        ("get", URL),
        ("post", URL),
        ("get", detail(complaint)),
        ("patch", detail(complaint)),
        ("get", transitions(complaint)),
        ("post", transitions(complaint)),
        ("get", events(complaint)),
    ]:
        with assert_nothing_written(Complaint, ComplaintEvent):
            response = getattr(api_client, method)(url, {"action": "accept"}, format="json")
        assert response.status_code == 401, (method, url)


def test_a_role_without_complaints_gets_403_on_the_sub_resources(api_client):
    complaint = make_complaint()
    api_client.force_authenticate(user_with_role(NO_ROLE))
    assert api_client.get(events(complaint)).status_code == 403
    assert api_client.get(transitions(complaint)).status_code == 403
    with assert_nothing_written(Complaint, ComplaintEvent):
        assert api_client.post(transitions(complaint), {"action": "accept"}, format="json").status_code == 403


# --- create ----------------------------------------------------------------------------------


def test_register_computes_reference_and_deadlines(api_client):
    user = as_role(api_client, DESK)
    # Wed 2026-09-30, the day before the National Day holiday (10-01 to 10-07): one working day
    # later is Thu 10-08.
    with time_machine.travel(datetime(2026, 9, 30, 11, 0, tzinfo=SHANGHAI), tick=False):
        payload = create_payload(received_at="2026-09-30T10:00:00+08:00", category=Category.ATTITUDE)
        response = api_client.post(URL, payload, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert re.fullmatch(r"TS-202609-\d{4}", body["reference"])
    complaint = Complaint.objects.get(pk=body["id"])
    assert body["reference"] == complaint.reference
    assert body["status"] == S.REGISTERED and body["status_display"]
    assert body["escalation_level"] == 0
    assert body["owner"] == body["handler"] == user.pk and body["owner_name"] == str(user)
    assert body["organisation"] == payload["organisation"] and body["organisation_name"]
    assert body["contact"] == payload["contact"] and body["contact_name"] == complaint.contact.name
    assert body["category"] == Category.ATTITUDE
    assert datetime.fromisoformat(body["response_due_at"]) == datetime(2026, 10, 8, 10, 0, tzinfo=SHANGHAI)
    assert datetime.fromisoformat(body["resolution_due_at"]) > datetime.fromisoformat(body["response_due_at"])
    assert body["responded_at"] is None and body["resolved_at"] is None and body["closed_at"] is None
    assert body["paused"] is False and body["reopen_count"] == 0
    assert body["allowed_actions"] == ["accept", "withdraw"]
    event = complaint.events.get()
    assert (event.action, event.actor, event.to_status) == (EventKind.REGISTERED, user, S.REGISTERED)


def test_register_takes_the_optional_fields(api_client):
    as_role(api_client, BRM)
    handler = role_user(DESK)
    printing = ServiceFactory(name="Printing", status=ServiceStatus.ACCEPTED)
    payload = create_payload(
        severity=Severity.MAJOR,
        related_service=printing.pk,
        external_ticket_ref="INC-42",
        handler=handler.pk,
        channel="email",
    )
    response = api_client.post(URL, payload, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["severity"], body["related_service"], body["external_ticket_ref"]) == ("major", printing.pk, "INC-42")
    assert body["handler"] == body["owner"] == handler.pk
    # A major complaint is due within 4 working hours, well before a normal one's working day.
    due = datetime.fromisoformat(body["response_due_at"]) - datetime.fromisoformat(body["received_at"])
    assert due <= timedelta(days=4)


def test_references_count_up_within_the_month(api_client):
    as_role(api_client, DESK)
    with time_machine.travel(datetime(2026, 11, 3, 10, 0, tzinfo=SHANGHAI), tick=False):
        first = api_client.post(URL, create_payload(), format="json").json()["reference"]
        second = api_client.post(URL, create_payload(), format="json").json()["reference"]
    assert first.startswith("TS-202611-") and int(second[-4:]) == int(first[-4:]) + 1


@pytest.mark.parametrize(
    ("scenario", "field"),
    [
        ("missing_title", "title"),
        ("blank_title", "title"),
        ("contact_of_another_organisation", "contact"),
        ("bad_severity", "severity"),
        ("bad_channel", "channel"),
        ("received_in_the_future", "received_at"),
        ("received_at_not_a_date", "received_at"),
        ("organisation_is_a_supplier", "organisation"),
        ("organisation_does_not_exist", "organisation"),
        ("handler_is_an_auditor", "handler"),
        ("status_given", "status"),
        ("reference_given", "reference"),
        ("unknown_field", "colour"),
    ],
)
def test_bad_registration_is_a_400_per_field_and_writes_nothing(api_client, scenario, field):
    as_role(api_client, DESK)
    data = create_payload()
    if scenario == "missing_title":
        del data["title"]
    elif scenario == "blank_title":
        data["title"] = "  "
    elif scenario == "contact_of_another_organisation":
        data["contact"] = ContactFactory().pk
    elif scenario == "bad_severity":
        data["severity"] = "catastrophic"
    elif scenario == "bad_channel":
        data["channel"] = "pigeon"
    elif scenario == "received_in_the_future":
        data["received_at"] = "2999-01-01T10:00:00+08:00"
    elif scenario == "received_at_not_a_date":
        data["received_at"] = "yesterday"
    elif scenario == "organisation_is_a_supplier":
        supplier = OrganisationFactory(kind="supplier")
        data["organisation"] = supplier.pk
        data["contact"] = ContactFactory(organisation=supplier).pk
    elif scenario == "organisation_does_not_exist":
        data["organisation"] = 999999
    elif scenario == "handler_is_an_auditor":
        data["handler"] = user_with_role(AUDITOR).pk
    elif scenario == "status_given":
        data["status"] = S.CLOSED
    elif scenario == "reference_given":
        data["reference"] = "TS-209901-0001"
    else:
        data["colour"] = "red"
    with assert_nothing_written(Complaint, ComplaintEvent, ComplaintSequence):
        assert_invalid(api_client.post(URL, data, format="json"), field)


def test_every_bad_field_is_named_at_once(api_client):
    as_role(api_client, DESK)
    data = {**create_payload(severity="catastrophic", status="closed"), "title": ""}
    with assert_nothing_written(Complaint, ComplaintEvent):
        assert_invalid(api_client.post(URL, data, format="json"), "title", "severity", "status")


@pytest.mark.parametrize(
    "body",
    ['{"title": "Broken", ', "not json at all", '["a", "list"]', ""],
    ids=["truncated", "garbage", "list", "empty"],
)
def test_malformed_json_is_a_400_and_writes_nothing(api_client, body):
    as_role(api_client, DESK)
    complaint = make_complaint()
    for method, url in [("POST", URL), ("PATCH", detail(complaint)), ("POST", transitions(complaint))]:
        with assert_nothing_written(Complaint, ComplaintEvent, ComplaintSequence):
            response = api_client.generic(method, url, body, content_type="application/json")
        if method == "PATCH" and not body:
            assert response.status_code == 200  # an empty partial update changes nothing
            continue
        assert response.status_code == 400, (method, url, response.content)
        assert response.json()["message"]
    complaint.refresh_from_db()
    assert complaint.status == S.REGISTERED


# --- retrieve and update ---------------------------------------------------------------------


def test_retrieve_carries_every_documented_field(api_client):
    as_role(api_client, AUDITOR)
    complaint = make_complaint(S.AWAITING_FEEDBACK)
    body = api_client.get(detail(complaint)).json()
    expected = {
        "id",
        "reference",
        "title",
        "description",
        "channel",
        "organisation",
        "organisation_name",
        "contact",
        "contact_name",
        "severity",
        "category",
        "status",
        "status_display",
        "escalation_level",
        "owner",
        "handler",
        "received_at",
        "response_due_at",
        "responded_at",
        "resolution_due_at",
        "resolved_at",
        "closed_at",
        "paused",
        "root_cause",
        "remedial_actions",
        "result",
        "improvement_plans",
        "result_satisfaction",
        "result_settled",
        "reopen_count",
        "allowed_actions",
    }
    assert expected <= set(body)
    assert body["status"] == S.AWAITING_FEEDBACK and body["paused"] is True
    assert body["remedial_actions"] == "replaced the router" and body["responded_at"]
    assert body["allowed_actions"] == []  # auditors read, never act


def test_patch_edits_the_details_and_writes_an_event(api_client):
    from auditlog.models import LogEntry

    user = as_role(api_client, BRM)
    complaint = make_complaint()
    before_due = complaint.response_due_at
    response = api_client.patch(
        detail(complaint),
        {"title": "Printer queue lost for a day", "severity": Severity.MAJOR, "category": Category.SLA_BREACH},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["title"], body["severity"], body["category"]) == (
        "Printer queue lost for a day",
        "major",
        "sla_breach",
    )
    complaint.refresh_from_db()
    assert complaint.title == "Printer queue lost for a day"
    assert complaint.response_due_at < before_due  # a major complaint is due sooner
    assert datetime.fromisoformat(body["response_due_at"]) == complaint.response_due_at
    event = complaint.events.order_by("-pk").first()
    assert (event.action, event.actor) == (EventKind.EDITED, user)
    assert set(event.data["fields"]) == {"title", "severity", "category"}
    assert LogEntry.objects.get_for_object(complaint).filter(actor=user).exists()


def test_put_replaces_the_editable_details(api_client):
    as_role(api_client, DESK)
    complaint = make_complaint()
    handler = user_with_role(BRM)
    service = ServiceFactory(status=ServiceStatus.ACCEPTED).pk
    data = {**edit_payload(), "handler": handler.pk, "root_cause": "a full queue", "related_service": service}
    response = api_client.put(detail(complaint), data, format="json")
    assert response.status_code == 200, response.content
    complaint.refresh_from_db()
    assert (complaint.title, complaint.handler, complaint.root_cause) == (data["title"], handler, "a full queue")
    assert complaint.owner == handler  # at the desk level the handler owns it
    assert_invalid(api_client.put(detail(complaint), {"title": "only a title"}, format="json"), "description")


def test_patch_without_changes_writes_no_event(api_client):
    as_role(api_client, DESK)
    complaint = make_complaint()
    with assert_nothing_written(ComplaintEvent):
        response = api_client.patch(detail(complaint), {"title": complaint.title}, format="json")
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("status", S.CLOSED),
        ("reference", "TS-209901-0001"),
        ("escalation_level", 3),
        ("owner", None),
        ("response_due_at", "2099-01-01T00:00:00+08:00"),
        ("resolution_due_at", "2099-01-01T00:00:00+08:00"),
        ("responded_at", "2026-01-01T00:00:00+08:00"),
        ("closed_at", "2026-01-01T00:00:00+08:00"),
        ("result_satisfaction", 5),
        ("result_settled", True),
        ("reopen_count", 7),
        ("organisation", None),
        ("contact", None),
    ],
)
def test_patch_of_a_field_the_workflow_owns_is_a_400_and_changes_nothing(api_client, field, value):
    as_role(api_client, DESK)
    complaint = make_complaint()
    before = Complaint.objects.filter(pk=complaint.pk).values().get()
    if value is None:
        value = OrganisationFactory().pk if field == "organisation" else role_user(BRM).pk
    with assert_nothing_written(Complaint, ComplaintEvent):
        body = assert_invalid(
            api_client.patch(detail(complaint), {"title": "Sneaky rename", field: value}, format="json"), field
        )
    assert list(body["errors"]) == [field]
    assert Complaint.objects.filter(pk=complaint.pk).values().get() == before
    if field == "status":
        assert "transitions" in body["errors"]["status"][0]


def test_a_finished_complaint_cannot_be_edited(api_client):
    as_role(api_client, DESK)
    complaint = make_complaint(S.CLOSED)
    with assert_nothing_written(Complaint, ComplaintEvent):
        assert_invalid(api_client.patch(detail(complaint), {"title": "Too late"}, format="json"), "non_field_errors")


def test_bad_edit_is_a_400_per_field(api_client):
    as_role(api_client, DESK)
    complaint = make_complaint()
    with assert_nothing_written(Complaint, ComplaintEvent):
        assert_invalid(
            api_client.patch(detail(complaint), {"severity": "huge", "channel": "", "handler": 999999}, format="json"),
            "severity",
            "channel",
            "handler",
        )


# --- transitions -----------------------------------------------------------------------------


def act(api_client, complaint, action: str, **inputs):
    return api_client.post(transitions(complaint), {"action": action, **inputs}, format="json")


def test_walk_from_registered_to_closed_then_reopen_and_withdraw(api_client):
    complaint = make_complaint()
    desk, brm, head, mrep = (role_user(role) for role in (DESK, BRM, HEAD, MREP))

    def step(user, action, expected_status, **inputs):
        api_client.force_authenticate(user)
        response = act(api_client, complaint, action, **inputs)
        assert response.status_code == 200, (action, response.content)
        body = response.json()
        assert body["status"] == expected_status, action
        assert body["id"] == complaint.pk
        return body

    body = step(desk, "accept", S.ACCEPTED, note="called the customer back")
    assert body["responded_at"] and body["owner"] == desk.pk
    assert body["allowed_actions"] == ["investigate", "withdraw"]
    step(desk, "investigate", S.INVESTIGATING)
    body = step(desk, "escalate", S.ESCALATED, note="needs the account manager", owner=brm.pk)
    assert (body["escalation_level"], body["owner"]) == (1, brm.pk)
    body = step(
        brm, "remedy", S.AWAITING_FEEDBACK, diagnosis="a full spool", remedial_actions="re-routed the print queue"
    )
    assert body["paused"] is True and body["remedial_actions"] == "re-routed the print queue"
    body = step(brm, "customer_unsatisfied", S.ESCALATED, note="still losing jobs", owner=head.pk)
    assert (body["escalation_level"], body["owner"], body["paused"]) == (2, head.pk, False)
    step(head, "remedy", S.AWAITING_FEEDBACK, remedial_actions="replaced the print server")
    body = step(
        mrep, "customer_satisfied", S.ANALYSIS, category=Category.RESOLUTION_QUALITY, root_cause="an old print server"
    )
    assert (body["category"], body["root_cause"]) == ("resolution_quality", "an old print server")
    body = step(brm, "plan_improvement", S.IMPROVEMENT_PLANNED, new_plan_title="Replace the print servers")
    assert [(plan["title"], plan["status"]) for plan in body["improvement_plans"]] == [
        ("Replace the print servers", "draft")
    ]
    body = step(brm, "resolve", S.RESOLVED, result="server replaced, customer compensated")
    assert body["resolved_at"] and body["result"] == "server replaced, customer compensated"
    # The customer confirms through their emailed link (recorded directly, as the factory does).
    Complaint.objects.filter(pk=complaint.pk).update(result_satisfaction=5, result_settled=True)
    body = step(desk, "close", S.CLOSED)
    assert body["closed_at"] and body["result_settled"] is True and body["result_satisfaction"] == 5
    body = step(desk, "reopen", S.INVESTIGATING, note="the fault came back")
    assert body["reopen_count"] == 1 and body["closed_at"] is None and body["resolved_at"] is None
    step(desk, "withdraw", S.WITHDRAWN, note="the customer withdrew")

    walked = [
        "accept",
        "investigate",
        "escalate",
        "remedy",
        "customer_unsatisfied",
        "remedy",
        "customer_satisfied",
        "plan_improvement",
        "resolve",
        "close",
        "reopen",
        "withdraw",
    ]
    # The BR manager's straight way up needs a complaint at level 1: a second one walks it.
    brm_complaint = make_complaint(AT_BRM)
    api_client.force_authenticate(brm)
    response = act(api_client, brm_complaint, "escalate_mrep", note="the customer's board asks")
    assert response.status_code == 200 and response.json()["escalation_level"] == 3, response.content
    assert {*walked, "escalate_mrep"} == set(TRANSITIONS), "every action is walked at least once"

    # The timeline lists every step in order, with who did it.
    api_client.force_authenticate(role_user(AUDITOR))
    response = api_client.get(events(complaint))
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["action"] for row in rows] == [EventKind.REGISTERED, *walked]
    actors = [desk, desk, desk, desk, brm, brm, head, mrep, brm, brm, desk, desk, desk]
    assert [row["actor"] for row in rows] == [user.pk for user in actors]
    assert rows[0]["from_status"] is None and rows[0]["to_status"] == S.REGISTERED
    assert [(row["from_status"], row["to_status"]) for row in rows[1:3]] == [
        (S.REGISTERED, S.ACCEPTED),
        (S.ACCEPTED, S.INVESTIGATING),
    ]
    assert rows[1]["note"] == "called the customer back" and rows[1]["actor_name"] == str(desk)
    assert rows[3]["note"] == "needs the account manager"
    assert all(row["action_display"] for row in rows)
    assert [row["created_at"] for row in rows] == sorted(row["created_at"] for row in rows)


def _source_state(action: str) -> str:
    """A state the action leaves from (with the shortest path in the factory)."""
    return S.REGISTERED if action == "withdraw" else sorted(TRANSITIONS[action].sources)[0]


def _refusing_state(action: str) -> str:
    return {"accept": S.INVESTIGATING, "withdraw": S.CLOSED}.get(action, S.REGISTERED)


def _inputs(action: str) -> dict:
    return {
        "accept": {},
        "investigate": {},
        "escalate": {"note": "reason"},
        "escalate_mrep": {"note": "reason"},
        "remedy": {"diagnosis": "found", "remedial_actions": "done"},
        "customer_satisfied": {"category": Category.OTHER, "root_cause": "cause"},
        "customer_unsatisfied": {"note": "unhappy"},
        "plan_improvement": {"new_plan_title": "Night cover"},
        "resolve": {"result": "fixed"},
        "close": {},
        "reopen": {"note": "again"},
        "withdraw": {"note": "withdrawn"},
    }[action]


@pytest.mark.parametrize("action", list(TRANSITIONS))
def test_every_action_is_refused_from_a_state_the_table_forbids(api_client, action):
    complaint = make_complaint(_refusing_state(action))
    assert complaint.status not in TRANSITIONS[action].sources
    as_role(api_client, sorted(TRANSITIONS[action].roles)[0])  # a role that may, so the state decides
    with assert_nothing_written(Complaint, ComplaintEvent):
        body = assert_invalid(act(api_client, complaint, action, **_inputs(action)), "action")
    assert complaint.get_status_display() in body["errors"]["action"][0]
    assert Complaint.objects.get(pk=complaint.pk).status == complaint.status


def _refused_role(action: str) -> str:
    """A role that may change complaints but not perform ``action``; else the auditor."""
    for role in (HEAD, MREP, DESK, BRM):
        if role not in TRANSITIONS[action].roles:
            return role
    return AUDITOR


@pytest.mark.parametrize("action", list(TRANSITIONS))
def test_every_action_is_refused_to_a_role_that_may_not(api_client, action):
    complaint = make_complaint(_source_state(action))
    if action == "close":
        Complaint.objects.filter(pk=complaint.pk).update(result_settled=True)
    as_role(api_client, _refused_role(action))
    with assert_nothing_written(Complaint, ComplaintEvent):
        response = act(api_client, complaint, action, **_inputs(action))
    assert response.status_code == 403, response.content
    assert response.json()["message"]
    assert Complaint.objects.get(pk=complaint.pk).status == complaint.status


@pytest.mark.parametrize("role", [AUDITOR, HEAD, MREP, Role.QUALITY_MANAGER])
def test_accept_is_refused_to_roles_other_than_desk_and_brm(api_client, role):
    complaint = make_complaint()
    as_role(api_client, role)
    with assert_nothing_written(Complaint, ComplaintEvent):
        response = act(api_client, complaint, "accept")
    assert response.status_code == 403 and response.json()["message"]
    if role == HEAD:
        assert "Accept" in response.json()["message"] or "受理" in response.json()["message"]


@pytest.mark.parametrize(
    ("status", "action", "inputs", "field"),
    [
        (S.ANALYSIS, "resolve", {}, "result"),
        (S.ANALYSIS, "resolve", {"result": "   "}, "result"),
        (S.INVESTIGATING, "escalate", {}, "note"),
        (S.INVESTIGATING, "remedy", {}, "remedial_actions"),
        (S.AWAITING_FEEDBACK, "customer_satisfied", {"category": Category.OTHER}, "root_cause"),
        (S.AWAITING_FEEDBACK, "customer_satisfied", {"root_cause": "cause"}, "category"),
        (S.AWAITING_FEEDBACK, "customer_unsatisfied", {}, "note"),
        (S.ANALYSIS, "plan_improvement", {}, "plan"),
        (S.RESOLVED, "reopen", {}, "note"),
        (S.REGISTERED, "withdraw", {}, "note"),
        (S.RESOLVED, "close", {}, "action"),  # the customer has not confirmed yet
    ],
)
def test_a_missing_required_input_is_a_400_naming_it(api_client, status, action, inputs, field):
    complaint = make_complaint(status)
    as_role(api_client, BRM)
    with assert_nothing_written(Complaint, ComplaintEvent):
        assert_invalid(act(api_client, complaint, action, **inputs), field)
    assert Complaint.objects.get(pk=complaint.pk).status == status


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "teleport"}, "action"),
        ({"action": ""}, "action"),
        ({}, "action"),
        ({"note": "no action given"}, "action"),
        ({"action": "accept", "result": "not an input of accept"}, "result"),
        ({"action": "accept", "colour": "red"}, "colour"),
        ({"action": "accept", "status": "closed"}, "status"),
        ({"action": "escalate", "note": "n", "owner": "abc"}, "owner"),
        ({"action": "escalate", "note": "n", "owner": 999999}, "owner"),
        ({"action": "escalate", "note": "n", "owner": "DESK-USER"}, "owner"),  # the wrong role for level 1
        ({"action": "customer_satisfied", "category": "weather"}, "category"),
    ],
)
def test_an_unknown_action_or_input_is_a_400_naming_it(api_client, body, field):
    complaint = make_complaint(S.INVESTIGATING if body.get("action") == "escalate" else S.REGISTERED)
    user = as_role(api_client, DESK)
    if body.get("owner") == "DESK-USER":
        body = {**body, "owner": user.pk}
    with assert_nothing_written(Complaint, ComplaintEvent):
        assert_invalid(api_client.post(transitions(complaint), body, format="json"), field)


def test_transitions_of_an_unknown_complaint_are_a_404(api_client):
    as_role(api_client, DESK)
    missing = (Complaint.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1000
    for method in ("get", "post"):
        response = getattr(api_client, method)(f"{URL}{missing}/transitions/", {"action": "accept"}, format="json")
        assert response.status_code == 404 and response.json()["message"]
    response = api_client.get(f"{URL}{missing}/events/")
    assert response.status_code == 404 and response.json()["message"]


def test_get_transitions_lists_the_moves_open_to_the_caller_with_their_inputs(api_client):
    registered, awaiting = make_complaint(), make_complaint(S.AWAITING_FEEDBACK)
    as_role(api_client, DESK)
    moves = api_client.get(transitions(registered)).json()
    assert [m["action"] for m in moves] == ["accept", "withdraw"]
    withdraw = moves[1]
    assert withdraw["target"] == S.WITHDRAWN and withdraw["requires"] == ["note"] and withdraw["label"]
    satisfied = {m["action"]: m for m in api_client.get(transitions(awaiting)).json()}["customer_satisfied"]
    assert satisfied["requires"] == ["category", "root_cause"]
    assert satisfied["accepts"] == ["note", "category", "root_cause"]

    as_role(api_client, HEAD)
    assert api_client.get(transitions(registered)).json() == []
    assert [m["action"] for m in api_client.get(transitions(awaiting)).json()] == [
        "customer_satisfied",
        "customer_unsatisfied",
    ]
    as_role(api_client, AUDITOR)
    assert api_client.get(transitions(registered)).json() == []


def test_the_transition_input_is_the_workflow_tables_accepts():
    accepted = {name for t in TRANSITIONS.values() for name in t.accepts}
    assert set(ComplaintTransitionSerializer().fields) == {"action", *COMMON_INPUTS, *accepted}


def test_allowed_actions_differ_by_caller(api_client):
    complaint = make_complaint(AT_HEAD)
    # At level 2, owned by the department head: an escalation to level 3 is still open, and
    # the head as its owner may take every step its desk colleagues may.
    expected = {
        DESK: ["escalate", "remedy", "withdraw"],
        BRM: ["escalate", "remedy", "withdraw"],
        HEAD: ["escalate", "remedy", "withdraw"],
        MREP: ["remedy"],
        AUDITOR: [],
        Role.QUALITY_MANAGER: [],
    }
    for role, actions in expected.items():
        as_role(api_client, role)
        assert api_client.get(detail(complaint)).json()["allowed_actions"] == actions, role
        rows = {row["id"]: row for row in api_client.get(URL).json()["results"]}
        assert rows[complaint.pk]["allowed_actions"] == actions, role
        assert [t.action for t in services.allowed_actions(complaint, role_user(role))] == actions


def test_the_response_after_a_move_has_the_actions_that_follow(api_client):
    complaint = make_complaint(S.ANALYSIS)
    as_role(api_client, BRM)
    body = act(api_client, complaint, "resolve", result="fixed").json()
    assert body["allowed_actions"] == ["close", "reopen"]


# --- events ----------------------------------------------------------------------------------


def test_events_are_paginated_in_order(api_client):
    complaint = make_complaint(S.RESOLVED)  # registered, then five moves
    other = make_complaint()
    as_role(api_client, Role.QUALITY_MANAGER)
    first = api_client.get(events(complaint), {"page_size": 4}).json()
    second = api_client.get(first["next"]).json()
    assert first["count"] == 6 and len(first["results"]) == 4 and second["next"] is None
    rows = first["results"] + second["results"]
    assert [row["action"] for row in rows] == [
        EventKind.REGISTERED,
        "accept",
        "investigate",
        "remedy",
        "customer_satisfied",
        "resolve",
    ]
    assert [row["id"] for row in rows] == list(
        complaint.events.order_by("created_at", "pk").values_list("pk", flat=True)
    )
    assert ids(api_client.get(events(other))) == list(other.events.values_list("pk", flat=True))


def test_events_are_read_only(api_client):
    complaint = make_complaint()
    as_role(api_client, DESK)
    with assert_nothing_written(ComplaintEvent):
        for method in ("post", "put", "patch", "delete"):
            assert getattr(api_client, method)(events(complaint), {}, format="json").status_code == 405


# --- lists: filters, search, ordering, query count -------------------------------------------


def test_list_runs_a_constant_number_of_queries(api_client):
    states = itertools.cycle([S.REGISTERED, S.INVESTIGATING, AT_BRM, S.RESOLVED])
    organisations = itertools.cycle([OrganisationFactory() for _ in range(3)])

    def complaints(n):
        for _ in range(n):
            make_complaint(next(states), contact=ContactFactory(organisation=next(organisations)))

    api_client.force_login(role_user(DESK))  # a real session: its queries count too
    count = assert_constant_queries(api_client, f"{URL}?page_size=100", complaints, few=5, many=50)
    print("complaints API list queries:", count)
    assert count <= 8


def test_filters(api_client):
    org, other_org = OrganisationFactory(), OrganisationFactory()
    zhang = ContactFactory(organisation=org, name="Zhang Wei")
    registered = make_complaint(contact=zhang, title="VPN drops every hour")
    major = make_complaint(S.INVESTIGATING, severity=Severity.MAJOR, contact=ContactFactory(organisation=other_org))
    closed = make_complaint(S.CLOSED, contact=ContactFactory(organisation=org))
    as_role(api_client, AUDITOR)

    def listed(**params):
        return set(ids(api_client.get(URL, params)))

    assert listed() == {registered.pk, major.pk, closed.pk}
    assert listed(status=S.REGISTERED) == {registered.pk}
    assert set(ids(api_client.get(f"{URL}?status=registered&status=closed"))) == {registered.pk, closed.pk}
    assert listed(severity=Severity.MAJOR) == {major.pk}
    assert listed(organisation=org.pk) == {registered.pk, closed.pk}
    assert listed(open="true") == {registered.pk, major.pk}
    assert listed(escalation_level=0, status=S.INVESTIGATING) == {major.pk}
    assert listed(search="vpn") == {registered.pk}
    assert listed(search="zhang") == {registered.pk}
    assert listed(search=major.reference) == {major.pk}
    assert listed(q="VPN drops") == {registered.pk}
    assert listed(owner=registered.owner_id) >= {registered.pk}


def test_overdue_filter_follows_the_clock(api_client):
    # Mon 2026-11-02 10:00: a normal complaint is due for a response by Tue 10:00.
    with time_machine.travel(datetime(2026, 11, 2, 10, 0, tzinfo=SHANGHAI), tick=False):
        waiting = make_complaint()
        accepted = make_complaint(S.ACCEPTED)
    as_role(api_client, DESK)
    with time_machine.travel(datetime(2026, 11, 2, 17, 0, tzinfo=SHANGHAI), tick=False):
        assert set(ids(api_client.get(URL, {"overdue": "true"}))) == set()
        assert set(ids(api_client.get(URL, {"overdue": "false"}))) == {waiting.pk, accepted.pk}
    with time_machine.travel(datetime(2026, 11, 4, 9, 30, tzinfo=SHANGHAI), tick=False):
        assert set(ids(api_client.get(URL, {"overdue": "true"}))) == {waiting.pk}
        assert set(ids(api_client.get(URL, {"overdue": "false"}))) == {accepted.pk}


def test_received_date_range_and_ordering(api_client):
    early = make_complaint(received_at=datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI), title="B early")
    late = make_complaint(received_at=datetime(2026, 3, 20, 10, 0, tzinfo=SHANGHAI), title="A late")
    as_role(api_client, AUDITOR)
    assert ids(api_client.get(URL)) == [late.pk, early.pk]  # newest first
    assert ids(api_client.get(URL, {"ordering": "received_at"})) == [early.pk, late.pk]
    assert ids(api_client.get(URL, {"ordering": "-reference"})) == [late.pk, early.pk]
    assert ids(api_client.get(URL, {"received_after": "2026-03-10"})) == [late.pk]
    assert ids(api_client.get(URL, {"received_before": "2026-03-10"})) == [early.pk]
    assert ids(api_client.get(URL, {"ordering": "no_such_field"})) == [late.pk, early.pk]


@pytest.mark.parametrize(
    "params",
    [{"status": "lost"}, {"severity": "huge"}, {"organisation": "abc"}, {"received_after": "March"}],
)
def test_a_bad_filter_value_is_a_400_naming_it(api_client, params):
    as_role(api_client, AUDITOR)
    assert_invalid(api_client.get(URL, params), *params)


def test_pagination(api_client):
    for _ in range(7):
        make_complaint()
    as_role(api_client, AUDITOR)
    first = api_client.get(URL, {"page_size": 5}).json()
    second = api_client.get(first["next"]).json()
    assert first["count"] == 7 and len(first["results"]) == 5 and len(second["results"]) == 2
    assert not {r["id"] for r in first["results"]} & {r["id"] for r in second["results"]}


# --- schema ----------------------------------------------------------------------------------


def test_schema_generates_without_warnings_and_documents_the_transition_body(tmp_path):
    import yaml

    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    paths = schema["paths"]
    assert set(paths[URL]) >= {"get", "post"} and "delete" not in paths[f"{URL}{{id}}/"]
    post = paths[f"{URL}{{id}}/transitions/"]["post"]
    body = post["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    properties = schema["components"]["schemas"][body]["properties"]
    assert {"action", "note", "owner", "result", "remedial_actions", "root_cause", "category"} <= set(properties)
    assert {"200", "400", "403", "404"} <= set(post["responses"])
    events_schema = paths[f"{URL}{{id}}/events/"]["get"]["responses"]["200"]["content"]["application/json"]
    assert events_schema["schema"]["$ref"].endswith("PaginatedComplaintEventList")
    names = {p["name"] for p in paths[URL]["get"]["parameters"]}
    assert {"status", "severity", "organisation", "overdue", "search", "ordering", "page"} <= names


# --- browsable API ---------------------------------------------------------------------------


def test_the_browsable_api_renders_every_endpoint(api_client):
    complaint = make_complaint(S.INVESTIGATING)
    api_client.force_login(role_user(DESK))
    for url in [URL, detail(complaint), transitions(complaint), events(complaint)]:
        response = api_client.get(url, HTTP_ACCEPT="text/html")
        assert response.status_code == 200, url
        assert response["Content-Type"].startswith("text/html")


# --- the related service and the diagnosis result --------------------------------------------


def test_the_related_service_is_a_catalogue_id_with_its_name_and_the_text_as_recorded(api_client):
    service = ServiceFactory(code="net-wan", name="广域网专线服务", status=ServiceStatus.ACCEPTED)
    linked = make_complaint(related_service=service)
    recorded = make_complaint(related_service_text="远程接入")
    as_role(api_client, AUDITOR)
    body = api_client.get(detail(linked)).json()
    assert (body["related_service"], body["related_service_name"], body["related_service_text"]) == (
        service.pk,
        "广域网专线服务",
        "",
    )
    body = api_client.get(detail(recorded)).json()
    assert (body["related_service"], body["related_service_name"], body["related_service_text"]) == (
        None,
        None,
        "远程接入",
    )
    assert ids(api_client.get(URL, {"related_service": service.pk})) == [linked.pk]


def test_only_a_service_in_use_can_be_named_and_the_recorded_text_is_read_only(api_client):
    retired = ServiceFactory(status=ServiceStatus.RETIRED)
    proposed = ServiceFactory()
    as_role(api_client, DESK)
    payloads = [create_payload(related_service=value) for value in (retired.pk, proposed.pk, "VPN")]
    recorded = create_payload(related_service_text="VPN")
    with assert_nothing_written(Complaint, ComplaintEvent):
        for payload in payloads:
            assert_invalid(api_client.post(URL, payload, format="json"), "related_service")
        body = assert_invalid(api_client.post(URL, recorded, format="json"), "related_service_text")
    assert (
        "read-only" in body["errors"]["related_service_text"][0] or "只读" in body["errors"]["related_service_text"][0]
    )
    # A complaint naming a service retired since keeps it through a PUT of what it has.
    in_use = ServiceFactory(status=ServiceStatus.ACCEPTED)
    complaint = make_complaint(related_service=in_use)
    in_use.__class__.objects.filter(pk=in_use.pk).update(status=ServiceStatus.RETIRED)
    response = api_client.patch(detail(complaint), {"related_service": in_use.pk, "title": "Renamed"}, format="json")
    assert response.status_code == 200, response.content
    assert_invalid(
        api_client.patch(detail(complaint), {"related_service": retired.pk}, format="json"), "related_service"
    )
    assert (
        api_client.patch(detail(complaint), {"related_service": None}, format="json").json()["related_service"] is None
    )


def test_remedy_takes_the_diagnosis_result_and_needs_it(api_client):
    complaint = make_complaint(S.INVESTIGATING)
    as_role(api_client, DESK)
    with assert_nothing_written(Complaint, ComplaintEvent):
        assert_invalid(act(api_client, complaint, "remedy", remedial_actions="replaced the router"), "diagnosis")
    moves = {m["action"]: m for m in api_client.get(transitions(complaint)).json()}
    assert moves["remedy"]["requires"] == ["diagnosis", "remedial_actions"]
    assert moves["remedy"]["accepts"] == ["note", "diagnosis", "remedial_actions"]
    response = act(api_client, complaint, "remedy", diagnosis="a faulty router", remedial_actions="replaced it")
    assert response.status_code == 200, response.content
    assert response.json()["diagnosis"] == "a faulty router"
    assert Complaint.objects.get(pk=complaint.pk).diagnosis == "a faulty router"
