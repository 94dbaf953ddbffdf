"""What satisfaction work gives the improvement register (``improvement.registry``): a survey
campaign's results (or one question of them), a ticket call-back and a weekly-visit item are
sources of improvement items; a question whose satisfaction falls below the KPI target
suggests one by itself once the campaign's results are final."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from improvement.registry import ImprovementSource, Suggestion, intake_rule, register_source

from .choices import CampaignStatus, QuestionKind
from .models import Answer, CallBack, Campaign, Question, WeeklyReportItem
from .results import SATISFIED_MIN

# The KPI whose target a question's satisfaction is held to (customer service satisfaction).
SATISFACTION_KPI_SOURCE = "surveys.campaign_satisfaction"
# Results are final from the close on; the intake looks at campaigns closed this recently.
FINAL_STATUSES = (CampaignStatus.CLOSED, CampaignStatus.PUBLISHED, CampaignStatus.ANALYSED)
INTAKE_DAYS = 62


def _refuses(campaign: Campaign) -> str:
    if campaign.status in FINAL_STATUSES:
        return ""
    return _("Improvement items can be proposed once the campaign is closed (it is %(status)s).") % {
        "status": campaign.get_status_display()
    }


def campaign_accepts_items(campaign: Campaign) -> bool:
    """Results are final from the close on; items are raised from final results."""
    return not _refuses(campaign)


def _results_url(campaign: Campaign, question: Question | None) -> str:
    anchor = f"#question-{question.pk}" if question is not None else "#improvements"
    return reverse("campaign_results", args=[campaign.pk]) + anchor


def _question_prefill(campaign: Campaign, question: Question | None) -> dict:
    if question is None:
        return {"title": (_("Survey %(campaign)s") % {"campaign": campaign.title})[:200]}
    return {
        "title": (_("%(question)s (%(campaign)s)") % {"question": question.text, "campaign": campaign.title})[:200],
    }


SURVEY_CAMPAIGN = register_source(
    ImprovementSource(
        kind="survey_campaign",
        label=gettext_lazy("Survey campaign"),
        model="surveys.campaign",
        describe=lambda campaign, part: campaign.title,
        url=_results_url,
        prefill=_question_prefill,
        refuses=_refuses,
    )
)
SURVEY_QUESTION = register_source(
    ImprovementSource(
        kind="survey_question",
        label=gettext_lazy("Survey question"),
        model="surveys.campaign",
        part_model="surveys.question",
        describe=lambda campaign, question: f"{campaign.title} · {question.text}" if question else campaign.title,
        url=_results_url,
        prefill=_question_prefill,
        refuses=_refuses,
    )
)


def _callback_prefill(callback: CallBack, part: object) -> dict:
    ticket = callback.ticket
    return {
        "title": (_("Call-back of ticket %(ticket)s") % {"ticket": ticket.ticket_ref})[:200],
        "description": ticket.summary,
    }


CALLBACK = register_source(
    ImprovementSource(
        kind="callback",
        label=gettext_lazy("Ticket call-back"),
        model="surveys.callback",
        describe=lambda callback, part: str(callback.ticket.ticket_ref),
        prefill=_callback_prefill,
        queryset=lambda: CallBack.objects.select_related("ticket"),
    )
)


def _visit_item_prefill(item: WeeklyReportItem, part: object) -> dict:
    return {"title": item.text.splitlines()[0][:200] if item.text else str(item), "description": item.text}


WEEKLY_VISIT_ITEM = register_source(
    ImprovementSource(
        kind="weekly_visit_item",
        label=gettext_lazy("Weekly visit item"),
        model="surveys.weeklyreportitem",
        describe=lambda item, part: f"{item.report} · {item.text[:60]}",
        url=lambda item, part: item.report.get_absolute_url(),
        prefill=_visit_item_prefill,
        queryset=lambda: WeeklyReportItem.objects.select_related("report", "report__department__organisation"),
    )
)


@intake_rule("surveys.question_below_target")
def questions_below_target() -> Iterator[Suggestion]:
    """A rating question of a campaign with final results whose satisfaction % is below the
    target of the KPI "customer service satisfaction" suggests one item to the campaign's owner."""
    from kpi.models import KpiDefinition
    from kpi.services.values import target_for

    definition = (
        KpiDefinition.objects.filter(source=SATISFACTION_KPI_SOURCE, is_active=True).prefetch_related("targets").first()
    )
    if definition is None:
        return
    since = timezone.now() - timedelta(days=INTAKE_DAYS)
    campaigns = list(Campaign.objects.filter(status__in=FINAL_STATUSES, closed_at__gte=since).select_related("owner"))
    for campaign in campaigns:
        target = target_for(definition, timezone.localdate(campaign.closes_at))
        if target is None:
            continue
        rows = (
            Answer.objects.filter(campaign=campaign, question__kind=QuestionKind.RATING, value__isnull=False)
            .values("question")
            .annotate(answers=Count("pk"), satisfied=Count("pk", filter=Q(value__gte=SATISFIED_MIN)))
        )
        below = {
            row["question"]: Decimal(row["satisfied"] * 100) / row["answers"]
            for row in rows
            if row["answers"] and Decimal(row["satisfied"] * 100) / row["answers"] < target
        }
        for question in Question.objects.filter(pk__in=below):
            share = below[question.pk].quantize(Decimal("0.1"))
            yield Suggestion(
                key=f"survey-question:{campaign.pk}:{question.pk}",
                kind="survey_question",
                source=campaign,
                part=question,
                title=(_("%(question)s (%(campaign)s)") % {"question": question.text, "campaign": campaign.title})[
                    :200
                ],
                description=_("Satisfaction %(share)s %% against the KPI target %(target)s %%.")
                % {"share": share, "target": target.normalize()},
                priority="high",
                owner=campaign.owner,
            )
