"""A complaint's status and escalation level never contradict each other (issue 9, item 4).

The status says where the work is and never names a level; the level says who owns the
complaint. An escalation offers the next level up with owners of that level's role; the owner
at the current level takes the next steps; a confirmation given by phone can be recorded by
staff; re-resolving keeps the earlier rating on the timeline and the analysis counts the latest.
"""

from __future__ import annotations

import importlib
from datetime import UTC, datetime

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from complaints.choices import ComplaintStatus, EscalationLevel, EventKind
from complaints.models import Complaint, ComplaintEvent
from complaints.selectors import complaint_analysis
from complaints.services import (
    allowed_actions,
    complaint_record_confirmation,
    complaint_record_feedback,
    complaint_transition,
    escalation_levels,
)
from itsm.core.periodic import run_check
from itsm.core.roles import Role
from itsm.core.testing import assert_nothing_written
from itsm.core.tokens import TokenRevoked
from tests.complaints.factories import AT_BRM, AT_HEAD, make_complaint, role_user
from tests.complaints.test_feedback import link_sent_to, resolve

pytestmark = pytest.mark.django_db

S = ComplaintStatus
L = EscalationLevel
TUESDAY_10 = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)


@pytest.fixture
def frozen():
    with time_machine.travel(TUESDAY_10, tick=False) as traveller:
        yield traveller


def actions(complaint, role_or_user) -> list[str]:
    user = role_user(role_or_user) if isinstance(role_or_user, str) else role_or_user
    return [t.action for t in allowed_actions(complaint, user)]


# --- the status never names a level -------------------------------------------------------------


def test_no_status_names_a_level():
    for value, label in S.choices:
        for level in L:
            if level == L.DESK:
                continue
            assert str(level.label) not in str(label), (value, label)


def test_an_automatic_escalation_moves_the_level_and_the_status_still_reads_true(django_capture_on_commit_callbacks):
    """The walk's TS-…-0006: "escalated to department head" at level 3. Now a breach moves
    the level and owner; the status stays where the work is and names no level."""
    with time_machine.travel(datetime(2026, 11, 2, 2, 0, tzinfo=UTC), tick=False):  # Monday 10:00
        waiting = make_complaint(S.REGISTERED)
        escalated = make_complaint(AT_HEAD)

    def check(moment):
        with time_machine.travel(moment, tick=False), django_capture_on_commit_callbacks(execute=True):
            run_check("complaints.check_deadlines")
        waiting.refresh_from_db()
        escalated.refresh_from_db()

    check(datetime(2026, 11, 4, 2, 0, tzinfo=UTC))  # past the response deadline only
    assert (waiting.status, waiting.escalation_level) == (S.REGISTERED, L.BR_MANAGER)
    assert waiting.owner == role_user(Role.BR_MANAGER)
    check(datetime(2026, 12, 1, 2, 0, tzinfo=UTC))  # past the resolution deadline too
    assert (waiting.status, waiting.escalation_level) == (S.REGISTERED, L.DEPARTMENT_HEAD)
    assert (escalated.status, escalated.escalation_level) == (S.ESCALATED, L.MANAGEMENT_REP)
    assert escalated.owner == role_user(Role.MANAGEMENT_REP)


def test_the_database_refuses_an_escalated_complaint_at_the_desk():
    complaint = make_complaint(AT_BRM)
    with pytest.raises(IntegrityError), transaction.atomic():
        Complaint.objects.filter(pk=complaint.pk).update(escalation_level=L.DESK)


def test_the_migration_moves_old_statuses_and_leaves_the_timeline_as_written():
    migration = importlib.import_module("complaints.migrations.0005_status_names_no_level")
    at_brm, at_head = make_complaint(AT_BRM), make_complaint(AT_HEAD)
    Complaint.objects.filter(pk=at_brm.pk).update(status="escalated_brm")
    Complaint.objects.filter(pk=at_head.pk).update(status="escalated_head")
    legacy_event = ComplaintEvent.objects.create(
        complaint=at_head, action="customer_unsatisfied", from_status="awaiting_feedback", to_status="escalated_head"
    )
    from django.apps import apps

    migration.merge_escalated(apps, None)
    assert set(Complaint.objects.filter(pk__in=[at_brm.pk, at_head.pk]).values_list("status", flat=True)) == {
        S.ESCALATED
    }
    legacy_event.refresh_from_db()
    assert legacy_event.to_status == "escalated_head"
    assert legacy_event.get_to_status_display() == "已升级至部门负责人"


