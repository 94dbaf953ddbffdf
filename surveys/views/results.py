"""Survey results pages: a campaign's results, its free-text answers and answer export, and the
improvement items proposed from results.

Reading results needs ``surveys.view_campaign`` (free text and the export also
``view_answer``); proposing and editing improvement items ``add`` / ``change_improvementitem``
(satisfaction owners, quality managers, BR managers). The check comes before any row is read,
so a refused user cannot tell a missing campaign from a real one. Figures come from
``surveys.results`` (aggregated in SQL); every page runs a constant number of queries
whatever the number of invitations and answers. Results show organisations and departments,
never who answered.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from itsm.core import charts
from itsm.core.exports import Column, export_response, filename_for
from itsm.core.permissions import acting_user as _user
from itsm.core.permissions import can, require_all
from itsm.core.views.generic import add_service_errors

from .. import results as selectors
from ..choices import LAUNCHED_STATUSES, CampaignStatus, ImprovementPriority, ImprovementStatus
from ..forms.results import (
    FreeTextFilterForm,
    ImprovementFilterForm,
    ImprovementItemEditForm,
    ImprovementItemForm,
    campaign_question_queryset,
)
from ..models import Answer, Campaign, ImprovementItem
from ..services import improvements as services

FREE_TEXT_PAGE_SIZE = 50
IMPROVEMENT_PAGE_SIZE = 25
PRIORITY_COLOURS = {
    ImprovementPriority.HIGH: "danger",
    ImprovementPriority.MEDIUM: "warning",
    ImprovementPriority.LOW: "secondary",
}
STATUS_COLOURS = {
    ImprovementStatus.PROPOSED: "secondary",
    ImprovementStatus.ACCEPTED: "info",
    ImprovementStatus.IN_PLAN: "primary",
    ImprovementStatus.DONE: "success",
    ImprovementStatus.REJECTED: "dark",
}


def _require(request: HttpRequest, *verbs: str, model: Any = Campaign) -> None:
    require_all(request.user, verbs, model)


def _campaign(request: HttpRequest, pk: int) -> Campaign:
    queryset = Campaign.objects.visible_to(request.user).select_related("questionnaire", "owner")
    return get_object_or_404(queryset, pk=pk)


def _optional_url(name: str, *args: Any) -> str:
    # The campaign pages are another part of the surveys app; link to them when they exist.
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def priority_rank():
    """high → medium → low, as an SQL expression to order improvement items by."""
    return Case(
        When(priority=ImprovementPriority.HIGH, then=Value(0)),
        When(priority=ImprovementPriority.MEDIUM, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )


def _improvement_rows(queryset: QuerySet[ImprovementItem]) -> QuerySet[ImprovementItem]:
    return (
        queryset.select_related("campaign", "question", "owner")
        .annotate(priority_rank=priority_rank())
        .order_by("priority_rank", "-created_at", "-pk")
    )


def _decorate(items) -> list[dict]:
    return [
        {
            "item": item,
            "priority_colour": PRIORITY_COLOURS.get(item.priority, "secondary"),
            "status_colour": STATUS_COLOURS.get(item.status, "secondary"),
        }
        for item in items
    ]


# --- the results page --------------------------------------------------------------------------


def _sections(results: list[selectors.QuestionResult]) -> list[dict]:
    """Question blocks grouped by section, each with its chart."""
    sections: list[dict] = []
    for result in results:
        section = result.question.section
        if not sections or sections[-1]["section"].pk != section.pk:
            sections.append({"section": section, "blocks": []})
        sections[-1]["blocks"].append({"result": result, "chart": selectors.question_chart(result)})
    return sections


def _group_chart(rows: list[selectors.GroupResult], title: str, label_of) -> Any:
    bars = [
        charts.Bar(label_of(row), row.satisfaction, value_label=f"{row.satisfaction:.1f} %")
        for row in rows
        if row.satisfaction is not None
    ]
    return charts.bar_spec(
        bars,
        title=title,
        max_value=100,
        width=560,
        label_title=gettext("Organisation"),
        value_title=gettext("Satisfaction"),
    )


@login_required
@require_GET
def campaign_results(request: HttpRequest, pk: int) -> HttpResponse:
    """A campaign's results: headline figures, response rates, every question, by organisation
    and department, analysis notes and improvement items. Before launch: a page saying so."""
    _require(request, "view")
    campaign = _campaign(request, pk)
    context: dict[str, Any] = {
        "campaign": campaign,
        "campaign_url": _optional_url("campaign_detail", campaign.pk),
        "launched": campaign.status in LAUNCHED_STATUSES,
    }
    if not context["launched"]:
        return render(request, "surveys/results.html", context)

    summary = selectors.campaign_summary(campaign)
    questions = selectors.campaign_questions(campaign)
    results = selectors.question_results(campaign, questions)
    by_organisation = selectors.results_by_organisation(campaign)
    by_department = selectors.results_by_department(campaign)
    may_propose = can(request.user, "add", ImprovementItem) and services.campaign_accepts_improvements(campaign)
    context.update(
        summary=summary,
        live=campaign.status == CampaignStatus.RUNNING,
        rates=selectors.response_rates(campaign),
        sections=_sections(results),
        free_text_count=sum(result.text_answers + result.comments for result in results),
        by_organisation=by_organisation,
        by_department=by_department,
        organisation_chart=_group_chart(
            by_organisation, gettext("Satisfaction by organisation (rated 4 or 5)"), lambda row: row.organisation
        ),
        improvements=_decorate(_improvement_rows(ImprovementItem.objects.filter(campaign=campaign))),
        may_propose=may_propose,
        may_change_items=can(request.user, "change", ImprovementItem),
        may_view_answers=can(request.user, "view", Answer),
        improvements_closed_note=can(request.user, "add", ImprovementItem) and not may_propose,
    )
    return render(request, "surveys/results.html", context)


# --- free text ---------------------------------------------------------------------------------


@login_required
@require_GET
def campaign_free_text(request: HttpRequest, pk: int) -> HttpResponse:
    """Free-text answers and comments of a campaign, newest first, 50 a page, by question."""
    _require(request, "view")
    _require(request, "view", model=Answer)
    campaign = _campaign(request, pk)
    form = FreeTextFilterForm(request.GET or None, campaign=campaign)
    queryset = selectors.free_text_answers(campaign)
    if form.is_bound:
        if form.is_valid():
            if form.cleaned_data["question"] is not None:
                queryset = queryset.filter(question=form.cleaned_data["question"])
        else:
            queryset = queryset.none()
    page = Paginator(queryset, FREE_TEXT_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "surveys/results_free_text.html",
        {
            "campaign": campaign,
            "form": form,
            "page_obj": page,
            "answers": page.object_list,
            "querystring": query.urlencode(),
        },
    )


# --- export ------------------------------------------------------------------------------------


def answer_export_columns() -> list[Column]:
    """One row per answer; no contact name or address (results are anonymous)."""
    return [
        (_("Response"), "response_id"),
        (_("Submitted at"), "response.submitted_at"),
        (_("Organisation"), "organisation.name"),
        (_("Department"), "department.name"),
        (_("Section"), "question.section.title"),
        (_("Question"), "question.text"),
        (_("Question type"), "question.kind"),
        (_("Value"), "value"),
        (_("Choice"), "option.label"),
        (_("Text"), "text"),
        (_("Comment"), "comment"),
        (_("Language"), "response.language"),
    ]


@login_required
@require_GET
def campaign_answers_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponseBase:
    """Every answer of a campaign as CSV or XLSX, streamed, all rows, in questionnaire order per response."""
    _require(request, "view")
    _require(request, "view", model=Answer)
    campaign = _campaign(request, pk)
    queryset = (
        Answer.objects.filter(campaign=campaign)
        .select_related("response", "organisation", "department", "question__section", "option")
        .order_by(
            "response__submitted_at",
            "response_id",
            "question__section__position",
            "question__section_id",
            "question__position",
            "question_id",
            "option__position",
            "pk",
        )
    )
    return export_response(
        queryset,
        answer_export_columns(),
        fmt,
        filename_for(f"survey-{campaign.pk}-answers", fmt),
        sheet_title=gettext("Answers"),
    )


# --- improvement items -------------------------------------------------------------------------


def _results_url(campaign: Campaign, anchor: str = "improvements") -> str:
    return f"{reverse('campaign_results', args=[campaign.pk])}#{anchor}"


@login_required
@require_http_methods(["GET", "POST"])
def improvement_item_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Propose an improvement from a closed campaign's results; ``?question=<id>`` pre-fills the source."""
    _require(request, "view")
    _require(request, "add", model=ImprovementItem)
    campaign = _campaign(request, pk)
    if not services.campaign_accepts_improvements(campaign):
        messages.error(request, gettext("Improvement items can be proposed once the campaign is closed."))
        return HttpResponseRedirect(_results_url(campaign))
    context: dict[str, Any] = {"campaign": campaign, "item": None}
    if request.method == "GET":
        initial: dict[str, Any] = {"priority": ImprovementPriority.MEDIUM}
        question_id = request.GET.get("question", "")
        if question_id.isdigit():  # from a question block's "propose an improvement" link
            question = campaign_question_queryset(campaign).filter(pk=int(question_id)).first()
            if question is not None:
                initial["question"] = question.pk
        form = ImprovementItemForm(initial=initial, campaign=campaign)
        return render(request, "surveys/improvement_form.html", {**context, "form": form})
    form = ImprovementItemForm(request.POST, campaign=campaign)
    if form.is_valid():
        try:
            services.improvement_item_create(campaign=campaign, actor=_user(request), **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, gettext("The improvement item was proposed."))
            return HttpResponseRedirect(_results_url(campaign))
    return render(request, "surveys/improvement_form.html", {**context, "form": form}, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def improvement_item_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit an improvement item: text, priority, status, improvement plan, owner, source question."""
    _require(request, "view", "change", model=ImprovementItem)
    item = get_object_or_404(
        ImprovementItem.objects.visible_to(request.user).select_related("campaign", "question", "owner"), pk=pk
    )
    campaign = item.campaign
    context: dict[str, Any] = {"campaign": campaign, "item": item}
    if request.method == "GET":
        form = ImprovementItemEditForm(
            initial={
                "title": item.title,
                "description": item.description,
                "priority": item.priority,
                "status": item.status,
                "plan_ref": item.plan_ref,
                "question": item.question_id,
                "owner": item.owner_id,
            },
            campaign=campaign,
        )
        return render(request, "surveys/improvement_form.html", {**context, "form": form})
    form = ImprovementItemEditForm(request.POST, campaign=campaign)
    if form.is_valid():
        try:
            services.improvement_item_update(item=item, actor=_user(request), **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, gettext("The improvement item was saved."))
            return HttpResponseRedirect(_results_url(campaign))
    return render(request, "surveys/improvement_form.html", {**context, "form": form}, status=400)


@login_required
@require_GET
def improvement_item_list(request: HttpRequest) -> HttpResponse:
    """Improvement items of every campaign, high → medium → low then newest; filter by priority
    and status; each row links back to the results it came from."""
    _require(request, "view", model=ImprovementItem)
    form = ImprovementFilterForm(request.GET or None)
    queryset = _improvement_rows(ImprovementItem.objects.visible_to(request.user))
    if form.is_bound:
        if form.is_valid():
            for name in ("priority", "status"):
                if form.cleaned_data[name]:
                    queryset = queryset.filter(**{name: form.cleaned_data[name]})
        else:
            queryset = queryset.none()
    page = Paginator(queryset, IMPROVEMENT_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "surveys/improvement_list.html",
        {
            "form": form,
            "rows": _decorate(page.object_list),
            "page_obj": page,
            "querystring": query.urlencode(),
            "may_change": can(request.user, "change", ImprovementItem),
            "may_view_campaigns": can(request.user, "view", Campaign),
        },
    )


urlpatterns = [
    path("surveys/campaigns/<int:pk>/results/", campaign_results, name="campaign_results"),
    path("surveys/campaigns/<int:pk>/results/free-text/", campaign_free_text, name="campaign_free_text"),
    path("surveys/campaigns/<int:pk>/answers.<str:fmt>", campaign_answers_export, name="campaign_answers_export"),
    path("surveys/campaigns/<int:pk>/improvements/new/", improvement_item_create, name="improvement_item_create"),
    path("surveys/improvements/", improvement_item_list, name="improvement_item_list"),
    path("surveys/improvements/<int:pk>/edit/", improvement_item_edit, name="improvement_item_edit"),
]
