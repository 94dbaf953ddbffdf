"""Results of a survey campaign: every figure the results page, the export, the publication
mail and the review packs show, read in SQL.

Definitions (SPEC §4): an answer to a rating question is *satisfied* when it is 4 or 5; the
satisfaction % is the share of rating answers that are satisfied; the NPS is the % of
promoters (9–10) minus the % of detractors (0–6) among the answers to NPS questions, an integer
from −100 to 100; the response rate is answered invitations over invitations that went out
(sent or answered — pending ones and bounced addresses are not in the denominator; bounced
ones are counted apart). A figure with nothing to compute it from is ``None``, never 0.

Every selector runs a fixed number of queries, whatever the number of answers: counts come
from ``Count`` / ``Avg`` with filters and ``values().annotate()`` groupings that the indexes
on ``Answer`` — (campaign, question, value), (campaign, question, option),
(campaign, organisation) — serve. Python only combines the grouped rows (at most eleven values
per question, one row per organisation or department). Respondents' identities never leave
this module: results carry organisation and department, not contacts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Avg, Count, F, Q, QuerySet
from django.db.models.expressions import OrderBy
from django.utils.translation import gettext as _

from itsm.core import charts

from .choices import CHOICE_KINDS, InvitationStatus, QuestionKind
from .models import Answer, Campaign, Invitation, Question, QuestionOption, SurveyResponse

__all__ = [
    "NPS_DETRACTOR_MAX",
    "NPS_PROMOTER_MIN",
    "SATISFIED_MIN",
    "Bucket",
    "CampaignSummary",
    "GroupResult",
    "QuestionResult",
    "RateRow",
    "ResponseRates",
    "campaign_questions",
    "campaign_summary",
    "free_text_answers",
    "question_chart",
    "question_results",
    "response_rates",
    "results_by_department",
    "results_by_organisation",
]

SATISFIED_MIN = 4  # a rating of 4 or 5 is "satisfied"
NPS_PROMOTER_MIN = 9
NPS_DETRACTOR_MAX = 6
RATING_VALUES = range(1, 6)
NPS_VALUES = range(0, 11)
# Invitations that reached the contact: the response rate's denominator.
DELIVERED = (InvitationStatus.SENT, InvitationStatus.ANSWERED)


def percent(part: int | float, whole: int | float, digits: int = 1) -> float | None:
    """``part`` as a percentage of ``whole``, rounded half up; None when ``whole`` is 0."""
    if not whole:
        return None
    quantum = Decimal(1).scaleb(-digits)
    return float((Decimal(part) * 100 / Decimal(whole)).quantize(quantum, rounding=ROUND_HALF_UP))


def _round(value: float | Decimal | None, digits: int = 2) -> float | None:
    if value is None:
        return None
    quantum = Decimal(1).scaleb(-digits)
    return float(Decimal(str(value)).quantize(quantum, rounding=ROUND_HALF_UP))


def nps_score(promoters: int, detractors: int, answers: int) -> int | None:
    """% promoters − % detractors, as an integer (rounded half away from zero); None without answers."""
    if not answers:
        return None
    score = Decimal(promoters - detractors) * 100 / Decimal(answers)
    return int(score.quantize(Decimal(1), rounding=ROUND_HALF_UP))


# --- the campaign in figures -------------------------------------------------------------------


@dataclass(frozen=True)
class CampaignSummary:
    """The headline figures of a campaign (the results page, the publication mail).

    ``invited``: every invitation; ``sent``: invitations that went out (sent or answered);
    ``answered``; ``bounced`` (address invalid); ``pending`` (not sent yet); ``unsubscribed``
    (contacts who asked for no more surveys, whatever their invitation's state).
    ``response_rate`` = answered / sent in %, ``satisfaction`` = rating answers of 4–5 / rating
    answers in %, ``average_rating`` over rating answers, ``nps`` an integer −100…100; each is
    None when there is nothing to compute it from.
    """

    invited: int
    sent: int
    answered: int
    bounced: int
    pending: int
    unsubscribed: int
    rating_answers: int
    satisfied_answers: int
    nps_answers: int
    response_rate: float | None
    satisfaction: float | None
    average_rating: float | None
    nps: int | None

    @property
    def has_results(self) -> bool:
        return self.answered > 0


def campaign_summary(campaign: Campaign) -> CampaignSummary:
    """The headline figures of ``campaign`` (two queries: invitations, answers)."""
    invitations = Invitation.objects.filter(campaign=campaign).aggregate(
        invited=Count("pk"),
        sent=Count("pk", filter=Q(status__in=DELIVERED)),
        answered=Count("pk", filter=Q(status=InvitationStatus.ANSWERED)),
        bounced=Count("pk", filter=Q(status=InvitationStatus.BOUNCED)),
        pending=Count("pk", filter=Q(status=InvitationStatus.PENDING)),
        unsubscribed=Count("pk", filter=Q(unsubscribed_at__isnull=False)),
    )
    rating = Q(question__kind=QuestionKind.RATING)
    nps = Q(question__kind=QuestionKind.NPS)
    answers = Answer.objects.filter(
        campaign=campaign, value__isnull=False, question__kind__in=[QuestionKind.RATING, QuestionKind.NPS]
    ).aggregate(
        ratings=Count("pk", filter=rating),
        satisfied=Count("pk", filter=rating & Q(value__gte=SATISFIED_MIN)),
        average=Avg("value", filter=rating),
        nps_answers=Count("pk", filter=nps),
        promoters=Count("pk", filter=nps & Q(value__gte=NPS_PROMOTER_MIN)),
        detractors=Count("pk", filter=nps & Q(value__lte=NPS_DETRACTOR_MAX)),
    )
    return CampaignSummary(
        invited=invitations["invited"],
        sent=invitations["sent"],
        answered=invitations["answered"],
        bounced=invitations["bounced"],
        pending=invitations["pending"],
        unsubscribed=invitations["unsubscribed"],
        rating_answers=answers["ratings"],
        satisfied_answers=answers["satisfied"],
        nps_answers=answers["nps_answers"],
        response_rate=percent(invitations["answered"], invitations["sent"]),
        satisfaction=percent(answers["satisfied"], answers["ratings"]),
        average_rating=_round(answers["average"]),
        nps=nps_score(answers["promoters"], answers["detractors"], answers["nps_answers"]),
    )


# --- response rates --------------------------------------------------------------------------


@dataclass(frozen=True)
class RateRow:
    """Invitations of one organisation (``department_id`` None on an organisation's total row,
    and on the row of contacts without a department — ``is_total`` tells them apart)."""

    organisation_id: int
    organisation: str
    department_id: int | None
    department: str
    invited: int
    sent: int
    answered: int
    bounced: int
    is_total: bool = False

    @property
    def rate(self) -> float | None:
        return percent(self.answered, self.sent)


@dataclass(frozen=True)
class ResponseRates:
    """``organisations``: one total row per organisation; ``departments``: one row per
    (organisation, department), both sorted by organisation then department name."""

    organisations: list[RateRow]
    departments: list[RateRow]

    def departments_of(self, organisation_id: int) -> list[RateRow]:
        return [row for row in self.departments if row.organisation_id == organisation_id]

    @property
    def grouped(self) -> list[tuple[RateRow, list[RateRow]]]:
        """(organisation total, its department rows) in order: one pass, for the page (a
        nested loop over thousands of organisations and departments would be quadratic)."""
        by_organisation: dict[int, list[RateRow]] = defaultdict(list)
        for row in self.departments:
            by_organisation[row.organisation_id].append(row)
        return [(total, by_organisation[total.organisation_id]) for total in self.organisations]


def response_rates(campaign: Campaign) -> ResponseRates:
    """Invited / sent / answered / bounced and the rate per organisation and per department (one query)."""
    rows = (
        Invitation.objects.filter(campaign=campaign)
        .values("organisation_id", "organisation__name", "department_id", "department__name")
        .annotate(
            invited=Count("pk"),
            sent=Count("pk", filter=Q(status__in=DELIVERED)),
            answered=Count("pk", filter=Q(status=InvitationStatus.ANSWERED)),
            bounced=Count("pk", filter=Q(status=InvitationStatus.BOUNCED)),
        )
        .order_by("organisation__name", "organisation_id", F("department__name").asc(nulls_last=True), "department_id")
    )
    departments = [
        RateRow(
            organisation_id=row["organisation_id"],
            organisation=row["organisation__name"],
            department_id=row["department_id"],
            department=row["department__name"] or "",
            invited=row["invited"],
            sent=row["sent"],
            answered=row["answered"],
            bounced=row["bounced"],
        )
        for row in rows
    ]
    totals: dict[int, dict[str, int]] = {}
    names: dict[int, str] = {}
    for row in departments:  # one row per department: summing them is not a loop over invitations
        total = totals.setdefault(row.organisation_id, defaultdict(int))
        names[row.organisation_id] = row.organisation
        for name in ("invited", "sent", "answered", "bounced"):
            total[name] += getattr(row, name)
    organisations = [
        RateRow(
            organisation_id=pk,
            organisation=names[pk],
            department_id=None,
            department="",
            is_total=True,
            **total,
        )
        for pk, total in totals.items()  # dicts keep the query's order
    ]
    return ResponseRates(organisations=organisations, departments=departments)


# --- per question ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Bucket:
    """One bar of a question's distribution: a value (rating, NPS, yes / no) or an option."""

    key: int
    label: str
    count: int
    percent: float | None
    colour: str | None = None


@dataclass
class QuestionResult:
    """The results of one question.

    ``count``: answers to it (for a multiple choice: respondents, each counted once);
    ``distribution``: ratings 1–5, NPS 0–10, yes / no, or each option (zeros included; for a
    multiple choice the shares are of respondents and may add up to more than 100 %);
    ``average`` (rating, NPS), ``satisfaction`` % (rating), ``nps`` (NPS); ``comments``: the
    non-empty comments under a rating; ``text_answers``: the answers to a free-text question.
    """

    question: Question
    kind: str
    count: int = 0
    distribution: list[Bucket] = field(default_factory=list)
    average: float | None = None
    satisfaction: float | None = None
    nps: int | None = None
    comments: int = 0
    text_answers: int = 0

    @property
    def is_text(self) -> bool:
        return self.kind == QuestionKind.TEXT


def campaign_questions(campaign: Campaign) -> list[Question]:
    """The campaign questionnaire's questions in order, with section and options (two queries)."""
    return list(
        Question.objects.filter(questionnaire_id=campaign.questionnaire_id)
        .select_related("section", "service", "sla_target__agreement")
        .prefetch_related("options")
        .order_by("section__position", "section_id", "position", "pk")
    )


def _value_counts(campaign: Campaign) -> dict[int, dict[int, int]]:
    """{question id: {value: count}} of the numeric answers (rating, NPS, yes / no)."""
    counts: dict[int, dict[int, int]] = defaultdict(dict)
    for row in (
        Answer.objects.filter(campaign=campaign, value__isnull=False)
        .values("question_id", "value")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        if row["value"] is not None:  # excluded by the filter; narrows the type
            counts[row["question_id"]][row["value"]] = row["n"]
    return counts


def _numeric_result(result: QuestionResult, counts: dict[int, int]) -> None:
    """Fill a rating / NPS / yes-no result from its value counts (at most eleven rows)."""
    kind = result.kind
    if kind == QuestionKind.YES_NO:
        values: Iterable[int] = (1, 0)
    else:
        values = RATING_VALUES if kind == QuestionKind.RATING else NPS_VALUES
    total = sum(n for value, n in counts.items() if value in values)
    result.count = total
    buckets = []
    # One answer per respondent: the shares add up to exactly 100 (largest remainder).
    parts = dict(zip(values, charts.shares([counts.get(v, 0) for v in values], digits=1), strict=True))
    for value in values:
        n = counts.get(value, 0)
        if kind == QuestionKind.YES_NO:
            label = _("Yes") if value == 1 else _("No")
            colour = charts.YES_NO_COLOURS["yes" if value == 1 else "no"]
        elif kind == QuestionKind.RATING:
            label, colour = str(value), charts.RATING_COLOURS[value - 1]
        else:
            label = str(value)
            group = (
                "promoter" if value >= NPS_PROMOTER_MIN else "detractor" if value <= NPS_DETRACTOR_MAX else "passive"
            )
            colour = charts.NPS_COLOURS[group]
        buckets.append(Bucket(key=value, label=label, count=n, percent=parts[value] if total else None, colour=colour))
    result.distribution = buckets
    if kind in (QuestionKind.RATING, QuestionKind.NPS) and total:
        result.average = _round(Decimal(sum(value * counts.get(value, 0) for value in values)) / total)
    if kind == QuestionKind.RATING:
        result.satisfaction = percent(sum(counts.get(v, 0) for v in values if v >= SATISFIED_MIN), total)
    if kind == QuestionKind.NPS:
        promoters = sum(counts.get(v, 0) for v in values if v >= NPS_PROMOTER_MIN)
        detractors = sum(counts.get(v, 0) for v in values if v <= NPS_DETRACTOR_MAX)
        result.nps = nps_score(promoters, detractors, total)


def question_results(campaign: Campaign, questions: list[Question] | None = None) -> list[QuestionResult]:
    """One result per question of the campaign's questionnaire, in questionnaire order.

    ``questions`` (from ``campaign_questions``) saves reloading them. At most five queries:
    the questions and options (unless given), numeric answers grouped by (question, value),
    choices grouped by (question, option), and — only when the questionnaire has them —
    respondents of multiple-choice questions and answers to free-text questions.
    """
    if questions is None:
        questions = campaign_questions(campaign)
    values = _value_counts(campaign)
    comments = {
        row["question_id"]: row["n"]
        for row in Answer.objects.filter(
            campaign=campaign,
            question_id__in=[q.pk for q in questions if q.kind == QuestionKind.RATING],
        )
        .exclude(comment="")
        .values("question_id")
        .annotate(n=Count("pk"))
        .order_by()
    }
    choice_ids = [q.pk for q in questions if q.kind in CHOICE_KINDS]
    options: dict[int, dict[int, int]] = defaultdict(dict)
    if choice_ids:
        for row in (
            Answer.objects.filter(campaign=campaign, question_id__in=choice_ids, option__isnull=False)
            .values("question_id", "option_id")
            .annotate(n=Count("pk"))
            .order_by()
        ):
            options[row["question_id"]][row["option_id"]] = row["n"]
    counted_ids = [q.pk for q in questions if q.kind in (QuestionKind.MULTIPLE, QuestionKind.TEXT)]
    respondents: dict[int, int] = {}
    if counted_ids:
        # A multiple choice has one row per chosen option: count its respondents once each.
        respondents = {
            row["question_id"]: row["n"]
            for row in Answer.objects.filter(campaign=campaign, question_id__in=counted_ids)
            .exclude(option__isnull=True, text="")
            .values("question_id")
            .annotate(n=Count("response_id", distinct=True))
            .order_by()
        }
    results = []
    for question in questions:
        result = QuestionResult(question=question, kind=question.kind)
        if question.kind in (QuestionKind.RATING, QuestionKind.NPS, QuestionKind.YES_NO):
            _numeric_result(result, values.get(question.pk, {}))
            result.comments = comments.get(question.pk, 0)
        elif question.kind in CHOICE_KINDS:
            counts = options.get(question.pk, {})
            if question.kind == QuestionKind.SINGLE:
                result.count = sum(counts.values())
            else:
                result.count = respondents.get(question.pk, 0)
            result.distribution = [
                Bucket(
                    key=option.pk,
                    label=option.label,
                    count=counts.get(option.pk, 0),
                    percent=percent(counts.get(option.pk, 0), result.count),
                )
                for option in _ordered_options(question)
            ]
        else:
            result.text_answers = result.count = respondents.get(question.pk, 0)
        results.append(result)
    return results


def _ordered_options(question: Question) -> list[QuestionOption]:
    # Prefetched rows: sort in Python so the prefetch cache is used (no query per question).
    return sorted(question.options.all(), key=lambda option: (option.position, option.pk))


def question_chart(result: QuestionResult, *, width: int = 480) -> dict[str, Any] | None:
    """The chart of one question's results (a Vega-Lite spec; None for free text), shared by
    pages and PDFs."""
    title = result.question.text
    if result.is_text:
        return None
    if result.kind == QuestionKind.RATING or result.kind == QuestionKind.YES_NO:
        return charts.stacked_spec(
            [charts.Segment(bucket.label, bucket.count, bucket.colour) for bucket in result.distribution],
            title=title,
            width=width,
            label_title=_("Answer"),
        )
    if result.kind == QuestionKind.NPS:
        return charts.bar_spec(
            [charts.Bar(bucket.label, bucket.count, bucket.colour) for bucket in result.distribution],
            title=title,
            width=width,
            label_title=_("Answer"),
            value_title=_("Count"),
        )
    if not result.count:
        return charts.no_data_spec(title, width=width)
    return charts.bar_spec(
        [
            charts.Bar(bucket.label, bucket.count, value_label=f"{bucket.count} ({_share(bucket.percent)})")
            for bucket in result.distribution
        ],
        title=title,
        width=width,
        label_title=_("Choice"),
        value_title=_("Count"),
    )


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:g} %"


# --- by organisation / department ------------------------------------------------------------


@dataclass(frozen=True)
class GroupResult:
    """Satisfaction of one organisation (or department) over every rating question."""

    organisation_id: int
    organisation: str
    department_id: int | None
    department: str
    responses: int
    rating_answers: int
    satisfied_answers: int
    satisfaction: float | None
    average_rating: float | None


def _results_by(campaign: Campaign, *, by_department: bool) -> list[GroupResult]:
    keys = ["organisation_id", "organisation__name"]
    if by_department:
        keys += ["department_id", "department__name"]
    ordering: list[str | OrderBy] = ["organisation__name", "organisation_id"]
    if by_department:
        ordering += [F("department__name").asc(nulls_last=True), "department_id"]

    def key_of(row: dict) -> tuple[int, int | None]:
        return row["organisation_id"], row.get("department_id")

    responses = list(
        SurveyResponse.objects.filter(campaign=campaign).values(*keys).annotate(n=Count("pk")).order_by(*ordering)
    )
    rating_questions = Question.objects.filter(questionnaire_id=campaign.questionnaire_id, kind=QuestionKind.RATING)
    ratings = {
        key_of(row): row
        for row in Answer.objects.filter(
            campaign=campaign, value__isnull=False, question_id__in=rating_questions.values("pk")
        )
        .values(*keys)
        .annotate(
            answers=Count("pk"),
            satisfied=Count("pk", filter=Q(value__gte=SATISFIED_MIN)),
            average=Avg("value"),
        )
        .order_by()
    }
    results = []
    for row in responses:
        rating = ratings.get(key_of(row), {"answers": 0, "satisfied": 0, "average": None})
        results.append(
            GroupResult(
                organisation_id=row["organisation_id"],
                organisation=row["organisation__name"],
                department_id=row.get("department_id"),
                department=row.get("department__name") or "",
                responses=row["n"],
                rating_answers=rating["answers"],
                satisfied_answers=rating["satisfied"],
                satisfaction=percent(rating["satisfied"], rating["answers"]),
                average_rating=_round(rating["average"]),
            )
        )
    return results


def results_by_organisation(campaign: Campaign) -> list[GroupResult]:
    """Per organisation that responded: responses, satisfaction % and average rating (two queries)."""
    return _results_by(campaign, by_department=False)


def results_by_department(campaign: Campaign) -> list[GroupResult]:
    """Per (organisation, department) that responded: the same figures (two queries)."""
    return _results_by(campaign, by_department=True)


# --- free text -------------------------------------------------------------------------------


def free_text_answers(campaign: Campaign, question: Question | int | None = None) -> QuerySet[Answer]:
    """Free-text answers and non-empty comments of ``campaign`` (of one ``question`` if given),
    newest first, for pagination.

    Rows carry the question, organisation, department and response (submitted at, language)
    — and nothing that names the respondent: no invitation or contact is joined.
    """
    queryset = (
        Answer.objects.filter(campaign=campaign)
        .filter(~Q(text="") | ~Q(comment=""))
        .select_related("question", "organisation", "department", "response")
        .only(
            "pk",
            "value",
            "text",
            "comment",
            "question__id",
            "question__text",
            "question__kind",
            "organisation__id",
            "organisation__name",
            "department__id",
            "department__name",
            "response__id",
            "response__submitted_at",
            "response__language",
        )
        .order_by("-response__submitted_at", "-pk")
    )
    if question is not None:
        queryset = queryset.filter(question=question)
    return queryset
