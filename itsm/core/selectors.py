"""Reads of the core records that are more than a get: the mail queue and where a mail is.

A mail's state as people see it (``MailState``) is its ``Notification.status`` with
"pending" split in two: *held* (``send_after`` still ahead: non-urgent mail waiting for working
hours) and *queued* (due, about to go). It is computed in SQL, so pages filter on it and
read it for a whole page in the query that loads the rows.
"""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.db.models import Case, CharField, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.utils import timezone

from .choices import MailState, NotificationStatus
from .models import Notification
from .permissions import can


def mail_state_expression(*, status: str = "status", send_after: str = "send_after", now: datetime) -> Case:
    """SQL for the ``MailState`` of a row whose status and send-after are in the columns (or
    annotations) named ``status`` and ``send_after``; NULL when ``status`` is NULL."""
    pending = Q(**{status: NotificationStatus.PENDING})
    return Case(
        When(pending & Q(**{f"{send_after}__gt": now}), then=Value(MailState.HELD.value)),
        When(pending, then=Value(MailState.QUEUED.value)),
        default=F(status),
        output_field=CharField(),
    )


def with_mail_state(queryset: QuerySet[Notification], *, now: datetime | None = None) -> QuerySet[Notification]:
    """``queryset`` with ``state`` (a ``MailState`` value) on each notification."""
    return queryset.annotate(state=mail_state_expression(now=now or timezone.now()))


def with_mail(queryset: QuerySet, *, key: models.Expression, now: datetime | None = None) -> QuerySet:
    """Annotate each row of ``queryset`` with the notification recorded under ``key`` (an
    expression on the row, e.g. ``Concat("survey:", "pk", ":invite")``): ``mail_status``,
    ``mail_send_after``, ``mail_sent_at`` and ``mail_state`` (and ``mail_key``) — NULL when no mail was
    recorded. One correlated subquery per column on the unique key, inside the query that
    loads the rows: a page's cost does not grow with its rows."""
    mail = Notification.objects.filter(key=OuterRef("mail_key"))

    def column(name: str) -> Subquery:
        return Subquery(mail.values(name)[:1])

    return queryset.annotate(
        mail_key=key,
        mail_status=column("status"),
        mail_send_after=column("send_after"),
        mail_sent_at=column("sent_at"),
    ).annotate(
        mail_state=mail_state_expression(status="mail_status", send_after="mail_send_after", now=now or timezone.now())
    )


def notification_list(*, user) -> QuerySet[Notification]:
    """Every notification, newest first, for users who may read the mail queue (none else);
    the bodies are left unloaded (a page of the list does not need them)."""
    if not can(user, "view", Notification):
        return Notification.objects.none()
    return Notification.objects.defer("body_text", "body_html").order_by("-created_at", "-pk")
