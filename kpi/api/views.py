"""The KPI API (SPEC §9): ``/api/v1/kpis/``.

* list / retrieve: the definitions (active ones; ``?is_active=false`` for the others) with
  their latest overall value and status (stored values only: no computation on read);
* PATCH ``{id}/``: change the definition (the process owner; the services' rules: breakdowns
  the source can give, the code fixed once there are values, unit / source / cycle once a
  period is closed); PUT and DELETE are not offered;
* ``{id}/values/``: GET the stored values, newest period first, current revisions only unless
  ``?revisions=all``; filters ``period`` (a label: ``2026-10``, ``2026-H2``), ``element_kind``,
  ``element_id``, ``status``; paginated. POST enters a manual KPI's value (the process owner;
  a computed KPI's are refused with a 400; a closed period's only with a reason, as a new
  revision);
* ``{id}/targets/``: GET the targets; POST adds one (the process owner; targets of one scope
  never overlap, a 400 says so);
* ``{id}/values/{value_id}/records/``: the records behind a value — the ids frozen with it for
  a closed period, the live ones for the running period; paginated.

Reads need ``kpi.view_kpidefinition`` (every staff role); adding a target ``kpi.add_kpitarget``,
changing a definition ``kpi.change_kpidefinition``, entering a value ``kpi.add_kpivalue``.
"""

from __future__ import annotations

from typing import Any, cast

from django.apps import apps
from django.db.models import OuterRef, Subquery
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from itsm.core.api.mixins import MissingMethodIs405Mixin
from itsm.core.api.permissions import RolePermission
from itsm.core.models import User
from itsm.core.periods import Period, period_from_label, period_of
from itsm.core.permissions import can

from .. import services
from ..forecast import forecast_update
from ..models import MANUAL, ElementKind, KpiDefinition, KpiTarget, KpiValue, KpiValueRecord, Status
from ..registry import sources
from ..selectors import running_forecasts
from .serializers import (
    KpiDefinitionInputSerializer,
    KpiRecordSerializer,
    KpiSerializer,
    KpiTargetSerializer,
    KpiValueSerializer,
    ManualValueInputSerializer,
    RecomputeInputSerializer,
)

VALUE_FILTERS = [
    OpenApiParameter("period", OpenApiTypes.STR, description="A period label: 2026-10, 2026-Q4, 2026-H2, 2026."),
    OpenApiParameter("element_kind", OpenApiTypes.STR, enum=ElementKind.values),
    OpenApiParameter("element_id", OpenApiTypes.INT),
    OpenApiParameter("status", OpenApiTypes.STR, enum=Status.values),
    OpenApiParameter("revisions", OpenApiTypes.STR, enum=["current", "all"], description="Default: current."),
]


