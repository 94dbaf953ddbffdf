"""The service catalogue API (SPEC §9): ``/api/v1/services/`` and ``/api/v1/targets/``
(agreements: ``agreements.py``; measurements: ``measurements.py``).

* ``services``: list (``sla.filters.ServiceFilter``: ``q``, ``status``, ``category``; plus
  ``ordering``; paginated), retrieve, create (``service_create``: the service starts
  ``proposed``), update / partial update (``service_update``: an accepted service changes only
  with ``rfc_ref``, a retired one not at all). No DELETE: a service is retired, never deleted
  (405 for everyone). ``status`` and the timestamps are read-only: sending one is a 400.
  ``{id}/transitions/``: GET lists the moves the caller may make now; POST performs one
  through ``service_transition`` (``accept``: ``rfc_ref``; ``retire``: ``rfc_ref`` and
  ``note``). ``{id}/events/``: the service's history, oldest first.
* ``targets``: list (``sla.filters.TargetFilter``: ``agreement``, ``kind``, ``metric``,
  ``priority``, ``unit``), retrieve, create / update / delete through ``target_create`` /
  ``target_update`` / ``target_delete`` (a draft or negotiating agreement's targets; an
  active agreement's change with a new version: ``POST /agreements/{id}/versions/``). Each
  target lists ``supported_by``: the ids of the OLA / UC targets linked under it.
  ``{id}/underpinning/``: GET the SLA target's underpinning row and the targets that could be
  linked; POST ``{"supporting": [ids]}`` links, ``{"unlink": [ids]}`` unlinks (both may be
  sent: one transaction; ``target_link_support`` / ``target_unlink_support``).

Reads need the model's ``view`` permission; writes ``add`` / ``change`` / ``delete`` (held by
the service level manager); workflow moves and underpinning links need ``change``.
"""

from __future__ import annotations

from typing import Any, cast

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import transaction
from django.db.models import Prefetch
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from itsm.core.api.filters import StableOrderingFilter
from itsm.core.api.mixins import CallerRolesOnceMixin, MissingMethodIs405Mixin, OutputAfterWriteMixin
from itsm.core.api.workflow import MachineRecordViewSet, WorkflowPermission, refused_as_403
from itsm.core.models import User
from itsm.core.permissions import can

from .. import selectors
from ..filters import ServiceFilter, TargetFilter
from ..models import Service, ServiceLevelTarget
from ..services import catalogue as catalogue_services
from ..services import targets as target_services
from ..underpinning import supporting_candidates, target_link_support, target_unlink_support, underpinning_report
from .serializers import (
    ERRORS,
    ServiceEventSerializer,
    ServiceMoveSerializer,
    ServiceSerializer,
    ServiceTransitionSerializer,
    ServiceWriteSerializer,
    SupportChangeSerializer,
    TargetCreateSerializer,
    TargetSerializer,
    TargetUnderpinningSerializer,
    TargetUpdateSerializer,
    call_service,
)


# What every sla endpoint shares: a method the resource lacks is a 405 for everyone, the
# caller's roles are loaded once per request, sub-resources need their own view permission.
# (A comment, not a docstring: the schema would show a docstring as every operation's description.)
class SlaViewSetMixin(MissingMethodIs405Mixin, CallerRolesOnceMixin):
    request: Any

    def require_view(self, model: Any) -> None:
        """A sub-resource of another model (history rows, versions) needs its own view permission."""
        if not can(self.request.user, "view", model):
            raise exceptions.PermissionDenied()

    @property
    def user(self) -> User:
        return cast(User, self.request.user)  # signed in: the permission class saw to it


# --- services -----------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="List the service catalogue", responses={200: ServiceSerializer(many=True)}),
    retrieve=extend_schema(summary="One service", responses={200: ServiceSerializer, 404: ERRORS[404]}),
    create=extend_schema(
        summary="Propose a service",
        description="The service starts `proposed`; `status` is a 400 (it moves only through `transitions/`).",
        request=ServiceWriteSerializer,
        responses={201: ServiceSerializer, 400: ERRORS[400], 403: ERRORS[403]},
    ),
    update=extend_schema(
        summary="Change a service's description",
        description=(
            "A proposed service changes freely; an accepted one only with `rfc_ref` (the RFC that "
            "approved the change); a retired one no longer changes (400). `status` is a 400."
        ),
        request=ServiceWriteSerializer,
        responses={200: ServiceSerializer, **ERRORS},
    ),
    partial_update=extend_schema(
        summary="Change part of a service's description",
        description="As PUT, with only the fields sent.",
        request=ServiceWriteSerializer,
        responses={200: ServiceSerializer, **ERRORS},
    ),
)
class ServiceViewSet(SlaViewSetMixin, MachineRecordViewSet):
    serializer_class = ServiceSerializer
    filterset_class = ServiceFilter
    filter_backends = [DjangoFilterBackend, StableOrderingFilter]
    ordering_fields = ["code", "name", "category", "status", "created_at", "updated_at"]
    ordering = ["category", "name"]

    workflow_machine = catalogue_services.SERVICE_MACHINE
    move_serializer_class = ServiceMoveSerializer
    transition_serializer_class = ServiceTransitionSerializer
    event_serializer_class = ServiceEventSerializer
    output_serializer_class = ServiceSerializer
    moves_summary = "The catalogue moves the caller may make now"
    move_summary = "Accept or retire a service"
    move_description = (
        "Body: `action`, `rfc_ref` (required by both moves) and `note` (required to retire). "
        "400: the move is not possible from the current status, or an input is missing "
        "(`errors` names it); 403: the caller's role may not make it."
    )
    events_summary = "The service's history, oldest first"
    events_need_view_permission = True

    def get_queryset(self):
        return selectors.service_list(self.request.user)

    def get_serializer_class(self):
        return self.workflow_serializer_class() or {
            "create": ServiceWriteSerializer,
            "update": ServiceWriteSerializer,
            "partial_update": ServiceWriteSerializer,
        }.get(self.action or "", ServiceSerializer)

    def _output(self, service: Service, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=service.pk)
        return Response(ServiceSerializer(fresh, context=self.get_serializer_context()).data, status=code)