# --- an escalation offers the next level up, with owners of that level's role ---------------------


def test_each_escalation_goes_one_level_up_to_an_owner_of_that_levels_role():
    complaint = make_complaint(S.INVESTIGATING)
    desk, brm, head, mrep = (
        role_user(r) for r in (Role.SERVICE_DESK, Role.BR_MANAGER, Role.DEPARTMENT_HEAD, Role.MANAGEMENT_REP)
    )
    assert escalation_levels(complaint, desk) == [L.BR_MANAGER]
    complaint = complaint_transition(complaint=complaint, action="escalate", actor=desk, note="the customer asks")
    assert (complaint.status, complaint.escalation_level, complaint.owner) == (S.ESCALATED, L.BR_MANAGER, brm)
    assert escalation_levels(complaint, desk) == [L.DEPARTMENT_HEAD]
    complaint = complaint_transition(
        complaint=complaint, action="escalate", actor=brm, note="needs the head", level=L.DEPARTMENT_HEAD
    )
    assert (complaint.escalation_level, complaint.owner) == (L.DEPARTMENT_HEAD, head)
    complaint = complaint_transition(complaint=complaint, action="escalate", actor=head, note="board level")
    assert (complaint.escalation_level, complaint.owner) == (L.MANAGEMENT_REP, mrep)
    assert escalation_levels(complaint, brm) == []
    assert "escalate" not in actions(complaint, Role.BR_MANAGER)
    with assert_nothing_written(ComplaintEvent), pytest.raises(ValidationError) as caught:
        complaint_transition(complaint=complaint, action="escalate", actor=brm, note="higher?")
    assert "level" in caught.value.message_dict


def test_a_br_manager_may_go_straight_to_the_management_representative_the_desk_may_not():
    complaint = make_complaint(S.INVESTIGATING)
    desk, brm = role_user(Role.SERVICE_DESK), role_user(Role.BR_MANAGER)
    assert escalation_levels(complaint, brm) == [L.BR_MANAGER, L.MANAGEMENT_REP]
    with assert_nothing_written(ComplaintEvent), pytest.raises(ValidationError) as caught:
        complaint_transition(complaint=complaint, action="escalate", actor=desk, note="x", level=L.MANAGEMENT_REP)
    assert "level" in caught.value.message_dict
    complaint = complaint_transition(
        complaint=complaint, action="escalate", actor=brm, note="major outage at a key customer", level=3
    )
    assert (complaint.escalation_level, complaint.owner) == (L.MANAGEMENT_REP, role_user(Role.MANAGEMENT_REP))


def test_after_an_unhappy_result_at_level_2_the_escalation_offered_is_level_3():
    """The walk: after an unhappy answer at level 2 the move offered read "escalate to BR
    manager" with department heads as owners, and left the status at level 1."""
    complaint = make_complaint(AT_HEAD)
    head = role_user(Role.DEPARTMENT_HEAD)
    complaint = complaint_transition(complaint=complaint, action="remedy", actor=head, remedial_actions="on site")
    complaint = complaint_transition(
        complaint=complaint, action="customer_satisfied", actor=head, category="attitude", root_cause="training"
    )
    complaint = complaint_transition(complaint=complaint, action="resolve", actor=head, result="apology and training")
    complaint = complaint_transition(complaint=complaint, action="reopen", actor=head, note="customer called again")
    assert (complaint.status, complaint.escalation_level) == (S.INVESTIGATING, L.DEPARTMENT_HEAD)
    assert escalation_levels(complaint, head) == [L.MANAGEMENT_REP]
    with pytest.raises(ValidationError) as caught:
        complaint_transition(
            complaint=complaint, action="escalate", actor=head, note="x", owner=role_user(Role.BR_MANAGER)
        )
    assert "owner" in caught.value.message_dict
    complaint = complaint_transition(complaint=complaint, action="escalate", actor=head, note="x")
    assert (complaint.status, complaint.escalation_level) == (S.ESCALATED, L.MANAGEMENT_REP)


