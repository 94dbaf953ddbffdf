"""The survey campaign state machine (SPEC §4), as one declarative table.

    draft --submit--> in_review            (the plan and questionnaire go to a BR manager)
    in_review --approve--> approved         (审阅确认: the questionnaire is approved)
    in_review --return--> draft             (sent back with the reviewer's remarks)
    approved --launch--> running            (invitations are created and mailed in batches)
    running --close--> closed               (by hand, or by the periodic check on the close date)
    closed --publish--> published           (results mailed to the stakeholders)
    published --analyse--> analysed         (analysis notes recorded; improvement items follow)

Each ``Transition`` says which states it leaves from, the state it enters, which roles may
perform it and which inputs it requires. ``surveys.services.campaigns.campaign_transition``
is the only code that moves a campaign; it reads this table and nothing else decides.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from itsm.core import workflow as core_workflow
from itsm.core.roles import Role
from itsm.core.workflow import Transition

from .choices import CampaignStatus

S = CampaignStatus

OWNER = Role.SATISFACTION_OWNER.value
QUALITY = Role.QUALITY_MANAGER.value
BRM = Role.BR_MANAGER.value
PLANNERS = frozenset({OWNER, QUALITY})


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in [
        Transition(
            "submit",
            _("Submit for review"),
            frozenset({S.DRAFT}),
            S.IN_REVIEW,
            PLANNERS,
            description=_(
                "A business relationship manager reviews the plan and the questionnaire. "
                "The questionnaire version is frozen from now on."
            ),
        ),
        Transition(
            "approve",
            _("Approve"),
            frozenset({S.IN_REVIEW}),
            S.APPROVED,
            frozenset({BRM}),
            description=_("Confirm that the plan and the questionnaire have been reviewed."),
            button="success",
        ),
        Transition(
            "return",
            _("Send back"),
            frozenset({S.IN_REVIEW}),
            S.DRAFT,
            frozenset({BRM}),
            requires=("note",),
            description=_("Return the plan to its owner with what must change."),
            button="warning",
        ),
        Transition(
            "launch",
            _("Launch"),
            frozenset({S.APPROVED}),
            S.RUNNING,
            PLANNERS,
            description=_("Invite the audience: one email with a personal link per contact, sent in batches."),
            button="success",
        ),
        Transition(
            "close",
            _("Close"),
            frozenset({S.RUNNING}),
            S.CLOSED,
            PLANNERS,
            description=_("Stop accepting answers now (the campaign also closes by itself on its close date)."),
            button="dark",
            system=True,
        ),
        Transition(
            "publish",
            _("Publish results"),
            frozenset({S.CLOSED}),
            S.PUBLISHED,
            PLANNERS,
            description=_("Mail the results to the stakeholders."),
        ),
        Transition(
            "analyse",
            _("Record the analysis"),
            frozenset({S.PUBLISHED}),
            S.ANALYSED,
            PLANNERS,
            requires=("analysis",),
            accepts=("analysis",),
            description=_("Record the analysis notes: causes, comparisons and conclusions."),
            button="success",
        ),
    ]
}


def as_mermaid() -> str:
    """The table as a Mermaid state diagram (docs/survey-workflow.md is generated from it)."""
    return core_workflow.as_mermaid(TRANSITIONS, S.DRAFT, (S.ANALYSED,))
