"""The improvement API (SPEC §6, issue 13 item 8): the register ``/api/v1/improvement-items/``
and the service improvement plans ``/api/v1/improvement-plans/``.

* ``improvement-items``: list (``ItemApiFilterSet``: ``q``, ``status`` (repeatable),
  ``priority``, ``source_kind``, ``owner``, ``plan``, ``overdue``; plus ``ordering``;
  paginated), retrieve — each item with its ``source`` (kind, label, record, part, description
  and link; a page's sources are read a query per kind of record, not per item) —, create
  (``item_create``: ``source_kind``, ``source_id``, optional ``source_part_id``; an unknown
  kind, a missing record or a source the caller may not read is a 400 naming the field),
  update / partial update (``item_update``: ``ITEM_FIELDS``). ``{id}/transitions/`` GET / POST
  (``ITEM_MACHINE``: accept, dismiss, plan, unplan, complete, reopen) and ``{id}/events/``.
* ``improvement-plans``: list (``PlanApiFilterSet``: ``q``, ``status``, ``stage``, ``owner``;
  with ``actions_done`` / ``actions_total``), retrieve (scope ids, target, approved terms,
  stage and round, the items with their sources, the actions, the effectiveness reviews),
  create (``plan_create``, with ``items``), update / partial update (``plan_update``: a changed
  target on an approved plan sends it back for approval — the answer shows it ``submitted``).
  ``{id}/transitions/`` (``PLAN_MACHINE``; ``resubmit`` is the services' move, a 400 here) and
  ``{id}/events/``. ``{id}/actions/``: GET the plan's actions, POST adds one (``action_add``:
  ``due_on`` or ``working_days``; on an approved plan this sends it back for approval).
  ``{id}/actions/{action_id}/``: PATCH edits an open action (``action_update``);
  ``…/complete/`` records it done with its evidence (JSON, or multipart with a file);
  ``…/cancel/`` cancels it with a reason. ``{id}/review/``: the effectiveness review's result
  (``effectiveness_review_record``: effective or partly closes the plan; not effective sends it
  round again).

No DELETE (405 for everyone): items are dismissed, plans rejected or closed, actions cancelled.
Reads need the model's view permission; creating ``add``; edits, moves and reviews ``change``;
adding an action ``improvement.add_planaction``. An action's owner (or the plan's) records its
progress without ``change_planaction`` (``may_work_action``). A role the table does not name
for a move, or a plan's approval by anyone but its approver, is a 403 with the reason.
"""

from __future__ import annotations

from typing import Any, cast

from django.db.models import Count, Prefetch, Q
from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from itsm.core.api.filters import StableOrderingFilter
from itsm.core.api.permissions import RolePermission
from itsm.core.api.workflow import MachineRecordViewSet, WorkflowPermission
from itsm.core.models import User
from itsm.core.permissions import can

from ..choices import ActionStatus
from ..models import EffectivenessReview, ImprovementItem, ImprovementPlan, PlanAction
from ..services import plans as plan_services
from ..services.items import ITEM_MACHINE
from .filters import ItemApiFilterSet, PlanApiFilterSet
from .plan_serializers import (
    EffectivenessReviewRecordSerializer,
    ImprovementActionAddSerializer,
    ImprovementActionCancelSerializer,
    ImprovementActionCompleteSerializer,
    ImprovementActionSerializer,
    ImprovementActionUpdateSerializer,
    ImprovementPlanCreateSerializer,
    ImprovementPlanDetailSerializer,
    ImprovementPlanEventSerializer,
    ImprovementPlanMoveSerializer,
    ImprovementPlanSerializer,
    ImprovementPlanTransitionSerializer,
    ImprovementPlanUpdateSerializer,
)
from .serializers import (
    ERRORS,
    ImprovementItemCreateSerializer,
    ImprovementItemEventSerializer,
    ImprovementItemMoveSerializer,
    ImprovementItemSerializer,
    ImprovementItemTransitionSerializer,
    ImprovementItemUpdateSerializer,
    call_service,
)

