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
