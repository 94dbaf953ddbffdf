"""Choice sets of complaints, each with a translated label (and a colour for badges)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ComplaintStatus(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    ACCEPTED = "accepted", _("Accepted")
    INVESTIGATING = "investigating", _("Investigating")
    # Who owns an escalated complaint is its escalation level, shown beside the status: the
    # status never names a level, so the two cannot contradict each other.
    ESCALATED = "escalated", pgettext_lazy("complaint status", "Escalated")
    AWAITING_FEEDBACK = "awaiting_feedback", _("Awaiting customer feedback")
    ANALYSIS = "analysis", _("Cause analysis")
    IMPROVEMENT_PLANNED = "improvement_planned", _("Improvement planned")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    WITHDRAWN = "withdrawn", _("Withdrawn")


STATUS_COLOURS = {
    ComplaintStatus.REGISTERED: "secondary",
    ComplaintStatus.ACCEPTED: "info",
    ComplaintStatus.INVESTIGATING: "primary",
    ComplaintStatus.ESCALATED: "warning",
    ComplaintStatus.AWAITING_FEEDBACK: "info",
    ComplaintStatus.ANALYSIS: "primary",
    ComplaintStatus.IMPROVEMENT_PLANNED: "primary",
    ComplaintStatus.RESOLVED: "success",
    ComplaintStatus.CLOSED: "dark",
    ComplaintStatus.WITHDRAWN: "light",
}

# The resolution clock does not run while the complaint waits on the customer or is done.
PAUSED_STATUSES = frozenset(
    {ComplaintStatus.AWAITING_FEEDBACK, ComplaintStatus.RESOLVED, ComplaintStatus.CLOSED, ComplaintStatus.WITHDRAWN}
)
FINISHED_STATUSES = frozenset({ComplaintStatus.RESOLVED, ComplaintStatus.CLOSED, ComplaintStatus.WITHDRAWN})
OPEN_STATUSES = frozenset(ComplaintStatus.values) - FINISHED_STATUSES

# Timeline rows written before complaints.0006 name the level in the status; the timeline is
# append-only, so they keep those values and read them with these labels.
LEGACY_STATUSES = [
    ("escalated_brm", _("Escalated to BR manager")),
    ("escalated_head", _("Escalated to department head")),
]
EVENT_STATUS_CHOICES = [*ComplaintStatus.choices, *LEGACY_STATUSES]


class Severity(models.TextChoices):
    NORMAL = "normal", _("Normal")
    MAJOR = "major", _("Major")


class Category(models.TextChoices):
    ATTITUDE = "attitude", _("Service attitude")
    RESPONSE_SPEED = "response_speed", _("Response speed")
    RESOLUTION_QUALITY = "resolution_quality", _("Resolution quality")
    SLA_BREACH = "sla_breach", _("SLA breach")
    CONTRACT_BILLING = "contract_billing", _("Contract / billing")
    OTHER = "other", _("Other")


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", pgettext_lazy("complaint channel", "Email")
    WEB_FORM = "web_form", _("Web form")
    LETTER = "letter", _("Letter")
    VISIT = "visit", _("Visit")
    SURVEY_FEEDBACK = "survey_feedback", _("Survey feedback")
    WEEKLY_VISIT = "weekly_visit", _("Weekly visit")


class EscalationLevel(models.IntegerChoices):
    DESK = 0, _("Service desk")
    BR_MANAGER = 1, _("BR manager")
    DEPARTMENT_HEAD = 2, _("Department head")
    MANAGEMENT_REP = 3, _("Management representative")


LEVEL_COLOURS = {0: "secondary", 1: "warning", 2: "danger", 3: "danger"}


class TargetUnit(models.TextChoices):
    WORKING_HOURS = "working_hours", _("working hours")
    WORKING_DAYS = "working_days", _("working days")


class EventKind(models.TextChoices):
    """What a timeline row records besides workflow actions."""

    REGISTERED = "register", _("Registered")
    AUTO_ESCALATED = "auto_escalate", _("Escalated automatically")
    WARNED = "warn", _("Deadline warning sent")
    FEEDBACK = "customer_feedback", _("Customer feedback")
    EDITED = "edit", _("Details edited")
    ATTACHED = "attach", _("File attached")
    DEADLINES = "deadlines", _("Deadlines recomputed")
    FEEDBACK_BY_STAFF = "feedback_by_staff", _("Customer's confirmation recorded by staff")
