"""The customer's survey pages, reached through the personal link in the mail (no login).

``/s/<token>/`` shows the questionnaire in the contact's language (``?lang=`` switches) and
takes the one submission; ``/s/<token>/unsubscribe/`` asks, then records, that the contact
wants no more surveys. A link that cannot be used (unknown, used, expired, withdrawn, survey
closed) gets the token error page (404 / 410), never a server error. Submissions are
throttled per client address and per link.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_http_methods

from itsm.core.models import AccessToken
from itsm.core.throttle import over_limit, throttled_response
from itsm.core.tokens import token_page, token_view

from ..answers import questionnaire_content
from ..forms.answers import SurveyAnswerForm
from ..services.invitations import (
    SURVEY_PURPOSE,
    UNSUBSCRIBE_PURPOSE,
    invitation_check_open,
    invitation_of,
    invitation_unsubscribe,
    response_submit,
    survey_language,
)

# Per client address: a household or office behind one address may answer several surveys.
POSTS_PER_ADDRESS_PER_HOUR = 30
# Per link: enough to correct a few validation errors, not to hammer one token.
POSTS_PER_LINK_PER_HOUR = 10


def _language(request: HttpRequest, access: AccessToken) -> str | None:
    chosen = request.GET.get("lang", "")
    if chosen in {code for code, _name in settings.LANGUAGES}:
        return chosen
    return survey_language(access)


def _throttled(request: HttpRequest, raw: str, scope: str) -> bool:
    if request.method != "POST":
        return False
    digest = hashlib.sha256(raw.encode("utf-8", "replace")).hexdigest()[:32]
    by_address = over_limit(request, scope=scope, limit=POSTS_PER_ADDRESS_PER_HOUR)
    by_link = over_limit(request, scope=f"{scope}-link", limit=POSTS_PER_LINK_PER_HOUR, key=digest)
    return by_address or by_link


def _answer(request: HttpRequest, access: AccessToken, raw: str) -> HttpResponse:
    invitation = invitation_of(access)
    invitation_check_open(invitation, access)
    campaign = invitation.campaign
    content = questionnaire_content(campaign.questionnaire)
    context = {"campaign": campaign, "questionnaire": campaign.questionnaire, "content": content}
    status = 200
    if request.method == "POST":
        form = SurveyAnswerForm(content, request.POST)
        if form.is_valid():
            try:
                response_submit(raw_token=raw, answers=form.answer_inputs())
            except ValidationError as exc:
                # The form applies the same rules, so this is a race (the questionnaire
                # cannot change while it is in use); show what the service said.
                for message in exc.messages:
                    form.add_error(None, message)
            else:
                return render(request, "surveys/survey_thanks.html", context)
        status = 400
    else:
        form = SurveyAnswerForm(content)
    return render(request, "surveys/survey_answer.html", {**context, "form": form}, status=status)


@token_page
@require_http_methods(["GET", "POST"])
def survey_answer(request: HttpRequest, token: str) -> HttpResponse:
    """The customer answers the survey through their personal link (no login)."""
    if _throttled(request, token, "survey-answer"):
        return throttled_response(request)
    view = token_view(purpose=SURVEY_PURPOSE, language=lambda access: _language(request, access))(_answer)
    return view(request, token=token)


def _unsubscribe(request: HttpRequest, access: AccessToken, raw: str) -> HttpResponse:
    invitation = invitation_of(access)
    if request.method == "POST":
        invitation_unsubscribe(invitation=invitation)
        return render(request, "surveys/survey_unsubscribed.html", {"campaign": invitation.campaign})
    return render(request, "surveys/survey_unsubscribe.html", {"campaign": invitation.campaign})


@token_page
@require_http_methods(["GET", "POST"])
def survey_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """Opening the link only asks (mail scanners open links); the button unsubscribes."""
    if _throttled(request, token, "survey-unsubscribe"):
        return throttled_response(request)
    view = token_view(purpose=UNSUBSCRIBE_PURPOSE, language=lambda access: _language(request, access))(_unsubscribe)
    return view(request, token=token)


urlpatterns = [
    path("s/<str:token>/", survey_answer, name="survey_answer"),
    path("s/<str:token>/unsubscribe/", survey_unsubscribe, name="survey_unsubscribe"),
]
