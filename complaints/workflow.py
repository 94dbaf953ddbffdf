"""The complaint state machine (SPEC §3), as one declarative table.

    registered --accept--> accepted --investigate--> investigating
    investigating --escalate--> escalated_brm                   (level 1, BR manager owns it)
    investigating | escalated_brm | escalated_head --remedy--> awaiting_feedback
    awaiting_feedback --customer_satisfied--> analysis
    awaiting_feedback --customer_unsatisfied--> escalated_head   (level 2, then 3)
    analysis --plan_improvement--> improvement_planned
    analysis | improvement_planned --resolve--> resolved         (satisfaction link mailed)
    resolved --close--> closed
    resolved | closed --reopen--> investigating
    any open state --withdraw--> withdrawn

Each ``Transition`` says which states it leaves from, the state it enters, which roles may
perform it and which inputs it requires. ``complaints.services.complaint_transition`` is
the only code that moves a complaint; it reads this table and nothing else decides.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from itsm.core import workflow as core_workflow
from itsm.core.roles import Role
from itsm.core.workflow import Transition

from .choices import OPEN_STATUSES, ComplaintStatus

S = ComplaintStatus

DESK = Role.SERVICE_DESK.value
BRM = Role.BR_MANAGER.value
HEAD = Role.DEPARTMENT_HEAD.value
MREP = Role.MANAGEMENT_REP.value


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in [
        Transition(
            "accept",
            _("Accept"),
            frozenset({S.REGISTERED}),
            S.ACCEPTED,
            frozenset({DESK, BRM}),
            description=_("Respond to the customer and take the complaint on."),
        ),
        Transition(
            "investigate",
            _("Start investigation"),
            frozenset({S.ACCEPTED}),
            S.INVESTIGATING,
            frozenset({DESK, BRM}),
        ),
        Transition(
            "escalate",
            _("Escalate to BR manager"),
            frozenset({S.INVESTIGATING}),
            S.ESCALATED_BRM,
            frozenset({DESK, BRM}),
            requires=("note",),
            accepts=("owner",),
            description=_("Level 1: a business relationship manager owns the complaint. Give the reason."),
            button="warning",
        ),
        Transition(
            "remedy",
            _("Remedy applied, customer told"),
            frozenset({S.INVESTIGATING, S.ESCALATED_BRM, S.ESCALATED_HEAD}),
            S.AWAITING_FEEDBACK,
            frozenset({DESK, BRM, HEAD, MREP}),
            requires=("remedial_actions",),
            accepts=("remedial_actions",),
            description=_("Record the remedial actions; the resolution clock pauses until the customer answers."),
        ),
        Transition(
            "customer_satisfied",
            _("Customer satisfied with the remedy"),
            frozenset({S.AWAITING_FEEDBACK}),
            S.ANALYSIS,
            frozenset({DESK, BRM, HEAD, MREP}),
            requires=("category", "root_cause"),
            accepts=("category", "root_cause"),
            description=_("Analyse the cause: the category and root cause are needed."),
            button="success",
        ),
        Transition(
            "customer_unsatisfied",
            _("Customer not satisfied"),
            frozenset({S.AWAITING_FEEDBACK}),
            S.ESCALATED_HEAD,
            frozenset({DESK, BRM, HEAD, MREP}),
            requires=("note",),
            accepts=("owner",),
            description=_(
                "Escalate to the department head (level 2), or to the management representative if the "
                "head has already handled it (level 3). Record what the customer still asks for."
            ),
            button="danger",
        ),
        Transition(
            "plan_improvement",
            _("Plan an improvement"),
            frozenset({S.ANALYSIS}),
            S.IMPROVEMENT_PLANNED,
            frozenset({BRM}),
            requires=("improvement_plan_ref",),
            accepts=("improvement_plan_ref",),
            description=_("Link the service improvement plan that addresses the cause."),
        ),
        Transition(
            "resolve",
            _("Resolve"),
            frozenset({S.ANALYSIS, S.IMPROVEMENT_PLANNED}),
            S.RESOLVED,
            frozenset({DESK, BRM}),
            requires=("result",),
            accepts=("result",),
            description=_("Record the result; the customer is mailed a link to rate it."),
            button="success",
        ),
        Transition(
            "close",
            _("Close"),
            frozenset({S.RESOLVED}),
            S.CLOSED,
            frozenset({DESK, BRM}),
            description=_(
                "Possible once the customer has confirmed the result, or the confirmation link has expired unanswered."
            ),
            button="dark",
        ),
        Transition(
            "reopen",
            _("Reopen"),
            frozenset({S.RESOLVED, S.CLOSED}),
            S.INVESTIGATING,
            frozenset({DESK, BRM}),
            requires=("note",),
            description=_("The customer is not happy with the result: investigate again. Give the reason."),
            button="warning",
        ),
        Transition(
            "withdraw",
            _("Withdraw"),
            frozenset(OPEN_STATUSES),
            S.WITHDRAWN,
            frozenset({DESK, BRM}),
            requires=("note",),
            description=_("The customer withdrew the complaint. Give the reason."),
            button="outline-secondary",
        ),
    ]
}

# Inputs any action may carry besides its own: a note for the timeline.
COMMON_INPUTS = ("note",)


def as_mermaid() -> str:
    """The table as a Mermaid state diagram (docs/complaint-workflow.md is generated from it)."""
    return core_workflow.as_mermaid(
        TRANSITIONS, S.REGISTERED, (S.CLOSED, S.WITHDRAWN), source_names={"withdraw": "open"}
    )
