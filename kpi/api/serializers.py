"""Serializers of the KPI API: definitions with their current value, period values, targets,
the records behind a value."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from itsm.core.api.serializers import StrictInputMixin

from ..models import KpiDefinition, KpiTarget, KpiValue


class KpiValueSerializer(serializers.ModelSerializer):
    """One period's value for one element, with the target then in force and its status."""

    status_display = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = KpiValue
        fields = [
            "id",
            "period_label",
            "period_start",
            "period_end",
            "element_kind",
            "element_id",
            "element_label",
            "value",
            "numerator",
            "denominator",
            "target",
            "status",
            "status_display",
            "closed",
            "revision",
            "is_current",
            "reason",
            "computed_at",
        ]
        read_only_fields = fields


class KpiSerializer(serializers.ModelSerializer):
    """A KPI's definition and its latest overall value (``current``: null before the first)."""

    name = serializers.CharField(read_only=True)
    current = serializers.SerializerMethodField()

    class Meta:
        model = KpiDefinition
        fields = [
            "id",
            "code",
            "name",
            "name_zh",
            "name_en",
            "formula",
            "measurement",
            "unit",
            "direction",
            "cycle",
            "owner",
            "amber_tolerance",
            "source",
            "breakdowns",
            "is_active",
            "current",
        ]
        read_only_fields = fields

    @extend_schema_field(KpiValueSerializer(allow_null=True))
    def get_current(self, definition: KpiDefinition) -> dict[str, Any] | None:
        value = getattr(definition, "current_value", None)
        return KpiValueSerializer(value).data if value is not None else None


class KpiTargetSerializer(StrictInputMixin, serializers.ModelSerializer):
    """A target from a day (to a day), for everyone or one organisation or service."""

    read_only_names = frozenset({"id", "definition", "created_at"})

    class Meta:
        model = KpiTarget
        fields = ["id", "definition", "value", "valid_from", "valid_to", "organisation", "service", "created_at"]
        read_only_fields = ["id", "definition", "created_at"]


class KpiRecordSerializer(serializers.Serializer):
    """A record behind a value: its model and id (and the page that shows it, where there is one)."""

    model = serializers.CharField(help_text=gettext_lazy("app_label.model of the record."))
    id = serializers.IntegerField()
    url = serializers.CharField(allow_null=True)
