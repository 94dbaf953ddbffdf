"""The survey campaign API (SPEC §9): ``campaigns`` (invitations and answers: ``responses.py``).

* ``/api/v1/campaigns/``: list (``surveys.filters.CampaignFilter`` as on the page, plus
  ``ordering``; paginated), retrieve, create (``campaign_create``), update / partial update of
  the plan (``campaign_update``: a draft's plan, the stakeholders until publication), delete of a
  draft never submitted (``campaign_delete``). Status, its timestamps and ``approved_by`` are
  read-only: sending one is a 400 naming it. Each campaign carries its invitation counts
  (invited / sent / answered, one grouped SQL count per page) and response rate.
  ``{id}/transitions/``: GET lists the moves the caller may make now; POST performs one on
  ``CAMPAIGN_MACHINE`` (``itsm.core.api.workflow``; 400 for a move the table forbids or a
  missing input, 403 for a role that may not). ``{id}/events/``: the history, oldest first. ``{id}/audience/``: who the
  launch would invite now, who is left out and why, and the coverage per department.

Reads need the model's ``view`` permission; create ``add_campaign``; edits and workflow moves
``change_campaign`` (the workflow table then decides per action and role); delete
``delete_campaign``.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, cast

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count, Prefetch
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from itsm.core.api.filters import StableOrderingFilter
from itsm.core.api.mixins import OutputAfterWriteMixin
from itsm.core.api.permissions import RolePermission
from itsm.core.api.serializers import ApiErrorSerializer, MomentField, StrictInputMixin
from itsm.core.api.workflow import (
    MoveSerializer,
    TransitionInputSerializer,
    WorkflowEventSerializer,
    WorkflowViewSetMixin,
    action_field,
)
from itsm.core.choices import OrganisationKind
from itsm.core.models import Department, Organisation, User

from ..choices import InvitationStatus
from ..filters import CampaignFilter
from ..models import Campaign, CampaignDepartmentRatio, CampaignEvent, Invitation, Questionnaire
from ..results import DELIVERED, percent
from ..services import campaigns as services
from ..workflow import TRANSITIONS

ERRORS = {
    400: OpenApiResponse(ApiErrorSerializer, description="Invalid input: a message per field."),
    403: OpenApiResponse(ApiErrorSerializer, description="The caller's role may not do this."),
    404: OpenApiResponse(ApiErrorSerializer, description="No such campaign (or out of reach)."),
}


def _person(user: User | None) -> str | None:
    return str(user) if user is not None else None


CampaignActionField = action_field(
    TRANSITIONS, component_name="CampaignAction", description="A campaign workflow action (surveys.workflow)."
)


# --- reads -------------------------------------------------------------------------------------


def campaign_list(user: User):
    """Campaigns ``user`` may see, with their questionnaire, people and relations loaded in a
    fixed number of queries (the invitation counts come from ``attach_invitation_counts``)."""
    return (
        Campaign.objects.visible_to(user)
        .select_related("questionnaire", "owner", "approved_by")
        .prefetch_related(
            Prefetch("organisations", queryset=Organisation.objects.only("pk").order_by("pk")),
            Prefetch("stakeholders", queryset=User.objects.only("pk").order_by("pk")),
            Prefetch(
                "department_ratios",
                queryset=CampaignDepartmentRatio.objects.select_related("department").order_by(
                    "department__name", "pk"
                ),
            ),
        )
    )


def attach_invitation_counts(campaigns: list[Campaign]) -> list[Campaign]:
    """Set ``invited``, ``sent`` and ``answered`` on each of ``campaigns`` from one grouped
    ``COUNT(*)`` over their invitations, read from the (campaign, status) index alone.

    One pass over the page's invitations, after pagination: correlated count subqueries would
    read each campaign's invitations once per figure (three times), which shows at tens of
    thousands of invitations per campaign.
    """
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    rows = (
        Invitation.objects.filter(campaign_id__in=[campaign.pk for campaign in campaigns])
        .order_by()
        .values_list("campaign_id", "status")
        .annotate(n=Count("*"))
    )
    for campaign_id, status_, n in rows:
        counts[campaign_id][status_] = n
    for campaign in campaigns:
        by_status = counts.get(campaign.pk, {})
        campaign.invited = sum(by_status.values())  # type: ignore[attr-defined]
        campaign.sent = sum(by_status.get(delivered, 0) for delivered in DELIVERED)  # type: ignore[attr-defined]
        campaign.answered = by_status.get(InvitationStatus.ANSWERED, 0)  # type: ignore[attr-defined]
    return campaigns


class DepartmentRatioSerializer(serializers.Serializer):
    """A department's own sample share (sample audience)."""

    department = serializers.PrimaryKeyRelatedField(queryset=Department.objects.all())
    department_name = serializers.CharField(source="department.name", read_only=True)
    percent = serializers.IntegerField(min_value=0, max_value=100)