def test_an_unhappy_customer_at_level_1_goes_to_level_2_and_at_level_2_to_level_3():
    brm = role_user(Role.BR_MANAGER)
    complaint = make_complaint(AT_BRM)
    complaint = complaint_transition(
        complaint=complaint, action="remedy", actor=brm, diagnosis="billed twice", remedial_actions="credit"
    )
    complaint = complaint_transition(complaint=complaint, action="customer_unsatisfied", actor=brm, note="no")
    assert (complaint.status, complaint.escalation_level) == (S.ESCALATED, L.DEPARTMENT_HEAD)
    complaint = complaint_transition(complaint=complaint, action="remedy", actor=brm, remedial_actions="more")
    complaint = complaint_transition(complaint=complaint, action="customer_unsatisfied", actor=brm, note="still no")
    assert (complaint.status, complaint.escalation_level) == (S.ESCALATED, L.MANAGEMENT_REP)


# --- the owner at the current level takes the next steps -------------------------------------------


def test_the_department_head_who_owns_it_takes_the_next_steps_to_closure():
    complaint = make_complaint(AT_HEAD)
    head = role_user(Role.DEPARTMENT_HEAD)
    assert complaint.owner == head
    complaint = complaint_transition(complaint=complaint, action="remedy", actor=head, remedial_actions="visit")
    complaint = complaint_transition(
        complaint=complaint, action="customer_satisfied", actor=head, category="attitude", root_cause="training"
    )
    assert actions(complaint, head) == ["plan_improvement", "resolve", "withdraw"]
    complaint = complaint_transition(complaint=complaint, action="resolve", actor=head, result="apologised")
    assert complaint.status == S.RESOLVED and "close" in actions(complaint, head)


def test_a_department_head_who_does_not_own_it_may_not_resolve_it():
    complaint = make_complaint(AT_HEAD)
    other_head = role_user(Role.DEPARTMENT_HEAD).__class__.objects.create_user("head2")
    from django.contrib.auth.models import Group

    other_head.groups.add(Group.objects.get(name=Role.DEPARTMENT_HEAD.value))
    assert actions(complaint, other_head) == ["remedy"]  # its role may remedy, nothing else
    brm = role_user(Role.BR_MANAGER)
    complaint = complaint_transition(complaint=complaint, action="remedy", actor=brm, remedial_actions="x")
    complaint = complaint_transition(
        complaint=complaint, action="customer_satisfied", actor=brm, category="attitude", root_cause="y"
    )
    with assert_nothing_written(ComplaintEvent), pytest.raises(PermissionDenied):
        complaint_transition(complaint=complaint, action="resolve", actor=other_head, result="z")


# --- a confirmation given by phone, recorded by staff ----------------------------------------------


@pytest.fixture
def resolved(frozen, django_capture_on_commit_callbacks):
    complaint = resolve(make_complaint(S.ANALYSIS), django_capture_on_commit_callbacks)
    return complaint, link_sent_to(complaint.contact)


def test_a_happy_confirmation_by_phone_lets_it_close_at_once(resolved):
    complaint, raw = resolved
    desk = role_user(Role.SERVICE_DESK)
    with pytest.raises(ValidationError):  # the link is live and unanswered: not yet
        complaint_transition(complaint=complaint, action="close", actor=desk)
    complaint = complaint_record_confirmation(
        complaint=complaint, actor=desk, satisfaction=5, settled=True, comment="客户电话确认已解决"
    )
    event = complaint.events.get(action=EventKind.FEEDBACK_BY_STAFF)
    assert (event.actor, event.note, event.data) == (
        desk,
        "客户电话确认已解决",
        {"satisfaction": 5, "settled": True, "on_behalf": True},
    )
    with pytest.raises(TokenRevoked):  # the customer's link no longer answers
        complaint_record_feedback(raw_token=raw, satisfaction=1, settled=False)
    complaint = complaint_transition(complaint=complaint, action="close", actor=desk)
    assert complaint.status == S.CLOSED and complaint.result_satisfaction == 5


