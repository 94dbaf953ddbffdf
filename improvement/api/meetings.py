"""The review meetings API (SPEC §9): ``/api/v1/review-meetings/`` — 回顾会议 and the monthly
quality analysis meeting.

* list (filters ``kind``, ``status``, ``period`` — the start of a period label, ``2026`` finds
  every period of 2026; planned meetings first, then the latest; paginated; without the inputs,
  which cost a compilation each), retrieve (with ``inputs``: compiled live while the meeting is
  planned, ``inputs_live`` true; frozen once held; with the decisions), create
  (``meeting_create``: ``period_label`` such as ``2026-11``, ``2026-Q4``, ``2026-H2``, ``2026``),
  PATCH (``meeting_update``: a planned meeting's details, a held meeting's ``minutes`` only).
  ``status``, ``inputs`` and ``held_at`` are read-only: sending one is a 400. No PUT, no DELETE
  (405).
* ``{id}/transitions/`` (the workflow kit's, ``MEETING_MACHINE``): GET the moves the caller may
  make now; POST ``{"action": "hold", "minutes": …, "note": …}`` records the meeting as held and
  freezes its inputs, ``{"action": "cancel", "note": …}`` cancels it (the reason required). A
  move from another status is a 400, a role the table does not name a 403.
  ``{id}/events/``: the meeting's history, oldest first — its moves and the rows that move
  nothing (planned, details or minutes changed, decisions and what they created).
* ``{id}/decisions/``: GET the decisions; POST records one (a held meeting only).
  ``{id}/decisions/{decision_id}/item/``: POST raises an improvement item from the decision
  (its source is the meeting); ``{id}/decisions/{decision_id}/action/``: POST adds it to an open
  plan as an action. Each decision creates one item or one action, once.

Reads need ``improvement.view_reviewmeeting`` (decisions also ``view_meetingdecision``, the
history ``view_reviewmeetingevent``);
create ``add_reviewmeeting``, PATCH and the moves ``change_reviewmeeting``, decisions
``add_meetingdecision`` and their follow-up ``change_meetingdecision`` — with a meeting role
(BR manager, quality manager, process owner), as on the pages.
"""

from __future__ import annotations

from typing import Any, cast

import django_filters
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from itsm.core.api.mixins import MissingMethodIs405Mixin
from itsm.core.api.permissions import RolePermission
from itsm.core.api.serializers import MomentField, StrictInputMixin
from itsm.core.api.workflow import (
    ERRORS,
    MoveSerializer,
    TransitionInputSerializer,
    WorkflowEventSerializer,
    WorkflowViewSetMixin,
    action_field,
)
from itsm.core.models import User
from itsm.core.permissions import can
from itsm.core.workflow import allowed

from ..choices import PLAN_OPEN_STATUSES, MeetingKind, MeetingStatus, Priority
from ..models import ImprovementPlan, MeetingDecision, ReviewMeeting, ReviewMeetingEvent
from ..selectors.meetings import meeting_list, meeting_queryset, meeting_shown_inputs
from ..services import meetings as services
from ..services.meetings import MEETING_MACHINE
from ..workflow import MEETING_TRANSITIONS
from .serializers import PriorityField, choice_field

MeetingKindField = choice_field(MeetingKind, component_name="MeetingKind", description="The kind of review meeting.")
MeetingStatusField = choice_field(
    MeetingStatus, component_name="MeetingStatus", description="A review meeting's status (improvement.workflow)."
)
MeetingActionField = action_field(
    MEETING_TRANSITIONS, component_name="MeetingAction", description="A review meeting's workflow action."
)

# --- serializers -----------------------------------------------------------------------------


def _active_users():
    return User.objects.filter(is_active=True)


