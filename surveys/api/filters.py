"""FilterSets of the survey API's questionnaires, invitations and answers.

Campaigns use ``surveys.filters.CampaignFilter`` (shared with the campaign list page). The
invitation and answer filters are equality filters on foreign keys (each column has its own
index, and ``campaign`` leads the answers' composite indexes), so a filtered page stays fast on
millions of answers.
"""

from __future__ import annotations

import django_filters
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from itsm.core.filters import SearchFilterSet, YesNoFilter
from itsm.core.models import Department, Organisation

from ..choices import InvitationStatus, QuestionKind
from ..models import Answer, Campaign, Invitation, Question, Questionnaire, SurveyResponse


def latest_versions(queryset):
    """Only the newest version of each questionnaire family (no newer version exists)."""
    newer = Questionnaire.objects.filter(family=OuterRef("family"), version__gt=OuterRef("version"))
    return queryset.filter(~Exists(newer))


class QuestionnaireFilterSet(SearchFilterSet):
    """``q`` searches the title (either language); by default only each questionnaire's latest
    version is listed."""

    search_fields = ("title", "title_en")
    locked = YesNoFilter(method="filter_locked", label=_("In use (frozen)"))
    family = django_filters.UUIDFilter(label=_("Questionnaire (every version)"))
    all_versions = YesNoFilter(method="filter_all_versions", label=_("All versions"))

    class Meta:
        model = Questionnaire
        fields = ["q", "locked", "family", "all_versions"]

    def filter_locked(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(locked_at__isnull=not value)

    def filter_all_versions(self, queryset, name, value):
        # Applied in ``filter_queryset`` so that "latest only" is the default without the key.
        return queryset

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        # Asking for one family lists its versions; otherwise only the latest unless asked.
        if self.form.cleaned_data.get("all_versions") or self.form.cleaned_data.get("family"):
            return queryset
        return latest_versions(queryset)


class InvitationFilterSet(django_filters.FilterSet):
    campaign = django_filters.ModelChoiceFilter(queryset=Campaign.objects.all(), label=_("Campaign"))
    status = django_filters.MultipleChoiceFilter(choices=InvitationStatus.choices, label=_("Status"))
    organisation = django_filters.ModelChoiceFilter(queryset=Organisation.objects.all(), label=_("Organisation"))
    department = django_filters.ModelChoiceFilter(queryset=Department.objects.all(), label=_("Department"))

    class Meta:
        model = Invitation
        fields = ["campaign", "status", "organisation", "department"]


class AnswerFilterSet(django_filters.FilterSet):
    """``campaign`` is the intended filter (it leads the answer indexes); the others narrow it."""

    campaign = django_filters.ModelChoiceFilter(queryset=Campaign.objects.all(), label=_("Campaign"))
    question = django_filters.ModelChoiceFilter(queryset=Question.objects.all(), label=_("Question"))
    question_kind = django_filters.ChoiceFilter(
        field_name="question__kind", choices=QuestionKind.choices, label=_("Question type")
    )
    response = django_filters.ModelChoiceFilter(queryset=SurveyResponse.objects.all(), label=_("Response"))
    organisation = django_filters.ModelChoiceFilter(queryset=Organisation.objects.all(), label=_("Organisation"))
    department = django_filters.ModelChoiceFilter(queryset=Department.objects.all(), label=_("Department"))

    class Meta:
        model = Answer
        fields = ["campaign", "question", "question_kind", "response", "organisation", "department"]
