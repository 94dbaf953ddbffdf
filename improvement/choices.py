"""The choice sets of continual improvement, each value with its translated label."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Priority(models.TextChoices):
    HIGH = "high", _("High")
    MEDIUM = "medium", _("Medium")
    LOW = "low", _("Low")


class ItemStatus(models.TextChoices):
    SUGGESTED = "suggested", pgettext_lazy("improvement item", "Suggested")
    OPEN = "open", pgettext_lazy("improvement item", "Open")
    PLANNED = "planned", pgettext_lazy("improvement item", "Planned")
    DONE = "done", pgettext_lazy("improvement item", "Done")
    DISMISSED = "dismissed", pgettext_lazy("improvement item", "Dismissed")


# An item still to be worked on (the register's "open" filter, the KPI's denominator).
ITEM_OPEN_STATUSES = (ItemStatus.SUGGESTED, ItemStatus.OPEN, ItemStatus.PLANNED)


class PlanStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("improvement plan", "Draft")
    SUBMITTED = "submitted", pgettext_lazy("improvement plan", "Submitted for approval")
    APPROVED = "approved", pgettext_lazy("improvement plan", "Approved")
    IN_PROGRESS = "in_progress", pgettext_lazy("improvement plan", "In progress")
    EFFECTIVENESS_REVIEW = "effectiveness_review", pgettext_lazy("improvement plan", "Effectiveness review")
    CLOSED = "closed", pgettext_lazy("improvement plan", "Closed")
    REJECTED = "rejected", pgettext_lazy("improvement plan", "Rejected")


PLAN_OPEN_STATUSES = (
    PlanStatus.DRAFT,
    PlanStatus.SUBMITTED,
    PlanStatus.APPROVED,
    PlanStatus.IN_PROGRESS,
    PlanStatus.EFFECTIVENESS_REVIEW,
)
# Once approved the plan's target and actions are what was approved: a change goes back for approval.
PLAN_APPROVED_STATUSES = (PlanStatus.APPROVED, PlanStatus.IN_PROGRESS, PlanStatus.EFFECTIVENESS_REVIEW)


class Stage(models.TextChoices):
    """The PDCA stage a plan's status is in (shown on every page of the plan)."""

    PLAN = "plan", pgettext_lazy("PDCA", "Plan")
    DO = "do", pgettext_lazy("PDCA", "Do")
    CHECK = "check", pgettext_lazy("PDCA", "Check")
    ACT = "act", pgettext_lazy("PDCA", "Act")


STAGE_OF_STATUS = {
    PlanStatus.DRAFT: Stage.PLAN,
    PlanStatus.SUBMITTED: Stage.PLAN,
    PlanStatus.REJECTED: Stage.PLAN,
    PlanStatus.APPROVED: Stage.DO,
    PlanStatus.IN_PROGRESS: Stage.DO,
    PlanStatus.EFFECTIVENESS_REVIEW: Stage.CHECK,
    PlanStatus.CLOSED: Stage.ACT,
}


class ActionStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("improvement action", "Open")
    IN_PROGRESS = "in_progress", pgettext_lazy("improvement action", "In progress")
    DONE = "done", pgettext_lazy("improvement action", "Done")
    CANCELLED = "cancelled", pgettext_lazy("improvement action", "Cancelled")


ACTION_OPEN_STATUSES = (ActionStatus.OPEN, ActionStatus.IN_PROGRESS)


class Effectiveness(models.TextChoices):
    EFFECTIVE = "effective", _("Effective")
    PARTLY = "partly", _("Partly effective")
    NOT_EFFECTIVE = "not_effective", _("Not effective")


class MeetingKind(models.TextChoices):
    REVIEW = "review", _("Service review meeting")
    QUALITY_ANALYSIS = "quality_analysis", _("Monthly quality analysis meeting")


class MeetingStatus(models.TextChoices):
    PLANNED = "planned", pgettext_lazy("meeting", "Planned")
    HELD = "held", pgettext_lazy("meeting", "Held")
    CANCELLED = "cancelled", pgettext_lazy("meeting", "Cancelled")
