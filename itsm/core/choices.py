"""Choice sets of the core records, each value with a translated label."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


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


class MailState(models.TextChoices):
    """Where a mail is, as people see it: ``Notification.status`` with pending split in two
    (held for working hours, or queued to go now). Computed, never stored: see
    ``itsm.core.selectors.with_mail_state``."""

    HELD = "held", pgettext_lazy("mail state", "Held")
    QUEUED = "queued", pgettext_lazy("mail state", "Queued")
    SENDING = "sending", pgettext_lazy("mail state", "Sending")
    SENT = "sent", pgettext_lazy("mail state", "Sent")
    FAILED = "failed", pgettext_lazy("mail state", "Failed")


MAIL_STATE_COLOURS = {
    MailState.HELD: "warning",
    MailState.QUEUED: "info",
    MailState.SENDING: "info",
    MailState.SENT: "success",
    MailState.FAILED: "danger",
}
