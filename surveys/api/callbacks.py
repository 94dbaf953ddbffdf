"""The call-back API (SPEC §9): ``/api/v1/tickets/`` (ingest, read) and ``/api/v1/callbacks/``.

* ``tickets``: POST one ticket or a list of them from the ITSM system (``add_ticket``, held by
  the service desk and the integration account); idempotent by ``external_id`` (a repeat updates
  the ticket: 200; a new one: 201). A list is all or nothing; errors are keyed
  ``<index>.<field>``. GET list / retrieve need ``view_ticket``.
* ``callbacks``: list / retrieve (``view_callback``); POST ``{id}/answer/`` records the answer
  of a phone call on the customer's behalf or corrects it within 12 hours (``change_callback``).
"""

from __future__ import annotations

from typing import Any, cast

from django.db import IntegrityError
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from itsm.core.api.exceptions import flatten_errors
from itsm.core.api.permissions import RolePermission
from itsm.core.api.schema import one_or_many
from itsm.core.api.serializers import ApiErrorSerializer, MomentField
from itsm.core.models import User

from ..models import CallBack, Ticket
from ..services.callbacks import CallbackAnswer, callback_record_phone, tickets_ingest

ERRORS = {
    400: OpenApiResponse(ApiErrorSerializer, description="Invalid input: a message per field."),
    403: OpenApiResponse(ApiErrorSerializer, description="The caller's role may not do this."),
    404: OpenApiResponse(ApiErrorSerializer, description="Not found (or out of reach)."),
}
MAX_BULK = 500


class RequesterSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")


class TechnicianSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    email = serializers.EmailField(required=False, allow_blank=True, default="")


class TicketIngestSerializer(serializers.Serializer):
    """One resolved ticket as the ITSM system sends it."""

    external_id = serializers.CharField(max_length=100)
    ticket_ref = serializers.CharField(max_length=100)
    requester = RequesterSerializer()
    technician = TechnicianSerializer()
    resolved_at = MomentField()
    closed_at = MomentField(
        required=False,
        allow_null=True,
        help_text="When the ticket was closed, once it is (optional; left out, the one known stays).",
    )
    summary = serializers.CharField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        closed = attrs.get("closed_at")
        if closed is not None and closed < attrs["resolved_at"]:
            raise serializers.ValidationError({"closed_at": [_("A ticket is closed after it is resolved.")]})
        return attrs

    def to_service(self) -> dict[str, Any]:
        data = self.validated_data
        return {
            "external_id": data["external_id"],
            "ticket_ref": data["ticket_ref"],
            "requester_name": data["requester"]["name"],
            "requester_email": data["requester"]["email"],
            "requester_phone": data["requester"]["phone"],
            "technician_name": data["technician"]["name"],
            "technician_email": data["technician"]["email"],
            "resolved_at": data["resolved_at"],
            "summary": data["summary"],
            **({"closed_at": data["closed_at"]} if "closed_at" in data else {}),
        }


class CallBackBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = CallBack
        fields = ["id", "due_at", "answered_at", "method", "on_behalf", "satisfied"]


class TicketSerializer(serializers.ModelSerializer):
    callback = CallBackBriefSerializer(read_only=True)

    class Meta:
        model = Ticket
        fields = [
            "id",
            "external_id",
            "ticket_ref",
            "organisation",
            "requester",
            "requester_name",
            "requester_email",
            "requester_phone",
            "technician",
            "technician_name",
            "technician_email",
            "resolved_at",
            "closed_at",
            "close_due_at",
            "summary",
            "closable",
            "flag_reason",
            "received_at",
            "updated_at",
            "callback",
        ]


class CallBackSerializer(serializers.ModelSerializer):
    ticket_ref = serializers.CharField(source="ticket.ticket_ref", read_only=True)
    closable = serializers.BooleanField(source="ticket.closable", read_only=True)

    class Meta:
        model = CallBack
        fields = [
            "id",
            "ticket",
            "ticket_ref",
            "closable",
            "due_at",
            "method",
            "answered_at",
            "recorded_by",
            "on_behalf",
            "correctable_until",
            "fixed",
            "rating_attitude",
            "rating_speed",
            "rating_effect",
            "satisfied",
            "complaint_raised",
            "comment",
            "link_sent_at",
        ]


class CallBackAnswerSerializer(serializers.Serializer):
    fixed = serializers.BooleanField()
    rating_attitude = serializers.IntegerField(min_value=1, max_value=5)
    rating_speed = serializers.IntegerField(min_value=1, max_value=5)
    rating_effect = serializers.IntegerField(min_value=1, max_value=5)
    satisfied = serializers.BooleanField()
    complaint_raised = serializers.BooleanField(required=False, default=False)
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)