class CampaignSerializer(serializers.ModelSerializer):
    """A campaign as every endpoint returns it, with its live counts and the caller's moves.

    ``invited``: every invitation; ``sent``: those that reached the contact (sent or answered);
    ``answered``; ``response_rate``: answered / sent in % (``null`` before any went out), as
    on the results page.
    """

    questionnaire_label = serializers.CharField(source="questionnaire.__str__", read_only=True)
    owner_name = serializers.SerializerMethodField()
    approved_by_name = serializers.SerializerMethodField()
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    department_ratios = DepartmentRatioSerializer(many=True, read_only=True)
    invited = serializers.IntegerField(read_only=True)
    sent = serializers.IntegerField(read_only=True)
    answered = serializers.IntegerField(read_only=True)
    response_rate = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField()

    class Meta:
        model = Campaign
        fields = [
            "id",
            "kind",
            "kind_display",
            "title",
            "domain",
            "objective",
            "scope",
            "audience_description",
            "resources",
            "method",
            "schedule",
            "questionnaire",
            "questionnaire_label",
            "owner",
            "owner_name",
            "status",
            "status_display",
            "audience_mode",
            "organisations",
            "sample_percent",
            "department_ratios",
            "repeat_interval_days",
            "reminder_days",
            "closes_at",
            "stakeholders",
            "analysis",
            "submitted_at",
            "approved_by",
            "approved_by_name",
            "approved_at",
            "launched_at",
            "closed_at",
            "published_at",
            "analysed_at",
            "invited",
            "sent",
            "answered",
            "response_rate",
            "allowed_actions",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_owner_name(self, campaign: Campaign) -> str | None:
        return _person(campaign.owner)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_approved_by_name(self, campaign: Campaign) -> str | None:
        return _person(campaign.approved_by)

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_response_rate(self, campaign: Campaign) -> float | None:
        return percent(getattr(campaign, "answered", 0), getattr(campaign, "sent", 0))

    @extend_schema_field(serializers.ListField(child=CampaignActionField()))
    def get_allowed_actions(self, campaign: Campaign) -> list[str]:
        request = self.context.get("request")
        if request is None:
            return []
        return [t.action for t in services.campaign_allowed_actions(campaign, request.user)]


class CampaignEventSerializer(WorkflowEventSerializer):
    """One history row: who (a user, or ``system``), when, from, to, note and details."""

    machine = services.CAMPAIGN_MACHINE

    from_status = serializers.SerializerMethodField()
    to_status = serializers.SerializerMethodField()

    class Meta(WorkflowEventSerializer.Meta):
        model = CampaignEvent

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_from_status(self, event: CampaignEvent) -> str | None:
        return event.from_status or None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_to_status(self, event: CampaignEvent) -> str | None:
        return event.to_status or None


class AvailableMoveSerializer(MoveSerializer):
    action = CampaignActionField()


class DepartmentCoverageSerializer(serializers.Serializer):
    organisation = serializers.CharField()
    department = serializers.CharField()
    contacts = serializers.IntegerField(help_text=gettext_lazy("Active contacts of the department."))
    eligible = serializers.IntegerField(
        help_text=gettext_lazy("Contacts with an address, not unsubscribed, not asked lately.")
    )
    percent = serializers.IntegerField(help_text=gettext_lazy("The sample share applied, in %."))
    invited = serializers.IntegerField()
    coverage = serializers.IntegerField(
        help_text=gettext_lazy("Invited as a share of all the department's contacts, in %.")
    )


class AudienceSerializer(serializers.Serializer):
    """``surveys.services.campaigns.campaign_audience``: who the launch would invite now."""

    contacts = serializers.IntegerField()
    no_email = serializers.IntegerField()
    unsubscribed = serializers.IntegerField()
    recently_answered = serializers.IntegerField()
    eligible = serializers.IntegerField()
    invited = serializers.IntegerField()
    not_sampled = serializers.IntegerField()
    coverage = serializers.IntegerField(help_text=gettext_lazy("Invited as a share of all contacts, in %."))
    departments = DepartmentCoverageSerializer(many=True)


# --- writes ------------------------------------------------------------------------------------


class CampaignWriteSerializer(StrictInputMixin, serializers.ModelSerializer):
    """The plan of a campaign, written through ``campaign_create`` / ``campaign_update``.

    ``organisations`` and ``stakeholders`` are lists of ids (replacing the current ones when
    sent); ``department_ratios`` a list of ``{"department", "percent"}`` (sample audience).
    """

    questionnaire = serializers.PrimaryKeyRelatedField(queryset=Questionnaire.objects.all())
    closes_at = MomentField(label=gettext_lazy("closes at"))
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, help_text=gettext_lazy("Default: the caller.")
    )
    organisations = serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.filter(kind=OrganisationKind.CUSTOMER), many=True, required=False
    )
    stakeholders = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), many=True, required=False
    )
    department_ratios = DepartmentRatioSerializer(many=True, required=False)
    reminder_days = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=365),
        max_length=5,
        required=False,
        help_text=gettext_lazy("Days after launch on which non-respondents are reminded (at most five)."),
    )

    class Meta:
        model = Campaign
        fields = [
            *(name for name in services.PLAN_FIELDS),
            "organisations",
            "department_ratios",
            "stakeholders",
        ]

    def refusal(self, key: str) -> str:
        if key == "status":
            return _("The status changes only through a workflow action (POST …/transitions/).")
        if key in CampaignSerializer.Meta.fields:
            return _("This field is read-only.")
        return _("Unknown field.")

    def validate_department_ratios(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        departments = [row["department"].pk for row in value]
        if len(set(departments)) != len(departments):
            raise serializers.ValidationError(_("Give each department once."))
        return value

    def _call(self, service, **data: Any) -> Campaign:
        relations: dict[str, Any] = {
            "organisations": data.pop("organisations", None),
            "stakeholders": data.pop("stakeholders", None),
        }
        ratios = data.pop("department_ratios", None)
        if ratios is not None:
            relations["ratios"] = {row["department"].pk: row["percent"] for row in ratios}
        try:
            return service(actor=self.context["request"].user, **relations, **data)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(serializers.as_serializer_error(exc)) from exc

    def create(self, validated_data: dict[str, Any]) -> Campaign:
        return self._call(services.campaign_create, **validated_data)

    def update(self, instance: Campaign, validated_data: dict[str, Any]) -> Campaign:
        return self._call(services.campaign_update, campaign=instance, **validated_data)


class CampaignTransitionSerializer(TransitionInputSerializer):
    """A workflow move: the action, a note for the history, and the inputs the action accepts
    (``analysis`` for ``analyse``). Whether it is possible is the campaign machine's call."""

    table = TRANSITIONS

    action = CampaignActionField()
    analysis = serializers.CharField(
        required=False, allow_blank=True, help_text=gettext_lazy("analyse: the analysis notes.")
    )


# --- views -------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="List survey campaigns", responses={200: CampaignSerializer(many=True)}),
    retrieve=extend_schema(summary="One survey campaign", responses={200: CampaignSerializer, 404: ERRORS[404]}),
    create=extend_schema(
        summary="Plan a survey campaign (a draft)",
        description="The owner defaults to the caller. `status` and the workflow's timestamps are a 400.",
        request=CampaignWriteSerializer,
        responses={201: CampaignSerializer, 400: ERRORS[400], 403: ERRORS[403]},
    ),
    update=extend_schema(
        summary="Change a campaign's plan",
        description=(
            "The plan changes only while the campaign is a draft; the stakeholders until the "
            "results are published. `status`, its timestamps and `approved_by` are a 400: the "
            "status changes only through `transitions/`."
        ),
        request=CampaignWriteSerializer,
        responses={200: CampaignSerializer, **ERRORS},
    ),
    partial_update=extend_schema(
        summary="Change part of a campaign's plan",
        description=(
            "As PUT, with only the fields sent. `organisations`, `stakeholders` and "
            "`department_ratios` replace the current ones when sent."
        ),
        request=CampaignWriteSerializer,
        responses={200: CampaignSerializer, **ERRORS},
    ),
    destroy=extend_schema(
        summary="Delete a draft never submitted",
        responses={204: None, **ERRORS},
    ),
)
class CampaignViewSet(WorkflowViewSetMixin, OutputAfterWriteMixin, viewsets.ModelViewSet):
    serializer_class = CampaignSerializer
    permission_classes = [RolePermission]
    filterset_class = CampaignFilter
    filter_backends = [DjangoFilterBackend, StableOrderingFilter]
    ordering_fields = ["created_at", "closes_at", "title", "status", "kind"]
    ordering = ["-created_at"]
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    workflow_machine = services.CAMPAIGN_MACHINE
    move_serializer_class = AvailableMoveSerializer
    transition_serializer_class = CampaignTransitionSerializer
    event_serializer_class = CampaignEventSerializer
    output_serializer_class = CampaignSerializer
    move_description = (
        "Body: `action`, an optional `note` for the history, and `analysis` for `analyse`. "
        "The move's own conditions are checked too (submit: a questionnaire that is ready, a "
        "close date ahead, someone to invite; publish: stakeholders). 400: the move is not "
        "possible from the current state, or an input is missing, unknown or invalid "
        "(`errors` names it); 403: the caller's role may not make it."
    )
    events_summary = "The campaign's history, oldest first"

    def get_queryset(self):
        return campaign_list(cast(User, self.request.user))

    def get_serializer_class(self):
        return self.workflow_serializer_class() or {
            "create": CampaignWriteSerializer,
            "update": CampaignWriteSerializer,
            "partial_update": CampaignWriteSerializer,
            "audience": AudienceSerializer,
        }.get(self.action or "", CampaignSerializer)

    def _output(self, campaign: Campaign, code: int = status.HTTP_200_OK) -> Response:
        fresh = attach_invitation_counts([self.get_queryset().get(pk=campaign.pk)])[0]
        return Response(CampaignSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    def list(self, request: Request, *args, **kwargs) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        campaigns = attach_invitation_counts(list(page if page is not None else queryset))
        data = CampaignSerializer(campaigns, many=True, context=self.get_serializer_context()).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        campaign = attach_invitation_counts([self.get_object()])[0]
        return Response(CampaignSerializer(campaign, context=self.get_serializer_context()).data)

    def perform_destroy(self, instance: Campaign) -> None:
        services.campaign_delete(campaign=instance, actor=cast(User, self.request.user))

    @extend_schema(
        summary="Who the launch would invite now, who is left out and why",
        description=(
            "Worked out now from the chosen organisations (or every key customer), leaving out "
            "contacts without an address, unsubscribed or asked within the repeat interval; in "
            "sample mode a share per department. After launch the invitations are the audience: "
            "see `invitations/?campaign=`."
        ),
        responses={200: AudienceSerializer, 404: ERRORS[404]},
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def audience(self, request: Request, pk=None) -> Response:
        campaign = self.get_object()
        return Response(AudienceSerializer(services.campaign_audience(campaign)).data)


# --- invitations -------------------------------------------------------------------------------