def test_an_unhappy_confirmation_by_phone_reopens_it_and_mails_the_owner_once(
    resolved, django_capture_on_commit_callbacks
):
    complaint, _raw = resolved
    brm = role_user(Role.BR_MANAGER)
    owner = complaint.owner
    before = len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        complaint = complaint_record_confirmation(complaint=complaint, actor=brm, satisfaction=2, settled=False)
    assert (complaint.status, complaint.reopen_count) == (S.INVESTIGATING, 1)
    reopened = [m for m in mail.outbox[before:] if m.to == [owner.email]]
    assert len(reopened) == (0 if owner == brm else 1)


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.QUALITY_MANAGER, Role.SATISFACTION_OWNER])
def test_a_role_that_may_not_close_may_not_record_a_confirmation(resolved, role):
    complaint, _raw = resolved
    actor = role_user(role)
    with assert_nothing_written(ComplaintEvent), pytest.raises(PermissionDenied):
        complaint_record_confirmation(complaint=complaint, actor=actor, satisfaction=5, settled=True)


def test_a_confirmation_is_refused_unless_resolved_and_for_a_bad_rating(resolved):
    complaint, _raw = resolved
    desk = role_user(Role.SERVICE_DESK)
    for rating in (0, 6):
        with assert_nothing_written(ComplaintEvent), pytest.raises(ValidationError):
            complaint_record_confirmation(complaint=complaint, actor=desk, satisfaction=rating, settled=True)
    open_one = make_complaint(S.INVESTIGATING)
    with assert_nothing_written(ComplaintEvent), pytest.raises(ValidationError):
        complaint_record_confirmation(complaint=open_one, actor=desk, satisfaction=5, settled=True)


# --- re-resolving: the earlier rating stays on the timeline, the analysis counts the latest -------


def test_re_resolving_keeps_the_earlier_rating_and_the_analysis_counts_the_latest(
    resolved, django_capture_on_commit_callbacks
):
    complaint, raw = resolved
    brm = role_user(Role.BR_MANAGER)
    complaint = complaint_record_feedback(raw_token=raw, satisfaction=2, settled=False)  # reopens
    complaint = complaint_transition(complaint=complaint, action="remedy", actor=brm, remedial_actions="again")
    complaint = complaint_transition(complaint=complaint, action="customer_satisfied", actor=brm)
    complaint = resolve(complaint, django_capture_on_commit_callbacks)
    ratings = [e.data["satisfaction"] for e in complaint.events.filter(action=EventKind.FEEDBACK)]
    assert ratings == [2]
    totals = complaint_analysis(Complaint.objects.filter(pk=complaint.pk))
    assert (totals["rated"], totals["satisfied"]) == (1, 0)  # the latest rating, 2, until a new one

    complaint_record_feedback(raw_token=link_sent_to(complaint.contact), satisfaction=5, settled=True)
    ratings = [e.data["satisfaction"] for e in complaint.events.filter(action=EventKind.FEEDBACK).order_by("pk")]
    assert ratings == [2, 5]
    totals = complaint_analysis(Complaint.objects.filter(pk=complaint.pk))
    assert (totals["rated"], totals["satisfied"]) == (1, 1)


# --- through the pages ---------------------------------------------------------------------------


def test_the_page_lets_staff_record_a_phone_confirmation(client, resolved):
    from django.urls import reverse

    complaint, _raw = resolved
    desk = role_user(Role.SERVICE_DESK)
    client.force_login(desk)
    page = client.get(complaint.get_absolute_url()).content.decode()
    assert 'data-action="confirmation"' in page
    url = reverse("complaint_confirmation", args=[complaint.pk])
    with assert_nothing_written(ComplaintEvent):
        bad = client.post(url, {"confirmation-satisfaction": "9", "confirmation-settled": "yes"})
    assert bad.status_code == 400 and 'data-action-error="confirmation"' in bad.content.decode()
    response = client.post(
        url, {"confirmation-satisfaction": "4", "confirmation-settled": "yes", "confirmation-comment": "电话确认"}
    )
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert (complaint.result_satisfaction, complaint.result_settled) == (4, True)
    page = client.get(complaint.get_absolute_url()).content.decode()
    assert "电话确认" in page and 'data-action="close"' in page and 'data-action="confirmation"' not in page


def test_the_confirmation_page_action_is_refused_to_a_role_that_may_not_close(client, resolved):
    from django.urls import reverse

    complaint, _raw = resolved
    head = role_user(Role.DEPARTMENT_HEAD)  # may change complaints, does not own this one
    client.force_login(head)
    assert 'data-action="confirmation"' not in client.get(complaint.get_absolute_url()).content.decode()
    with assert_nothing_written(ComplaintEvent):
        response = client.post(
            reverse("complaint_confirmation", args=[complaint.pk]),
            {"confirmation-satisfaction": "5", "confirmation-settled": "yes"},
        )
    assert response.status_code == 403


