"""Core records shared by every app: users, organisations, contacts, calendars, mail.

No workflow code lives here; writes go through ``itsm.core.services``.
"""

from datetime import time

from django.contrib.auth.models import AbstractUser
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from knox.models import AuthToken

from .choices import Language, NotificationStatus, OrganisationKind


class User(AbstractUser):
    """A staff account. Roles are Django groups (see ``itsm.core.roles``)."""

    phone = models.CharField(_("phone"), max_length=40, blank=True)
    preferred_language = models.CharField(
        _("preferred language"), max_length=10, choices=Language.choices, default=Language.ZH_HANS
    )

    class Meta(AbstractUser.Meta):
        verbose_name = _("user")  # type: ignore[assignment]
        verbose_name_plural = _("users")  # type: ignore[assignment]

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class VisibleQuerySet(models.QuerySet):
    """Reference data: whoever may view the model sees every row."""

    def visible_to(self, user):
        opts = self.model._meta
        if user.is_authenticated and user.has_perm(f"{opts.app_label}.view_{opts.model_name}"):
            return self
        return self.none()


class TimeStamped(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class WorkflowEvent(models.Model):
    """One step of a record's timeline, for every state machine (``itsm.core.workflow``): who
    acted (a user, or ``actor_label`` — "system", "customer" — when no account did), the
    action, the status it moved from and to (blank for a step that moves none: a comment, a
    reminder), a note and the step's details.

    Append-only: ``save`` on an existing row and ``delete`` raise, and database triggers
    (``itsm.core.audit.APPEND_ONLY_TABLES``) refuse UPDATE and DELETE. An actor who acted
    cannot be deleted (``PROTECT``: deactivate the account instead), since nulling the column
    would be an update. A concrete event adds the foreign key to its record (``related_name=
    "events"``) and redeclares ``from_status`` / ``to_status`` with its status choices.
    """

    action = models.CharField(_("action"), max_length=30)
    from_status = models.CharField(_("from"), max_length=30, blank=True)
    to_status = models.CharField(_("to"), max_length=30, blank=True)
    actor = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("by")
    )
    actor_label = models.CharField(_("by (no account)"), max_length=100, blank=True)
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        abstract = True
        ordering = ["created_at", "pk"]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError(_("Timeline entries cannot be changed."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("Timeline entries cannot be deleted."))


class Organisation(TimeStamped):
    """A customer organisation, an internal team (party to OLAs) or a supplier (party to UCs)."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    code = models.SlugField(_("code"), max_length=40, unique=True, allow_unicode=False)
    kind = models.CharField(
        _("kind"), max_length=20, choices=OrganisationKind.choices, default=OrganisationKind.CUSTOMER
    )
    is_key_customer = models.BooleanField(
        _("key customer"), default=False, help_text=_("Key customers are surveyed and reported on separately.")
    )
    address = models.CharField(_("address"), max_length=300, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]
        indexes = [models.Index(fields=["kind", "is_key_customer"], name="core_org_kind_key_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_key_customer=False) | Q(kind=OrganisationKind.CUSTOMER),
                name="core_org_key_customer_is_customer",
                violation_error_message=_("Only a customer organisation can be a key customer."),
            )
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("organisation_detail", args=[self.pk])

    def clean(self) -> None:
        # The check constraint says the same; this puts the message on the field.
        if self.is_key_customer and self.kind != OrganisationKind.CUSTOMER:
            raise ValidationError({"is_key_customer": _("Only a customer organisation can be a key customer.")})


class Department(TimeStamped):
    """A department of an organisation (surveys sample per department; visits are per department)."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="departments", verbose_name=_("organisation")
    )
    name = models.CharField(_("name"), max_length=200)
    weekly_visits = models.BooleanField(
        _("weekly visit report"),
        default=False,
        help_text=_("The service desk visits this department and files a report every week for the Monday meeting."),
    )

    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["organisation__name", "name"]
        constraints = [models.UniqueConstraint(fields=["organisation", "name"], name="core_department_unique_name")]

    def __str__(self) -> str:
        return f"{self.organisation.name} / {self.name}"


