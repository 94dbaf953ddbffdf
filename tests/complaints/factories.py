"""Complaint test data, made through the real services so deadlines and events are right.

``make_complaint(status=...)`` registers a complaint and drives it through the workflow
actions (as the roles that may perform them) until it reaches ``status``.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import Group

from complaints.choices import Category, Channel, ComplaintStatus, Severity
from complaints.models import Complaint
from complaints.services import complaint_register, complaint_transition
from itsm.core.models import User
from itsm.core.roles import Role
from tests.factories import ContactFactory, UserFactory

S = ComplaintStatus

# Escalated complaints at a given level: the status is "escalated", the level says who owns it.
AT_BRM = "escalated@1"
AT_HEAD = "escalated@2"

# The shortest path of (action, role, inputs) from registered to each state.
PATHS: dict[str, list[tuple[str, str, dict]]] = {}
_accept = ("accept", Role.SERVICE_DESK, {})
_investigate = ("investigate", Role.SERVICE_DESK, {})
_escalate = ("escalate", Role.SERVICE_DESK, {"note": "needs the BR manager"})
_remedy = (
    "remedy",
    Role.SERVICE_DESK,
    {"diagnosis": "a faulty router at the branch", "remedial_actions": "replaced the router"},
)
_satisfied = (
    "customer_satisfied",
    Role.SERVICE_DESK,
    {"category": Category.RESPONSE_SPEED, "root_cause": "night shift understaffed"},
)
_unsatisfied = ("customer_unsatisfied", Role.SERVICE_DESK, {"note": "still slow"})
_plan = ("plan_improvement", Role.BR_MANAGER, {"new_plan_title": "Night cover for the service desk"})
_resolve = ("resolve", Role.BR_MANAGER, {"result": "apologised and added night cover"})
PATHS[S.REGISTERED] = []
PATHS[S.ACCEPTED] = [_accept]
PATHS[S.INVESTIGATING] = [_accept, _investigate]
PATHS[AT_BRM] = [_accept, _investigate, _escalate]
PATHS[S.AWAITING_FEEDBACK] = [_accept, _investigate, _remedy]
PATHS[S.ESCALATED] = PATHS[AT_BRM]
PATHS[AT_HEAD] = [*PATHS[S.AWAITING_FEEDBACK], _unsatisfied]
PATHS[S.ANALYSIS] = [*PATHS[S.AWAITING_FEEDBACK], _satisfied]
PATHS[S.IMPROVEMENT_PLANNED] = [*PATHS[S.ANALYSIS], _plan]
PATHS[S.RESOLVED] = [*PATHS[S.ANALYSIS], _resolve]
PATHS[S.CLOSED] = [*PATHS[S.RESOLVED]]  # closing needs the customer's confirmation: see make_complaint
PATHS[S.WITHDRAWN] = [("withdraw", Role.SERVICE_DESK, {"note": "customer withdrew"})]


def role_user(role: str) -> User:
    """A user holding ``role`` (the first one, created on demand)."""
    user = User.objects.filter(groups__name=role, is_active=True).order_by("pk").first()
    if user is None:
        user = UserFactory()
        user.groups.add(Group.objects.get(name=role))
    return user


def make_complaint(
    status: str = S.REGISTERED,
    *,
    severity: str = Severity.NORMAL,
    contact=None,
    actor: User | None = None,
    received_at: datetime | None = None,
    title: str = "Slow response to a network outage",
    **fields,
) -> Complaint:
    """Register a complaint and move it to ``status`` through the real workflow (``AT_BRM`` /
    ``AT_HEAD``: escalated to level 1 / 2)."""
    for role in (Role.BR_MANAGER, Role.DEPARTMENT_HEAD, Role.MANAGEMENT_REP):
        role_user(role)  # escalations need someone to own them
    contact = contact or ContactFactory()
    actor = actor or role_user(Role.SERVICE_DESK)
    complaint = complaint_register(
        actor=actor,
        organisation=contact.organisation,
        contact=contact,
        title=title,
        description="The customer waited two hours for a call back.",
        channel=fields.pop("channel", Channel.PHONE),
        severity=severity,
        received_at=received_at,
        **fields,
    )
    for action, role, inputs in PATHS[status]:
        complaint = complaint_transition(complaint=complaint, action=action, actor=role_user(role), **inputs)
    if status == S.CLOSED:
        # The customer confirmed through their link (recorded directly here).
        Complaint.objects.filter(pk=complaint.pk).update(result_satisfaction=5, result_settled=True)
        complaint.refresh_from_db()
        complaint = complaint_transition(complaint=complaint, action="close", actor=role_user(Role.SERVICE_DESK))
    return complaint
