"""Choice sets of the core records, each value with a translated label."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class OrganisationKind(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    INTERNAL_TEAM = "internal_team", _("Internal team")
    SUPPLIER = "supplier", _("Supplier")


class Language(models.TextChoices):
    ZH_HANS = "zh-hans", _("Simplified Chinese")
    EN = "en", _("English")


class NotificationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