def _int(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError as exc:
        raise serializers.ValidationError({name: [_("Give a whole number.")]}) from exc


@extend_schema_view(
    list=extend_schema(summary="List the KPIs with their latest value"),
    retrieve=extend_schema(summary="One KPI with its latest value"),
)
class KpiViewSet(MissingMethodIs405Mixin, viewsets.ReadOnlyModelViewSet):
    queryset = KpiDefinition.objects.all()  # the model; the rows: get_queryset
    serializer_class = KpiSerializer
    permission_classes = [RolePermission]

    def get_queryset(self):
        latest = KpiValue.objects.filter(
            definition=OuterRef("pk"), element_kind=ElementKind.OVERALL, is_current=True
        ).order_by("-period_start")
        queryset = KpiDefinition.objects.annotate(current_value_id=Subquery(latest.values("pk")[:1]))
        if self.request.method not in ("GET", "HEAD", "OPTIONS"):
            return queryset  # a write reaches an inactive KPI too
        active = self.request.query_params.get("is_active", "true").lower() != "false"
        return queryset.filter(is_active=active).order_by("sort_order", "code")

    def _with_current(self, definitions: list[KpiDefinition]) -> list[KpiDefinition]:
        values = KpiValue.objects.in_bulk([d.current_value_id for d in definitions if d.current_value_id])  # type: ignore[attr-defined]
        forecasts = running_forecasts(definitions)
        for definition in definitions:
            definition.current_value = values.get(definition.current_value_id)  # type: ignore[attr-defined]
            definition.running_forecast = forecasts.get(definition.pk)  # type: ignore[attr-defined]
        return definitions

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset()) or []
        return self.get_paginated_response(KpiSerializer(self._with_current(list(page)), many=True).data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        definition = self._with_current([self.get_object()])[0]
        return Response(KpiSerializer(definition).data)

    @extend_schema(
        summary="Change a KPI's definition",
        description=(
            "The process owner. Breakdowns must be ones the source can give and the unit the source's; the code "
            "is fixed once the KPI has values; the unit, source and cycle once a period is closed (make a new KPI)."
        ),
        request=KpiDefinitionInputSerializer,
        responses={200: KpiSerializer},
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        definition = self.get_object()
        serializer = KpiDefinitionInputSerializer(definition, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.definition_update(definition, actor=cast(User, request.user), **serializer.validated_data)
        return self.retrieve(request, *args, **kwargs)

    @extend_schema(
        methods=["GET"],
        summary="The KPI's stored values, newest period first",
        parameters=VALUE_FILTERS,
        responses={200: KpiValueSerializer(many=True)},
    )
    @extend_schema(
        methods=["POST"],
        summary="Enter a manual KPI's value",
        description=(
            "A manual KPI only (a computed one: 400), by the process owner. One period (a label of the KPI's "
            "cycle, begun already) and one element (overall, or a breakdown of the KPI); the value, or the "
            "numerator and denominator, or all three if they agree. An open period's value is replaced; a closed "
            "period's is corrected only with a reason, as a new revision (the earlier one stays readable)."
        ),
        request=ManualValueInputSerializer,
        responses={201: KpiValueSerializer},
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[])
    def values(self, request: Request, pk: str | None = None) -> Response:
        definition = self.get_object()
        if request.method == "POST":
            if not can(request.user, "add", KpiValue):
                raise exceptions.PermissionDenied()
            serializer = ManualValueInputSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            value = services.manual_value_set(definition, actor=cast(User, request.user), **serializer.validated_data)
            return Response(KpiValueSerializer(value).data, status=status.HTTP_201_CREATED)
        values = KpiValue.objects.filter(definition=definition)
        params = request.query_params
        if params.get("revisions", "current") != "all":
            values = values.filter(is_current=True)
        if params.get("period"):
            values = values.filter(period_label=params["period"])
        kind = params.get("element_kind")
        if kind:
            if kind not in ElementKind.values:
                raise serializers.ValidationError(
                    {"element_kind": [_("One of %(choices)s.") % {"choices": ", ".join(ElementKind.values)}]}
                )
            values = values.filter(element_kind=kind)
        element_id = _int(request, "element_id")
        if element_id is not None:
            values = values.filter(element_id=element_id)
        if params.get("status"):
            if params["status"] not in Status.values:
                raise serializers.ValidationError(
                    {"status": [_("One of %(choices)s.") % {"choices": ", ".join(Status.values)}]}
                )
            values = values.filter(status=params["status"])
        page = self.paginate_queryset(values.order_by("-period_start", "element_kind", "element_label", "-revision"))
        return self.get_paginated_response(KpiValueSerializer(page, many=True).data)

    @extend_schema(
        summary="Recompute a period",
        description=(
            "The process owner. An open period (the running one by default) is recomputed from the records as "
            "they stand, the running one forecast again; a closed period only with a reason, as a new revision "
            "(the earlier one stays readable). Returns the period's current values."
        ),
        request=RecomputeInputSerializer,
        responses={200: KpiValueSerializer(many=True)},
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def recompute(self, request: Request, pk: str | None = None) -> Response:
        definition = self.get_object()
        if not can(request.user, "change", KpiValue):
            raise exceptions.PermissionDenied()
        serializer = RecomputeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if definition.source == MANUAL:
            raise serializers.ValidationError({"source": [_("A manual KPI takes its values by form, import or API.")]})
        today = timezone.localdate()
        label = serializer.validated_data.get("period")
        try:
            period = period_from_label(definition.cycle, label) if label else period_of(definition.cycle, today)
        except ValueError:
            raise serializers.ValidationError({"period": [_("No such period of this KPI.")]}) from None
        if period.start > today:
            raise serializers.ValidationError({"period": [_("This period has not begun.")]})
        closed = KpiValue.objects.filter(
            definition=definition, period_start=period.start, is_current=True, closed=True
        ).exists()
        if closed:
            services.kpi_revise(
                definition, period, actor=cast(User, request.user), reason=serializer.validated_data.get("reason", "")
            )
        else:
            services.kpi_compute(definition, period)
            if period.end >= today:
                forecast_update(definition, period, today)
        values = KpiValue.objects.filter(definition=definition, period_start=period.start, is_current=True).order_by(
            "element_kind", "element_label"
        )
        return Response(KpiValueSerializer(values, many=True).data)

    @extend_schema(methods=["GET"], summary="The KPI's targets", responses={200: KpiTargetSerializer(many=True)})
    @extend_schema(
        methods=["POST"],
        summary="Add a target",
        description="Targets of one scope (everyone, one organisation, one service) never overlap: a 400 says so.",
        request=KpiTargetSerializer,
        responses={201: KpiTargetSerializer},
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[], pagination_class=None)
    def targets(self, request: Request, pk: str | None = None) -> Response:
        definition = self.get_object()
        if request.method == "GET":
            targets = definition.targets.order_by("organisation", "service", "valid_from")
            return Response(KpiTargetSerializer(targets, many=True).data)
        if not can(request.user, "add", KpiTarget):
            raise exceptions.PermissionDenied()
        serializer = KpiTargetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        target = services.target_set(definition, actor=cast(User, request.user), **serializer.validated_data)
        return Response(KpiTargetSerializer(target).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="The records behind a value",
        description="Frozen with the value for a closed period; live for the running one.",
        responses={200: KpiRecordSerializer(many=True)},
    )
    @action(detail=True, methods=["get"], url_path=r"values/(?P<value_id>[0-9]+)/records", filter_backends=[])
    def records(self, request: Request, pk: str | None = None, value_id: str | None = None) -> Response:
        definition = self.get_object()
        value = get_object_or_404(KpiValue, pk=value_id, definition=definition)
        if value.closed:
            ids_query = (
                KpiValueRecord.objects.filter(value=value).order_by("record_id").values_list("record_id", flat=True)
            )
        else:
            kpi_source = sources().get(definition.source)
            if kpi_source is None:
                ids_query = KpiValueRecord.objects.none().values_list("record_id", flat=True)
            else:
                period = Period(value.period_start, value.period_end, definition.cycle)
                ids_query = (
                    kpi_source.records(period, value.element_kind, value.element_id)
                    .order_by("pk")
                    .values_list("pk", flat=True)
                )
        page = self.paginate_queryset(ids_query) or []
        rows = _record_rows(value.record_model, list(page))
        return self.get_paginated_response(KpiRecordSerializer(rows, many=True).data)


def _record_rows(model_label: str, ids: list[int]) -> list[dict[str, Any]]:
    """The page's records with the link to each (one query for the page)."""
    try:
        model = apps.get_model(model_label)
    except (LookupError, ValueError):
        return [{"model": model_label, "id": pk, "url": None} for pk in ids]
    found = model._default_manager.in_bulk(ids)
    return [
        {
            "model": model_label,
            "id": pk,
            "url": found[pk].get_absolute_url() if pk in found and hasattr(found[pk], "get_absolute_url") else None,
        }
        for pk in ids
    ]
