"""The complaint state machine: every transition of ``complaints.workflow.TRANSITIONS``,
allowed and refused (by state, by role, by missing or unknown inputs), escalation levels and
owners, the closing rule, reopening, the model guards, and the generated workflow doc.

Everything goes through ``complaint_transition`` on a real database; time is frozen so the
timestamps an action sets can be compared exactly.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from complaints.choices import OPEN_STATUSES, Category, ComplaintStatus, EscalationLevel
from complaints.models import Complaint, ComplaintEvent
from complaints.services import complaint_transition
from complaints.workflow import TRANSITIONS, as_mermaid
from itsm.core.models import Notification
from itsm.core.roles import Role
from itsm.core.testing import assert_nothing_written
from itsm.core.workflow import TransitionRefused
from tests.complaints.factories import AT_BRM, AT_HEAD, make_complaint, role_user
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

S = ComplaintStatus
ALL_STATES = list(S.values)
ALL_ROLES = [role.value for role in Role]

# Registered on Monday 2026-11-02 09:30 and worked on at 11:00 (Asia/Shanghai), both in
# working hours of an ordinary week.
REGISTERED_AT = datetime(2026, 11, 2, 1, 30, tzinfo=UTC)
ACTED_AT = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)

# Inputs that satisfy each action's requirements (and nothing it does not accept).
VALID_INPUTS: dict[str, dict] = {
    "accept": {},
    "investigate": {},
    "escalate": {"note": "the customer asks for a manager"},
    "escalate_mrep": {"note": "the customer's board asks for our management"},
    "remedy": {
        "diagnosis": "a faulty switch at the branch",
        "remedial_actions": "replaced the faulty switch and called the customer",
    },
    "customer_satisfied": {"category": Category.RESPONSE_SPEED, "root_cause": "night shift understaffed"},
    "customer_unsatisfied": {"note": "the customer wants a written apology"},
    "plan_improvement": {"new_plan_title": "Faster night answers"},
    "resolve": {"result": "night cover added; the customer accepted the apology"},
    "close": {},
    "reopen": {"note": "the outage came back"},
    "withdraw": {"note": "the customer withdrew the complaint by phone"},
}

# The complaint field each action stamps with the moment it happened.
TIMESTAMPS = {"accept": "responded_at", "resolve": "resolved_at", "close": "closed_at", "withdraw": "withdrawn_at"}


def _state_fingerprint(complaint: Complaint) -> dict:
    """What a refused action must leave exactly as it was."""
    row = Complaint.objects.values().get(pk=complaint.pk)
    row.pop("updated_at")
    return {"row": row, "events": list(complaint.events.values_list("pk", flat=True))}


def _prepared(status: str, *, for_action: str = "") -> Complaint:
    """A complaint in ``status``, registered at REGISTERED_AT. One about to be closed belongs to
    a contact without email (closing needs no confirmation then; the rule is tested below)."""
    contact = ContactFactory(email="") if for_action == "close" else None
    with time_machine.travel(REGISTERED_AT, tick=False):
        return make_complaint(status, contact=contact)


def test_every_action_has_test_inputs():
    assert set(VALID_INPUTS) == set(TRANSITIONS)
    for action, transition in TRANSITIONS.items():
        assert set(transition.requires) <= set(VALID_INPUTS[action]), action


# --- allowed: every action × every source state × every role that may ---------------------

ALLOWED = [(action, source) for action, transition in TRANSITIONS.items() for source in sorted(transition.sources)]


class _Undo(Exception):
    """Rolls one role's attempt back so the next role starts from the same complaint."""