class Contact(TimeStamped):
    """A person at an organisation: receives surveys and complaint confirmations by mail."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="contacts", verbose_name=_("organisation")
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        related_name="contacts",
        null=True,
        blank=True,
        verbose_name=_("department"),
    )
    name = models.CharField(pgettext_lazy("person", "name"), max_length=120)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    is_vip = models.BooleanField(_("VIP"), default=False)
    preferred_language = models.CharField(
        _("preferred language"), max_length=10, choices=Language.choices, default=Language.ZH_HANS
    )
    unsubscribed = models.BooleanField(_("unsubscribed"), default=False, help_text=_("Receives no surveys."))
    is_active = models.BooleanField(_("active"), default=True)
    notes = models.TextField(_("notes"), blank=True)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["name", "pk"]
        indexes = [
            models.Index(fields=["email"], name="core_contact_email_idx"),
            models.Index(fields=["phone"], name="core_contact_phone_idx"),
            models.Index(fields=["name"], name="core_contact_name_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("contact_detail", args=[self.pk])

    def clean(self) -> None:
        department = self.department if self.department_id else None
        if department is not None and self.organisation_id and department.organisation_id != self.organisation_id:
            raise ValidationError({"department": _("The department must belong to the contact's organisation.")})


class Calendar(TimeStamped):
    """Working days and hours: the single source of every deadline in the product.

    Public holidays and make-up working days come from the ``holidays`` package for
    ``country`` / ``subdivision``; ``CalendarOverride`` rows beat the package. ``version`` is
    bumped on every change of the calendar or its overrides so cached year tables and
    computed due dates know to refresh.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    country = models.CharField(_("country code"), max_length=2, default="CN")
    subdivision = models.CharField(_("subdivision"), max_length=10, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")
    work_start = models.TimeField(_("working hours start"), default=time(9, 0))
    work_end = models.TimeField(_("working hours end"), default=time(18, 0))
    always_open = models.BooleanField(
        _("24×7"), default=False, help_text=_("Every hour of every day counts as working time.")
    )
    is_default = models.BooleanField(_("default calendar"), default=False)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="core_calendar_one_default"
            ),
            models.CheckConstraint(
                condition=Q(work_start__lt=models.F("work_end")),
                name="core_calendar_hours_ordered",
                violation_error_message=_("Working hours must end after they start."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("calendar_detail", args=[self.pk])

    def clean(self) -> None:
        from zoneinfo import available_timezones

        errors = {}
        if self.time_zone not in available_timezones():
            errors["time_zone"] = _("Unknown time zone.")
        if self.work_start is not None and self.work_end is not None and self.work_end <= self.work_start:
            errors["work_end"] = _("Working hours must end after they start.")
        if errors:
            raise ValidationError(errors)


class CalendarOverride(TimeStamped):
    """A day whose working status an administrator sets by hand (a new year's schedule)."""

    calendar = models.ForeignKey(
        Calendar, on_delete=models.CASCADE, related_name="overrides", verbose_name=_("calendar")
    )
    date = models.DateField(_("date"))
    is_working_day = models.BooleanField(_("working day"))
    reason = models.CharField(_("reason"), max_length=200)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("calendar override")
        verbose_name_plural = _("calendar overrides")
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="core_override_unique_day")]

    def __str__(self) -> str:
        return f"{self.date} {self.reason}"


class Notification(models.Model):
    """One mail, recorded once under ``key``: a second request with the same key is a no-op.

    Rendered at queue time in the recipient's language. ``send_after`` holds non-urgent mail
    until the recipient calendar's working hours; the send task claims a row with a
    conditional UPDATE so two workers never send the same mail. The body never holds a
    personal link: it holds a placeholder, and the link is in ``secret_context``, encrypted,
    until the mail is sent or has failed (``itsm.core.mail_links``).
    """

    key = models.CharField(_("key"), max_length=255, unique=True)
    recipient_email = models.EmailField(_("recipient"))
    recipient_name = models.CharField(_("recipient name"), max_length=200, blank=True)
    language = models.CharField(_("language"), max_length=10, choices=Language.choices)
    template = models.CharField(_("template"), max_length=200)
    subject = models.CharField(_("subject"), max_length=300)
    body_text = models.TextField(_("text body"))
    body_html = models.TextField(_("HTML body"), blank=True)
    urgent = models.BooleanField(_("urgent"), default=False)
    # The personal links the body's placeholders stand for, encrypted (Fernet, MAIL_LINK_KEY);
    # erased once the mail is sent or has failed. Shown nowhere.
    secret_context = models.TextField(_("personal links (encrypted)"), blank=True, default="", editable=False)
    send_after = models.DateTimeField(_("send after"))
    status = models.CharField(
        _("status"), max_length=10, choices=NotificationStatus.choices, default=NotificationStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "send_after"], name="core_notif_due_idx")]

    def __str__(self) -> str:
        return f"{self.subject} → {self.recipient_email}"


class PeriodicCheckRun(models.Model):
    """When each periodic check last ran and what it did (for operators and /healthz)."""

    name = models.CharField(_("check"), max_length=100, unique=True)
    last_started_at = models.DateTimeField(_("last started"), null=True)
    last_finished_at = models.DateTimeField(_("last finished"), null=True)
    last_result = models.CharField(_("last result"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("periodic check run")
        verbose_name_plural = _("periodic check runs")

    def __str__(self) -> str:
        return self.name


class AccessToken(models.Model):
    """A personal link for someone without an account: a customer confirming a complaint
    result, a contact answering a survey invitation.

    Only the SHA-256 hex digest of the random token is stored (``token_hash``, unique); the
    token itself exists only in the mail that carries the link, so a copy of the database
    opens no link. A row grants one ``purpose`` on one target (any model, by content type and
    id) until ``expires_at``; ``used_at`` is set once, by the single submission the link allows,
    and ``revoked_at`` once staff withdraw it (a newer link, a closed campaign). Neither is
    ever cleared. Rows are written only through ``itsm.core.tokens``.
    """

    purpose = models.CharField(_("purpose"), max_length=50, db_index=True)
    content_type = models.ForeignKey(
        ContentType, on_delete=models.CASCADE, related_name="+", verbose_name=_("target type")
    )
    object_id = models.PositiveBigIntegerField(_("target id"))
    target = GenericForeignKey("content_type", "object_id")
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_seen_at = models.DateTimeField(
        _("last opened"), null=True, blank=True, help_text=_("When the link was last opened.")
    )

    class Meta:
        verbose_name = _("access link")
        verbose_name_plural = _("access links")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["content_type", "object_id"], name="core_token_target_idx")]

    def __str__(self) -> str:
        return f"{self.purpose} → {self.content_type_id}:{self.object_id}"


class ApiToken(AuthToken):
    """knox's API token under a name people read in the admin (a proxy: knox's own table)."""

    class Meta:
        proxy = True
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