@extend_schema_view(
    list=extend_schema(summary="List ingested tickets"),
    retrieve=extend_schema(summary="One ingested ticket", responses={200: TicketSerializer, 404: ERRORS[404]}),
    create=extend_schema(
        summary="Ingest resolved tickets (one or a list; idempotent by external_id)",
        description=(
            "POST one ticket object or a list of them (at most 500). A ticket whose `external_id` is known "
            "updates that ticket; a changed `resolved_at` moves the due time of an unanswered call-back. "
            "A list is all or nothing; errors are keyed `<index>.<field>`. 201 when any ticket was new, else 200."
        ),
        request={
            "application/json": one_or_many(TicketIngestSerializer, name="TicketIngestOneOrList"),
            "application/x-www-form-urlencoded": TicketIngestSerializer,
            "multipart/form-data": TicketIngestSerializer,
        },
        responses={
            # The shape it was sent: one ticket for one object, a list for a list.
            200: one_or_many(TicketSerializer, name="TicketOneOrList"),
            201: one_or_many(TicketSerializer, name="TicketOneOrList"),
            400: ERRORS[400],
            403: ERRORS[403],
        },
    ),
)
class TicketViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = TicketSerializer
    permission_classes = [RolePermission]
    search_fields = ["ticket_ref", "external_id", "requester_name"]
    ordering_fields = ["resolved_at", "received_at"]
    ordering = ["-resolved_at", "-id"]

    def get_queryset(self):
        return Ticket.objects.visible_to(self.request.user).select_related("callback").order_by("-resolved_at", "-id")

    def create(self, request: Request, *args, **kwargs) -> Response:
        many = isinstance(request.data, list)
        items = request.data if many else [request.data]
        if not items:
            raise ValidationError({"non_field_errors": [_("Send at least one ticket.")]})
        if len(items) > MAX_BULK:
            raise ValidationError(
                {"non_field_errors": [_("Send at most %(count)s tickets at a time.") % {"count": MAX_BULK}]}
            )
        serializers_ = [TicketIngestSerializer(data=item) for item in items]
        errors: dict[str, list[str]] = {}
        for index, serializer in enumerate(serializers_):
            if not serializer.is_valid():
                errors.update(flatten_errors(serializer.errors, str(index) if many else ""))
        external_ids = [s.validated_data["external_id"] for s in serializers_ if not s.errors]
        if len(set(external_ids)) != len(external_ids):
            errors.setdefault("non_field_errors", []).append(_("The same external_id appears twice in the list."))
        if errors:
            raise ValidationError(errors)
        data = [s.to_service() for s in serializers_]
        try:
            results = tickets_ingest(items=data, actor=cast(User, request.user))
        except IntegrityError:
            # A concurrent request created one of these tickets first: ingest again as updates.
            results = tickets_ingest(items=data, actor=cast(User, request.user))
        tickets = [ticket for ticket, _created in results]
        for ticket in tickets:
            ticket.refresh_from_db()
        output = TicketSerializer(tickets, many=True).data
        code = status.HTTP_201_CREATED if any(created for _t, created in results) else status.HTTP_200_OK
        return Response(output if many else output[0], status=code)


class CallBackPermission(RolePermission):
    """Recording an answer changes the call-back: POST needs ``change``."""

    perms_map = {**RolePermission.perms_map, "POST": ["%(app_label)s.change_%(model_name)s"]}


@extend_schema_view(
    list=extend_schema(summary="List ticket call-backs"),
    retrieve=extend_schema(summary="One ticket call-back", responses={200: CallBackSerializer, 404: ERRORS[404]}),
)
class CallBackViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = CallBackSerializer
    permission_classes = [CallBackPermission]
    filterset_fields = ["method", "on_behalf", "satisfied"]
    ordering_fields = ["due_at", "answered_at"]
    ordering = ["due_at", "id"]

    def get_queryset(self):
        return CallBack.objects.visible_to(self.request.user).select_related("ticket").order_by("due_at", "id")

    def get_serializer_class(self):
        return CallBackAnswerSerializer if self.action == "answer" else CallBackSerializer

    @extend_schema(
        summary="Record (or correct within 12 hours) the answer of a phone call-back",
        request=CallBackAnswerSerializer,
        responses={200: CallBackSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def answer(self, request: Request, pk: str | None = None) -> Response:
        callback = self.get_object()
        serializer = CallBackAnswerSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        updated = callback_record_phone(
            callback_id=callback.pk, answer=CallbackAnswer(**serializer.validated_data), actor=cast(User, request.user)
        )
        return Response(CallBackSerializer(updated).data)