def test_the_escalation_form_offers_the_levels_and_the_br_manager_may_pick_level_3(client):
    from django.urls import reverse

    complaint = make_complaint(S.INVESTIGATING)
    brm = role_user(Role.BR_MANAGER)
    client.force_login(brm)
    response = client.get(complaint.get_absolute_url())
    form = next(f for f in response.context["action_forms"] if f.prefix == "escalate")
    assert [value for value, _label in form.fields["level"].choices] == [1, 3]
    owner_widget = str(form["owner"])
    assert "/pick/escalation_owners/?level=1" in owner_widget and "id_escalate-level" in owner_widget
    mrep = role_user(Role.MANAGEMENT_REP)
    response = client.post(
        reverse("complaint_action", args=[complaint.pk, "escalate"]),
        {"escalate-level": "3", "escalate-owner": mrep.pk, "escalate-note": "重点客户重大故障"},
    )
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert (complaint.status, complaint.escalation_level, complaint.owner) == (S.ESCALATED, L.MANAGEMENT_REP, mrep)


def test_the_escalation_owner_picker_answers_members_of_the_levels_role(client):
    from django.urls import reverse

    head = role_user(Role.DEPARTMENT_HEAD)
    client.force_login(role_user(Role.SERVICE_DESK))
    body = client.get(reverse("pick_escalation_owners"), {"level": "2"}).json()
    assert [row["value"] for row in body["results"]] == [head.pk]
    assert client.get(reverse("pick_escalation_owners"), {"level": "7"}).json()["results"] == []
    client.force_login(role_user(Role.AUDITOR))
    assert client.get(reverse("pick_escalation_owners"), {"level": "2"}).status_code == 403


def test_the_head_who_owns_it_resolves_it_from_the_page(client):
    from django.urls import reverse

    complaint = make_complaint(AT_HEAD)
    head = role_user(Role.DEPARTMENT_HEAD)
    complaint = complaint_transition(complaint=complaint, action="remedy", actor=head, remedial_actions="visit")
    complaint = complaint_transition(
        complaint=complaint, action="customer_satisfied", actor=head, category="attitude", root_cause="training"
    )
    client.force_login(head)
    assert 'data-action="resolve"' in client.get(complaint.get_absolute_url()).content.decode()
    response = client.post(reverse("complaint_action", args=[complaint.pk, "resolve"]), {"resolve-result": "致歉"})
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == S.RESOLVED


# --- the BR manager straight to the management representative (escalate_mrep, 000 §2.2) ------------


def test_escalate_mrep_takes_a_level_1_complaint_to_the_management_representative(
    make_user, django_capture_on_commit_callbacks, frozen
):
    brm, mrep = role_user(Role.BR_MANAGER), role_user(Role.MANAGEMENT_REP)
    make_user(Role.MANAGEMENT_REP)  # a later one: the first active member is chosen
    complaint = make_complaint(AT_BRM)
    assert "escalate_mrep" in actions(complaint, brm)
    with django_capture_on_commit_callbacks(execute=True):
        moved = complaint_transition(
            complaint=complaint, action="escalate_mrep", actor=brm, note="the board of the customer writes to us"
        )
    assert (moved.status, moved.escalation_level, moved.owner) == (S.ESCALATED, L.MANAGEMENT_REP, mrep)
    event = moved.events.latest("pk")
    assert (event.action, event.from_status, event.to_status, event.actor) == (
        "escalate_mrep",
        S.ESCALATED,
        S.ESCALATED,
        brm,
    )
    # What the escalate effect records, and the same mail to the new owner, with the reason.
    assert event.data == {"escalation_level": [1, 3], "owner": mrep.pk}
    assert event.note == "the board of the customer writes to us"
    [message] = [m for m in mail.outbox if m.to == [mrep.email]]
    assert complaint.reference in message.subject and "the board of the customer writes to us" in message.body
    assert "escalate_mrep" not in actions(moved, brm)  # at the top level now


