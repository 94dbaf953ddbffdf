"""Ticket call-back pages: the desk's list, one call-back (record / correct / send link),
and the customer's public answer page reached through the mailed link."""

from __future__ import annotations

from typing import cast
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from improvement.selectors.sources import source_panel
from itsm.core.models import AccessToken, User
from itsm.core.throttle import over_limit, throttled_response
from itsm.core.tokens import token_page, token_view

from ..forms.callbacks import CallbackAnswerForm
from ..models import CallBack
from ..services.callbacks import (
    CALLBACK_PURPOSE,
    callback_is_dissatisfied,
    callback_is_overdue,
    callback_record_link,
    callback_record_phone,
    callback_send_link,
)

STATES = [
    ("open", gettext_lazy("Due and overdue")),
    ("overdue", gettext_lazy("Overdue")),
    ("answered", gettext_lazy("Answered")),
    ("dissatisfied", gettext_lazy("Dissatisfied")),
    ("all", gettext_lazy("All")),
]
PAGE_SIZE = 50


def ticket_phone(ticket) -> str:
    if ticket.requester_phone:
        return ticket.requester_phone
    return ticket.requester.phone if ticket.requester_id and ticket.requester else ""


def _complaint_description(callback: CallBack) -> str:
    """What the customer said on the call-back, for the complaint it becomes: their comment,
    whether the fault is fixed, their ratings and the ticket's summary."""
    ticket = callback.ticket
    yes_no = {True: _("yes"), False: _("no"), None: "—"}
    lines = [
        _("Call-back of ticket %(ref)s, resolved %(when)s.")
        % {
            "ref": ticket.ticket_ref,
            "when": date_format(timezone.localtime(ticket.resolved_at), "Y-m-d H:i"),
        }
    ]
    if callback.comment:
        lines.append(_("The customer said: %(comment)s") % {"comment": callback.comment})
    lines.append(
        _(
            "Fault fixed: %(fixed)s. Satisfied overall: %(satisfied)s. Ratings — attitude %(attitude)s, "
            "speed %(speed)s, effect %(effect)s."
        )
        % {
            "fixed": yes_no[callback.fixed],
            "satisfied": yes_no[callback.satisfied],
            "attitude": callback.rating_attitude or "—",
            "speed": callback.rating_speed or "—",
            "effect": callback.rating_effect or "—",
        }
    )
    lines.append(_("Ticket summary: %(summary)s") % {"summary": ticket.summary})
    return "\n".join(lines)


def _complaint_url(callback: CallBack) -> str:
    ticket = callback.ticket
    params = {
        "external_ticket_ref": ticket.ticket_ref,
        "channel": "phone",
        "title": _("Call-back of ticket %(ref)s: customer dissatisfied") % {"ref": ticket.ticket_ref},
        "description": _complaint_description(callback),
    }
    if ticket.organisation_id:
        params["organisation"] = str(ticket.organisation_id)
    if ticket.requester_id:
        params["contact"] = str(ticket.requester_id)
    return reverse("complaint_create") + "?" + urlencode(params)


@login_required
@permission_required("surveys.view_callback", raise_exception=True)
def callback_list(request: HttpRequest) -> HttpResponse:
    """Due and overdue call-backs first (oldest due first); answered ones by filter."""
    state = request.GET.get("state", "open")
    if state not in dict(STATES):
        state = "open"
    now = timezone.now()
    queryset = CallBack.objects.visible_to(request.user).select_related("ticket", "recorded_by")
    if state == "open":
        queryset = queryset.filter(answered_at__isnull=True).order_by("due_at", "pk")
    elif state == "overdue":
        queryset = queryset.filter(answered_at__isnull=True, due_at__lte=now).order_by("due_at", "pk")
    elif state == "answered":
        queryset = queryset.filter(answered_at__isnull=False).order_by("-answered_at", "-pk")
    elif state == "dissatisfied":
        queryset = queryset.filter(
            Q(satisfied=False) | Q(fixed=False) | Q(complaint_raised=True), answered_at__isnull=False
        ).order_by("-answered_at", "-pk")
    else:
        queryset = queryset.order_by("answered_at", "due_at", "pk")
    callbacks = list(queryset[:PAGE_SIZE])
    rows = [
        {
            "callback": cb,
            "overdue": callback_is_overdue(cb, now),
            "dissatisfied": callback_is_dissatisfied(cb),
        }
        for cb in callbacks
    ]
    return render(
        request,
        "surveys/callback_list.html",
        {"rows": rows, "state": state, "states": STATES, "page_size": PAGE_SIZE},
    )


