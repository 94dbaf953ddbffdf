"""The complaints API (SPEC §9): ``/api/v1/complaints/`` and its ``transitions`` and ``events``.

* list (``ComplaintFilterSet`` as on the page, plus ``search`` and ``ordering``; paginated),
  create (``services.complaint_register``), retrieve, update / partial update of the editable
  details (``services.complaint_update``; any other key is a 400 naming it). No DELETE: a
  complaint is withdrawn, never deleted (405 for everyone).
* ``{id}/transitions/``: GET lists the moves the caller may make now with their inputs; POST
  performs one through ``services.complaint_transition`` (400 for a move the table forbids
  from the current state or a missing / unknown input, 403 for a role that may not).
* ``{id}/events/``: the timeline, oldest first, paginated.

Reads need ``view_complaint``; create needs ``add_complaint``; edits and workflow moves need
``change_complaint`` (the workflow table then decides per action and role).
"""

from __future__ import annotations

from typing import cast

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import prefetch_related_objects
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, filters, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from itsm.core.api.permissions import RolePermission
from itsm.core.api.serializers import ApiErrorSerializer
from itsm.core.models import User

from .. import selectors, services
from ..filters import ComplaintFilterSet
from .serializers import (
    AvailableTransitionSerializer,
    ComplaintConfirmationSerializer,
    ComplaintCreateSerializer,
    ComplaintEventSerializer,
    ComplaintSerializer,
    ComplaintTransitionSerializer,
    ComplaintUpdateSerializer,
)

ERRORS = {
    400: OpenApiResponse(ApiErrorSerializer, description="Invalid input: a message per field."),
    403: OpenApiResponse(ApiErrorSerializer, description="The caller's role may not do this."),
    404: OpenApiResponse(ApiErrorSerializer, description="No such complaint (or out of reach)."),
}


class WorkflowPermission(RolePermission):
    """A workflow move changes the complaint: POST needs ``change``, not ``add``."""

    perms_map = {**RolePermission.perms_map, "POST": ["%(app_label)s.change_%(model_name)s"]}


class StableOrderingFilter(filters.OrderingFilter):
    """``?ordering=`` plus the primary key last, so pages never repeat or skip a row."""

    def get_ordering(self, request, queryset, view):
        ordering = list(super().get_ordering(request, queryset, view) or [])
        if not {"pk", "-pk", "id", "-id"} & set(ordering):
            ordering.append("-pk")
        return ordering


