"""Resolved tickets and their call-backs (工单回访).

No workflow code lives here: ``surveys.services.callbacks`` performs every write.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from itsm.core.models import Contact, Organisation, VisibleQuerySet

from ..choices import CallbackMethod

RATING = [MinValueValidator(1), MaxValueValidator(5)]


class Ticket(models.Model):
    """A resolved ticket pushed by the ITSM system; idempotent by ``external_id``.

    ``closable`` turns False when the call-back finds the customer dissatisfied or
    complaining: the ticket must not be closed in the ITSM system until that is handled.
    """

    external_id = models.CharField(_("external id"), max_length=100, unique=True)
    ticket_ref = models.CharField(_("ticket"), max_length=100, db_index=True)
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("organisation"),
    )
    requester = models.ForeignKey(
        Contact, on_delete=models.PROTECT, null=True, blank=True, related_name="tickets", verbose_name=_("requester")
    )
    requester_name = models.CharField(_("requester name"), max_length=120)
    requester_email = models.EmailField(_("requester email"), blank=True)
    requester_phone = models.CharField(_("requester phone"), max_length=40, blank=True)
    technician = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="resolved_tickets",
        verbose_name=_("technician"),
    )
    technician_name = models.CharField(_("technician name"), max_length=120)
    technician_email = models.EmailField(_("technician email"), blank=True)
    resolved_at = models.DateTimeField(_("resolved at"))
    # When the ITSM system closed it (the customer's confirmation), if it says; and the moment
    # 2 working days after resolution by which it should be (reference 002 §二.7), worked out
    # at ingestion so the KPI counts in SQL.
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    close_due_at = models.DateTimeField(_("to be closed by"), null=True, blank=True, editable=False)
    summary = models.TextField(_("summary"))
    closable = models.BooleanField(_("may be closed"), default=True)
    flag_reason = models.CharField(_("why it may not be closed"), max_length=300, blank=True)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("resolved ticket")
        verbose_name_plural = _("resolved tickets")
        ordering = ["-resolved_at", "-pk"]
        indexes = [models.Index(fields=["-resolved_at", "-id"], name="ticket_resolved_idx")]

    def __str__(self) -> str:
        return self.ticket_ref


class CallBack(models.Model):
    """The call-back (回访) of one resolved ticket, due 24 hours after resolution.

    Answered by phone (staff record it on the customer's behalf, correctable for 12 hours)
    or by the customer through an emailed link. Ratings are of the technician: attitude
    (服务态度), speed (服务速度) and effect (服务效果), 1–5.
    """

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="callback", verbose_name=_("ticket"))
    due_at = models.DateTimeField(_("due"))
    method = models.CharField(_("method"), max_length=10, choices=CallbackMethod.choices, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="recorded_callbacks",
        verbose_name=_("recorded by"),
    )
    on_behalf = models.BooleanField(_("answered on the customer's behalf"), default=False)
    correctable_until = models.DateTimeField(_("correctable until"), null=True, blank=True)
    fixed = models.BooleanField(_("fault fixed"), null=True, blank=True)
    rating_attitude = models.PositiveSmallIntegerField(_("service attitude"), null=True, blank=True, validators=RATING)
    rating_speed = models.PositiveSmallIntegerField(_("service speed"), null=True, blank=True, validators=RATING)
    rating_effect = models.PositiveSmallIntegerField(_("service effect"), null=True, blank=True, validators=RATING)
    satisfied = models.BooleanField(_("satisfied overall"), null=True, blank=True)
    complaint_raised = models.BooleanField(_("the customer complained"), default=False)
    comment = models.TextField(_("comment"), blank=True)
    link_sent_at = models.DateTimeField(_("link sent at"), null=True, blank=True)
    overdue_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("ticket call-back")
        verbose_name_plural = _("ticket call-backs")
        ordering = ["due_at", "pk"]
        indexes = [
            models.Index(fields=["answered_at", "due_at"], name="callback_due_idx"),
            models.Index(fields=["-answered_at"], name="callback_answered_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(answered_at__isnull=True) | Q(satisfied__isnull=False),
                name="callback_answer_has_satisfaction",
            )
        ]

    def __str__(self) -> str:
        return f"{self.ticket} call-back"

    def get_absolute_url(self) -> str:
        return reverse("callback_detail", args=[self.pk])
