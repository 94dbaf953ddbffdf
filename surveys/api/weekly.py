"""The weekly visit reports API: ``/api/v1/weekly-reports/`` and ``{id}/items/``.

* list (filters ``department``, ``week_start``, ``submitted``; paginated) and retrieve, each
  report with its items nested (read only);
* create through ``services.weekly.weekly_report_create`` (400 for a day that is not a Monday
  or a week the department already reported; last week's open items are carried over);
* ``{id}/items/`` POST adds an item (``services.weekly.weekly_item_add``).

Reads need ``view_weeklyreport``; create ``add_weeklyreport``; adding an item
``change_weeklyreport`` and ``add_weeklyreportitem``.
"""

from __future__ import annotations

from typing import cast

from django.db.models import Prefetch
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from itsm.core.api.permissions import RolePermission
from itsm.core.api.serializers import ApiErrorSerializer, MomentField
from itsm.core.models import Department, User
from itsm.core.permissions import can

from ..choices import WeeklyItemKind
from ..models import WeeklyReport, WeeklyReportItem
from ..services import weekly as services

ERRORS = {
    400: OpenApiResponse(ApiErrorSerializer, description="Invalid input: a message per field."),
    403: OpenApiResponse(ApiErrorSerializer, description="The caller's role may not do this."),
    404: OpenApiResponse(ApiErrorSerializer, description="No such report (or out of reach)."),
}


class WeeklyReportItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = WeeklyReportItem
        fields = ["id", "kind", "text", "owner", "resolved", "user_confirmed", "carried_from", "created_at"]
        read_only_fields = fields


class WeeklyReportSerializer(serializers.ModelSerializer):
    items = WeeklyReportItemSerializer(many=True, read_only=True)
    due_at = serializers.SerializerMethodField(help_text="The Monday meeting this report is due before.")
    late = serializers.SerializerMethodField(help_text="Submitted after the due moment, or unsubmitted past it.")

    class Meta:
        model = WeeklyReport
        fields = [
            "id",
            "department",
            "week_start",
            "recorder",
            "recorded_at",
            "user_confirmed",
            "submitted_at",
            "due_at",
            "late",
            "items",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def _due(self, obj: WeeklyReport):
        calendar = self.context.get("calendar")
        return services.weekly_report_due(obj.week_start, calendar)

    def get_due_at(self, obj: WeeklyReport) -> str:
        return serializers.DateTimeField().to_representation(self._due(obj))

    def get_late(self, obj: WeeklyReport) -> bool:
        return (obj.submitted_at or timezone.now()) > self._due(obj)


class WeeklyReportCreateSerializer(serializers.Serializer):
    department = serializers.PrimaryKeyRelatedField(queryset=Department.objects.all())
    week_start = serializers.DateField(help_text="The Monday of the week visited.")
    recorder = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True))
    recorded_at = MomentField(required=False)


class WeeklyItemCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=WeeklyItemKind.choices)
    text = serializers.CharField()
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True
    )
    resolved = serializers.BooleanField(required=False, default=False)
    user_confirmed = serializers.BooleanField(required=False, default=False)


class ItemPermission(BasePermission):
    """Adding an item changes the report: ``change_weeklyreport`` and ``add_weeklyreportitem``."""

    def has_permission(self, request, view) -> bool:
        return bool(
            request.user
            and request.user.is_authenticated
            and can(request.user, "view", WeeklyReport)
            and can(request.user, "change", WeeklyReport)
            and can(request.user, "add", WeeklyReportItem)
        )


@extend_schema_view(
    list=extend_schema(summary="List weekly visit reports", responses={200: WeeklyReportSerializer(many=True)}),
    retrieve=extend_schema(
        summary="One weekly visit report", responses={200: WeeklyReportSerializer, 404: ERRORS[404]}
    ),
    create=extend_schema(
        summary="Open a department's weekly visit report",
        description="`week_start` must be a Monday; one report per department and week. "
        "Unresolved items of the department's previous report are carried over.",
        request=WeeklyReportCreateSerializer,
        responses={201: WeeklyReportSerializer, 400: ERRORS[400], 403: ERRORS[403]},
    ),
)
class WeeklyReportViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    serializer_class = WeeklyReportSerializer
    permission_classes = [RolePermission]
    filterset_fields = ["department", "week_start"]
    ordering_fields = ["week_start", "submitted_at"]
    search_fields = ["department__name"]

    def get_queryset(self):
        return (
            WeeklyReport.objects.visible_to(self.request.user)
            .select_related("department")
            .prefetch_related(Prefetch("items", queryset=WeeklyReportItem.objects.order_by("kind", "pk")))
            .order_by("-week_start", "department_id", "pk")
        )

    def get_serializer_context(self):
        from itsm.core import calendar as business_calendar

        context = super().get_serializer_context()
        context["calendar"] = business_calendar.default_calendar()
        return context

    def get_serializer_class(self):
        return {"create": WeeklyReportCreateSerializer, "items": WeeklyItemCreateSerializer}.get(
            self.action or "", WeeklyReportSerializer
        )

    def _output(self, report: WeeklyReport) -> dict:
        fresh = self.get_queryset().get(pk=report.pk)
        return WeeklyReportSerializer(fresh, context=self.get_serializer_context()).data

    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        report = services.weekly_report_create(actor=cast(User, request.user), **serializer.validated_data)
        return Response(self._output(report), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Add an item to a weekly visit report",
        request=WeeklyItemCreateSerializer,
        responses={201: WeeklyReportSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"], permission_classes=[ItemPermission], filter_backends=[])
    def items(self, request: Request, pk=None) -> Response:
        report = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.weekly_item_add(report=report, actor=cast(User, request.user), **serializer.validated_data)
        return Response(self._output(report), status=status.HTTP_201_CREATED)
