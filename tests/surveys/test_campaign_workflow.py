"""The survey campaign state machine: every transition of ``surveys.workflow.TRANSITIONS``
allowed (right role, right state) and refused (wrong state, wrong role, missing input, unmet
condition), each through the service and through its page action; what the steps do (frozen
questionnaire, mail, the audience invited at launch); and the generated workflow doc.

Everything goes through the real services on a real database; time is frozen where the
timestamps, the repeat interval or the mail's working hours matter.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from itsm.core.roles import Role
from itsm.core.testing import assert_nothing_written
from itsm.core.workflow import TransitionRefused
from surveys.choices import AudienceMode, CampaignStatus, InvitationStatus
from surveys.models import Campaign, CampaignDepartmentRatio, CampaignEvent, Invitation
from surveys.services.campaigns import (
    campaign_audience,
    campaign_create,
    campaign_transition,
    campaigns_close_due,
)
from surveys.workflow import TRANSITIONS, as_mermaid
from tests.complaints.factories import role_user
from tests.factories import ContactFactory, DepartmentFactory, OrganisationFactory, UserFactory
from tests.surveys.factories import InvitationFactory, QuestionFactory, QuestionnaireFactory

pytestmark = pytest.mark.django_db

S = CampaignStatus
ALL_STATES = list(S.values)
ALL_ROLES = [role.value for role in Role]
# A Wednesday, 10:00 in Shanghai: working hours, so mail leaves at once.
NOW = datetime(2026, 11, 4, 2, 0, tzinfo=UTC)

# Inputs that satisfy each action (note and accepted fields).
VALID_INPUTS: dict[str, dict[str, Any]] = {
    "submit": {"note": "ready for review"},
    "approve": {},
    "return": {"note": "add the new service desk questions"},
    "launch": {},
    "close": {},
    "publish": {},
    "analyse": {"analysis": "Response speed is the weak point; see improvement items."},
}
# The shortest path of (action, role) from draft to each state.
PATH = [
    ("submit", Role.SATISFACTION_OWNER),
    ("approve", Role.BR_MANAGER),
    ("launch", Role.SATISFACTION_OWNER),
    ("close", Role.SATISFACTION_OWNER),
    ("publish", Role.SATISFACTION_OWNER),
    ("analyse", Role.SATISFACTION_OWNER),
]
REACHED_BY = {S.IN_REVIEW: 1, S.APPROVED: 2, S.RUNNING: 3, S.CLOSED: 4, S.PUBLISHED: 5, S.ANALYSED: 6}
# The campaign field each action stamps with the moment it happened.
TIMESTAMPS = {
    "submit": "submitted_at",
    "approve": "approved_at",
    "launch": "launched_at",
    "close": "closed_at",
    "publish": "published_at",
    "analyse": "analysed_at",
}


def ready_questionnaire():
    """A questionnaire a campaign can be submitted with (one rating question)."""
    return QuestionFactory().questionnaire


def audience(contacts: int = 3, **organisation_fields: Any):
    """A customer organisation with one department of ``contacts`` contacts (with email)."""
    organisation = OrganisationFactory(**organisation_fields)
    department = DepartmentFactory(organisation=organisation)
    for _ in range(contacts):
        ContactFactory(organisation=organisation, department=department)
    return organisation


def make_campaign(status: str = S.DRAFT, *, contacts: int = 3, organisations=None, **fields: Any) -> Campaign:
    """A campaign in ``status``, planned and moved by the real services as the roles that may."""
    owner = role_user(Role.SATISFACTION_OWNER)
    fields.setdefault("kind", "half_yearly")
    fields.setdefault("title", "Half-yearly satisfaction survey")
    fields.setdefault("closes_at", timezone.now() + timedelta(days=14))
    fields.setdefault("questionnaire", ready_questionnaire())
    if organisations is None:
        organisations = [audience(contacts)]
    campaign = campaign_create(
        actor=owner,
        organisations=organisations,
        stakeholders=[role_user(Role.MANAGEMENT_REP)],
        **fields,
    )
    for action, role in PATH[: REACHED_BY.get(S(status), 0)]:
        campaign = campaign_transition(campaign=campaign, action=action, actor=role_user(role), **VALID_INPUTS[action])
    assert campaign.status == status
    return campaign


def _fingerprint(campaign: Campaign) -> dict:
    """What a refused action must leave exactly as it was."""
    row = Campaign.objects.values().get(pk=campaign.pk)
    row.pop("updated_at")
    return {
        "row": row,
        "events": list(campaign.events.values_list("pk", flat=True)),
        "invitations": campaign.invitations.count(),
    }


def test_a_failed_create_leaves_nothing_half_written():
    """The campaign row is saved before its shares: a bad share rolls the campaign back too."""
    organisation = audience(1)
    department = organisation.departments.get()
    owner, questionnaire = role_user(Role.SATISFACTION_OWNER), ready_questionnaire()
    with assert_nothing_written(Campaign, CampaignDepartmentRatio), pytest.raises(ValidationError) as refused:
        campaign_create(
            actor=owner,
            organisations=[organisation],
            ratios={department.pk: 150},
            kind="half_yearly",
            title="Broken shares",
            questionnaire=questionnaire,
            closes_at=timezone.now() + timedelta(days=14),
        )
    assert "percent" in refused.value.message_dict


def test_every_action_has_test_inputs_and_a_path():
    assert set(VALID_INPUTS) == set(TRANSITIONS)
    for action, transition in TRANSITIONS.items():
        assert set(transition.requires) <= set(VALID_INPUTS[action]), action
    assert [action for action, _ in PATH] == [a for a in TRANSITIONS if a != "return"]


# --- allowed: every action × every role that may -------------------------------------------

ALLOWED = [(action, role) for action, t in TRANSITIONS.items() for role in sorted(t.roles)]


@pytest.mark.parametrize(("action", "role"), ALLOWED, ids=["-".join(case) for case in ALLOWED])
def test_allowed_transition_moves_and_records(action, role):
    transition = TRANSITIONS[action]
    (source,) = transition.sources
    campaign = make_campaign(source)
    events_before = campaign.events.count()
    actor = role_user(role)
    inputs = VALID_INPUTS[action]
    with time_machine.travel(NOW, tick=False):
        # The close date must still be ahead when the step runs.
        Campaign.objects.filter(pk=campaign.pk).update(closes_at=NOW + timedelta(days=7))
        moved = campaign_transition(campaign=campaign, action=action, actor=actor, **inputs)
    stored = Campaign.objects.get(pk=campaign.pk)
    assert moved.status == stored.status == transition.target
    assert stored.events.count() == events_before + 1
    event = stored.events.order_by("pk").last()
    assert (event.action, event.from_status, event.to_status) == (action, source, transition.target)
    assert (event.actor, event.actor_label, event.note) == (actor, "", inputs.get("note", ""))
    assert event.created_at == NOW
    if action in TIMESTAMPS:
        assert getattr(stored, TIMESTAMPS[action]) == NOW
    if action == "approve":
        assert stored.approved_by == actor
    if action == "return":
        assert stored.submitted_at is None
    if action == "analyse":
        assert stored.analysis == inputs["analysis"]


@pytest.mark.parametrize(("action", "role"), ALLOWED, ids=["-".join(case) for case in ALLOWED])
def test_allowed_transition_through_the_page(client, action, role):
    transition = TRANSITIONS[action]
    (source,) = transition.sources
    campaign = make_campaign(source)
    client.force_login(role_user(role))
    data = {f"{action}-{name}": value for name, value in VALID_INPUTS[action].items()}
    response = client.post(reverse("campaign_transition", args=[campaign.pk, action]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == campaign.get_absolute_url()
    assert Campaign.objects.get(pk=campaign.pk).status == transition.target


def test_the_system_may_close_but_nothing_else():
    campaign = make_campaign(S.RUNNING)
    closed = campaign_transition(campaign=campaign, action="close", actor=None)
    assert closed.status == S.CLOSED
    event = closed.events.order_by("pk").last()
    assert (event.actor, event.actor_label) == (None, "system")
    draft = make_campaign(S.DRAFT)
    with pytest.raises(PermissionDenied):
        campaign_transition(campaign=draft, action="submit", actor=None)


def test_the_periodic_check_closes_campaigns_past_their_date():
    due = make_campaign(S.RUNNING)
    later = make_campaign(S.RUNNING)
    Campaign.objects.filter(pk=due.pk).update(closes_at=timezone.now() - timedelta(minutes=1))
    assert campaigns_close_due() == 1
    assert campaigns_close_due() == 0
    assert Campaign.objects.get(pk=due.pk).status == S.CLOSED
    assert Campaign.objects.get(pk=later.pk).status == S.RUNNING


# --- refused: wrong state ------------------------------------------------------------------

WRONG_STATE = [(action, state) for action, t in TRANSITIONS.items() for state in ALL_STATES if state not in t.sources]


@pytest.mark.parametrize(("action", "state"), WRONG_STATE, ids=["-".join(case) for case in WRONG_STATE])
def test_action_refused_from_a_state_the_table_does_not_allow(client, action, state):
    campaign = make_campaign(state)
    role = sorted(TRANSITIONS[action].roles)[0]
    before = _fingerprint(campaign)
    with pytest.raises(TransitionRefused) as refused:
        campaign_transition(campaign=campaign, action=action, actor=role_user(role), **VALID_INPUTS[action])
    assert "action" in refused.value.message_dict
    assert _fingerprint(campaign) == before

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(role_user(role))
    data = {f"{action}-{name}": value for name, value in VALID_INPUTS[action].items()}
    response = client.post(reverse("campaign_transition", args=[campaign.pk, action]), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert f'data-action-error="{action}"' in page
    assert "is not possible while the campaign is" in page
    assert _fingerprint(campaign) == before


# --- refused: wrong role -------------------------------------------------------------------

WRONG_ROLE = [(action, role) for action, t in TRANSITIONS.items() for role in ALL_ROLES if role not in t.roles]


@pytest.mark.parametrize(("action", "role"), WRONG_ROLE, ids=["-".join(case) for case in WRONG_ROLE])
def test_action_refused_to_a_role_the_table_does_not_name(client, action, role):
    (source,) = TRANSITIONS[action].sources
    campaign = make_campaign(source)
    before = _fingerprint(campaign)
    actor = role_user(role)
    with pytest.raises(PermissionDenied):
        campaign_transition(campaign=campaign, action=action, actor=actor, **VALID_INPUTS[action])
    client.force_login(actor)
    data = {f"{action}-{name}": value for name, value in VALID_INPUTS[action].items()}
    response = client.post(reverse("campaign_transition", args=[campaign.pk, action]), data)
    assert response.status_code == 403
    assert _fingerprint(campaign) == before


@pytest.mark.parametrize("action", ["submit", "launch"])
def test_a_br_manager_cannot_submit_or_launch(client, action):
    (source,) = TRANSITIONS[action].sources
    campaign = make_campaign(source)
    client.force_login(role_user(Role.BR_MANAGER))
    assert client.post(reverse("campaign_transition", args=[campaign.pk, action])).status_code == 403
    assert Campaign.objects.get(pk=campaign.pk).status == source


@pytest.mark.parametrize("action", ["approve", "return"])
def test_a_satisfaction_owner_cannot_approve_or_return(client, action):
    campaign = make_campaign(S.IN_REVIEW)
    client.force_login(role_user(Role.SATISFACTION_OWNER))
    response = client.post(reverse("campaign_transition", args=[campaign.pk, action]), {f"{action}-note": "x"})
    assert response.status_code == 403
    assert Campaign.objects.get(pk=campaign.pk).status == S.IN_REVIEW


def test_an_unknown_action_is_not_found(client):
    campaign = make_campaign(S.DRAFT)
    client.force_login(role_user(Role.SATISFACTION_OWNER))
    assert client.post(reverse("campaign_transition", args=[campaign.pk, "publish_now"])).status_code == 404
    with pytest.raises(TransitionRefused):
        campaign_transition(campaign=campaign, action="publish_now", actor=role_user(Role.SATISFACTION_OWNER))


def test_an_action_on_an_unknown_campaign_is_not_found(client):
    client.force_login(role_user(Role.SATISFACTION_OWNER))
    assert client.post(reverse("campaign_transition", args=[987654, "submit"])).status_code == 404


def test_an_action_needs_a_post(client):
    campaign = make_campaign(S.DRAFT)
    client.force_login(role_user(Role.SATISFACTION_OWNER))
    assert client.get(reverse("campaign_transition", args=[campaign.pk, "submit"])).status_code == 405


# --- refused: missing inputs and unmet conditions ------------------------------------------


def test_return_needs_a_note(client):
    campaign = make_campaign(S.IN_REVIEW)
    reviewer = role_user(Role.BR_MANAGER)
    before = _fingerprint(campaign)
    with pytest.raises(ValidationError) as refused:
        campaign_transition(campaign=campaign, action="return", actor=reviewer, note="   ")
    assert set(refused.value.message_dict) == {"note"}
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(reviewer)
    response = client.post(reverse("campaign_transition", args=[campaign.pk, "return"]), {"return-note": ""})
    assert response.status_code == 400
    assert 'id="id_return-note_error"' in response.content.decode()
    assert _fingerprint(campaign) == before


def test_analyse_needs_the_analysis(client):
    campaign = make_campaign(S.PUBLISHED)
    owner = role_user(Role.SATISFACTION_OWNER)
    before = _fingerprint(campaign)
    with pytest.raises(ValidationError) as refused:
        campaign_transition(campaign=campaign, action="analyse", actor=owner, analysis="")
    assert set(refused.value.message_dict) == {"analysis"}
    client.force_login(owner)
    response = client.post(reverse("campaign_transition", args=[campaign.pk, "analyse"]), {"analyse-analysis": " "})
    assert response.status_code == 400
    assert 'id="id_analyse-analysis_error"' in response.content.decode()
    assert _fingerprint(campaign) == before


def test_an_action_refuses_fields_it_does_not_accept():
    campaign = make_campaign(S.DRAFT)
    with pytest.raises(ValidationError) as refused:
        campaign_transition(campaign=campaign, action="submit", actor=role_user(Role.SATISFACTION_OWNER), title="x")
    assert set(refused.value.message_dict) == {"title"}


def _submit_page(client, campaign):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(role_user(Role.SATISFACTION_OWNER))
    return client.post(reverse("campaign_transition", args=[campaign.pk, "submit"]), {"submit-note": ""})


def test_submit_refused_while_the_questionnaire_has_no_questions(client):
    campaign = make_campaign(S.DRAFT, questionnaire=QuestionnaireFactory())
    before = _fingerprint(campaign)
    with pytest.raises(ValidationError) as refused:
        campaign_transition(campaign=campaign, action="submit", actor=role_user(Role.SATISFACTION_OWNER))
    assert set(refused.value.message_dict) == {"questionnaire"}
    response = _submit_page(client, campaign)
    assert response.status_code == 400
    assert "Questionnaire: " in response.content.decode()
    assert _fingerprint(campaign) == before
    assert campaign.questionnaire.locked_at is None


def test_submit_refused_when_nobody_would_be_invited(client):
    nobody = audience(0)
    unreachable = audience(0)
    ContactFactory(organisation=unreachable, email="")
    ContactFactory(organisation=unreachable, unsubscribed=True)
    campaign = make_campaign(S.DRAFT, organisations=[nobody, unreachable])
    before = _fingerprint(campaign)
    with pytest.raises(ValidationError) as refused:
        campaign_transition(campaign=campaign, action="submit", actor=role_user(Role.SATISFACTION_OWNER))
    assert set(refused.value.message_dict) == {"audience_mode"}
    response = _submit_page(client, campaign)
    assert response.status_code == 400
    assert "Nobody would be invited" in response.content.decode()
    assert _fingerprint(campaign) == before


def test_submit_refused_once_the_close_date_has_passed(client):
    campaign = make_campaign(S.DRAFT)
    before = _fingerprint(campaign)
    with time_machine.travel(campaign.closes_at + timedelta(minutes=1), tick=False):
        with pytest.raises(ValidationError) as refused:
            campaign_transition(campaign=campaign, action="submit", actor=role_user(Role.SATISFACTION_OWNER))
        assert set(refused.value.message_dict) == {"closes_at"}
        response = _submit_page(client, campaign)
    assert response.status_code == 400
    assert "Closes at: The close date must be in the future." in response.content.decode()
    assert _fingerprint(campaign) == before


def test_a_refused_step_mails_nobody(django_capture_on_commit_callbacks):
    role_user(Role.BR_MANAGER)
    campaign = make_campaign(S.DRAFT, questionnaire=QuestionnaireFactory())
    with (
        time_machine.travel(NOW, tick=False),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(ValidationError),
    ):
        campaign_transition(campaign=campaign, action="submit", actor=role_user(Role.SATISFACTION_OWNER))
    assert callbacks == []
    assert mail.outbox == []


# --- what the steps do ---------------------------------------------------------------------


def test_submit_freezes_the_questionnaire_and_mails_every_br_manager(django_capture_on_commit_callbacks):
    reviewers = [role_user(Role.BR_MANAGER), UserFactory()]
    reviewers[1].groups.add(*reviewers[0].groups.all())
    inactive = UserFactory(is_active=False)
    inactive.groups.add(*reviewers[0].groups.all())
    with time_machine.travel(NOW, tick=False):
        campaign = make_campaign(S.DRAFT)
        assert campaign.questionnaire.locked_at is None
        with django_capture_on_commit_callbacks(execute=True):
            campaign_transition(campaign=campaign, action="submit", actor=role_user(Role.SATISFACTION_OWNER))
    campaign.questionnaire.refresh_from_db()
    assert campaign.questionnaire.locked_at == NOW
    assert sorted(m.to[0] for m in mail.outbox) == sorted(r.email for r in reviewers)
    assert all(campaign.title in m.subject for m in mail.outbox)
    event = campaign.events.get(action="submit")
    assert event.data["audience"] == 3


@pytest.mark.parametrize("action", ["approve", "return"])
def test_approve_and_return_mail_the_owner(django_capture_on_commit_callbacks, action):
    with time_machine.travel(NOW, tick=False):
        campaign = make_campaign(S.IN_REVIEW)
        with django_capture_on_commit_callbacks(execute=True):
            campaign_transition(
                campaign=campaign, action=action, actor=role_user(Role.BR_MANAGER), note="Add a question on speed."
            )
    assert [m.to for m in mail.outbox] == [[campaign.owner.email]]
    assert campaign.title in mail.outbox[0].subject
    if action == "return":
        assert "Add a question on speed." in mail.outbox[0].body


def test_a_returned_campaign_can_be_edited_and_submitted_again():
    campaign = make_campaign(S.IN_REVIEW)
    campaign = campaign_transition(
        campaign=campaign, action="return", actor=role_user(Role.BR_MANAGER), note="shorter title"
    )
    assert campaign.status == S.DRAFT
    campaign = campaign_transition(campaign=campaign, action="submit", actor=role_user(Role.SATISFACTION_OWNER))
    assert campaign.status == S.IN_REVIEW
    assert list(campaign.events.values_list("action", flat=True)) == ["submit", "return", "submit"]


def test_launch_invites_each_eligible_contact_once_and_records_who_was_left_out():
    organisation = audience(4)
    other = audience(0)
    no_email = ContactFactory(organisation=organisation, email="")
    unsubscribed = ContactFactory(organisation=organisation, unsubscribed=True)
    ContactFactory(organisation=organisation, is_active=False)  # not a contact any more: not counted
    recent = ContactFactory(organisation=organisation)
    long_ago = ContactFactory(organisation=organisation)
    ContactFactory(organisation=other)  # another organisation, not surveyed
    with time_machine.travel(NOW, tick=False):
        earlier = make_campaign(S.DRAFT, organisations=[other])
        InvitationFactory(
            campaign=earlier, contact=recent, status=InvitationStatus.ANSWERED, answered_at=NOW - timedelta(days=30)
        )
        InvitationFactory(
            campaign=earlier,
            contact=long_ago,
            status=InvitationStatus.ANSWERED,
            answered_at=NOW - timedelta(days=91),
        )
        campaign = make_campaign(S.APPROVED, organisations=[organisation])
        preview = campaign_audience(campaign)
        launched = campaign_transition(campaign=campaign, action="launch", actor=role_user(Role.QUALITY_MANAGER))

    invited = set(launched.invitations.values_list("contact_id", flat=True))
    eligible = set(organisation.contacts.filter(is_active=True).values_list("pk", flat=True)) - {
        no_email.pk,
        unsubscribed.pk,
        recent.pk,
    }
    assert invited == eligible == set(preview.contact_ids)
    assert long_ago.pk in invited
    assert launched.invitations.count() == 5
    event = launched.events.get(action="launch")
    assert event.data == {
        "invited": 5,
        "invalid_addresses": 0,
        "no_email": 1,
        "unsubscribed": 1,
        "recently_answered": 1,
        "not_sampled": 0,
    }
    assert launched.launched_at == NOW


def test_the_repeat_interval_is_the_campaigns_own():
    organisation = audience(1)
    contact = ContactFactory(organisation=organisation)
    InvitationFactory(
        contact=contact, status=InvitationStatus.ANSWERED, answered_at=timezone.now() - timedelta(days=20)
    )
    assert campaign_audience(make_campaign(S.DRAFT, organisations=[organisation])).recently_answered == 1
    short = make_campaign(S.DRAFT, organisations=[organisation], repeat_interval_days=10)
    assert campaign_audience(short).recently_answered == 0
    assert campaign_audience(short).invited == 2


def test_sample_mode_invites_each_departments_share():
    organisation = OrganisationFactory()
    sampled = DepartmentFactory(organisation=organisation)
    skipped = DepartmentFactory(organisation=organisation)
    default = DepartmentFactory(organisation=organisation)
    for department, count in ((sampled, 10), (skipped, 4), (default, 3)):
        for _ in range(count):
            ContactFactory(organisation=organisation, department=department)
    campaign = make_campaign(
        S.DRAFT, organisations=[organisation], audience_mode=AudienceMode.SAMPLE, sample_percent=50
    )
    from surveys.services.campaigns import campaign_update

    campaign = campaign_update(
        campaign=campaign,
        actor=role_user(Role.SATISFACTION_OWNER),
        ratios={sampled.pk: 30, skipped.pk: 0},
    )
    preview = campaign_audience(campaign)
    assert preview.eligible == 17
    rows = {row.department: (row.percent, row.invited) for row in preview.departments}
    assert rows == {sampled.name: (30, 3), skipped.name: (0, 0), default.name: (50, 2)}
    assert preview.invited == 5 and preview.not_sampled == 12
    assert campaign_audience(campaign).contact_ids == preview.contact_ids  # reproducible

    for action, role in PATH[:3]:
        campaign = campaign_transition(campaign=campaign, action=action, actor=role_user(role))
    invited = list(campaign.invitations.order_by("contact_id").values_list("contact_id", "department_id"))
    assert [contact for contact, _ in invited] == sorted(preview.contact_ids)
    by_department = {d: sum(1 for _, dep in invited if dep == d) for d in (sampled.pk, skipped.pk, default.pk)}
    assert by_department == {sampled.pk: 3, skipped.pk: 0, default.pk: 2}
    assert campaign.events.get(action="launch").data["not_sampled"] == 12


def test_key_customer_mode_invites_the_contacts_of_every_key_customer():
    key = audience(2, is_key_customer=True)
    other_key = audience(1, is_key_customer=True)
    ordinary = audience(3)
    campaign = make_campaign(S.APPROVED, organisations=[ordinary], audience_mode=AudienceMode.KEY_CUSTOMERS)
    campaign = campaign_transition(campaign=campaign, action="launch", actor=role_user(Role.SATISFACTION_OWNER))
    organisations = set(campaign.invitations.values_list("organisation_id", flat=True))
    assert organisations == {key.pk, other_key.pk}
    assert campaign.invitations.count() == 3


def test_a_campaign_is_launched_once():
    campaign = make_campaign(S.RUNNING)
    before = _fingerprint(campaign)
    with pytest.raises(TransitionRefused):
        campaign_transition(campaign=campaign, action="launch", actor=role_user(Role.SATISFACTION_OWNER))
    assert _fingerprint(campaign) == before
    assert Invitation.objects.filter(campaign=campaign).count() == 3


def test_a_launch_from_a_stale_page_is_refused():
    """The service re-reads the row under its lock: a stale object cannot launch twice."""
    campaign = make_campaign(S.APPROVED)
    owner = role_user(Role.SATISFACTION_OWNER)
    with transaction.atomic():
        campaign_transition(campaign=campaign, action="launch", actor=owner)
        with pytest.raises(TransitionRefused):
            campaign_transition(campaign=Campaign(pk=campaign.pk), action="launch", actor=owner)
    assert campaign.invitations.count() == 3
    assert CampaignEvent.objects.filter(campaign=campaign, action="launch").count() == 1


def test_publish_needs_a_stakeholder():
    campaign = make_campaign(S.CLOSED)
    campaign.stakeholders.clear()
    owner = role_user(Role.SATISFACTION_OWNER)
    with assert_nothing_written(CampaignEvent), pytest.raises(ValidationError) as refused:
        campaign_transition(campaign=campaign, action="publish", actor=owner)
    assert set(refused.value.message_dict) == {"stakeholders"}


def test_publish_mails_the_stakeholders(django_capture_on_commit_callbacks):
    with time_machine.travel(NOW, tick=False):
        campaign = make_campaign(S.CLOSED)
        with django_capture_on_commit_callbacks(execute=True):
            campaign_transition(campaign=campaign, action="publish", actor=role_user(Role.SATISFACTION_OWNER))
    stakeholder = campaign.stakeholders.get()
    assert [m.to for m in mail.outbox] == [[stakeholder.email]]


# --- the generated doc stays in step with the table ----------------------------------------

DOC = Path(settings.BASE_DIR) / "docs" / "survey-workflow.md"
EFFECTS = {
    "submit": "questionnaire frozen (`locked_at`); `submitted_at`; mails every BR manager",
    "approve": "`approved_by`, `approved_at`; mails the owner",
    "return": "clears `submitted_at`; mails the owner what must change",
    "launch": "one invitation per contact of the audience; `launched_at`; mail sent in batches",
    "close": "`closed_at`; survey links stop working; counts by status recorded",
    "publish": "`published_at`; mails the results to the stakeholders",
    "analyse": "`analysed_at`; the analysis notes",
}


def doc_table() -> list[str]:
    """The table of docs/survey-workflow.md, one row per action, from the workflow table."""
    rows = [
        "| action | from | to | roles | requires | system | effects |",
        "|---|---|---|---|---|---|---|",
    ]
    for action, t in TRANSITIONS.items():
        sources = ", ".join(f"`{s}`" for s in sorted(t.sources))
        roles = ", ".join(f"`{r}`" for r in sorted(t.roles))
        requires = ", ".join(f"`{r}`" for r in t.requires) or "—"
        system = "yes" if t.system else "—"
        rows.append(
            f"| `{action}` | {sources} | `{t.target}` | {roles} | {requires} | {system} | {EFFECTS.get(action, '—')} |"
        )
    return rows


def test_the_workflow_doc_shows_the_current_diagram():
    text = DOC.read_text(encoding="utf-8")
    diagrams = re.findall(r"```mermaid\n(.*?)\n```", text, flags=re.DOTALL)
    assert diagrams == [as_mermaid()], f"docs/survey-workflow.md is stale; its diagram should be:\n{as_mermaid()}"


def test_the_workflow_doc_lists_every_action_as_the_table_says():
    lines = DOC.read_text(encoding="utf-8").splitlines()
    header = doc_table()[0]
    assert header in lines, "docs/survey-workflow.md has no action table"
    start = lines.index(header)
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    assert lines[start:end] == doc_table(), "docs/survey-workflow.md is stale; its table should be:\n" + "\n".join(
        doc_table()
    )