class DecisionSerializer(serializers.ModelSerializer):
    """A decision and what it created (an item of the register or an action of a plan)."""

    owner_name = serializers.SerializerMethodField()
    item = serializers.SerializerMethodField()
    action = serializers.SerializerMethodField()

    class Meta:
        model = MeetingDecision
        fields = ["id", "text", "owner", "owner_name", "due_on", "item", "action", "created_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_owner_name(self, decision: MeetingDecision) -> str | None:
        return str(decision.owner) if decision.owner_id else None

    @extend_schema_field(
        {
            "type": "object",
            "nullable": True,
            "properties": {"id": {"type": "integer"}, "reference": {"type": "string"}, "status": {"type": "string"}},
        }
    )
    def get_item(self, decision: MeetingDecision) -> dict[str, Any] | None:
        item = decision.item
        return None if item is None else {"id": item.pk, "reference": item.reference, "status": item.status}

    @extend_schema_field(
        {
            "type": "object",
            "nullable": True,
            "properties": {
                "id": {"type": "integer"},
                "title": {"type": "string"},
                "plan": {"type": "integer"},
                "plan_reference": {"type": "string"},
                "status": {"type": "string"},
            },
        }
    )
    def get_action(self, decision: MeetingDecision) -> dict[str, Any] | None:
        action_ = decision.action
        if action_ is None:
            return None
        return {
            "id": action_.pk,
            "title": action_.title,
            "plan": action_.plan_id,
            "plan_reference": action_.plan.reference,
            "status": action_.status,
        }


class ReviewMeetingSerializer(serializers.ModelSerializer):
    """A meeting as lists show it: no inputs (see ``ReviewMeetingDetailSerializer``)."""

    kind = MeetingKindField(read_only=True)
    status = MeetingStatusField(read_only=True)
    chair_name = serializers.SerializerMethodField()
    attendees = serializers.SerializerMethodField()
    decision_count = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField()

    class Meta:
        model = ReviewMeeting
        fields = [
            "id",
            "reference",
            "kind",
            "title",
            "period_label",
            "period_start",
            "period_end",
            "scheduled_at",
            "location",
            "chair",
            "chair_name",
            "attendees",
            "other_attendees",
            "agenda",
            "status",
            "held_at",
            "minutes",
            "decision_count",
            "allowed_actions",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_chair_name(self, meeting: ReviewMeeting) -> str:
        return str(meeting.chair)

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_attendees(self, meeting: ReviewMeeting) -> list[int]:
        return [user.pk for user in meeting.attendees.all()]

    def get_decision_count(self, meeting: ReviewMeeting) -> int:
        counted = getattr(meeting, "decision_count", None)
        return counted if counted is not None else len(meeting.decisions.all())

    @extend_schema_field(serializers.ListField(child=MeetingActionField()))
    def get_allowed_actions(self, meeting: ReviewMeeting) -> list[str]:
        return [t.action for t in allowed(MEETING_MACHINE, meeting, self.context["request"].user)]


class ReviewMeetingDetailSerializer(ReviewMeetingSerializer):
    """One meeting with its inputs (live while planned, frozen once held) and decisions."""

    inputs = serializers.SerializerMethodField()
    inputs_live = serializers.SerializerMethodField()
    decisions = DecisionSerializer(many=True, read_only=True)

    class Meta(ReviewMeetingSerializer.Meta):
        fields = [*ReviewMeetingSerializer.Meta.fields, "inputs_live", "inputs", "decisions"]
        read_only_fields = fields

    def _inputs(self, meeting: ReviewMeeting) -> tuple[dict[str, Any], bool]:
        cache = cast(dict, self.context).setdefault("_inputs", {})
        if meeting.pk not in cache:
            cache[meeting.pk] = meeting_shown_inputs(meeting)
        return cache[meeting.pk]

    @extend_schema_field(
        {
            "type": "object",
            "description": (
                "`period`, `kpis` (current overall KPI values overlapping the period), `plans` (per status; "
                "open plans with stage, owner, actions done / total / overdue), `items` (open and overdue "
                "by status, source kind, priority; overdue listed), `actions` (open, overdue, done in the "
                "period and on time; overdue listed), `complaints` (received in the period: by severity, "
                "category, status, customer; open, overdue, reply time). Empty for a cancelled meeting."
            ),
            "additionalProperties": True,
        }
    )
    def get_inputs(self, meeting: ReviewMeeting) -> dict[str, Any]:
        return self._inputs(meeting)[0]

    def get_inputs_live(self, meeting: ReviewMeeting) -> bool:
        return self._inputs(meeting)[1]


_USERS = {"queryset": _active_users()}


class MeetingCreateSerializer(StrictInputMixin, serializers.Serializer):
    read_only_names = frozenset(
        {"id", "reference", "period_start", "period_end", "held_at", "inputs", "created_by", "created_at"}
    )

    kind = MeetingKindField(default=MeetingKind.REVIEW)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    period_label = serializers.CharField(
        max_length=12, help_text=_("The period reviewed: 2026-11, 2026-Q4, 2026-H2 (or 2026H2), 2026.")
    )
    scheduled_at = MomentField()
    location = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    chair = serializers.PrimaryKeyRelatedField(required=False, allow_null=True, default=None, **_USERS)
    attendees = serializers.PrimaryKeyRelatedField(many=True, required=False, default=list, **_USERS)
    other_attendees = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")
    agenda = serializers.CharField(
        max_length=20000,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("Empty: the kind's standard agenda."),
    )


class MeetingUpdateSerializer(StrictInputMixin, serializers.Serializer):
    read_only_names = MeetingCreateSerializer.read_only_names

    kind = MeetingKindField(required=False)
    title = serializers.CharField(max_length=200, required=False)
    period_label = serializers.CharField(max_length=12, required=False)
    scheduled_at = MomentField(required=False)
    location = serializers.CharField(max_length=200, required=False, allow_blank=True)
    chair = serializers.PrimaryKeyRelatedField(required=False, **_USERS)
    attendees = serializers.PrimaryKeyRelatedField(many=True, required=False, **_USERS)
    other_attendees = serializers.CharField(max_length=4000, required=False, allow_blank=True)
    agenda = serializers.CharField(max_length=20000, required=False, allow_blank=True)
    minutes = serializers.CharField(max_length=50000, required=False, allow_blank=True)


class ReviewMeetingMoveSerializer(MoveSerializer):
    action = MeetingActionField()
    target = MeetingStatusField()  # type: ignore[assignment]  # a status: one enum, not a string


class ReviewMeetingTransitionSerializer(TransitionInputSerializer):
    """A move of a meeting: the action, a note for the history (the reason, required by
    ``cancel``) and the inputs the action takes (``hold``: the minutes, optional)."""

    table = MEETING_TRANSITIONS
    read_only_names = frozenset({"status", "inputs", "held_at"})

    action = MeetingActionField()
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)
    minutes = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=50000,
        help_text=_("hold: the minutes (they can be completed later by PATCH)."),
    )


