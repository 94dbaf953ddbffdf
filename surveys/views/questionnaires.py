"""Questionnaire pages: the list, the builder (one version with its sections and questions),
the edit pages, and the preview — the customer's page, answers not saved.

Views are thin: they check the role (403 before any row is read, 404 for an unknown id),
parse a form, call one service of ``surveys.services.questionnaires`` and render or
redirect; a service's ``ValidationError`` is shown on the form (or as a message after a
small POST such as "move up"). The list and the builder run a constant number of queries
whatever the number of questionnaires, sections, questions and choices.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, path, reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from itsm.core.permissions import acting_user as _user
from itsm.core.permissions import can, require_all
from itsm.core.views.generic import add_service_errors

from ..answers import questionnaire_content
from ..forms.answers import SurveyAnswerForm
from ..forms.questionnaires import QuestionForm, QuestionnaireForm, SectionForm
from ..models import Campaign, Question, Questionnaire, QuestionnaireSection
from ..services import questionnaires as services

PAGE_SIZE = 25
CAMPAIGNS_SHOWN = 20


def _require(request: HttpRequest, *verbs: str, model: Any = Questionnaire) -> None:
    require_all(request.user, verbs, model)


def _questionnaire(request: HttpRequest, pk: int) -> Questionnaire:
    return get_object_or_404(Questionnaire.objects.visible_to(request.user), pk=pk)


def _section(request: HttpRequest, pk: int, section_pk: int) -> QuestionnaireSection:
    questionnaire = _questionnaire(request, pk)
    section = get_object_or_404(QuestionnaireSection, pk=section_pk, questionnaire=questionnaire)
    section.questionnaire = questionnaire
    return section


def _question(request: HttpRequest, pk: int, question_pk: int) -> Question:
    questionnaire = _questionnaire(request, pk)
    question = get_object_or_404(
        Question.objects.select_related("section"), pk=question_pk, questionnaire=questionnaire
    )
    question.questionnaire = questionnaire
    return question


def _builder_url(questionnaire_id: int, anchor: str = "") -> str:
    url = reverse("questionnaire_detail", args=[questionnaire_id])
    return f"{url}#{anchor}" if anchor else url


def _refuse_locked(request: HttpRequest, questionnaire: Questionnaire) -> HttpResponse | None:
    """Edit pages of a version in use send the user back to the builder, which explains."""
    if questionnaire.is_locked:
        messages.warning(request, services.locked_message())
        return HttpResponseRedirect(_builder_url(questionnaire.pk))
    return None


def _error_message(request: HttpRequest, exc: ValidationError) -> None:
    messages.error(request, " ".join(exc.messages))


# --- list ------------------------------------------------------------------------------------


def questionnaire_families(user: Any, search: str = "") -> QuerySet[Questionnaire]:
    """The latest version of each questionnaire ``user`` may see, newest first, annotated in
    SQL with ``version_count``, ``in_use_count`` (versions in use) and ``question_count``."""
    family = Questionnaire.objects.filter(family=OuterRef("family")).order_by()

    def count(queryset: QuerySet, group: str) -> Coalesce:
        counted = queryset.values(group).annotate(n=Count("pk")).values("n")
        return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))

    queryset = (
        Questionnaire.objects.visible_to(user)
        .filter(pk=Subquery(family.order_by("-version").values("pk")[:1]))
        .annotate(
            version_count=count(family, "family"),
            in_use_count=count(family.filter(locked_at__isnull=False), "family"),
            question_count=count(Question.objects.filter(questionnaire=OuterRef("pk")).order_by(), "questionnaire"),
        )
        .order_by("-created_at", "-pk")
    )
    if search:
        queryset = queryset.filter(Q(title__icontains=search) | Q(title_en__icontains=search))
    return queryset


@login_required
@require_GET
def questionnaire_list(request: HttpRequest) -> HttpResponse:
    """The latest version of each questionnaire, with its version count, use and size."""
    _require(request, "view")
    search = request.GET.get("q", "").strip()[:100]
    page = Paginator(questionnaire_families(request.user, search), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "surveys/questionnaire_list.html",
        {
            "page_obj": page,
            "questionnaires": page.object_list,
            "search": search,
            "querystring": query.urlencode(),
            "can_add": can(request.user, "add", Questionnaire),
        },
    )


# --- the questionnaire itself ------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def questionnaire_create(request: HttpRequest) -> HttpResponse:
    _require(request, "add")
    if request.method == "GET":
        return render(request, "surveys/questionnaire_form.html", {"form": QuestionnaireForm()})
    form = QuestionnaireForm(request.POST)
    if form.is_valid():
        try:
            questionnaire = services.questionnaire_create(actor=_user(request), **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The questionnaire was created: add its sections and questions."))
            return HttpResponseRedirect(questionnaire.get_absolute_url())
    return render(request, "surveys/questionnaire_form.html", {"form": form}, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def questionnaire_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The title, introduction and thank-you text of a version not in use."""
    _require(request, "view", "change")
    questionnaire = _questionnaire(request, pk)
    context: dict[str, Any] = {"questionnaire": questionnaire}
    if request.method == "GET":
        refused = _refuse_locked(request, questionnaire)
        if refused is not None:
            return refused
        context["form"] = QuestionnaireForm(instance=questionnaire)
        return render(request, "surveys/questionnaire_form.html", context)
    form = QuestionnaireForm(request.POST, instance=questionnaire)
    if form.is_valid():
        try:
            services.questionnaire_update(questionnaire=questionnaire, actor=_user(request), **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The questionnaire was saved."))
            return HttpResponseRedirect(_builder_url(questionnaire.pk))
    context["form"] = form
    return render(request, "surveys/questionnaire_form.html", context, status=400)


def _campaign_rows(request: HttpRequest, questionnaire: Questionnaire) -> list[dict[str, Any]]:
    campaigns = list(
        Campaign.objects.visible_to(request.user)
        .filter(questionnaire=questionnaire)
        .only("pk", "title", "status")
        .order_by("-created_at", "-pk")[:CAMPAIGNS_SHOWN]
    )
    rows = []
    for campaign in campaigns:
        try:
            url = campaign.get_absolute_url()
        except NoReverseMatch:  # the campaign pages are not installed
            url = ""
        rows.append({"campaign": campaign, "url": url})
    return rows


@login_required
@require_GET
def questionnaire_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The builder: sections and questions in order with their edit controls (a version not
    in use), or the banner of a version in use with "make a new version"; other versions of
    the family; what keeps the questionnaire from being used; every text in the viewer's
    language with the missing translations flagged (and counted: a warning, not a problem)."""
    _require(request, "view")
    questionnaire = get_object_or_404(
        Questionnaire.objects.visible_to(request.user).select_related("created_by"), pk=pk
    )
    content = questionnaire_content(questionnaire)
    versions = list(
        Questionnaire.objects.filter(family=questionnaire.family)
        .only("pk", "version", "title", "title_en", "locked_at", "family")
        .order_by("-version")
    )
    newer_draft = next((v for v in versions if v.version > questionnaire.version and v.locked_at is None), None)
    user = request.user
    locked = questionnaire.is_locked
    context = {
        "questionnaire": questionnaire,
        "content": content,
        "versions": versions,
        "newer_draft": newer_draft,
        "problems": services.content_problems(content),
        "warnings": services.content_warnings(content),
        "campaigns": _campaign_rows(request, questionnaire),
        "locked": locked,
        "can_edit": not locked and can(user, "change", Questionnaire),
        "can_add_section": not locked and can(user, "add", QuestionnaireSection),
        "can_change_section": not locked and can(user, "change", QuestionnaireSection),
        "can_delete_section": not locked and can(user, "delete", QuestionnaireSection),
        "can_add_question": not locked and can(user, "add", Question),
        "can_change_question": not locked and can(user, "change", Question),
        "can_delete_question": not locked and can(user, "delete", Question),
        "can_new_version": locked and newer_draft is None and can(user, "add", Questionnaire),
        "section_form": SectionForm(),
    }
    return render(request, "surveys/questionnaire_detail.html", context)


@login_required
@require_POST
def questionnaire_new_version(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "view", "add")
    questionnaire = _questionnaire(request, pk)
    try:
        copy = services.questionnaire_new_version(questionnaire=questionnaire, actor=_user(request))
    except ValidationError as exc:
        _error_message(request, exc)
        return HttpResponseRedirect(_builder_url(questionnaire.pk))
    messages.success(request, _("Version %(version)s was made: edit it here.") % {"version": copy.version})
    return HttpResponseRedirect(copy.get_absolute_url())


@login_required
@require_http_methods(["GET", "POST"])
def questionnaire_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The customer's page with a "nothing is saved" ribbon. POST validates the answers with
    the customer's rules and shows the errors, or that they would be accepted; nothing is
    written. ``?lang=en`` / ``?lang=zh-hans`` shows it in that language."""
    _require(request, "view")
    questionnaire = _questionnaire(request, pk)
    language = request.GET.get("lang", "")
    supported = dict(settings.LANGUAGES)
    with translation.override(language) if language in supported else nullcontext():
        content = questionnaire_content(questionnaire)
        form = SurveyAnswerForm(content, request.POST if request.method == "POST" else None)
        accepted = form.is_bound and form.is_valid()
        status = 400 if form.is_bound and not accepted else 200
        response = render(
            request,
            "surveys/questionnaire_preview.html",
            {
                "questionnaire": questionnaire,
                "content": content,
                "form": form,
                "accepted": accepted,
                "languages": [(code, code == translation.get_language()) for code in supported],
            },
            status=status,
        )
        response.headers["Content-Language"] = translation.get_language()
    return response


# --- sections ----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def section_create(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "view")
    _require(request, "add", model=QuestionnaireSection)
    questionnaire = _questionnaire(request, pk)
    context: dict[str, Any] = {"questionnaire": questionnaire}
    if request.method == "GET":
        refused = _refuse_locked(request, questionnaire)
        if refused is not None:
            return refused
        context["form"] = SectionForm()
        return render(request, "surveys/questionnaire_section_form.html", context)
    form = SectionForm(request.POST)
    if form.is_valid():
        try:
            section = services.section_create(questionnaire=questionnaire, actor=_user(request), **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The section was added."))
            return HttpResponseRedirect(_builder_url(questionnaire.pk, f"section-{section.pk}"))
    context["form"] = form
    return render(request, "surveys/questionnaire_section_form.html", context, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def section_edit(request: HttpRequest, pk: int, section_pk: int) -> HttpResponse:
    _require(request, "view")
    _require(request, "change", model=QuestionnaireSection)
    section = _section(request, pk, section_pk)
    context: dict[str, Any] = {"questionnaire": section.questionnaire, "section": section}
    if request.method == "GET":
        refused = _refuse_locked(request, section.questionnaire)
        if refused is not None:
            return refused
        context["form"] = SectionForm(instance=section)
        return render(request, "surveys/questionnaire_section_form.html", context)
    form = SectionForm(request.POST, instance=section)
    if form.is_valid():
        try:
            services.section_update(section=section, actor=_user(request), **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The section was saved."))
            return HttpResponseRedirect(_builder_url(pk, f"section-{section.pk}"))
    context["form"] = form
    return render(request, "surveys/questionnaire_section_form.html", context, status=400)


@login_required
@require_POST
def section_delete(request: HttpRequest, pk: int, section_pk: int) -> HttpResponse:
    _require(request, "view")
    _require(request, "delete", model=QuestionnaireSection)
    section = _section(request, pk, section_pk)
    try:
        services.section_delete(section=section, actor=_user(request))
    except ValidationError as exc:
        _error_message(request, exc)
    else:
        messages.success(request, _("The section and its questions were deleted."))
    return HttpResponseRedirect(_builder_url(pk))


@login_required
@require_POST
def section_move(request: HttpRequest, pk: int, section_pk: int) -> HttpResponse:
    _require(request, "view")
    _require(request, "change", model=QuestionnaireSection)
    section = _section(request, pk, section_pk)
    try:
        services.section_move(section=section, direction=request.POST.get("direction", ""), actor=_user(request))
    except ValidationError as exc:
        _error_message(request, exc)
    return HttpResponseRedirect(_builder_url(pk, f"section-{section.pk}"))


# --- questions ---------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def question_create(request: HttpRequest, pk: int, section_pk: int) -> HttpResponse:
    _require(request, "view")
    _require(request, "add", model=Question)
    section = _section(request, pk, section_pk)
    context: dict[str, Any] = {"questionnaire": section.questionnaire, "section": section}
    if request.method == "GET":
        refused = _refuse_locked(request, section.questionnaire)
        if refused is not None:
            return refused
        context["form"] = QuestionForm()
        return render(request, "surveys/questionnaire_question_form.html", context)
    form = QuestionForm(request.POST)
    if form.is_valid():
        try:
            question = services.question_create(section=section, actor=_user(request), **form.service_fields())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The question was added."))
            return HttpResponseRedirect(_builder_url(pk, f"question-{question.pk}"))
    context["form"] = form
    return render(request, "surveys/questionnaire_question_form.html", context, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def question_edit(request: HttpRequest, pk: int, question_pk: int) -> HttpResponse:
    _require(request, "view")
    _require(request, "change", model=Question)
    question = _question(request, pk, question_pk)
    context: dict[str, Any] = {
        "questionnaire": question.questionnaire,
        "section": question.section,
        "question": question,
    }
    if request.method == "GET":
        refused = _refuse_locked(request, question.questionnaire)
        if refused is not None:
            return refused
        context["form"] = QuestionForm(instance=question)
        return render(request, "surveys/questionnaire_question_form.html", context)
    form = QuestionForm(request.POST, instance=question)
    if form.is_valid():
        try:
            services.question_update(question=question, actor=_user(request), **form.service_fields())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The question was saved."))
            return HttpResponseRedirect(_builder_url(pk, f"question-{question.pk}"))
    context["form"] = form
    return render(request, "surveys/questionnaire_question_form.html", context, status=400)


@login_required
@require_POST
def question_delete(request: HttpRequest, pk: int, question_pk: int) -> HttpResponse:
    _require(request, "view")
    _require(request, "delete", model=Question)
    question = _question(request, pk, question_pk)
    try:
        services.question_delete(question=question, actor=_user(request))
    except ValidationError as exc:
        _error_message(request, exc)
    else:
        messages.success(request, _("The question was deleted."))
    return HttpResponseRedirect(_builder_url(pk, f"section-{question.section_id}"))


@login_required
@require_POST
def question_move(request: HttpRequest, pk: int, question_pk: int) -> HttpResponse:
    _require(request, "view")
    _require(request, "change", model=Question)
    question = _question(request, pk, question_pk)
    try:
        services.question_move(question=question, direction=request.POST.get("direction", ""), actor=_user(request))
    except ValidationError as exc:
        _error_message(request, exc)
    return HttpResponseRedirect(_builder_url(pk, f"question-{question.pk}"))


_BASE = "surveys/questionnaires/<int:pk>/"

urlpatterns = [
    path("surveys/questionnaires/", questionnaire_list, name="questionnaire_list"),
    path("surveys/questionnaires/new/", questionnaire_create, name="questionnaire_create"),
    path(_BASE, questionnaire_detail, name="questionnaire_detail"),
    path(f"{_BASE}edit/", questionnaire_edit, name="questionnaire_edit"),
    path(f"{_BASE}new-version/", questionnaire_new_version, name="questionnaire_new_version"),
    path(f"{_BASE}preview/", questionnaire_preview, name="questionnaire_preview"),
    path(f"{_BASE}sections/new/", section_create, name="questionnaire_section_create"),
    path(f"{_BASE}sections/<int:section_pk>/edit/", section_edit, name="questionnaire_section_edit"),
    path(f"{_BASE}sections/<int:section_pk>/delete/", section_delete, name="questionnaire_section_delete"),
    path(f"{_BASE}sections/<int:section_pk>/move/", section_move, name="questionnaire_section_move"),
    path(f"{_BASE}sections/<int:section_pk>/questions/new/", question_create, name="question_create"),
    path(f"{_BASE}questions/<int:question_pk>/edit/", question_edit, name="question_edit"),
    path(f"{_BASE}questions/<int:question_pk>/delete/", question_delete, name="question_delete"),
    path(f"{_BASE}questions/<int:question_pk>/move/", question_move, name="question_move"),
]