@pytest.mark.parametrize(("action", "source"), ALLOWED, ids=["-".join(case) for case in ALLOWED])
def test_allowed_transition_moves_and_records(action, source):
    transition = TRANSITIONS[action]
    complaint = _prepared(source, for_action=action)
    events_before = complaint.events.count()
    stamps_before = {name: getattr(complaint, name) for name in TIMESTAMPS.values()}
    inputs = VALID_INPUTS[action]
    for role in sorted(transition.roles):
        actor = role_user(role)
        with pytest.raises(_Undo), transaction.atomic():
            with time_machine.travel(ACTED_AT, tick=False):
                moved = complaint_transition(complaint=complaint, action=action, actor=actor, **inputs)

            stored = Complaint.objects.get(pk=complaint.pk)
            assert moved.status == stored.status == transition.target, role
            assert stored.events.count() == events_before + 1, role
            event = stored.events.last()
            assert (event.action, event.from_status, event.to_status) == (action, source, transition.target)
            assert (event.actor, event.actor_label, event.note) == (actor, "", inputs.get("note", "")), role
            assert event.created_at == ACTED_AT
            for name, value in inputs.items():
                if name == "new_plan_title":  # the plan of the complaint's register item
                    assert [i.plan.title for i in stored.improvement_items.all()] == [value], role
                elif name != "note":
                    assert getattr(stored, name) == value, (role, name)
            if action in TIMESTAMPS:
                assert getattr(stored, TIMESTAMPS[action]) == ACTED_AT, role
            if action != "reopen":  # reopen clears resolved_at / closed_at (checked below)
                others = {name: getattr(stored, name) for name in stamps_before if name != TIMESTAMPS.get(action)}
                assert others == {name: stamps_before[name] for name in others}, role
            if action == "accept":
                assert stored.owner == actor  # at desk level whoever accepts owns it
                assert stored.reply_working_seconds == 90 * 60  # 09:30 → 11:00
            if action == "reopen":
                assert stored.reopen_count == 1
                assert stored.resolved_at is None and stored.closed_at is None
            raise _Undo
        assert Complaint.objects.get(pk=complaint.pk).status == source  # undone for the next role


def test_later_timestamps_stay_empty_until_their_action():
    with time_machine.travel(REGISTERED_AT, tick=False):
        complaint = make_complaint(S.IMPROVEMENT_PLANNED)
    assert complaint.responded_at == REGISTERED_AT
    assert complaint.resolved_at is None and complaint.closed_at is None and complaint.withdrawn_at is None


# --- refused by state: from every state an action does not leave from ---------------------


@pytest.mark.parametrize("state", ALL_STATES)
def test_actions_not_allowed_from_a_state_are_refused_and_change_nothing(state):
    complaint = _prepared(state)
    refused = [action for action, t in TRANSITIONS.items() if state not in t.sources]
    assert refused, "every state refuses something"
    for action in refused:
        transition = TRANSITIONS[action]
        actor = role_user(sorted(transition.roles)[0])  # a role that could do it from elsewhere
        before = _state_fingerprint(complaint)
        with pytest.raises(TransitionRefused) as caught:
            complaint_transition(complaint=complaint, action=action, actor=actor, **VALID_INPUTS[action])
        assert "action" in caught.value.message_dict, action
        assert _state_fingerprint(complaint) == before, action


def test_the_state_is_checked_against_the_database_not_a_stale_instance():
    complaint = make_complaint(S.REGISTERED)
    stale = Complaint.objects.get(pk=complaint.pk)
    complaint_transition(complaint=complaint, action="accept", actor=role_user(Role.SERVICE_DESK))
    with pytest.raises(TransitionRefused):
        complaint_transition(complaint=stale, action="accept", actor=role_user(Role.SERVICE_DESK))
    assert complaint.events.filter(action="accept").count() == 1


def test_an_unknown_action_is_refused():
    complaint = make_complaint(S.REGISTERED)
    before = _state_fingerprint(complaint)
    with pytest.raises(TransitionRefused) as caught:
        complaint_transition(complaint=complaint, action="teleport", actor=role_user(Role.SERVICE_DESK))
    assert "action" in caught.value.message_dict
    assert _state_fingerprint(complaint) == before


# --- refused by role ----------------------------------------------------------------------


