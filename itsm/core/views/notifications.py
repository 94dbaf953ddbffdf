"""The mail queue: every notification and where it is (held for working hours, queued, sent,
failed), one mail with its body, and "send now" for held mail.

Readers: whoever holds ``core.view_notification`` (the process owner, auditors, superusers).
"Send now" needs ``core.change_notification`` (the process owner, superusers) and goes
through ``notification_release``. A body never holds a personal link (a customer's survey,
confirmation or call-back link): it holds a placeholder, shown as such, and the link itself is
encrypted until the mail is sent (``itsm.core.mail_links``).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from ..choices import MAIL_STATE_COLOURS, MailState
from ..filters import NotificationFilterSet
from ..forms import bootstrap_widgets
from ..mail_links import for_display
from ..models import Notification
from ..notifications import notification_release
from ..permissions import acting_user, can
from ..selectors import notification_list, with_mail_state

PER_PAGE = 50
# Query parameters that are not filters.
NOT_FILTERS = ("page", "next", "csrfmiddlewaretoken")


def _require(request: HttpRequest, verb: str = "view") -> None:
    # Asked before any lookup: a refused user cannot tell a missing mail from a real one.
    if not can(request.user, "view", Notification) or not can(request.user, verb, Notification):
        raise PermissionDenied


def _filters(data: QueryDict) -> QueryDict:
    query = data.copy()
    for name in NOT_FILTERS:
        query.pop(name, None)
    return query


def _filtered(request: HttpRequest, data: QueryDict):
    """The filter set over the mail queue and the rows it selects (none when it is invalid)."""
    queryset = with_mail_state(notification_list(user=request.user), now=timezone.now())
    filterset = NotificationFilterSet(data or None, queryset=queryset, request=request)
    if filterset.is_bound:
        queryset = filterset.qs if filterset.is_valid() else queryset.none()
    return filterset, queryset


def _state(notification: Notification) -> dict[str, Any]:
    state = MailState(notification.state)  # type: ignore[attr-defined]
    return {"value": state.value, "label": state.label, "colour": MAIL_STATE_COLOURS[state]}


def _render_list(request: HttpRequest, data: QueryDict, *, error: str = "", status: int = 200) -> HttpResponse:
    query = _filters(data)
    filterset, queryset = _filtered(request, query)
    page = Paginator(queryset, PER_PAGE).get_page(request.GET.get("page"))
    may_release = can(request.user, "change", Notification)
    context = {
        "filter_form": bootstrap_widgets(filterset.form),
        "page_obj": page,
        "paginator": page.paginator,
        "rows": [{"mail": mail, "state": _state(mail)} for mail in page.object_list],
        "querystring": query.urlencode(),
        "filter_items": [(name, value) for name in query for value in query.getlist(name)],
        "may_release": may_release,
        "held_count": queryset.filter(state=MailState.HELD).count() if may_release else 0,
        "error": error,
    }
    return render(request, "core/notification_list.html", context, status=status)


@login_required
@require_GET
def notification_list_view(request: HttpRequest) -> HttpResponse:
    """The mail queue, newest first: filters, 50 a page, the state of each mail."""
    _require(request)
    return _render_list(request, request.GET)


def body_of(notification: Notification) -> dict[str, str]:
    """What the page shows of a mail's body: its text, each personal link a placeholder."""
    return {"kind": "text", "text": for_display(notification.body_text)}


def _render_detail(request: HttpRequest, notification: Notification, *, error: str = "", status: int = 200):
    context = {
        "mail": notification,
        "state": _state(notification),
        "body": body_of(notification),
        "may_release": can(request.user, "change", Notification),
        "error": error,
    }
    return render(request, "core/notification_detail.html", context, status=status)


def _notification(request: HttpRequest, pk: int) -> Notification:
    queryset = with_mail_state(notification_list(user=request.user), now=timezone.now())
    return get_object_or_404(queryset.defer(None), pk=pk)


@login_required
@require_GET
def notification_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One mail: recipient, subject, state and times, its body (personal links as placeholders)."""
    _require(request)
    return _render_detail(request, _notification(request, pk))


def _back_to_list(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse("notification_list")


@login_required
@require_POST
def notification_send_now(request: HttpRequest, pk: int) -> HttpResponse:
    """Send one held mail now (400 with the reason when it is not held)."""
    _require(request, "change")
    notification = _notification(request, pk)
    try:
        notification_release(notifications=Notification.objects.filter(pk=notification.pk), actor=acting_user(request))
    except ValidationError as exc:
        return _render_detail(request, notification, error=" ".join(exc.messages), status=400)
    messages.success(
        request,
        _("The mail to %(recipient)s is being sent now.") % {"recipient": notification.recipient_email},
    )
    return HttpResponseRedirect(_back_to_list(request))


@login_required
@require_POST
def notification_send_held(request: HttpRequest) -> HttpResponse:
    """Send now every held mail the posted filters select (400 when none is held)."""
    _require(request, "change")
    query = _filters(request.POST)
    filterset, queryset = _filtered(request, query)
    if filterset.is_bound and not filterset.is_valid():
        return _render_list(request, query, error=_("Correct the filters first; nothing was sent."), status=400)
    try:
        count = notification_release(notifications=queryset, actor=acting_user(request))
    except ValidationError as exc:
        return _render_list(request, query, error=" ".join(exc.messages), status=400)
    messages.success(
        request,
        ngettext("%(count)d held mail is being sent now.", "%(count)d held mails are being sent now.", count)
        % {"count": count},
    )
    url = reverse("notification_list")
    return HttpResponseRedirect(f"{url}?{query.urlencode()}" if query else url)