@extend_schema_view(
    list=extend_schema(summary="List complaints", responses={200: ComplaintSerializer(many=True)}),
    retrieve=extend_schema(summary="One complaint", responses={200: ComplaintSerializer, 404: ERRORS[404]}),
    create=extend_schema(
        summary="Register a complaint",
        request=ComplaintCreateSerializer,
        responses={201: ComplaintSerializer, 400: ERRORS[400], 403: ERRORS[403]},
    ),
    update=extend_schema(
        summary="Edit a complaint's details",
        request=ComplaintUpdateSerializer,
        responses={200: ComplaintSerializer, **ERRORS},
    ),
    partial_update=extend_schema(
        summary="Edit some of a complaint's details",
        description="Only the editable details; `status`, `reference`, level, owner and deadlines are a 400.",
        request=ComplaintUpdateSerializer,
        responses={200: ComplaintSerializer, **ERRORS},
    ),
)
class ComplaintViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = ComplaintSerializer
    permission_classes = [RolePermission]
    filterset_class = ComplaintFilterSet
    filter_backends = [DjangoFilterBackend, filters.SearchFilter, StableOrderingFilter]
    search_fields = ["reference", "title", "contact__name", "external_ticket_ref"]
    ordering_fields = [
        "received_at",
        "reference",
        "severity",
        "status",
        "category",
        "escalation_level",
        "response_due_at",
        "resolution_due_at",
        "updated_at",
    ]
    ordering = ["-received_at"]

    def get_queryset(self):
        return selectors.complaint_list(self.request.user)

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        # ``allowed_actions`` asks for the caller's roles once per complaint: load the
        # groups once here so a list of N complaints does not run N queries for them.
        if request.user.is_authenticated:
            getattr(request.user, "_prefetched_objects_cache", {}).pop("groups", None)
            prefetch_related_objects([request.user], "groups")

    def check_permissions(self, request: Request) -> None:
        # A method the resource lacks (DELETE) is a 405 for everyone, not a 403 for lacking a
        # delete permission that no role holds.
        if request.method and request.method.upper() not in self.allowed_methods:
            raise exceptions.MethodNotAllowed(request.method)
        super().check_permissions(request)

    def get_serializer_class(self):
        # Input shapes per write (the browsable API's forms use them too); output is ComplaintSerializer.
        return {
            "create": ComplaintCreateSerializer,
            "update": ComplaintUpdateSerializer,
            "partial_update": ComplaintUpdateSerializer,
            "transitions": ComplaintTransitionSerializer,
            "events": ComplaintEventSerializer,
        }.get(self.action or "", ComplaintSerializer)

    def _output(self, complaint) -> dict:
        fresh = self.get_queryset().get(pk=complaint.pk)
        return ComplaintSerializer(fresh, context=self.get_serializer_context()).data

    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        complaint = serializer.save()
        return Response(self._output(complaint), status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args, **kwargs) -> Response:
        partial = kwargs.pop("partial", False)
        serializer = self.get_serializer(self.get_object(), data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        complaint = serializer.save()
        return Response(self._output(complaint))

    @extend_schema(
        methods=["GET"],
        summary="The workflow moves the caller may make now",
        responses={200: AvailableTransitionSerializer(many=True), 404: ERRORS[404]},
    )
    @extend_schema(
        methods=["POST"],
        summary="Perform a workflow action",
        description=(
            "Body: `action`, an optional `note` for the timeline, and the inputs the action "
            "accepts (see GET). 400: the move is not possible from the current state, or an "
            "input is missing or unknown (`errors` names it); 403: the caller's role may not."
        ),
        request=ComplaintTransitionSerializer,
        responses={200: ComplaintSerializer, **ERRORS},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        permission_classes=[WorkflowPermission],
        filter_backends=[],
        pagination_class=None,
    )
    def transitions(self, request: Request, pk=None) -> Response:
        complaint = self.get_object()
        user = cast(User, request.user)  # signed in: the permission class saw to it
        if request.method == "GET":
            moves = services.allowed_actions(complaint, user)
            return Response(AvailableTransitionSerializer(moves, many=True).data)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        inputs = dict(serializer.validated_data)
        try:
            complaint = services.complaint_transition(
                complaint=complaint,
                action=inputs.pop("action"),
                note=inputs.pop("note", ""),
                actor=user,
                **inputs,
            )
        except DjangoPermissionDenied as exc:
            # Keep the service's message ("Your role may not perform …").
            raise exceptions.PermissionDenied(str(exc) or None) from exc
        return Response(self._output(complaint))

    @extend_schema(
        summary="Record the customer's confirmation given by phone",
        description=(
            "While the complaint is resolved: the rating, whether it is settled and a comment, "
            "recorded on the customer's behalf (the timeline names the caller). The customer's "
            "link is withdrawn; an unhappy answer reopens the complaint. 400 in another state, "
            "403 for a caller who may not close it."
        ),
        request=ComplaintConfirmationSerializer,
        responses={200: ComplaintSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"], permission_classes=[WorkflowPermission], filter_backends=[])
    def confirmation(self, request: Request, pk=None) -> Response:
        complaint = self.get_object()
        serializer = ComplaintConfirmationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            complaint = services.complaint_record_confirmation(
                complaint=complaint, actor=cast(User, request.user), **serializer.validated_data
            )
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc) or None) from exc
        return Response(self._output(complaint))

    @extend_schema(
        summary="The complaint's timeline, oldest first",
        responses={200: ComplaintEventSerializer(many=True), 404: ERRORS[404]},
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def events(self, request: Request, pk=None) -> Response:
        complaint = self.get_object()
        page = self.paginate_queryset(selectors.complaint_events(complaint))
        return self.get_paginated_response(ComplaintEventSerializer(page, many=True).data)