class ReviewMeetingEventSerializer(WorkflowEventSerializer):
    """One step of a meeting's history: planned, changed, held or cancelled, a decision recorded
    and the item or action made of it."""

    machine = MEETING_MACHINE

    from_status = MeetingStatusField(read_only=True, allow_null=True)
    to_status = MeetingStatusField(read_only=True, allow_null=True)

    class Meta(WorkflowEventSerializer.Meta):
        model = ReviewMeetingEvent


class DecisionInputSerializer(StrictInputMixin, serializers.Serializer):
    text = serializers.CharField(max_length=4000)
    owner = serializers.PrimaryKeyRelatedField(required=False, allow_null=True, default=None, **_USERS)
    due_on = serializers.DateField(required=False, allow_null=True, default=None)


class DecisionItemSerializer(StrictInputMixin, serializers.Serializer):
    title = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="", help_text=_("Empty: the decision's first line.")
    )
    priority = PriorityField(default=Priority.MEDIUM)
    owner = serializers.PrimaryKeyRelatedField(required=False, allow_null=True, default=None, **_USERS)
    description = serializers.CharField(max_length=20000, required=False, allow_blank=True, default="")
    target_date = serializers.DateField(required=False, allow_null=True, default=None)


class DecisionActionSerializer(StrictInputMixin, serializers.Serializer):
    plan = serializers.PrimaryKeyRelatedField(queryset=ImprovementPlan.objects.filter(status__in=PLAN_OPEN_STATUSES))
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    owner = serializers.PrimaryKeyRelatedField(required=False, allow_null=True, default=None, **_USERS)
    due_on = serializers.DateField(required=False, allow_null=True, default=None)
    working_days = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1, max_value=250)
    description = serializers.CharField(max_length=20000, required=False, allow_blank=True, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("due_on") and attrs.get("working_days"):
            raise serializers.ValidationError({"working_days": [_("Give the due date or the working days, not both.")]})
        return attrs


# --- filters and permissions -------------------------------------------------------------------


class MeetingFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=MeetingKind.choices)
    status = django_filters.ChoiceFilter(choices=MeetingStatus.choices)
    period = django_filters.CharFilter(field_name="period_label", lookup_expr="istartswith")

    class Meta:
        model = ReviewMeeting
        fields = ["kind", "status", "period"]


