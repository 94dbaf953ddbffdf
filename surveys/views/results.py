"""Survey results pages: a campaign's results, its free-text answers and answer export, and the
improvement items raised from its results (in the improvement register).

Reading results needs ``surveys.view_campaign`` (free text and the export also
``view_answer``); raising improvement items from final results
``improvement.add_improvementitem``. The check comes before any row is read,
so a refused user cannot tell a missing campaign from a real one. Figures come from
``surveys.results`` (aggregated in SQL); every page runs a constant number of queries
whatever the number of invitations and answers. Results show organisations and departments,
never who answered.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from improvement.selectors.sources import raise_url, source_panel
from itsm.core import charts
from itsm.core.exports import Column, export_response, filename_for
from itsm.core.permissions import can, require_all

from .. import results as selectors
from ..choices import LAUNCHED_STATUSES, CampaignStatus
from ..forms.results import FreeTextFilterForm
from ..improvements import campaign_accepts_items
from ..models import Answer, Campaign

FREE_TEXT_PAGE_SIZE = 50


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
    improvement = source_panel(request.user, "survey_campaign", campaign)
    may_add_items = improvement is not None and bool(improvement["raise_url"])
    may_propose = may_add_items and campaign_accepts_items(campaign)
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
        improvement=improvement,
        may_propose=may_propose,
        question_raise_url=raise_url("survey_question", campaign) if may_propose else "",
        may_view_answers=can(request.user, "view", Answer),
        improvements_closed_note=may_add_items and not may_propose,
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


urlpatterns = [
    path("surveys/campaigns/<int:pk>/results/", campaign_results, name="campaign_results"),
    path("surveys/campaigns/<int:pk>/results/free-text/", campaign_free_text, name="campaign_free_text"),
    path("surveys/campaigns/<int:pk>/answers.<str:fmt>", campaign_answers_export, name="campaign_answers_export"),
]
