"""The customer's confirmation page, reached through the link mailed when a complaint is resolved.

No login: the personal link (``itsm.core.tokens``) is the credential. The page speaks the
contact's preferred language, asks for a rating (1–5) and whether the matter is settled, and
records the answer once (``services.complaint_record_feedback``). A link that cannot be used
gets the shared token error page (404 / 410), a complaint no longer waiting for the answer a
410 page, too many submissions from one address a 429 page; never a server error.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from itsm.core.models import AccessToken
from itsm.core.throttle import over_limit, throttled_response
from itsm.core.tokens import token_page, token_view

from ..choices import ComplaintStatus
from ..forms import ComplaintFeedbackForm
from ..models import Complaint
from ..services import FEEDBACK_PURPOSE, complaint_record_feedback

# Submissions one address may make per hour (a customer needs one; this stops a script).
POSTS_PER_HOUR = getattr(settings, "COMPLAINT_FEEDBACK_POSTS_PER_HOUR", 20)


def _contact_language(access: AccessToken) -> str | None:
    return Complaint.objects.filter(pk=access.object_id).values_list("contact__preferred_language", flat=True).first()


def _notice(request: HttpRequest, *, code: str, title: str, message: str, status: int) -> HttpResponse:
    """A page in the style of the token errors (nothing about the complaint)."""
    response = render(
        request, "core/token_error.html", {"code": code, "title": title, "message": message}, status=status
    )
    add_never_cache_headers(response)
    return response


def _no_longer_waiting(request: HttpRequest) -> HttpResponse:
    return _notice(
        request,
        code="not_waiting",
        title=_("This complaint is no longer waiting for your answer"),
        message=_(
            "Its handling has moved on since we sent you the link. If you would still like to tell us "
            "something, reply to the email you received."
        ),
        status=410,
    )


@token_view(purpose=FEEDBACK_PURPOSE, language=_contact_language)
def _feedback(request: HttpRequest, access: AccessToken, raw: str) -> HttpResponse:
    complaint = Complaint.objects.filter(pk=access.object_id).first()
    if complaint is None or complaint.status != ComplaintStatus.RESOLVED:
        return _no_longer_waiting(request)
    status = 200
    if request.method == "POST":
        form = ComplaintFeedbackForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                complaint = complaint_record_feedback(
                    raw_token=raw,
                    satisfaction=data["satisfaction"],
                    settled=data["settled"],
                    comment=data["comment"],
                )
            except ValidationError as exc:
                if "satisfaction" not in getattr(exc, "error_dict", {}):
                    return _no_longer_waiting(request)
                form.add_error("satisfaction", exc.error_dict["satisfaction"])
            else:
                reopened = complaint.status != ComplaintStatus.RESOLVED
                return render(
                    request, "complaints/feedback_thanks.html", {"complaint": complaint, "reopened": reopened}
                )
        status = 400
    else:
        form = ComplaintFeedbackForm()
    return render(request, "complaints/feedback.html", {"complaint": complaint, "form": form}, status=status)


@token_page
@require_http_methods(["GET", "POST"])
def complaint_feedback(request: HttpRequest, token: str) -> HttpResponse:
    """The customer rates the result of their complaint through the mailed link."""
    if request.method == "POST" and over_limit(request, scope="complaint-feedback", limit=POSTS_PER_HOUR):
        return throttled_response(request)
    return _feedback(request, token=token)