def test_escalate_mrep_goes_to_the_management_representative_chosen(make_user):
    chosen = make_user(Role.MANAGEMENT_REP)
    complaint = make_complaint(AT_BRM)
    moved = complaint_transition(
        complaint=complaint, action="escalate_mrep", actor=role_user(Role.BR_MANAGER), note="why", owner=chosen
    )
    assert moved.owner == chosen
    with pytest.raises(ValidationError) as caught:
        complaint_transition(
            complaint=make_complaint(AT_BRM),
            action="escalate_mrep",
            actor=role_user(Role.BR_MANAGER),
            note="why",
            owner=role_user(Role.DEPARTMENT_HEAD),
        )
    assert "owner" in caught.value.message_dict


@pytest.mark.parametrize("role", [Role.SERVICE_DESK, Role.DEPARTMENT_HEAD, Role.MANAGEMENT_REP, Role.AUDITOR])
def test_escalate_mrep_is_the_br_managers_alone(api_client, role):
    complaint = make_complaint(AT_BRM)
    user = role_user(role)
    assert "escalate_mrep" not in actions(complaint, user)
    api_client.force_authenticate(user)
    with assert_nothing_written(Complaint, ComplaintEvent):
        response = api_client.post(
            f"/api/v1/complaints/{complaint.pk}/transitions/",
            {"action": "escalate_mrep", "note": "let me"},
            format="json",
        )
    assert response.status_code == 403
    if role != Role.AUDITOR:  # the auditor may not change complaints at all: the plain 403
        message = response.json()["message"]
        assert "Escalate to the management representative" in message or "管理者代表" in message, message
    # The BR manager's owner rule does not let the owner do it either: its role decides.
    with pytest.raises(PermissionDenied):
        complaint_transition(complaint=complaint, action="escalate_mrep", actor=user, note="let me")


def test_escalate_mrep_needs_a_reason(api_client):
    complaint = make_complaint(AT_BRM)
    api_client.force_authenticate(role_user(Role.BR_MANAGER))
    with assert_nothing_written(Complaint, ComplaintEvent):
        for body in ({"action": "escalate_mrep"}, {"action": "escalate_mrep", "note": "  "}):
            response = api_client.post(f"/api/v1/complaints/{complaint.pk}/transitions/", body, format="json")
            assert response.status_code == 400
            assert list(response.json()["errors"]) == ["note"]


@pytest.mark.parametrize("state", [S.REGISTERED, S.INVESTIGATING, S.AWAITING_FEEDBACK, AT_HEAD, S.RESOLVED])
def test_escalate_mrep_is_refused_from_other_states_and_levels(api_client, state):
    complaint = make_complaint(state)
    brm = role_user(Role.BR_MANAGER)
    assert "escalate_mrep" not in actions(complaint, brm)
    api_client.force_authenticate(brm)
    with assert_nothing_written(Complaint, ComplaintEvent):
        response = api_client.post(
            f"/api/v1/complaints/{complaint.pk}/transitions/",
            {"action": "escalate_mrep", "note": "why"},
            format="json",
        )
    assert response.status_code == 400, response.content
    assert list(response.json()["errors"]) == ["action"]
    stored = Complaint.objects.get(pk=complaint.pk)
    assert (stored.status, stored.escalation_level) == (complaint.status, complaint.escalation_level)


def test_escalate_mrep_from_the_page_asks_for_the_reason(client):
    from django.urls import reverse

    complaint = make_complaint(AT_BRM)
    client.force_login(role_user(Role.BR_MANAGER))
    page = client.get(complaint.get_absolute_url()).content.decode()
    assert 'data-action="escalate_mrep"' in page and 'name="escalate_mrep-note"' in page
    action = reverse("complaint_action", args=[complaint.pk, "escalate_mrep"])
    refused = client.post(action, {"escalate_mrep-note": ""})
    assert refused.status_code == 400
    [form] = [form for form in refused.context["action_forms"] if form.transition.action == "escalate_mrep"]
    assert list(form.errors) == ["note"]
    response = client.post(action, {"escalate_mrep-note": "客户高层要求管理层答复"})
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert (complaint.escalation_level, complaint.owner) == (L.MANAGEMENT_REP, role_user(Role.MANAGEMENT_REP))
    assert complaint.events.latest("pk").note == "客户高层要求管理层答复"
