"""The complaint state machine (SPEC §3), as one declarative table.

    registered --accept--> accepted --investigate--> investigating
    investigating | escalated --escalate--> escalated                (one level up: 1, 2, 3)
    escalated --escalate_mrep--> escalated                           (BR manager: level 1 → 3)
    investigating | escalated --remedy--> awaiting_feedback          (diagnosis result recorded)
    awaiting_feedback --customer_satisfied--> analysis
    awaiting_feedback --customer_unsatisfied--> escalated            (level 2, or one up from there)
    analysis --plan_improvement--> improvement_planned
    analysis | improvement_planned --resolve--> resolved              (satisfaction link mailed)
    resolved --close--> closed
    resolved | closed --reopen--> investigating
    any open state --withdraw--> withdrawn

The status never names an escalation level: who owns the complaint (0 service desk, 1 BR
manager, 2 department head, 3 management representative) is ``escalation_level``, shown
beside the status. So an automatic escalation on a breached deadline moves the level and the
owner and leaves the status where the work is; the two cannot contradict each other.

Each ``Transition`` says which states it leaves from, the state it enters, which roles may
perform it and which inputs it requires; ``owner_may``: the complaint's current owner may
perform it whatever their role. ``complaints.services.complaint_transition`` is the only code
that moves a complaint; it reads this table and nothing else decides.
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
            owner_may=True,
        ),
        Transition(
            "investigate",
            _("Start investigation"),
            frozenset({S.ACCEPTED}),
            S.INVESTIGATING,
            frozenset({DESK, BRM}),
            owner_may=True,
        ),
        Transition(
            "escalate",
            _("Escalate"),
            frozenset({S.INVESTIGATING, S.ESCALATED}),
            S.ESCALATED,
            frozenset({DESK, BRM}),
            requires=("note",),
            accepts=("level", "owner"),
            description=_(
                "One level up: BR manager, then department head, then management representative. A BR "
                "manager may go straight to the management representative when necessary. Give the reason."
            ),
            button="warning",
            owner_may=True,
        ),
        # The BR manager's own way up "when necessary" (reference 000 §2.2): from level 1
        # straight to the management representative, past the department head.
        Transition(
            "escalate_mrep",
            _("Escalate to the management representative"),
            frozenset({S.ESCALATED}),
            S.ESCALATED,
            frozenset({BRM}),
            requires=("note",),
            accepts=("owner",),
            description=_(
                "When necessary, the BR manager takes the complaint straight to the management "
                "representative (level 3). Give the reason."
            ),
            button="danger",
        ),
        Transition(
            "remedy",
            _("Remedy applied, customer told"),
            frozenset({S.INVESTIGATING, S.ESCALATED}),
            S.AWAITING_FEEDBACK,
            frozenset({DESK, BRM, HEAD, MREP}),
            requires=("diagnosis", "remedial_actions"),
            accepts=("diagnosis", "remedial_actions"),
            description=_(
                "Record the diagnosis result of the investigation and the remedial actions; the resolution "
                "clock pauses until the customer answers."
            ),
            owner_may=True,
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
            owner_may=True,
        ),
        Transition(
            "customer_unsatisfied",
            _("Customer not satisfied"),
            frozenset({S.AWAITING_FEEDBACK}),
            S.ESCALATED,
            frozenset({DESK, BRM, HEAD, MREP}),
            requires=("note",),
            accepts=("owner",),
            description=_(
                "Escalate to the department head (level 2), or one level further up if the complaint is "
                "there already. Record what the customer still asks for."
            ),
            button="danger",
            owner_may=True,
        ),
        Transition(
            "plan_improvement",
            _("Plan an improvement"),
            frozenset({S.ANALYSIS}),
            S.IMPROVEMENT_PLANNED,
            frozenset({BRM}),
            accepts=("plan", "new_plan_title"),
            description=_(
                "Link the service improvement plan that addresses the cause: an open plan, or a new draft "
                "plan by its title. The complaint becomes an item of the plan's improvement register."
            ),
            owner_may=True,
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
            owner_may=True,
        ),
        Transition(
            "close",
            _("Close"),
            frozenset({S.RESOLVED}),
            S.CLOSED,
            frozenset({DESK, BRM}),
            description=_(
                "Possible once the customer has confirmed the result (through the link, or by phone recorded "
                "here), or the confirmation link has expired unanswered."
            ),
            button="dark",
            owner_may=True,
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
            owner_may=True,
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
            owner_may=True,
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