ACTION_ID = OpenApiParameter("action_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The action's id.")


# --- querysets ----------------------------------------------------------------------------------


def item_queryset(user: Any):
    """Items ``user`` may see, with what each row shows loaded in the same query."""
    return ImprovementItem.objects.visible_to(user).select_related("owner", "plan", "duplicate_of")


def plan_queryset(user: Any):
    """Plans ``user`` may see, with owner, team and KPI, and how many actions are done of those
    not cancelled."""
    return (
        ImprovementPlan.objects.visible_to(user)
        .select_related("owner", "team", "kpi")
        .annotate(
            actions_total=Count("actions", filter=~Q(actions__status=ActionStatus.CANCELLED), distinct=True),
            actions_done=Count("actions", filter=Q(actions__status=ActionStatus.DONE), distinct=True),
        )
    )


def action_queryset():
    return PlanAction.objects.select_related("owner", "plan").order_by("round", "due_on", "pk")


def plan_detail_queryset(user: Any):
    """One plan in full: scope ids, items (their sources are resolved together), actions and
    reviews in a fixed number of queries."""
    return (
        plan_queryset(user)
        .prefetch_related(
            "services",
            "organisations",
            "departments",
            Prefetch(
                "items", queryset=ImprovementItem.objects.select_related("owner", "plan", "duplicate_of").order_by("pk")
            ),
            Prefetch("actions", queryset=action_queryset()),
            Prefetch("reviews", queryset=EffectivenessReview.objects.select_related("reviewed_by").order_by("round")),
        )
        .select_related("approved_by")
    )


# --- permissions --------------------------------------------------------------------------------


class PlanActionsPermission(BasePermission):
    """A plan's actions: reading them needs the plan's and the actions' view permission, adding
    one ``improvement.add_planaction``."""

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (can(user, "view", ImprovementPlan) and can(user, "view", PlanAction)):
            return False
        return request.method in SAFE_METHODS or can(user, "add", PlanAction)