@pytest.mark.parametrize("action", list(TRANSITIONS))
def test_roles_not_allowed_to_act_are_refused_and_change_nothing(action, make_user):
    transition = TRANSITIONS[action]
    complaint = _prepared(sorted(transition.sources)[0], for_action=action)
    outsiders = [make_user(role) for role in ALL_ROLES if role not in transition.roles]
    outsiders.append(make_user(None))  # signed in, no role at all
    assert len(outsiders) >= 2
    for user in outsiders:
        before = _state_fingerprint(complaint)
        with pytest.raises(PermissionDenied):
            complaint_transition(complaint=complaint, action=action, actor=user, **VALID_INPUTS[action])
        assert _state_fingerprint(complaint) == before, (action, [g.name for g in user.groups.all()])


# --- refused for missing or unknown inputs -------------------------------------------------

REQUIRED = [(action, name) for action, t in TRANSITIONS.items() for name in t.requires]


@pytest.mark.parametrize(("action", "missing"), REQUIRED, ids=[f"{a}-{n}" for a, n in REQUIRED])
def test_a_missing_required_input_is_named(action, missing):
    transition = TRANSITIONS[action]
    complaint = _prepared(sorted(transition.sources)[0], for_action=action)
    inputs = dict(VALID_INPUTS[action])
    # absent for one of an action's inputs, blank (whitespace) for the other
    if transition.requires.index(missing) % 2:
        inputs[missing] = "   "
    else:
        inputs.pop(missing)
    before = _state_fingerprint(complaint)
    with pytest.raises(ValidationError) as caught:
        complaint_transition(complaint=complaint, action=action, actor=role_user(sorted(transition.roles)[0]), **inputs)
    assert missing in caught.value.message_dict
    assert not isinstance(caught.value, TransitionRefused)
    assert _state_fingerprint(complaint) == before


def test_a_blank_note_is_no_reason():
    complaint = make_complaint(S.INVESTIGATING)
    before = _state_fingerprint(complaint)
    with pytest.raises(ValidationError) as caught:
        complaint_transition(complaint=complaint, action="escalate", actor=role_user(Role.SERVICE_DESK), note=" \n ")
    assert "note" in caught.value.message_dict
    assert _state_fingerprint(complaint) == before


def test_analysis_needs_category_and_root_cause_both_named():
    complaint = make_complaint(S.AWAITING_FEEDBACK)
    with pytest.raises(ValidationError) as caught:
        complaint_transition(complaint=complaint, action="customer_satisfied", actor=role_user(Role.BR_MANAGER))
    assert {"category", "root_cause"} <= set(caught.value.message_dict)


def test_a_category_given_at_registration_need_not_be_repeated():
    complaint = make_complaint(S.AWAITING_FEEDBACK, category=Category.ATTITUDE)
    moved = complaint_transition(
        complaint=complaint, action="customer_satisfied", actor=role_user(Role.BR_MANAGER), root_cause="rude engineer"
    )
    assert moved.status == S.ANALYSIS and moved.category == Category.ATTITUDE


@pytest.mark.parametrize(
    ("action", "state", "inputs"),
    [
        ("accept", S.REGISTERED, {"result": "done"}),
        ("accept", S.REGISTERED, {"status": S.CLOSED}),
        ("investigate", S.ACCEPTED, {"escalation_level": 3}),
        ("resolve", S.ANALYSIS, {"result": "done", "resolved_at": ACTED_AT}),
        ("escalate", S.INVESTIGATING, {"note": "why", "category": Category.OTHER}),
        ("remedy", S.INVESTIGATING, {"remedial_actions": "x", "owner": None}),
    ],
    ids=[
        "accept+result",
        "accept+status",
        "investigate+level",
        "resolve+resolved_at",
        "escalate+category",
        "remedy+owner",
    ],
)
def test_inputs_an_action_does_not_take_are_refused(action, state, inputs):
    complaint = make_complaint(state)
    before = _state_fingerprint(complaint)
    with pytest.raises(ValidationError) as caught:
        complaint_transition(
            complaint=complaint, action=action, actor=role_user(sorted(TRANSITIONS[action].roles)[0]), **inputs
        )
    unknown = set(inputs) - set(TRANSITIONS[action].accepts) - {"note"}
    assert unknown and unknown <= set(caught.value.message_dict)
    assert _state_fingerprint(complaint) == before