@login_required
@permission_required("surveys.view_callback", raise_exception=True)
@require_http_methods(["GET", "POST"])
def callback_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One call-back: the ticket, the answer, and (for the desk) the phone form."""
    callback = get_object_or_404(
        CallBack.objects.visible_to(request.user).select_related("ticket", "recorded_by", "ticket__requester"), pk=pk
    )
    may_change = request.user.has_perm("surveys.change_callback")
    now = timezone.now()
    editable = may_change and (
        callback.answered_at is None
        or (callback.on_behalf and callback.correctable_until is not None and now <= callback.correctable_until)
    )
    status = 200
    if request.method == "POST":
        if not may_change:
            raise PermissionDenied
        form = CallbackAnswerForm(request.POST)
        if form.is_valid():
            try:
                callback_record_phone(callback_id=callback.pk, answer=form.answer(), actor=cast(User, request.user))
            except ValidationError as exc:
                for message in exc.messages:
                    form.add_error(None, message)
            else:
                messages.success(request, _("The call-back answer was recorded."))
                return redirect("callback_detail", pk=callback.pk)
        status = 400
    else:
        form = CallbackAnswerForm(initial=CallbackAnswerForm.initial_from(callback))
    context = {
        "callback": callback,
        "ticket": callback.ticket,
        "form": form,
        "may_change": may_change,
        "editable": editable,
        "overdue": callback_is_overdue(callback, now),
        "dissatisfied": callback_is_dissatisfied(callback),
        "complaint_url": _complaint_url(callback) if request.user.has_perm("complaints.add_complaint") else "",
        # The number to call: the ticket's, else the matched contact's.
        "phone": ticket_phone(callback.ticket),
        "improvement": source_panel(request.user, "callback", callback),
    }
    return render(request, "surveys/callback_detail.html", context, status=status)


@login_required
@permission_required("surveys.change_callback", raise_exception=True)
@require_POST
def callback_send(request: HttpRequest, pk: int) -> HttpResponse:
    """Mail the requester a link to answer the call-back themselves."""
    callback = get_object_or_404(CallBack.objects.visible_to(request.user), pk=pk)
    try:
        callback_send_link(callback_id=callback.pk, actor=cast(User, request.user))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The link was mailed to the customer."))
    return redirect("callback_detail", pk=callback.pk)


def _contact_language(access: AccessToken) -> str | None:
    return (
        CallBack.objects.filter(pk=access.object_id)
        .values_list("ticket__requester__preferred_language", flat=True)
        .first()
    )


@token_view(purpose=CALLBACK_PURPOSE, language=_contact_language)
def _answer(request: HttpRequest, access: AccessToken, raw: str) -> HttpResponse:
    callback = get_object_or_404(CallBack.objects.select_related("ticket"), pk=access.object_id)
    status = 200
    if request.method == "POST":
        form = CallbackAnswerForm(request.POST)
        if form.is_valid():
            try:
                callback_record_link(raw_token=raw, answer=form.answer())
            except ValidationError as exc:
                for message in exc.messages:
                    form.add_error(None, message)
            else:
                return render(request, "surveys/callback_thanks.html", {"ticket": callback.ticket})
        status = 400
    else:
        form = CallbackAnswerForm()
    return render(request, "surveys/callback_answer.html", {"ticket": callback.ticket, "form": form}, status=status)


@token_page
@require_http_methods(["GET", "POST"])
def callback_answer(request: HttpRequest, token: str) -> HttpResponse:
    """The customer answers the call-back through the mailed link (no login)."""
    if request.method == "POST" and over_limit(request, scope="callback-answer", limit=20):
        return throttled_response(request)
    return _answer(request, token=token)


urlpatterns = [
    path("surveys/callbacks/", callback_list, name="callback_list"),
    path("surveys/callbacks/<int:pk>/", callback_detail, name="callback_detail"),
    path("surveys/callbacks/<int:pk>/send-link/", callback_send, name="callback_send_link"),
    path("c/<str:token>/", callback_answer, name="callback_answer"),
]