class ActionWorkPermission(BasePermission):
    """Recording an action's progress: whoever reads the plan's actions reaches the action;
    whether they may work it (its owner, the plan's owner, or ``change_planaction``) is the
    service's call (a 403 with the reason)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return can(user, "view", ImprovementPlan) and can(user, "view", PlanAction)


# --- items --------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List the improvement register",
        description="Each item with its source; `overdue=true`: still open and past its close-by date.",
        responses={200: ImprovementItemSerializer(many=True)},
    ),
    retrieve=extend_schema(
        summary="One improvement item", responses={200: ImprovementItemSerializer, 404: ERRORS[404]}
    ),
    create=extend_schema(
        summary="Raise an improvement item from a source",
        description=(
            "`source_kind` (a kind the register knows: complaint, survey_campaign, survey_question, callback, "
            "weekly_visit_item, sla_measurement, sla_report, agreement_review, kpi_value, review_meeting…), "
            "`source_id` and, for survey_question, `source_part_id` (the question). 400 naming the field for an "
            "unknown kind, a record that does not exist, a part the source has not, or a kind the caller may not "
            "read. The item starts `open` with a close-by date from its priority; with `plan` it joins that open "
            "plan (`planned`). `status` is a 400."
        ),
        request=ImprovementItemCreateSerializer,
        responses={201: ImprovementItemSerializer, 400: ERRORS[400], 403: ERRORS[403]},
    ),
    update=extend_schema(
        summary="Edit an item",
        description=(
            "Title, description, priority, owner and close-by date; a done or dismissed item is reopened first "
            "(400). `status`, the source and the plan are a 400 (they change through `transitions/`)."
        ),
        request=ImprovementItemUpdateSerializer,
        responses={200: ImprovementItemSerializer, **ERRORS},
    ),
    partial_update=extend_schema(
        summary="Edit part of an item",
        description="As PUT, with only the fields sent.",
        request=ImprovementItemUpdateSerializer,
        responses={200: ImprovementItemSerializer, **ERRORS},
    ),
)
class ImprovementItemViewSet(MachineRecordViewSet):
    serializer_class = ImprovementItemSerializer
    permission_classes = [RolePermission]
    filterset_class = ItemApiFilterSet
    filter_backends = [DjangoFilterBackend, StableOrderingFilter]
    ordering_fields = ["reference", "title", "status", "target_date", "created_at", "updated_at"]
    ordering = ["-created_at"]

    workflow_machine = ITEM_MACHINE
    move_serializer_class = ImprovementItemMoveSerializer
    transition_serializer_class = ImprovementItemTransitionSerializer
    event_serializer_class = ImprovementItemEventSerializer
    output_serializer_class = ImprovementItemSerializer
    moves_summary = "The moves the caller may make on the item now"
    move_summary = "Accept, plan, complete, dismiss or reopen an item"
    move_description = (
        "Body: `action`, `note` (required by `dismiss`, `unplan` and `reopen`) and the action's inputs: "
        "`plan` (plan: an open plan), `duplicate_of` (dismiss), `resolution` (complete, required). 400: the "
        "move is not possible from the current status, or an input is missing, unknown or invalid (`errors` "
        "names it); 403: the caller's role may not make it."
    )
    events_summary = "The item's history, oldest first"
    events_need_view_permission = True

    def get_queryset(self):
        return item_queryset(self.request.user)

    def get_serializer_class(self):
        return self.workflow_serializer_class() or {
            "create": ImprovementItemCreateSerializer,
            "update": ImprovementItemUpdateSerializer,
            "partial_update": ImprovementItemUpdateSerializer,
        }.get(self.action or "", ImprovementItemSerializer)

    def _output(self, item: ImprovementItem, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=item.pk)
        return Response(ImprovementItemSerializer(fresh, context=self.get_serializer_context()).data, status=code)


# --- plans --------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List service improvement plans",
        description="`stage` filters by PDCA stage (plan: draft, submitted, rejected; do; check; act: closed).",
        responses={200: ImprovementPlanSerializer(many=True)},
    ),
    retrieve=extend_schema(
        summary="One plan with its scope, items, actions and effectiveness reviews",
        responses={200: ImprovementPlanDetailSerializer, 404: ERRORS[404]},
    ),
    create=extend_schema(
        summary="Draft a service improvement plan",
        description=(
            "A draft numbered `SIP-YYYY-NNNN`; `items` (open items of the register) become planned. A plan "
            "measured by a KPI needs the target value. `status` is a 400."
        ),
        request=ImprovementPlanCreateSerializer,
        responses={201: ImprovementPlanDetailSerializer, 400: ERRORS[400], 403: ERRORS[403]},
    ),
    update=extend_schema(
        summary="Edit a plan",
        description=(
            "Any plan that is not closed or rejected. Changing the target (target measure, KPI, target value or "
            "date) of an approved plan sends it back for approval in the same step: the answer shows it "
            "`submitted`. `status`, `round` and the approval are a 400; `services`, `organisations` and "
            "`departments` replace the lists when sent."
        ),
        request=ImprovementPlanUpdateSerializer,
        responses={200: ImprovementPlanDetailSerializer, **ERRORS},
    ),
    partial_update=extend_schema(
        summary="Edit part of a plan",
        description="As PUT, with only the fields sent.",
        request=ImprovementPlanUpdateSerializer,
        responses={200: ImprovementPlanDetailSerializer, **ERRORS},
    ),
)
class ImprovementPlanViewSet(MachineRecordViewSet):
    serializer_class = ImprovementPlanSerializer
    permission_classes = [RolePermission]
    filterset_class = PlanApiFilterSet
    filter_backends = [DjangoFilterBackend, StableOrderingFilter]
    ordering_fields = ["reference", "title", "status", "target_date", "review_due_on", "created_at", "updated_at"]
    ordering = ["-created_at"]

    workflow_machine = plan_services.PLAN_MACHINE
    move_serializer_class = ImprovementPlanMoveSerializer
    transition_serializer_class = ImprovementPlanTransitionSerializer
    event_serializer_class = ImprovementPlanEventSerializer
    output_serializer_class = ImprovementPlanDetailSerializer
    moves_summary = "The moves the caller may make on the plan now"
    move_summary = "Submit, approve, start, review or close a plan"
    move_description = (
        "Body: `action`, `note` (required by `return_for_rework`, `reject` and `repeat`) and the action's "
        "inputs: `review_due_on` (request_review, required), `outcome_note` (close, required). The BR manager "
        "approves, returns or rejects a plan; the department head a department's own plan (`team`). `submit` "
        "needs a goal, a target and an action; `request_review` every action of the round done or cancelled. "
        "`close` and `repeat` follow the effectiveness review's result and are not offered: `POST …/review/` "
        "records the result and makes the move. `resubmit` is not taken here: a plan goes back for approval when "
        "its target changes or an action is added. 400: the move is not possible now, or an input is missing or "
        "unknown; 403: the caller may not make it."
    )
    events_summary = "The plan's history, oldest first"
    events_need_view_permission = True

    def get_queryset(self):
        if self.action == "retrieve":
            return plan_detail_queryset(self.request.user)
        return plan_queryset(self.request.user)

    def get_serializer_class(self):
        return self.workflow_serializer_class() or {
            "list": ImprovementPlanSerializer,
            "create": ImprovementPlanCreateSerializer,
            "update": ImprovementPlanUpdateSerializer,
            "partial_update": ImprovementPlanUpdateSerializer,
            "plan_actions": ImprovementActionAddSerializer,
            "plan_action": ImprovementActionUpdateSerializer,
            "complete_action": ImprovementActionCompleteSerializer,
            "cancel_action": ImprovementActionCancelSerializer,
            "review": EffectivenessReviewRecordSerializer,
        }.get(self.action or "", ImprovementPlanDetailSerializer)

    @property
    def user(self) -> User:
        return cast(User, self.request.user)  # signed in: the permission class saw to it

    def _output(self, plan: ImprovementPlan, code: int = status.HTTP_200_OK) -> Response:
        fresh = plan_detail_queryset(self.request.user).get(pk=plan.pk)
        return Response(ImprovementPlanDetailSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    def _action(self, plan: ImprovementPlan, action_id: str | None) -> PlanAction:
        return get_object_or_404(action_queryset(), plan=plan, pk=action_id)

    def _action_output(self, action: PlanAction, code: int = status.HTTP_200_OK) -> Response:
        fresh = action_queryset().get(pk=action.pk)
        return Response(ImprovementActionSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    # --- actions ---

    @extend_schema(
        methods=["GET"],
        summary="The plan's actions",
        description="Every round's actions, by round and due date.",
        responses={200: ImprovementActionSerializer(many=True), 404: ERRORS[404]},
    )
    @extend_schema(
        methods=["POST"],
        summary="Add an action to the plan",
        description=(
            "`title`, `owner` and either `due_on` (not in the past) or `working_days` (due that many working days "
            "from today, by the business calendar). The plan must be open and not under review. Adding an action "
            "to an approved plan sends it back for approval (`plan_status` then reads `submitted`). Needs "
            "`improvement.add_planaction`."
        ),
        request=ImprovementActionAddSerializer,
        responses={201: ImprovementActionSerializer, **ERRORS},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="actions",
        url_name="actions",
        permission_classes=[PlanActionsPermission],
        filter_backends=[],
        pagination_class=None,
    )
    def plan_actions(self, request: Request, pk: str | None = None) -> Response:
        plan = self.get_object()
        if request.method == "GET":
            actions = action_queryset().filter(plan=plan)
            return Response(ImprovementActionSerializer(actions, many=True, context=self.get_serializer_context()).data)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        added = call_service(plan_services.action_add, plan=plan, actor=self.user, **serializer.validated_data)
        return self._action_output(added, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Edit an open action",
        description=(
            "Title, description, owner or due date of an action that is not done or cancelled; by its owner, the "
            "plan's owner or a role that changes actions (403 otherwise)."
        ),
        parameters=[ACTION_ID],
        request=ImprovementActionUpdateSerializer,
        responses={200: ImprovementActionSerializer, **ERRORS},
    )
    @action(
        detail=True,
        methods=["patch"],
        url_path=r"actions/(?P<action_id>[0-9]+)",
        url_name="action",
        permission_classes=[ActionWorkPermission],
        filter_backends=[],
        pagination_class=None,
    )
    def plan_action(self, request: Request, pk: str | None = None, action_id: str | None = None) -> Response:
        target = self._action(self.get_object(), action_id)
        serializer = self.get_serializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changed = call_service(plan_services.action_update, action=target, actor=self.user, **serializer.validated_data)
        return self._action_output(changed)

    @extend_schema(
        summary="Record an action as done, with its evidence",
        description=(
            "At least one of `evidence_note` (what was done), `evidence_link` or `evidence` (a file: send the "
            "body as multipart/form-data). The plan must be approved or in progress. By the action's owner, the "
            "plan's owner or a role that changes actions (403 otherwise)."
        ),
        parameters=[ACTION_ID],
        request=ImprovementActionCompleteSerializer,
        responses={200: ImprovementActionSerializer, **ERRORS},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"actions/(?P<action_id>[0-9]+)/complete",
        url_name="action-complete",
        permission_classes=[ActionWorkPermission],
        filter_backends=[],
        pagination_class=None,
    )
    def complete_action(self, request: Request, pk: str | None = None, action_id: str | None = None) -> Response:
        target = self._action(self.get_object(), action_id)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        done = call_service(plan_services.action_complete, action=target, actor=self.user, **serializer.validated_data)
        return self._action_output(done)

    @extend_schema(
        summary="Cancel an open action",
        description="With the `reason`; a cancelled action no longer counts for the round.",
        parameters=[ACTION_ID],
        request=ImprovementActionCancelSerializer,
        responses={200: ImprovementActionSerializer, **ERRORS},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"actions/(?P<action_id>[0-9]+)/cancel",
        url_name="action-cancel",
        permission_classes=[ActionWorkPermission],
        filter_backends=[],
        pagination_class=None,
    )
    def cancel_action(self, request: Request, pk: str | None = None, action_id: str | None = None) -> Response:
        target = self._action(self.get_object(), action_id)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        cancelled = call_service(
            plan_services.action_cancel, action=target, actor=self.user, reason=serializer.validated_data["reason"]
        )
        return self._action_output(cancelled)

    # --- effectiveness ---

    @extend_schema(
        summary="Record the effectiveness review",
        description=(
            "While the plan is under effectiveness review: `result` (effective, partly, not_effective) and "
            "`evidence_note` (required), optionally an `evidence` file (multipart). For a plan measured by a KPI "
            "the closed period values since approval are recorded with it. Effective or partly closes the plan "
            "(its items done, the outcome recorded); not effective sends it back to `in_progress` for new "
            "actions, one round more. 403 for a caller who may not close the plan."
        ),
        request=EffectivenessReviewRecordSerializer,
        responses={200: ImprovementPlanDetailSerializer, **ERRORS},
    )
    @action(
        detail=True,
        methods=["post"],
        permission_classes=[WorkflowPermission],
        filter_backends=[],
        pagination_class=None,
    )
    def review(self, request: Request, pk: str | None = None) -> Response:
        plan = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        plan = call_service(
            plan_services.effectiveness_review_record, plan=plan, actor=self.user, **serializer.validated_data
        )
        return self._output(plan)
