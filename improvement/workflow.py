"""The state machines of continual improvement (SPEC §6), as tables run by the workflow kit.

Improvement items (the register)::

    suggested --accept--> open                  (the system suggested it; its owner takes it on)
    suggested | open --dismiss--> dismissed     (a reason; a duplicate names the item it repeats)
    open --plan--> planned                      (part of an improvement plan)
    planned --unplan--> open                    (taken out of the plan)
    open | planned --complete--> done           (what was done; a plan's close completes its items)
    done | dismissed --reopen--> open

Service improvement plans (SIP), plan → do → check → act::

    draft --submit--> submitted --approve--> approved --start--> in_progress
    submitted --return_for_rework--> draft      (the approver asks for changes)
    submitted --reject--> rejected              (final)
    approved | in_progress | effectiveness_review --resubmit--> submitted
                                                (the target changed or actions were added)
    in_progress --request_review--> effectiveness_review   (every action done; review scheduled)
    effectiveness_review --close--> closed      (effective or partly effective)
    effectiveness_review --repeat--> in_progress   (not effective: new actions, one more round)

Review meetings::

    planned --hold--> held                      (inputs frozen)
    planned --cancel--> cancelled

The BR manager approves a plan, the department head a department's own plan (``team``), the
machine's ``may`` in ``improvement.services.plans`` says so; plan owners take the steps of their
own plans (``owner_may``). The effectiveness review's own record and the re-approval are the
machine's effects (``improvement.services.plans``).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from itsm.core import workflow as core_workflow
from itsm.core.roles import Role
from itsm.core.workflow import Transition

from .choices import ItemStatus, MeetingStatus, PlanStatus

BRM = Role.BR_MANAGER.value
HEAD = Role.DEPARTMENT_HEAD.value
OWNER = Role.PROCESS_OWNER.value
SAT = Role.SATISFACTION_OWNER.value
SLM = Role.SERVICE_LEVEL_MANAGER.value
QM = Role.QUALITY_MANAGER.value
DESK = Role.SERVICE_DESK.value
MREP = Role.MANAGEMENT_REP.value

# Who works the register: whoever raises items from their sources.
ITEM_ROLES = frozenset({BRM, HEAD, OWNER, SAT, SLM, QM, DESK, MREP})
# Who drafts and runs plans (the owner of a plan takes its steps whatever the role).
PLAN_ROLES = frozenset({BRM, HEAD, OWNER, SAT, SLM, QM})
# Who may approve: the machine narrows it to the BR manager or, for a department's plan, its head.
APPROVER_ROLES = frozenset({BRM, HEAD})
MEETING_ROLES = frozenset({BRM, QM, OWNER})

IS = ItemStatus
ITEM_TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in [
        Transition(
            "accept",
            _("Accept"),
            frozenset({IS.SUGGESTED}),
            IS.OPEN,
            ITEM_ROLES,
            description=_("Take the suggestion on: it becomes an open item with a date to close it by."),
            button="success",
            owner_may=True,
        ),
        Transition(
            "dismiss",
            _("Dismiss"),
            frozenset({IS.SUGGESTED, IS.OPEN}),
            IS.DISMISSED,
            ITEM_ROLES,
            requires=("note",),
            accepts=("duplicate_of",),
            description=_("Nothing will be done about it: give the reason (or the item it duplicates)."),
            button="outline-secondary",
            owner_may=True,
        ),
        Transition(
            "plan",
            _("Add to a plan"),
            frozenset({IS.OPEN}),
            IS.PLANNED,
            ITEM_ROLES,
            requires=("plan",),
            accepts=("plan",),
            description=_("The item becomes part of a service improvement plan that is still open."),
            owner_may=True,
        ),
        Transition(
            "unplan",
            _("Take out of the plan"),
            frozenset({IS.PLANNED}),
            IS.OPEN,
            ITEM_ROLES,
            requires=("note",),
            description=_("The plan will not address the item after all: it is open again. Say why."),
            button="outline-warning",
            owner_may=True,
            # A rejected plan releases its items.
            system=True,
        ),
        Transition(
            "complete",
            _("Mark done"),
            frozenset({IS.OPEN, IS.PLANNED}),
            IS.DONE,
            ITEM_ROLES,
            requires=("resolution",),
            accepts=("resolution",),
            description=_("Record what was done about it."),
            button="success",
            owner_may=True,
            # A plan's close completes its items.
            system=True,
        ),
        Transition(
            "reopen",
            _("Reopen"),
            frozenset({IS.DONE, IS.DISMISSED}),
            IS.OPEN,
            ITEM_ROLES,
            requires=("note",),
            description=_("The problem is back or was dismissed wrongly. Give the reason."),
            button="warning",
            owner_may=True,
        ),
    ]
}

P = PlanStatus
PLAN_TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in [
        Transition(
            "submit",
            _("Submit for approval"),
            frozenset({P.DRAFT}),
            P.SUBMITTED,
            PLAN_ROLES,
            description=_(
                "Needs a goal, a target (a target measure, or the KPI's target value and date) and at least one action."
            ),
            owner_may=True,
        ),
        Transition(
            "approve",
            _("Approve"),
            frozenset({P.SUBMITTED}),
            P.APPROVED,
            APPROVER_ROLES,
            description=_("The plan, its target and its actions are approved as they stand."),
            button="success",
        ),
        Transition(
            "return_for_rework",
            _("Return for rework"),
            frozenset({P.SUBMITTED}),
            P.DRAFT,
            APPROVER_ROLES,
            requires=("note",),
            description=_("The plan goes back to its owner as a draft. Say what must change."),
            button="warning",
        ),
        Transition(
            "reject",
            _("Reject"),
            frozenset({P.SUBMITTED}),
            P.REJECTED,
            APPROVER_ROLES,
            requires=("note",),
            description=_("The plan will not be carried out. Give the reason; its items are open again."),
            button="outline-danger",
        ),
        Transition(
            "start",
            _("Start the work"),
            frozenset({P.APPROVED}),
            P.IN_PROGRESS,
            PLAN_ROLES,
            description=_("The actions are under way."),
            owner_may=True,
        ),
        Transition(
            "resubmit",
            _("Back for approval"),
            frozenset({P.APPROVED, P.IN_PROGRESS, P.EFFECTIVENESS_REVIEW}),
            P.SUBMITTED,
            PLAN_ROLES,
            description=_("The target changed or actions were added after approval: it needs approving again."),
            button="warning",
            owner_may=True,
        ),
        Transition(
            "request_review",
            _("Check effectiveness"),
            frozenset({P.IN_PROGRESS}),
            P.EFFECTIVENESS_REVIEW,
            PLAN_ROLES,
            requires=("review_due_on",),
            accepts=("review_due_on",),
            description=_(
                "Every action of this round is done (or cancelled): schedule the review of whether it worked."
            ),
            owner_may=True,
        ),
        Transition(
            "close",
            _("Close as effective"),
            frozenset({P.EFFECTIVENESS_REVIEW}),
            P.CLOSED,
            PLAN_ROLES,
            requires=("outcome_note",),
            accepts=("outcome_note",),
            description=_("The review found the plan effective (or partly): record the outcome."),
            button="success",
            owner_may=True,
        ),
        Transition(
            "repeat",
            _("Not effective: go round again"),
            frozenset({P.EFFECTIVENESS_REVIEW}),
            P.IN_PROGRESS,
            PLAN_ROLES,
            requires=("note",),
            description=_("The review found it did not work: the plan is in progress again for new actions."),
            button="danger",
            owner_may=True,
        ),
    ]
}

M = MeetingStatus
MEETING_TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in [
        Transition(
            "hold",
            _("Record as held"),
            frozenset({M.PLANNED}),
            M.HELD,
            MEETING_ROLES,
            accepts=("minutes",),
            description=_("The meeting took place: its inputs are frozen as they stand now."),
            button="success",
        ),
        Transition(
            "cancel",
            _("Cancel"),
            frozenset({M.PLANNED}),
            M.CANCELLED,
            MEETING_ROLES,
            requires=("note",),
            description=_("The meeting will not take place. Give the reason."),
            button="outline-danger",
        ),
    ]
}


def as_mermaid() -> str:
    """The plan table as a Mermaid state diagram (docs/improvement-workflow.md)."""
    return core_workflow.as_mermaid(PLAN_TRANSITIONS, P.DRAFT, (P.CLOSED, P.REJECTED))


def item_mermaid() -> str:
    return core_workflow.as_mermaid(ITEM_TRANSITIONS, IS.OPEN, (IS.DONE, IS.DISMISSED))


def meeting_mermaid() -> str:
    return core_workflow.as_mermaid(MEETING_TRANSITIONS, M.PLANNED, (M.HELD, M.CANCELLED))
