"""Choice sets of the satisfaction app, each with a translated label."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CallbackMethod(models.TextChoices):
    PHONE = "phone", _("Phone call")
    LINK = "link", _("Emailed link")


class WeeklyItemKind(models.TextChoices):
    FOLLOW_UP = "follow_up", _("Follow-up of last week")
    NEW_PROBLEM = "new_problem", _("New problem")
    SUGGESTION = "suggestion", _("Suggestion")
    COMPLAINT = "complaint", _("Complaint")


class QuestionKind(models.TextChoices):
    RATING = "rating", _("Rating 1–5")
    NPS = "nps", _("Recommendation 0–10 (NPS)")
    SINGLE = "single", _("Single choice")
    MULTIPLE = "multiple", _("Multiple choice")
    YES_NO = "yes_no", _("Yes / no")
    TEXT = "text", _("Free text")


# Kinds whose answer is a number (stored in ``Answer.value``): ratings, NPS and yes (1) / no (0).
NUMERIC_KINDS = frozenset({QuestionKind.RATING, QuestionKind.NPS, QuestionKind.YES_NO})
CHOICE_KINDS = frozenset({QuestionKind.SINGLE, QuestionKind.MULTIPLE})


class CampaignKind(models.TextChoices):
    HALF_YEARLY = "half_yearly", _("Company-wide half-yearly survey")
    KEY_CUSTOMERS = "key_customers", _("Key customer survey")
    PROJECT = "project", _("Project-level survey")
    ANNUAL_QUALITY = "annual_quality", _("Annual quality survey")


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    APPROVED = "approved", _("Approved")
    RUNNING = "running", _("Running")
    CLOSED = "closed", _("Closed")
    PUBLISHED = "published", _("Published")
    ANALYSED = "analysed", _("Analysed")


# A campaign's plan (audience, questionnaire, dates) may be edited only before review.
PLAN_EDITABLE_STATUSES = frozenset({CampaignStatus.DRAFT})
# Invitations exist from launch on; results can be read from then.
LAUNCHED_STATUSES = frozenset(
    {CampaignStatus.RUNNING, CampaignStatus.CLOSED, CampaignStatus.PUBLISHED, CampaignStatus.ANALYSED}
)


class AudienceMode(models.TextChoices):
    ALL = "all", _("All contacts of the chosen organisations")
    KEY_CUSTOMERS = "key_customers", _("Contacts of key customers")
    SAMPLE = "sample", _("A sample per department")


class InvitationStatus(models.TextChoices):
    PENDING = "pending", _("Not sent yet")
    SENT = "sent", _("Sent")
    ANSWERED = "answered", _("Answered")
    BOUNCED = "bounced", _("Address invalid")