# --- targets ------------------------------------------------------------------------------------


class LinkPermission(WorkflowPermission):
    """Linking targets changes the SLA target: POST needs ``change``, not ``add``."""


def target_list(user: Any):
    """Targets ``user`` may see, with agreement, calendar and linked target ids loaded in a fixed
    number of queries."""
    return (
        ServiceLevelTarget.objects.visible_to(user)
        .select_related("agreement", "calendar")
        .prefetch_related(Prefetch("supported_by", queryset=ServiceLevelTarget.objects.only("pk")))
    )


@extend_schema_view(
    list=extend_schema(summary="List service level targets", responses={200: TargetSerializer(many=True)}),
    retrieve=extend_schema(summary="One service level target", responses={200: TargetSerializer, 404: ERRORS[404]}),
    create=extend_schema(
        summary="Add a target to a draft or negotiating agreement",
        description=(
            "Checked as on the page: a time in minutes, hours or working days for a priority; a % "
            "of at most 100; one target per metric and priority; a response target never longer "
            "than the resolution target of its priority. An active agreement's targets change "
            "only with a new version (`POST /api/v1/agreements/{id}/versions/`)."
        ),
        request=TargetCreateSerializer,
        responses={201: TargetSerializer, 400: ERRORS[400], 403: ERRORS[403]},
    ),
    update=extend_schema(
        summary="Change a target of a draft or negotiating agreement",
        description="The same checks as create; `agreement` does not change (400).",
        request=TargetUpdateSerializer,
        responses={200: TargetSerializer, **ERRORS},
    ),
    partial_update=extend_schema(
        summary="Change part of a target",
        request=TargetUpdateSerializer,
        responses={200: TargetSerializer, **ERRORS},
    ),
    destroy=extend_schema(
        summary="Remove a target of a draft or negotiating agreement",
        description="Never one with measurements (400).",
        responses={204: None, **ERRORS},
    ),
)
class TargetViewSet(SlaViewSetMixin, OutputAfterWriteMixin, viewsets.ModelViewSet):
    serializer_class = TargetSerializer
    filterset_class = TargetFilter
    filter_backends = [DjangoFilterBackend, StableOrderingFilter]
    ordering_fields = ["agreement", "priority", "metric", "created_at"]
    ordering = ["agreement", "priority", "metric"]
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return target_list(self.request.user)

    def get_serializer_class(self):
        return {
            "create": TargetCreateSerializer,
            "update": TargetUpdateSerializer,
            "partial_update": TargetUpdateSerializer,
            "underpinning": SupportChangeSerializer,
        }.get(self.action or "", TargetSerializer)

    def _output(self, target: ServiceLevelTarget, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=target.pk)
        return Response(TargetSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    def perform_destroy(self, instance: ServiceLevelTarget) -> None:
        call_service(target_services.target_delete, target=instance, actor=self.user)

    def _underpinning(self, target: ServiceLevelTarget) -> dict[str, Any]:
        rows = underpinning_report(ServiceLevelTarget.objects.filter(pk=target.pk))
        candidates = supporting_candidates([target]).get(target.pk, []) if rows else []
        return TargetUnderpinningSerializer({"row": rows[0] if rows else None, "candidates": candidates}).data

    @extend_schema(
        methods=["GET"],
        summary="An SLA target's underpinning, and the targets that could be linked",
        description=(
            "`row` is null for an OLA or UC target (only SLA targets are underpinned). "
            "`candidates`: OLA / UC targets of live agreements with the same metric and priority."
        ),
        responses={200: TargetUnderpinningSerializer, 404: ERRORS[404]},
    )
    @extend_schema(
        methods=["POST"],
        summary="Link or unlink the OLA / UC targets underpinning an SLA target",
        description=(
            'Body: `{"supporting": [ids]}` links those targets (same metric and priority, a '
            'comparable unit, of a live OLA or UC); `{"unlink": [ids]}` removes links; both may be '
            "sent and run in one transaction. Linking one already linked, or unlinking one not "
            "linked, does nothing. 400 (nothing changed) for a target that may not be linked, an "
            "SLA that has ended or a target that is not an SLA's; 403 without "
            "`sla.change_serviceleveltarget`. Returns the new underpinning."
        ),
        request=SupportChangeSerializer,
        responses={200: TargetUnderpinningSerializer, **ERRORS},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        permission_classes=[LinkPermission],
        filter_backends=[],
        pagination_class=None,
    )
    def underpinning(self, request: Request, pk: str | None = None) -> Response:
        target = self.get_object()
        if request.method == "POST":
            serializer = self.get_serializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            supporting = serializer.validated_data.get("supporting") or []
            unlink = serializer.validated_data.get("unlink") or []
            try:
                with transaction.atomic():
                    if supporting:
                        call_service(target_link_support, sla_target=target, supporting=supporting, actor=self.user)
                    if unlink:
                        call_service(target_unlink_support, sla_target=target, supporting=unlink, actor=self.user)
            except DjangoPermissionDenied as exc:
                raise refused_as_403(exc) from exc
        return Response(self._underpinning(target))
