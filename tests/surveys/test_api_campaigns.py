"""The campaign API: /api/v1/campaigns/ (+ transitions, events, audience), /api/v1/invitations/
and /api/v1/answers/ (SPEC §9, issue 4 item 8).

Campaigns move only through ``{id}/transitions/`` and the real workflow service; the status,
its timestamps and ``approved_by`` are refused with a 400 naming them in every write.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from itsm.core.models import Notification
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
from surveys.choices import AudienceMode, CampaignStatus, InvitationStatus, QuestionKind
from surveys.models import (
    Answer,
    Campaign,
    CampaignDepartmentRatio,
    CampaignEvent,
    Invitation,
    Questionnaire,
)
from surveys.services.campaigns import campaign_create, campaign_transition
from surveys.workflow import TRANSITIONS
from tests.factories import ContactFactory, DepartmentFactory, OrganisationFactory
from tests.surveys.campaign_flow import build_questionnaire
from tests.surveys.factories import (
    AnswerFactory,
    CampaignFactory,
    InvitationFactory,
    OptionFactory,
    QuestionFactory,
    QuestionnaireFactory,
    ResponseFactory,
)

pytestmark = pytest.mark.django_db

S = CampaignStatus
URL = "/api/v1/campaigns/"
INVITATIONS = "/api/v1/invitations/"
ANSWERS = "/api/v1/answers/"
OWNER, QUALITY, BRM = Role.SATISFACTION_OWNER, Role.QUALITY_MANAGER, Role.BR_MANAGER
AUDITOR, DESK = Role.AUDITOR, Role.SERVICE_DESK
READERS = {
    Role.DEPARTMENT_HEAD,
    Role.MANAGEMENT_REP,
    Role.PROCESS_OWNER,
    Role.SERVICE_LEVEL_MANAGER,
    AUDITOR,
}

_n = itertools.count(1)


def detail(campaign) -> str:
    return f"{URL}{campaign.pk}/"


def transitions(campaign) -> str:
    return f"{URL}{campaign.pk}/transitions/"


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def assert_invalid(response, *fields: str) -> dict:
    assert response.status_code == 400, response.content
    body = response.json()
    assert isinstance(body["message"], str) and body["message"]
    for field in fields:
        # Errors of a list item are keyed by their path: ``department_ratios.0.percent``.
        keys = [key for key in body["errors"] if key == field or key.startswith(f"{field}.")]
        assert keys, body
        for key in keys:
            messages = body["errors"][key]
            assert isinstance(messages, list) and messages and all(isinstance(m, str) for m in messages), body
    return body


def as_role(api_client, role: str):
    user = user_with_role(role)
    api_client.force_authenticate(user)
    return user


def closes() -> str:
    return (timezone.now() + timedelta(days=21)).isoformat()


def create_payload(**changes) -> dict:
    data = {
        "kind": "half_yearly",
        "title": f"Half-yearly survey {next(_n)}",
        "questionnaire": QuestionnaireFactory().pk,
        "closes_at": closes(),
    }
    return {**data, **changes}


# --- campaigns in each state, moved by the real services ---------------------------------------

PATH = ["submit", "approve", "launch", "close", "publish", "analyse"]
STATE_AFTER = {action: TRANSITIONS[action].target for action in PATH}


class Cast:
    """The people of one campaign: its owner (satisfaction owner) and a reviewer (BR manager)."""

    def __init__(self) -> None:
        n = next(_n)
        self.owner = user_with_role(OWNER, email=f"owner{n}@staff.example")
        self.reviewer = user_with_role(BRM, email=f"reviewer{n}@staff.example")
        self.stakeholder = user_with_role(Role.MANAGEMENT_REP, email=f"stakeholder{n}@staff.example")

    def actor(self, action: str):
        return self.reviewer if action in ("approve", "return") else self.owner


def planned(cast: Cast, *, contacts: int = 3, **fields) -> Campaign:
    """A draft with a ready questionnaire, an organisation of ``contacts`` contacts and a stakeholder."""
    organisation = OrganisationFactory()
    department = DepartmentFactory(organisation=organisation)
    ContactFactory.create_batch(contacts, organisation=organisation, department=department)
    fields.setdefault("kind", "half_yearly")
    fields.setdefault("title", f"Campaign {next(_n)}")
    fields.setdefault("closes_at", timezone.now() + timedelta(days=14))
    fields.setdefault("questionnaire", build_questionnaire())
    return campaign_create(actor=cast.owner, organisations=[organisation], stakeholders=[cast.stakeholder], **fields)


def campaign_in(status: str, cast: Cast | None = None, **fields) -> Campaign:
    cast = cast or Cast()
    campaign = planned(cast, **fields)
    for action in PATH:
        if campaign.status == status:
            break
        inputs = {"analysis": "Waiting times drive the ratings."} if action == "analyse" else {}
        campaign = campaign_transition(campaign=campaign, action=action, actor=cast.actor(action), **inputs)
    assert campaign.status == status
    return campaign


def act(api_client, campaign, action: str, **inputs):
    return api_client.post(transitions(campaign), {"action": action, **inputs}, format="json")


# --- access ----------------------------------------------------------------------------------

CAMPAIGNS = Resource.for_model(Campaign, CampaignFactory, pages=(), api_payload=create_payload)
INVITATION_RESOURCE = Resource.for_model(
    Invitation, InvitationFactory, pages=(), api_basename="invitation", api_payload=dict
)
ANSWER_RESOURCE = Resource.for_model(Answer, AnswerFactory, pages=(), api_basename="answer", api_payload=dict)


def test_resource_urls_are_the_documented_ones():
    assert CAMPAIGNS.api_url() == URL and CAMPAIGNS.api_url(7) == f"{URL}7/"
    assert INVITATION_RESOURCE.api_url() == INVITATIONS and ANSWER_RESOURCE.api_url(3) == f"{ANSWERS}3/"


@pytest.mark.parametrize("case", api_matrix(CAMPAIGNS), ids=str)
def test_campaign_api_access(api_client, case):
    check_api_access(api_client, case)


# Invitations and answers are read only: a write is refused (403) to every role, as no role
# holds a write permission on them.
@pytest.mark.parametrize("case", api_matrix(INVITATION_RESOURCE, ANSWER_RESOURCE), ids=str)
def test_invitation_and_answer_api_access(api_client, case):
    check_api_access(api_client, case)


def test_the_matrix_expects_what_the_roles_table_says():
    cases = api_matrix(CAMPAIGNS, INVITATION_RESOURCE, ANSWER_RESOURCE)
    allowed = {(c.resource.name, c.action, c.role) for c in cases if c.allowed}
    planners = {OWNER.value, QUALITY.value}
    assert {r for n, a, r in allowed if n == "campaign" and a == "create"} == planners
    assert {r for n, a, r in allowed if n == "campaign" and a == "update"} == planners | {BRM.value}
    assert {r for n, a, r in allowed if n == "campaign" and a == "destroy"} == planners
    readers = {r.value for r in Role} - {DESK.value}
    for name in ("campaign", "invitation", "answer"):
        assert {r for n, a, r in allowed if n == name and a == "list"} == readers
    assert not {(n, a) for n, a, r in allowed if n != "campaign" and a not in ("list", "retrieve")}
    assert not {r for n, a, r in allowed if r in (NO_ROLE, ANONYMOUS)}


def test_anonymous_is_401_on_every_endpoint(api_client):
    campaign = CampaignFactory()
    for method, url in [
        ("get", URL),
        ("post", URL),
        ("get", detail(campaign)),
        ("patch", detail(campaign)),
        ("get", transitions(campaign)),
        ("post", transitions(campaign)),
        ("get", f"{detail(campaign)}events/"),
        ("get", f"{detail(campaign)}audience/"),
        ("get", INVITATIONS),
        ("get", ANSWERS),
    ]:
        response = getattr(api_client, method)(url, {}, format="json")
        assert response.status_code == 401, (method, url)
        assert response.json()["message"]


def test_the_service_desk_gets_403_on_the_sub_resources(api_client):
    campaign = CampaignFactory()
    as_role(api_client, DESK)
    with assert_nothing_written(Campaign, CampaignEvent):
        for method, url in [
            ("get", transitions(campaign)),
            ("post", transitions(campaign)),
            ("get", f"{detail(campaign)}events/"),
            ("get", f"{detail(campaign)}audience/"),
        ]:
            response = getattr(api_client, method)(url, {"action": "submit"}, format="json")
            assert response.status_code == 403, (method, url)
            assert response.json()["message"]


# --- create and edit ---------------------------------------------------------------------------


def test_create_writes_a_draft_through_the_service(api_client):
    user = as_role(api_client, OWNER)
    organisation = OrganisationFactory()
    department = DepartmentFactory(organisation=organisation)
    stakeholder = user_with_role(Role.MANAGEMENT_REP)
    questionnaire = QuestionnaireFactory(title="Service survey")
    body = create_payload(
        questionnaire=questionnaire.pk,
        domain="Desktop support",
        objective="Know what customers think of the desk.",
        audience_mode=AudienceMode.SAMPLE,
        sample_percent=50,
        organisations=[organisation.pk],
        department_ratios=[{"department": department.pk, "percent": 80}],
        stakeholders=[stakeholder.pk],
        reminder_days=[7, 3],
    )
    response = api_client.post(URL, body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    campaign = Campaign.objects.get(pk=data["id"])
    assert campaign.status == S.DRAFT and campaign.owner == user
    assert data["status"] == S.DRAFT and data["owner"] == user.pk
    assert data["questionnaire"] == questionnaire.pk and data["questionnaire_label"] == "Service survey v1"
    assert data["organisations"] == [organisation.pk]
    assert data["stakeholders"] == [stakeholder.pk]
    assert data["department_ratios"] == [
        {"department": department.pk, "department_name": department.name, "percent": 80}
    ]
    assert data["reminder_days"] == [3, 7]  # sorted by the model
    assert (data["invited"], data["sent"], data["answered"], data["response_rate"]) == (0, 0, 0, None)
    assert data["allowed_actions"] == ["submit"]
    assert data["approved_by"] is None and data["submitted_at"] is None


def test_create_may_name_another_owner(api_client):
    as_role(api_client, QUALITY)
    owner = user_with_role(OWNER)
    response = api_client.post(URL, create_payload(owner=owner.pk), format="json")
    assert response.status_code == 201 and response.json()["owner"] == owner.pk


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": None}, "title"),
        ({"kind": "weekly"}, "kind"),
        ({"questionnaire": 999999}, "questionnaire"),
        ({"questionnaire": "abc"}, "questionnaire"),
        ({"closes_at": "next week"}, "closes_at"),
        ({"closes_at": "2001-01-01T00:00:00Z"}, "closes_at"),
        ({"sample_percent": 0}, "sample_percent"),
        ({"sample_percent": 101}, "sample_percent"),
        ({"reminder_days": [0]}, "reminder_days"),
        ({"reminder_days": [3, 3]}, "reminder_days"),
        ({"reminder_days": [1, 2, 3, 4, 5, 6]}, "reminder_days"),
        ({"reminder_days": "3,7"}, "reminder_days"),
        ({"organisations": [999999]}, "organisations"),
        ({"stakeholders": ["x"]}, "stakeholders"),
        ({"department_ratios": [{"department": 999999, "percent": 10}]}, "department_ratios"),
        ({"department_ratios": [{"department": "DEPT", "percent": 101}]}, "department_ratios"),
        ({"department_ratios": [{"department": "DEPT", "percent": 5}] * 2}, "department_ratios"),
        ({"audience_mode": "everyone"}, "audience_mode"),
        ({"status": S.APPROVED}, "status"),
        ({"approved_by": "ME"}, "approved_by"),
        ({"launched_at": "2030-01-01T00:00:00Z"}, "launched_at"),
        ({"invited": 5}, "invited"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_create_is_a_400_naming_the_field_and_writes_nothing(api_client, changes, field):
    user = as_role(api_client, OWNER)
    department = DepartmentFactory()
    for key, value in list(changes.items()):
        if value == "ME":
            changes[key] = user.pk
        if key == "department_ratios":
            changes[key] = [
                {**row, "department": department.pk} if row["department"] == "DEPT" else row for row in value
            ]
    body = create_payload(**changes)
    with assert_nothing_written(Campaign, CampaignDepartmentRatio, CampaignEvent):
        assert_invalid(api_client.post(URL, body, format="json"), field)


def test_every_bad_field_is_named_at_once(api_client):
    as_role(api_client, OWNER)
    body = {"kind": "weekly", "status": S.RUNNING, "sample_percent": 500}
    with assert_nothing_written(Campaign):
        assert_invalid(
            api_client.post(URL, body, format="json"), "kind", "title", "questionnaire", "closes_at", "status"
        )


def test_status_is_read_only_and_says_where_it_changes(api_client):
    campaign = CampaignFactory()
    as_role(api_client, OWNER)
    for method in ("patch", "put"):
        payload = create_payload(status=S.APPROVED)
        with assert_nothing_written(Campaign, CampaignEvent):
            body = assert_invalid(getattr(api_client, method)(detail(campaign), payload, format="json"), "status")
        assert "transitions/" in body["errors"]["status"][0]
    assert Campaign.objects.get(pk=campaign.pk).status == S.DRAFT


@pytest.mark.parametrize(
    "field", ["submitted_at", "approved_by", "approved_at", "closed_at", "published_at", "analysed_at", "id"]
)
def test_workflow_fields_are_read_only(api_client, field):
    campaign = CampaignFactory()
    user = as_role(api_client, OWNER)
    value = user.pk if field in ("approved_by", "id") else timezone.now().isoformat()
    with assert_nothing_written(Campaign, CampaignEvent):
        assert_invalid(api_client.patch(detail(campaign), {field: value}, format="json"), field)


def test_patch_changes_the_plan_of_a_draft(api_client):
    campaign = CampaignFactory(title="Old title")
    organisation = OrganisationFactory()
    as_role(api_client, QUALITY)
    response = api_client.patch(
        detail(campaign), {"title": "New title", "organisations": [organisation.pk]}, format="json"
    )
    assert response.status_code == 200, response.content
    campaign.refresh_from_db()
    assert campaign.title == "New title" and list(campaign.organisations.all()) == [organisation]
    assert response.json()["organisations"] == [organisation.pk]
    # Relations not sent stay as they are.
    response = api_client.patch(detail(campaign), {"domain": "Network"}, format="json")
    assert response.json()["organisations"] == [organisation.pk] and response.json()["domain"] == "Network"


def test_the_plan_of_a_submitted_campaign_cannot_change_but_its_stakeholders_can(api_client):
    campaign = campaign_in(S.RUNNING)
    as_role(api_client, OWNER)
    with assert_nothing_written(Campaign, CampaignEvent):
        body = assert_invalid(api_client.patch(detail(campaign), {"title": "Too late"}, format="json"))
    assert body["errors"]["non_field_errors"]
    other = user_with_role(AUDITOR)
    response = api_client.patch(detail(campaign), {"stakeholders": [other.pk]}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["stakeholders"] == [other.pk]


def test_a_draft_never_submitted_can_be_deleted_but_not_one_with_history(api_client):
    as_role(api_client, OWNER)
    draft = CampaignFactory()
    assert api_client.delete(detail(draft)).status_code == 204
    assert not Campaign.objects.filter(pk=draft.pk).exists()
    running = campaign_in(S.RUNNING)
    with assert_nothing_written(Campaign, CampaignEvent, Invitation):
        assert_invalid(api_client.delete(detail(running)))


# --- reading ---------------------------------------------------------------------------------


def test_retrieve_carries_the_counts_and_the_callers_moves(api_client):
    cast = Cast()
    campaign = campaign_in(S.RUNNING, cast, contacts=4)
    invitations = list(campaign.invitations.order_by("pk"))
    assert len(invitations) == 4
    Invitation.objects.filter(pk__in=[i.pk for i in invitations[:3]]).update(status=InvitationStatus.SENT)
    Invitation.objects.filter(pk=invitations[0].pk).update(status=InvitationStatus.ANSWERED, answered_at=timezone.now())
    as_role(api_client, AUDITOR)
    data = api_client.get(detail(campaign)).json()
    assert (data["invited"], data["sent"], data["answered"]) == (4, 3, 1)
    assert data["response_rate"] == 33.3
    assert data["status"] == S.RUNNING and data["status_display"]
    assert data["launched_at"] and data["approved_by"] == cast.reviewer.pk
    assert data["approved_by_name"] == str(cast.reviewer)
    assert data["allowed_actions"] == []
    api_client.force_authenticate(cast.owner)
    assert api_client.get(detail(campaign)).json()["allowed_actions"] == ["close"]
    rows = {row["id"]: row for row in api_client.get(URL).json()["results"]}
    assert rows[campaign.pk]["allowed_actions"] == ["close"] and rows[campaign.pk]["response_rate"] == 33.3


def test_filters_search_and_ordering(api_client):
    questionnaire = QuestionnaireFactory()
    owner = user_with_role(OWNER)
    first = CampaignFactory(title="Network survey", kind="project", questionnaire=questionnaire, owner=owner)
    second = CampaignFactory(title="Desk survey", closes_at=timezone.now() + timedelta(days=60))
    running = campaign_in(S.RUNNING, title="Zulu survey")
    as_role(api_client, AUDITOR)

    def listed(**params):
        return set(ids(api_client.get(URL, params)))

    assert listed() == {first.pk, second.pk, running.pk}
    assert listed(status=S.RUNNING) == {running.pk}
    assert listed(kind="project") == {first.pk}
    assert listed(owner=owner.pk) == {first.pk}
    assert listed(questionnaire=questionnaire.pk) == {first.pk}
    assert listed(q="network") == {first.pk}
    after = (timezone.localdate() + timedelta(days=30)).isoformat()
    assert listed(closes_after=after) == {second.pk}
    assert listed(closes_before=after) == {first.pk, running.pk}
    assert ids(api_client.get(URL, {"ordering": "title"})) == [second.pk, first.pk, running.pk]
    assert ids(api_client.get(URL, {"ordering": "-closes_at"}))[0] == second.pk
    assert_invalid(api_client.get(URL, {"status": "lost"}), "status")
    assert_invalid(api_client.get(URL, {"closes_after": "soon"}), "closes_after")


def test_list_runs_a_constant_number_of_queries(api_client):
    questionnaires = itertools.cycle([QuestionnaireFactory() for _ in range(3)])

    def campaigns(n):
        for _ in range(n):
            organisation = OrganisationFactory()
            department = DepartmentFactory(organisation=organisation)
            campaign = CampaignFactory(questionnaire=next(questionnaires))
            campaign.organisations.add(organisation, OrganisationFactory())
            campaign.stakeholders.add(user_with_role(AUDITOR))
            CampaignDepartmentRatio.objects.create(campaign=campaign, department=department, percent=50)
            InvitationFactory.create_batch(2, campaign=campaign)

    api_client.force_login(user_with_role(OWNER))  # a real session: its queries count too
    count = assert_constant_queries(api_client, f"{URL}?page_size=100", campaigns, few=3, many=25)
    print("campaigns API list queries:", count)
    # Session and user, the caller's groups and permissions, the page count, the campaigns,
    # three prefetches (organisations, stakeholders, ratios) and one grouped invitation count.
    assert count <= 11


# --- transitions -------------------------------------------------------------------------------


def test_walk_from_draft_to_analysed_with_mail(api_client, django_capture_on_commit_callbacks):
    cast = Cast()
    campaign = planned(cast, contacts=3)

    def step(user, action, **inputs):
        api_client.force_authenticate(user)
        with django_capture_on_commit_callbacks(execute=True):
            response = act(api_client, campaign, action, **inputs)
        assert response.status_code == 200, (action, response.content)
        body = response.json()
        assert body["status"] == TRANSITIONS[action].target and body["id"] == campaign.pk
        return body

    body = step(cast.owner, "submit", note="ready for review")
    assert body["submitted_at"] and Questionnaire.objects.get(pk=campaign.questionnaire_id).is_locked
    assert Notification.objects.filter(template="surveys/email/campaign_review", recipient_email=cast.reviewer.email)
    body = step(cast.reviewer, "return", note="add the key customers")
    assert body["submitted_at"] is None
    assert Notification.objects.filter(template="surveys/email/campaign_returned", recipient_email=cast.owner.email)
    step(cast.owner, "submit")
    body = step(cast.reviewer, "approve", note="looks good")
    assert body["approved_by"] == cast.reviewer.pk and body["approved_at"]
    assert body["allowed_actions"] == []  # the reviewer cannot launch
    assert Notification.objects.filter(template="surveys/email/campaign_approved", recipient_email=cast.owner.email)
    body = step(cast.owner, "launch")
    assert body["invited"] == 3 and body["launched_at"] and body["allowed_actions"] == ["close"]
    assert Notification.objects.filter(template="surveys/email/invitation").count() == 3
    body = step(cast.owner, "close")
    assert body["closed_at"] and body["allowed_actions"] == ["publish"]
    body = step(cast.owner, "publish")
    assert body["published_at"]
    assert Notification.objects.filter(
        template="surveys/email/results_published", recipient_email=cast.stakeholder.email
    )
    body = step(cast.owner, "analyse", analysis="Waiting times drive the ratings.")
    assert body["analysis"] == "Waiting times drive the ratings." and body["analysed_at"]
    assert body["allowed_actions"] == []

    walked = ["submit", "return", "submit", "approve", "launch", "close", "publish", "analyse"]
    assert set(walked) == set(TRANSITIONS), "every action is walked"

    api_client.force_authenticate(user_with_role(AUDITOR))
    rows = api_client.get(f"{detail(campaign)}events/").json()["results"]
    assert [row["action"] for row in rows] == walked
    assert [row["actor"] for row in rows] == [
        (cast.reviewer if action in ("approve", "return") else cast.owner).pk for action in walked
    ]
    assert (rows[0]["from_status"], rows[0]["to_status"]) == (S.DRAFT, S.IN_REVIEW)
    assert rows[0]["note"] == "ready for review" and rows[1]["note"] == "add the key customers"
    assert rows[4]["data"]["invited"] == 3
    assert all(row["action_display"] and row["actor_name"] for row in rows)


def _refusing_state(action: str) -> str:
    return S.IN_REVIEW if action == "submit" else S.DRAFT


def _inputs(action: str) -> dict:
    return {"return": {"note": "why"}, "analyse": {"analysis": "notes"}}.get(action, {})


@pytest.mark.parametrize("action", list(TRANSITIONS))
def test_every_action_is_allowed_from_its_source_state(api_client, action):
    source = sorted(TRANSITIONS[action].sources)[0]
    cast = Cast()
    campaign = campaign_in(source, cast)
    api_client.force_authenticate(cast.actor(action))
    response = act(api_client, campaign, action, **_inputs(action))
    assert response.status_code == 200, response.content
    assert response.json()["status"] == TRANSITIONS[action].target
    event = CampaignEvent.objects.filter(campaign=campaign).latest("pk")
    assert (event.action, event.from_status, event.to_status) == (action, source, TRANSITIONS[action].target)


@pytest.mark.parametrize("action", list(TRANSITIONS))
def test_every_action_is_refused_from_a_state_the_table_forbids(api_client, action):
    cast = Cast()
    campaign = campaign_in(_refusing_state(action), cast)
    assert campaign.status not in TRANSITIONS[action].sources
    api_client.force_authenticate(cast.actor(action))  # a role that may, so the state decides
    with assert_nothing_written(Campaign, CampaignEvent, Invitation):
        body = assert_invalid(act(api_client, campaign, action, **_inputs(action)), "action")
    assert campaign.get_status_display() in body["errors"]["action"][0]
    assert Campaign.objects.get(pk=campaign.pk).status == campaign.status


@pytest.mark.parametrize("action", list(TRANSITIONS))
def test_every_action_is_refused_to_a_role_that_may_not(api_client, action):
    source = sorted(TRANSITIONS[action].sources)[0]
    cast = Cast()
    campaign = campaign_in(source, cast)
    # A role with change_campaign outside the action's roles: the workflow table refuses (403).
    refused = BRM if BRM not in TRANSITIONS[action].roles else OWNER
    for role in (refused, AUDITOR, DESK):
        as_role(api_client, role)
        with assert_nothing_written(Campaign, CampaignEvent, Invitation):
            response = act(api_client, campaign, action, **_inputs(action))
        assert response.status_code == 403, (role, response.content)
        assert response.json()["message"]
    assert Campaign.objects.get(pk=campaign.pk).status == source


def test_the_refusal_names_the_action_for_a_role_that_may_change_campaigns(api_client):
    campaign = campaign_in(S.IN_REVIEW)
    as_role(api_client, OWNER)
    response = act(api_client, campaign, "approve")
    assert response.status_code == 403
    assert str(TRANSITIONS["approve"].label) in response.json()["message"]


@pytest.mark.parametrize(
    ("status", "action", "inputs", "field"),
    [
        (S.IN_REVIEW, "return", {}, "note"),
        (S.IN_REVIEW, "return", {"note": "   "}, "note"),
        (S.PUBLISHED, "analyse", {}, "analysis"),
        (S.PUBLISHED, "analyse", {"analysis": ""}, "analysis"),
    ],
)
def test_a_missing_required_input_is_a_400_naming_it(api_client, status, action, inputs, field):
    cast = Cast()
    campaign = campaign_in(status, cast)
    api_client.force_authenticate(cast.actor(action))
    with assert_nothing_written(Campaign, CampaignEvent):
        assert_invalid(act(api_client, campaign, action, **inputs), field)
    assert Campaign.objects.get(pk=campaign.pk).status == status


def test_submit_refuses_a_questionnaire_not_ready_and_an_empty_audience(api_client):
    cast = Cast()
    empty = QuestionnaireFactory()
    campaign = planned(cast, contacts=0, questionnaire=empty)
    api_client.force_authenticate(cast.owner)
    with assert_nothing_written(Campaign, CampaignEvent, Questionnaire):
        assert_invalid(act(api_client, campaign, "submit"), "questionnaire", "audience_mode")
    assert not Questionnaire.objects.get(pk=empty.pk).is_locked


def test_publish_needs_stakeholders(api_client):
    cast = Cast()
    campaign = campaign_in(S.CLOSED, cast)
    campaign.stakeholders.clear()
    api_client.force_authenticate(cast.owner)
    with assert_nothing_written(Campaign, CampaignEvent):
        assert_invalid(act(api_client, campaign, "publish"), "stakeholders")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "teleport"}, "action"),
        ({"action": ""}, "action"),
        ({}, "action"),
        ({"note": "no action"}, "action"),
        ({"action": "submit", "analysis": "not an input of submit"}, "analysis"),
        ({"action": "submit", "status": S.RUNNING}, "status"),
        ({"action": "submit", "colour": "red"}, "colour"),
        ({"action": "submit", "note": ["a", "b"]}, "note"),
    ],
)
def test_an_unknown_action_or_input_is_a_400_naming_it(api_client, body, field):
    cast = Cast()
    campaign = planned(cast)
    api_client.force_authenticate(cast.owner)
    with assert_nothing_written(Campaign, CampaignEvent, Questionnaire):
        assert_invalid(api_client.post(transitions(campaign), body, format="json"), field)


def test_get_transitions_lists_the_callers_moves(api_client):
    cast = Cast()
    campaign = campaign_in(S.IN_REVIEW, cast)
    api_client.force_authenticate(cast.reviewer)
    moves = api_client.get(transitions(campaign)).json()
    assert [m["action"] for m in moves] == ["approve", "return"]
    assert moves[1]["requires"] == ["note"] and moves[1]["target"] == S.DRAFT and moves[1]["label"]
    api_client.force_authenticate(cast.owner)
    assert api_client.get(transitions(campaign)).json() == []
    analyse = campaign_in(S.PUBLISHED)
    api_client.force_authenticate(cast.owner)
    (move,) = api_client.get(transitions(analyse)).json()
    assert move["accepts"] == ["note", "analysis"] and move["requires"] == ["analysis"]


def test_sub_resources_of_an_unknown_campaign_are_a_404(api_client):
    as_role(api_client, OWNER)
    missing = (Campaign.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1000
    for method, suffix in [("get", "transitions/"), ("post", "transitions/"), ("get", "events/"), ("get", "audience/")]:
        response = getattr(api_client, method)(f"{URL}{missing}/{suffix}", {"action": "submit"}, format="json")
        assert response.status_code == 404 and response.json()["message"], suffix


def test_events_and_audience_are_read_only(api_client):
    campaign = CampaignFactory()
    as_role(api_client, OWNER)
    with assert_nothing_written(Campaign, CampaignEvent):
        for suffix in ("events/", "audience/"):
            for method in ("post", "put", "patch", "delete"):
                response = getattr(api_client, method)(f"{detail(campaign)}{suffix}", {}, format="json")
                assert response.status_code == 405, (suffix, method)


# --- audience --------------------------------------------------------------------------------


def test_audience_shows_who_would_be_invited_and_the_coverage_per_department(api_client):
    cast = Cast()
    organisation = OrganisationFactory(name="Acme")
    sales = DepartmentFactory(organisation=organisation, name="Sales")
    ops = DepartmentFactory(organisation=organisation, name="Operations")
    ContactFactory.create_batch(4, organisation=organisation, department=sales)
    ContactFactory.create_batch(2, organisation=organisation, department=ops)
    ContactFactory(organisation=organisation, department=ops, email="")
    ContactFactory(organisation=organisation, department=ops, unsubscribed=True)
    campaign = campaign_create(
        actor=cast.owner,
        kind="half_yearly",
        title="Sampled",
        questionnaire=build_questionnaire(),
        closes_at=timezone.now() + timedelta(days=10),
        audience_mode=AudienceMode.SAMPLE,
        sample_percent=50,
        organisations=[organisation],
        ratios={ops.pk: 100},
    )
    as_role(api_client, AUDITOR)
    data = api_client.get(f"{detail(campaign)}audience/").json()
    assert data["contacts"] == 8 and data["no_email"] == 1 and data["unsubscribed"] == 1
    assert data["eligible"] == 6 and data["invited"] == 4 and data["not_sampled"] == 2
    assert data["coverage"] == 50
    rows = {row["department"]: row for row in data["departments"]}
    assert rows["Sales"] == {
        "organisation": "Acme",
        "department": "Sales",
        "contacts": 4,
        "eligible": 4,
        "percent": 50,
        "invited": 2,
        "coverage": 50,
    }
    assert (rows["Operations"]["percent"], rows["Operations"]["invited"], rows["Operations"]["contacts"]) == (
        100,
        2,
        4,
    )
    assert "contact_ids" not in data


# --- invitations -------------------------------------------------------------------------------


def test_invitations_show_the_delivery_never_the_link(api_client):
    campaign = campaign_in(S.RUNNING, contacts=2)
    invitation = campaign.invitations.select_related("contact").order_by("pk").first()
    as_role(api_client, AUDITOR)
    data = api_client.get(f"{INVITATIONS}{invitation.pk}/").json()
    assert set(data) == {
        "id",
        "campaign",
        "contact",
        "contact_name",
        "organisation",
        "department",
        "status",
        "sent_at",
        "reminders_sent",
        "answered_at",
        "bounced_at",
        "bounce_reason",
        "unsubscribed_at",
    }
    assert data["contact"] == invitation.contact_id and data["contact_name"] == invitation.contact.name
    assert data["campaign"] == campaign.pk and data["organisation"] == invitation.organisation_id


def test_invitation_filters(api_client):
    first, second = CampaignFactory(), CampaignFactory()
    sent = InvitationFactory(campaign=first, status=InvitationStatus.SENT)
    bounced = InvitationFactory(campaign=first, status=InvitationStatus.BOUNCED, bounce_reason="no such mailbox")
    other = InvitationFactory(campaign=second)
    as_role(api_client, QUALITY)

    def listed(**params):
        return set(ids(api_client.get(INVITATIONS, params)))

    assert listed(campaign=first.pk) == {sent.pk, bounced.pk}
    assert listed(campaign=first.pk, status=InvitationStatus.BOUNCED) == {bounced.pk}
    assert set(ids(api_client.get(f"{INVITATIONS}?status=sent&status=pending"))) == {sent.pk, other.pk}
    assert listed(organisation=other.organisation_id) == {other.pk}
    for params in ({"campaign": "abc"}, {"campaign": 999999}, {"status": "lost"}, {"organisation": "x"}):
        assert_invalid(api_client.get(INVITATIONS, params), *params)


def test_invitation_list_runs_a_constant_number_of_queries(api_client):
    campaign = CampaignFactory()

    def invitations(n):
        InvitationFactory.create_batch(n, campaign=campaign)

    api_client.force_authenticate(user_with_role(AUDITOR))
    count = assert_constant_queries(api_client, f"{INVITATIONS}?campaign={campaign.pk}&page_size=100", invitations)
    assert count <= 6


# --- answers -----------------------------------------------------------------------------------


def test_answers_carry_no_identity_of_the_respondent(api_client):
    choice = QuestionFactory(kind=QuestionKind.SINGLE)
    option = OptionFactory(question=choice, label="Phone")
    response = ResponseFactory()
    answer = AnswerFactory(response=response, question=choice, option=option)
    rating = AnswerFactory(response=response, value=2, comment="slow")
    as_role(api_client, Role.DEPARTMENT_HEAD)
    data = api_client.get(f"{ANSWERS}{answer.pk}/").json()
    assert set(data) == {
        "id",
        "response",
        "campaign",
        "question",
        "question_kind",
        "value",
        "option",
        "option_label",
        "text",
        "comment",
        "submitted_at",
        "organisation",
        "department",
    }
    assert (data["question_kind"], data["option"], data["option_label"]) == ("single", option.pk, "Phone")
    assert data["response"] == response.pk and data["campaign"] == response.campaign_id
    assert data["submitted_at"] and data["organisation"] == response.organisation_id
    data = api_client.get(f"{ANSWERS}{rating.pk}/").json()
    assert (data["value"], data["comment"], data["option"], data["option_label"]) == (2, "slow", None, None)
    assert response.invitation.contact.name not in str(data)


def test_answer_filters(api_client):
    first, second = ResponseFactory(), ResponseFactory()
    question = QuestionFactory(kind=QuestionKind.NPS)
    a = AnswerFactory(response=first, question=question, value=9)
    b = AnswerFactory(response=first, value=4)
    c = AnswerFactory(response=second, question=question, value=3)
    as_role(api_client, AUDITOR)

    def listed(**params):
        return set(ids(api_client.get(ANSWERS, params)))

    assert listed(campaign=first.campaign_id) == {a.pk, b.pk}
    assert listed(question=question.pk) == {a.pk, c.pk}
    assert listed(campaign=first.campaign_id, question=question.pk) == {a.pk}
    assert listed(question_kind="rating") == {b.pk}
    assert listed(organisation=second.organisation_id) == {c.pk}
    assert listed(response=first.pk) == {a.pk, b.pk}
    for params in ({"campaign": "abc"}, {"question": 999999}, {"question_kind": "essay"}, {"department": "x"}):
        assert_invalid(api_client.get(ANSWERS, params), *params)


def test_answers_are_cursor_paginated_without_a_count(api_client):
    response = ResponseFactory()
    answers = AnswerFactory.create_batch(7, response=response)
    as_role(api_client, AUDITOR)
    first = api_client.get(ANSWERS, {"campaign": response.campaign_id, "page_size": 5}).json()
    assert "count" not in first and first["previous"] is None and len(first["results"]) == 5
    second = api_client.get(first["next"]).json()
    assert second["next"] is None and len(second["results"]) == 2
    assert [row["id"] for row in first["results"] + second["results"]] == [answer.pk for answer in answers]


def test_answer_list_runs_a_constant_number_of_queries(api_client):
    response = ResponseFactory()
    options = itertools.cycle([OptionFactory(), OptionFactory(), None])

    def answers(n):
        for _ in range(n):
            option = next(options)
            if option is None:
                AnswerFactory(response=response, value=4)
            else:
                AnswerFactory(response=response, question=option.question, option=option)

    api_client.force_authenticate(user_with_role(AUDITOR))
    count = assert_constant_queries(
        api_client, f"{ANSWERS}?campaign={response.campaign_id}&page_size=100", answers, few=5, many=40
    )
    assert count <= 5


def test_answers_and_invitations_are_read_only(api_client):
    answer = AnswerFactory()
    invitation = answer.response.invitation
    as_role(api_client, OWNER)
    with assert_nothing_written(Answer, Invitation):
        for url in (f"{ANSWERS}{answer.pk}/", f"{INVITATIONS}{invitation.pk}/"):
            for method in ("put", "patch", "delete"):
                assert getattr(api_client, method)(url, {}, format="json").status_code == 403, (url, method)


# --- schema ------------------------------------------------------------------------------------


def test_schema_documents_the_campaign_endpoints(tmp_path):
    import yaml

    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    paths = schema["paths"]
    for path in (
        URL,
        f"{URL}{{id}}/",
        f"{URL}{{id}}/transitions/",
        f"{URL}{{id}}/events/",
        f"{URL}{{id}}/audience/",
        INVITATIONS,
        f"{INVITATIONS}{{id}}/",
        ANSWERS,
        f"{ANSWERS}{{id}}/",
    ):
        assert path in paths, path
    post = paths[f"{URL}{{id}}/transitions/"]["post"]
    body = post["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert {"action", "note", "analysis"} <= set(schema["components"]["schemas"][body]["properties"])
    assert {"200", "400", "403", "404"} <= set(post["responses"])
    assert "post" not in paths[INVITATIONS] and "post" not in paths[ANSWERS]
    answer_params = {p["name"] for p in paths[ANSWERS]["get"]["parameters"]}
    assert {"campaign", "question", "organisation", "department", "cursor"} <= answer_params
    invitation_props = schema["components"]["schemas"]["Invitation"]["properties"]
    assert not {"token", "email"} & set(invitation_props)
    answer_props = schema["components"]["schemas"]["Answer"]["properties"]
    assert not {"contact", "invitation", "email"} & set(answer_props)


def test_the_browsable_api_renders_the_campaign_endpoints(api_client):
    campaign = campaign_in(S.RUNNING, contacts=1)
    invitation = campaign.invitations.first()
    answer = AnswerFactory()
    api_client.force_login(user_with_role(OWNER))
    for url in [
        URL,
        detail(campaign),
        transitions(campaign),
        f"{detail(campaign)}events/",
        f"{detail(campaign)}audience/",
        INVITATIONS,
        f"{INVITATIONS}{invitation.pk}/",
        ANSWERS,
        f"{ANSWERS}{answer.pk}/",
    ]:
        response = api_client.get(url, HTTP_ACCEPT="text/html")
        assert response.status_code == 200, url
        assert response["Content-Type"].startswith("text/html")
