"""The complaints API (SPEC §9): ``/api/v1/complaints/`` and its ``transitions`` and ``events``.

* list (``ComplaintFilterSet`` as on the page, plus ``search`` and ``ordering``; paginated),
  create (``services.complaint_register``), retrieve, update / partial update of the editable
  details (``services.complaint_update``; any other key is a 400 naming it). No DELETE: a
  complaint is withdrawn, never deleted (405 for everyone).
* ``{id}/transitions/``: GET lists the moves the caller may make now with their inputs; POST
  performs one on ``services.COMPLAINT_MACHINE`` (``itsm.core.api.workflow``; 400 for a move
  the table forbids from the current state or a missing / unknown input, 403 for a role that
  may not).
* ``{id}/events/``: the timeline, oldest first, paginated.

Reads need ``view_complaint``; create needs ``add_complaint``; edits and workflow moves need
``change_complaint`` (the workflow table then decides per action and role).
"""

from __future__ import annotations

from typing import cast

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import filters, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from itsm.core.api.filters import StableOrderingFilter
from itsm.core.api.permissions import RolePermission
from itsm.core.api.serializers import ApiErrorSerializer
from itsm.core.api.workflow import MachineRecordViewSet, WorkflowPermission, refused_as_403
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
class ComplaintViewSet(MachineRecordViewSet):
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

    workflow_machine = services.COMPLAINT_MACHINE
    move_serializer_class = AvailableTransitionSerializer
    transition_serializer_class = ComplaintTransitionSerializer
    event_serializer_class = ComplaintEventSerializer
    output_serializer_class = ComplaintSerializer
    move_description = (
        "Body: `action`, an optional `note` for the timeline, and the inputs the action "
        "accepts (see GET). 400: the move is not possible from the current state, or an "
        "input is missing or unknown (`errors` names it); 403: the caller's role may not."
    )
    events_summary = "The complaint's timeline, oldest first"

    def get_queryset(self):
        return selectors.with_improvement_plans(selectors.complaint_list(self.request.user))

    def get_serializer_class(self):
        # Input shapes per write (the browsable API's forms use them too); output is ComplaintSerializer.
        return self.workflow_serializer_class() or {
            "create": ComplaintCreateSerializer,
            "update": ComplaintUpdateSerializer,
            "partial_update": ComplaintUpdateSerializer,
        }.get(self.action or "", ComplaintSerializer)

    def _output(self, complaint, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=complaint.pk)
        return Response(ComplaintSerializer(fresh, context=self.get_serializer_context()).data, status=code)

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
            raise refused_as_403(exc) from exc
        return self._output(complaint)