def test_an_invalid_input_value_rolls_the_whole_move_back():
    complaint = make_complaint(S.AWAITING_FEEDBACK)
    before = _state_fingerprint(complaint)
    with pytest.raises(ValidationError) as caught:
        complaint_transition(
            complaint=complaint,
            action="customer_satisfied",
            actor=role_user(Role.BR_MANAGER),
            category="not-a-category",
            root_cause="x",
        )
    assert "category" in caught.value.message_dict
    assert _state_fingerprint(complaint) == before


# --- escalation ----------------------------------------------------------------------------


def test_escalate_goes_to_level_1_owned_by_the_first_active_br_manager(make_user, django_capture_on_commit_callbacks):
    make_user(Role.BR_MANAGER, is_active=False)  # first by id, but gone
    brm = make_user(Role.BR_MANAGER)
    make_user(Role.BR_MANAGER)  # a later one
    with time_machine.travel(REGISTERED_AT, tick=False):
        complaint = make_complaint(S.INVESTIGATING)
        with django_capture_on_commit_callbacks(execute=True):
            moved = complaint_transition(
                complaint=complaint, action="escalate", actor=role_user(Role.SERVICE_DESK), note="angry customer"
            )
    assert moved.escalation_level == EscalationLevel.BR_MANAGER
    assert moved.owner == brm
    event = moved.events.last()
    assert event.data == {"escalation_level": [0, 1], "owner": brm.pk}
    # the new owner is told, with the reason
    [message] = [m for m in mail.outbox if m.to == [brm.email]]
    assert complaint.reference in message.subject and "angry customer" in message.body


def test_escalate_to_a_chosen_br_manager(make_user):
    complaint = make_complaint(S.INVESTIGATING)
    chosen = make_user(Role.BR_MANAGER)
    moved = complaint_transition(
        complaint=complaint, action="escalate", actor=role_user(Role.SERVICE_DESK), note="x", owner=chosen
    )
    assert moved.owner == chosen and moved.escalation_level == 1


@pytest.mark.parametrize("role", [Role.DEPARTMENT_HEAD, Role.SERVICE_DESK, None])
def test_escalate_to_an_owner_of_the_wrong_role_is_refused(make_user, role):
    complaint = make_complaint(S.INVESTIGATING)
    before = _state_fingerprint(complaint)
    with pytest.raises(ValidationError) as caught:
        complaint_transition(
            complaint=complaint,
            action="escalate",
            actor=role_user(Role.SERVICE_DESK),
            note="x",
            owner=make_user(role),
        )
    assert "owner" in caught.value.message_dict
    assert _state_fingerprint(complaint) == before


def test_an_unsatisfied_customer_climbs_to_the_head_then_the_management_rep_and_no_higher():
    head, mrep = role_user(Role.DEPARTMENT_HEAD), role_user(Role.MANAGEMENT_REP)
    complaint = make_complaint(AT_HEAD)
    assert (complaint.escalation_level, complaint.owner) == (EscalationLevel.DEPARTMENT_HEAD, head)

    levels = []
    for _round in range(3):
        complaint = complaint_transition(
            complaint=complaint, action="remedy", actor=complaint.owner, remedial_actions="on-site visit"
        )
        assert complaint.status == S.AWAITING_FEEDBACK
        complaint = complaint_transition(
            complaint=complaint, action="customer_unsatisfied", actor=role_user(Role.SERVICE_DESK), note="still not ok"
        )
        levels.append((complaint.status, complaint.escalation_level, complaint.owner))
    assert levels == [
        (S.ESCALATED, EscalationLevel.MANAGEMENT_REP, mrep),
        (S.ESCALATED, EscalationLevel.MANAGEMENT_REP, mrep),
        (S.ESCALATED, EscalationLevel.MANAGEMENT_REP, mrep),
    ]
    data = [e.data["escalation_level"] for e in complaint.events.filter(action="customer_unsatisfied")]
    assert data == [[0, 2], [2, 3], [3, 3], [3, 3]]