class MeetingReadPermission(RolePermission):
    """A meeting's sub-resources (decisions): every method needs to see the meeting; the
    services check the decision permissions (403)."""

    perms_map = {
        **RolePermission.perms_map,
        "POST": ["%(app_label)s.view_%(model_name)s"],
    }


DECISION_ID = OpenApiParameter("decision_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The decision.")


# --- the view ------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List review meetings (planned first)",
        description="Without the inputs (retrieve one meeting for them).",
        responses={200: ReviewMeetingSerializer(many=True)},
    ),
    retrieve=extend_schema(
        summary="One review meeting, with its inputs and decisions",
        description="`inputs` are compiled live while the meeting is planned (`inputs_live`), frozen once it is held.",
        responses={200: ReviewMeetingDetailSerializer, 404: ERRORS[404]},
    ),
    create=extend_schema(
        summary="Plan a review meeting",
        description=(
            "`period_label` names the period reviewed (`2026-11`, `2026-Q4`, `2026-H2`, `2026`); the chair is the "
            "caller when none is given, a blank title or agenda is the kind's. `status`, `inputs` and `held_at` are "
            "a 400."
        ),
        request=MeetingCreateSerializer,
        responses={201: ReviewMeetingDetailSerializer, 400: ERRORS[400], 403: ERRORS[403]},
    ),
    partial_update=extend_schema(
        summary="Change a planned meeting, or a held meeting's minutes",
        description=(
            "A planned meeting's details change (a new `period_label` moves the period; `attendees` replaces "
            "the list); once held only `minutes` change (anything else is a 400); a cancelled meeting does not "
            "change. `status`, `inputs` and `held_at` are a 400."
        ),
        request=MeetingUpdateSerializer,
        responses={200: ReviewMeetingDetailSerializer, **ERRORS},
    ),
)
class ReviewMeetingViewSet(
    MissingMethodIs405Mixin,
    WorkflowViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    queryset = ReviewMeeting.objects.all()  # the model (permissions); the rows: get_queryset
    permission_classes = [RolePermission]
    filterset_class = MeetingFilter
    filter_backends = [DjangoFilterBackend]
    http_method_names = ["get", "post", "patch", "head", "options"]

    workflow_machine = MEETING_MACHINE
    move_serializer_class = ReviewMeetingMoveSerializer
    transition_serializer_class = ReviewMeetingTransitionSerializer
    event_serializer_class = ReviewMeetingEventSerializer
    output_serializer_class = ReviewMeetingDetailSerializer
    moves_summary = "The moves the caller may make on the meeting now"
    move_summary = "Record the meeting as held (its inputs are frozen) or cancel it"
    move_description = (
        "Body: `action` (`hold`, `cancel`), `note` (kept in the history; the reason, required by `cancel`) and, "
        "for `hold`, `minutes` (optional: they can be completed later by PATCH). Holding compiles the inputs now "
        "and freezes them; they never change afterwards. 400: the move is not possible from the current status "
        "(only a planned meeting is held or cancelled), or an input is missing or unknown (`errors` names it); "
        "403: the caller's role may not make it."
    )
    events_summary = "The meeting's history, oldest first"
    events_need_view_permission = True

    @property
    def user(self) -> User:
        return cast(User, self.request.user)

    def get_queryset(self):
        if self.action == "list":
            return meeting_list(self.request.user).prefetch_related("attendees")
        return meeting_queryset(self.request.user)

    def get_serializer_class(self):
        return self.workflow_serializer_class() or {
            "list": ReviewMeetingSerializer,
            "create": MeetingCreateSerializer,
            "partial_update": MeetingUpdateSerializer,
            "decisions": DecisionInputSerializer,
            "decision_item": DecisionItemSerializer,
            "decision_action": DecisionActionSerializer,
        }.get(self.action or "", ReviewMeetingDetailSerializer)

    def _detail(self, pk: int) -> ReviewMeeting:
        decisions = MeetingDecision.objects.select_related("owner", "item", "action__plan").order_by("pk")
        return (
            meeting_queryset(self.request.user)
            .prefetch_related("attendees", Prefetch("decisions", queryset=decisions))
            .get(pk=pk)
        )

    def _output(self, meeting: ReviewMeeting, code: int = status.HTTP_200_OK) -> Response:
        fresh = self._detail(meeting.pk)
        return Response(ReviewMeetingDetailSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._output(self.get_object())

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = MeetingCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        meeting = services.meeting_create(actor=self.user, **serializer.validated_data)
        return self._output(meeting, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        meeting = self.get_object()
        serializer = MeetingUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        attendees = data.pop("attendees", None)
        meeting = services.meeting_update(meeting=meeting, actor=self.user, attendees=attendees, **data)
        return self._output(meeting)

    # --- decisions ---

    def _require_decisions(self, verb: str) -> None:
        if not can(self.request.user, verb, MeetingDecision):
            raise exceptions.PermissionDenied()

    @extend_schema(
        methods=["GET"],
        summary="The meeting's decisions, in order",
        description="Needs `improvement.view_meetingdecision`.",
        responses={200: DecisionSerializer(many=True), 403: ERRORS[403], 404: ERRORS[404]},
    )
    @extend_schema(
        methods=["POST"],
        summary="Record a decision of a held meeting",
        description="A held meeting only (400 otherwise); `owner` follows it up by `due_on`.",
        request=DecisionInputSerializer,
        responses={201: DecisionSerializer, **ERRORS},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        permission_classes=[MeetingReadPermission],
        filter_backends=[],
        pagination_class=None,
    )
    def decisions(self, request: Request, pk: str | None = None) -> Response:
        meeting = self.get_object()
        if request.method == "GET":
            self._require_decisions("view")
            rows = meeting.decisions.select_related("owner", "item", "action__plan").order_by("pk")
            return Response(DecisionSerializer(rows, many=True).data)
        self._require_decisions("add")
        serializer = DecisionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        decision = services.decision_add(meeting=meeting, actor=self.user, **serializer.validated_data)
        return self._decision_output(decision, status.HTTP_201_CREATED)

    def _decision(self, decision_id: str | None) -> tuple[ReviewMeeting, MeetingDecision]:
        meeting = self.get_object()
        self._require_decisions("change")
        return meeting, get_object_or_404(MeetingDecision, pk=int(decision_id or 0), meeting=meeting)

    def _decision_output(self, decision: MeetingDecision, code: int) -> Response:
        fresh = MeetingDecision.objects.select_related("owner", "item", "action__plan").get(pk=decision.pk)
        return Response(DecisionSerializer(fresh).data, status=code)

    @extend_schema(
        summary="Raise an improvement item from a decision",
        description=(
            "One step: the item's source is the meeting (kind `review_meeting`); a blank title, owner or close-by "
            "date is the decision's. 400 when the decision already created an item or action. Returns the "
            "decision with its item."
        ),
        parameters=[DECISION_ID],
        request=DecisionItemSerializer,
        responses={201: DecisionSerializer, **ERRORS},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"decisions/(?P<decision_id>[0-9]+)/item",
        url_name="decision-item",
        permission_classes=[MeetingReadPermission],
        filter_backends=[],
    )
    def decision_item(self, request: Request, pk: str | None = None, decision_id: str | None = None) -> Response:
        _meeting, decision = self._decision(decision_id)
        serializer = DecisionItemSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.decision_raise_item(decision=decision, actor=self.user, **serializer.validated_data)
        return self._decision_output(decision, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Add a decision to an open plan as an action",
        description=(
            "One step (`action_add`: an approved plan goes back for approval); a blank title, owner or due date is "
            "the decision's, or give `working_days`. 400 when the decision already created an item or action, or "
            "the plan is not open. Returns the decision with its action."
        ),
        parameters=[DECISION_ID],
        request=DecisionActionSerializer,
        responses={201: DecisionSerializer, **ERRORS},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"decisions/(?P<decision_id>[0-9]+)/action",
        url_name="decision-action",
        permission_classes=[MeetingReadPermission],
        filter_backends=[],
    )
    def decision_action(self, request: Request, pk: str | None = None, decision_id: str | None = None) -> Response:
        _meeting, decision = self._decision(decision_id)
        serializer = DecisionActionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.decision_add_action(decision=decision, actor=self.user, **serializer.validated_data)
        return self._decision_output(decision, status.HTTP_201_CREATED)
