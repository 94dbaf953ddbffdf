"""Weekly visit reports (周调查报告)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from itsm.core.models import Department, VisibleQuerySet

from ..choices import WeeklyItemKind


class WeeklyReport(models.Model):
    """A department's weekly visit report (周调查报告), due before the Monday meeting.

    ``week_start`` is the Monday of the week visited. Unresolved items of last week's report
    are carried into this one when it is created.
    """

    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="weekly_reports", verbose_name=_("department")
    )
    week_start = models.DateField(_("week of"))
    recorder = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="weekly_reports", verbose_name=_("recorder")
    )
    recorded_at = models.DateTimeField(_("recorded at"))
    user_confirmed = models.BooleanField(_("confirmed by the user"), default=False)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("weekly visit report")
        verbose_name_plural = _("weekly visit reports")
        ordering = ["-week_start", "department__name"]
        constraints = [
            models.UniqueConstraint(fields=["department", "week_start"], name="weekly_report_one_per_week"),
            models.CheckConstraint(condition=Q(week_start__week_day=2), name="weekly_report_starts_monday"),
        ]

    def __str__(self) -> str:
        return f"{self.department} {self.week_start:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return reverse("weekly_report_detail", args=[self.pk])


class WeeklyReportItem(models.Model):
    """One matter of a weekly report: a follow-up, a new problem, a suggestion or a complaint."""

    report = models.ForeignKey(WeeklyReport, on_delete=models.CASCADE, related_name="items", verbose_name=_("report"))
    kind = models.CharField(_("kind"), max_length=20, choices=WeeklyItemKind.choices)
    text = models.TextField(_("matter"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="weekly_items",
        verbose_name=_("owner"),
    )
    resolved = models.BooleanField(_("resolved"), default=False)
    user_confirmed = models.BooleanField(_("confirmed by the user"), default=False)
    carried_from = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="carried_to",
        verbose_name=_("carried over from"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("weekly report item")
        verbose_name_plural = _("weekly report items")
        ordering = ["report", "kind", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["report", "carried_from"],
                condition=Q(carried_from__isnull=False),
                name="weekly_item_carried_once",
            )
        ]

    def __str__(self) -> str:
        return self.text[:60]