def test_level_2_from_a_br_manager_escalation():
    complaint = make_complaint(AT_BRM)
    complaint = complaint_transition(
        complaint=complaint,
        action="remedy",
        actor=role_user(Role.BR_MANAGER),
        diagnosis="billed twice",
        remedial_actions="credit note",
    )
    complaint = complaint_transition(
        complaint=complaint, action="customer_unsatisfied", actor=role_user(Role.BR_MANAGER), note="not enough"
    )
    assert complaint.escalation_level == EscalationLevel.DEPARTMENT_HEAD
    assert complaint.owner == role_user(Role.DEPARTMENT_HEAD)


# --- closing needs the customer's confirmation (or an expired link) --------------------------


def test_close_is_refused_while_the_customer_has_not_answered():
    with time_machine.travel(REGISTERED_AT, tick=False):
        complaint = make_complaint(S.RESOLVED)
    days = settings.COMPLAINT_FEEDBACK_DAYS
    with time_machine.travel(REGISTERED_AT + timedelta(days=days) - timedelta(minutes=1), tick=False):
        before = _state_fingerprint(complaint)
        with pytest.raises(ValidationError) as caught:
            complaint_transition(complaint=complaint, action="close", actor=role_user(Role.SERVICE_DESK))
        assert "action" in caught.value.message_dict
        assert not isinstance(caught.value, TransitionRefused)
        assert _state_fingerprint(complaint) == before


def test_close_is_allowed_once_the_feedback_link_expired():
    with time_machine.travel(REGISTERED_AT, tick=False):
        complaint = make_complaint(S.RESOLVED)
    moment = REGISTERED_AT + timedelta(days=settings.COMPLAINT_FEEDBACK_DAYS, seconds=1)
    with time_machine.travel(moment, tick=False):
        closed = complaint_transition(complaint=complaint, action="close", actor=role_user(Role.BR_MANAGER))
    assert closed.status == S.CLOSED and closed.closed_at == moment


def test_close_is_allowed_at_once_for_a_contact_without_email():
    complaint = make_complaint(S.RESOLVED, contact=ContactFactory(email=""))
    closed = complaint_transition(
        complaint=complaint, action="close", actor=role_user(Role.SERVICE_DESK), note="confirmed by phone"
    )
    assert closed.status == S.CLOSED and closed.events.last().note == "confirmed by phone"


def test_close_is_allowed_once_the_customer_confirmed():
    complaint = make_complaint(S.CLOSED)  # the factory records the customer's confirmation
    assert complaint.status == S.CLOSED and complaint.result_settled is True


# --- reopening -----------------------------------------------------------------------------


@pytest.mark.parametrize("source", [S.RESOLVED, S.CLOSED])
def test_reopen_counts_and_a_second_round_resolves_again(source):
    complaint = make_complaint(source)
    desk, brm = role_user(Role.SERVICE_DESK), role_user(Role.BR_MANAGER)
    complaint = complaint_transition(complaint=complaint, action="reopen", actor=desk, note="came back")
    assert (complaint.status, complaint.reopen_count) == (S.INVESTIGATING, 1)
    complaint = complaint_transition(complaint=complaint, action="remedy", actor=brm)  # actions already recorded
    complaint = complaint_transition(complaint=complaint, action="customer_satisfied", actor=brm)
    complaint = complaint_transition(complaint=complaint, action="resolve", actor=brm)
    assert complaint.status == S.RESOLVED
    complaint = complaint_transition(complaint=complaint, action="reopen", actor=brm, note="again")
    assert complaint.reopen_count == 2
    assert [e.to_status for e in complaint.events.filter(action="reopen")] == [S.INVESTIGATING] * 2


def test_withdraw_is_possible_from_every_open_state_and_nothing_else():
    assert TRANSITIONS["withdraw"].sources == OPEN_STATUSES
    assert set(ALL_STATES) - OPEN_STATUSES == {S.RESOLVED, S.CLOSED, S.WITHDRAWN}


# --- the guards on the model ----------------------------------------------------------------


def test_saving_a_changed_status_raises():
    complaint = make_complaint(S.REGISTERED)
    loaded = Complaint.objects.get(pk=complaint.pk)
    loaded.status = S.CLOSED
    with pytest.raises(ValidationError), assert_nothing_written(Complaint, ComplaintEvent):
        loaded.save()
    assert Complaint.objects.get(pk=complaint.pk).status == S.REGISTERED


def test_an_instance_refreshed_after_a_transition_saves_normally():
    complaint = make_complaint(S.REGISTERED)
    held = Complaint.objects.get(pk=complaint.pk)
    complaint_transition(complaint=complaint, action="accept", actor=role_user(Role.SERVICE_DESK))
    held.refresh_from_db()
    held.related_service_text = "VPN"
    held.save()  # its status is the stored one: no "status changed" refusal
    assert Complaint.objects.get(pk=complaint.pk).related_service_text == "VPN"


def test_timeline_rows_cannot_be_changed_or_deleted():
    complaint = make_complaint(S.ACCEPTED)
    event = complaint.events.last()
    event.note = "rewritten history"
    with pytest.raises(ValidationError):
        event.save()
    with pytest.raises(ValidationError):
        event.delete()
    stored = ComplaintEvent.objects.get(pk=event.pk)
    assert stored.note == "" and stored.action == "accept"


def test_a_refused_move_queues_no_mail(django_capture_on_commit_callbacks):
    complaint = make_complaint(S.REGISTERED)
    with (
        django_capture_on_commit_callbacks(execute=True),
        assert_nothing_written(Notification, ComplaintEvent),
        pytest.raises(TransitionRefused),
    ):
        complaint_transition(complaint=complaint, action="resolve", actor=role_user(Role.BR_MANAGER), result="x")


# --- the generated doc stays in step with the table ----------------------------------------

DOC = Path(settings.BASE_DIR) / "docs" / "complaint-workflow.md"


def doc_table() -> list[str]:
    """The table of docs/complaint-workflow.md, one row per action, from the workflow table."""
    rows = [
        "| action | from | to | roles | requires | sets |",
        "|---|---|---|---|---|---|",
    ]
    sets = {
        "accept": "`responded_at`, owner (at desk level), reply time",
        "escalate": "one level up (a BR manager may choose 3); owner: a member of that level's role",
        "escalate_mrep": "level 1 → 3 (management representative); owner: a member of that role",
        "remedy": "pauses the resolution clock",
        "customer_satisfied": "resumes the clock",
        "customer_unsatisfied": "level 2 (department head), or one up from there (at most 3); resumes the clock",
        "plan_improvement": (
            "a register item from the complaint, in the chosen open plan or a new draft plan by `new_plan_title`"
        ),
        "resolve": "`resolved_at`; mails the satisfaction link",
        "close": "`closed_at`",
        "reopen": "`reopen_count` + 1; clears `resolved_at` / `closed_at`",
        "withdraw": "`withdrawn_at`",
    }
    for action, t in TRANSITIONS.items():
        sources = "any open state" if action == "withdraw" else ", ".join(f"`{s}`" for s in sorted(t.sources))
        roles = ", ".join(f"`{r}`" for r in sorted(t.roles)) + (", the owner" if t.owner_may else "")
        requires = ", ".join(f"`{r}`" for r in t.requires) or "—"
        rows.append(f"| `{action}` | {sources} | `{t.target}` | {roles} | {requires} | {sets.get(action, '—')} |")
    return rows


def test_the_workflow_doc_shows_the_current_diagram():
    text = DOC.read_text(encoding="utf-8")
    diagrams = re.findall(r"```mermaid\n(.*?)\n```", text, flags=re.DOTALL)
    assert diagrams == [as_mermaid()], f"docs/complaint-workflow.md is stale; its diagram should be:\n{as_mermaid()}"


def test_the_workflow_doc_lists_every_action_as_the_table_says():
    lines = DOC.read_text(encoding="utf-8").splitlines()
    header = doc_table()[0]
    assert header in lines, "docs/complaint-workflow.md has no action table"
    start = lines.index(header)
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    table = lines[start:end]
    assert table == doc_table(), "docs/complaint-workflow.md is stale; its table should be:\n" + "\n".join(doc_table())
