"""Serializers of the KPI API: definitions with their current value, period values, targets,
the records behind a value."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from itsm.core.api.serializers import StrictInputMixin

from ..models import ElementKind, KpiDefinition, KpiForecast, KpiTarget, KpiValue
from ..services import BREAKDOWN_KINDS, DEFINITION_FIELDS


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
            "computed_by",
        ]
        read_only_fields = fields


class KpiForecastSerializer(serializers.ModelSerializer):
    """Where the running period's overall value is heading, as forecast on ``made_on``."""

    class Meta:
        model = KpiForecast
        fields = [
            "period_label",
            "period_start",
            "period_end",
            "made_on",
            "fraction",
            "value_so_far",
            "projected",
            "low",
            "high",
            "target",
            "heading_for_miss",
            "seasonal",
        ]
        read_only_fields = fields


class KpiSerializer(serializers.ModelSerializer):
    """A KPI's definition, its latest overall value (``current``: null before the first) and
    the forecast of its running period (``forecast``: null when none is made)."""

    name = serializers.CharField(read_only=True)
    current = serializers.SerializerMethodField()
    forecast = serializers.SerializerMethodField()

    class Meta:
        model = KpiDefinition
        # The definition's own fields (what the process owner writes), the name in the reader's
        # language after the code, and what is computed.
        fields = ["id", "code", "name", *(f for f in DEFINITION_FIELDS if f != "code"), "current", "forecast"]
        read_only_fields = fields

    @extend_schema_field(KpiValueSerializer(allow_null=True))
    def get_current(self, definition: KpiDefinition) -> dict[str, Any] | None:
        value = getattr(definition, "current_value", None)
        return KpiValueSerializer(value).data if value is not None else None

    @extend_schema_field(KpiForecastSerializer(allow_null=True))
    def get_forecast(self, definition: KpiDefinition) -> dict[str, Any] | None:
        forecast = getattr(definition, "running_forecast", None)
        return KpiForecastSerializer(forecast).data if forecast is not None else None


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


class KpiDefinitionInputSerializer(StrictInputMixin, serializers.ModelSerializer):
    """A change of a KPI's definition (PATCH: the fields sent). The rules are the services':
    breakdowns the source can give, its unit; the code fixed once there are values; unit,
    source and cycle once a period is closed."""

    read_only_names = frozenset({"id", "name", "current"})
    source = serializers.CharField(  # type: ignore[assignment]  # a declared field, not Field.source
        max_length=60, help_text=gettext_lazy("A computation of the registry (its key), or “manual”.")
    )
    breakdowns = serializers.ListField(child=serializers.ChoiceField(choices=list(BREAKDOWN_KINDS)), allow_empty=True)

    class Meta:
        model = KpiDefinition
        fields = list(DEFINITION_FIELDS)


class ManualValueInputSerializer(StrictInputMixin, serializers.Serializer):
    """One period's value of a manual KPI for one element: the value, or the numerator and the
    denominator, or all three if they agree; a closed period's value is corrected only with a
    ``reason`` (a new revision)."""

    period = serializers.CharField(
        max_length=12, help_text=gettext_lazy("A period label of the KPI's cycle: 2026-10, 2026-Q4, 2026-H2, 2026.")
    )
    element_kind = serializers.ChoiceField(choices=ElementKind.choices, default=ElementKind.OVERALL)
    element_id = serializers.IntegerField(
        min_value=0, max_value=2**63 - 1, default=0, help_text=gettext_lazy("The element's id (0 for overall).")
    )
    value = serializers.DecimalField(max_digits=16, decimal_places=4, required=False, allow_null=True)
    numerator = serializers.DecimalField(max_digits=20, decimal_places=4, required=False, allow_null=True)
    denominator = serializers.DecimalField(max_digits=20, decimal_places=4, required=False, allow_null=True)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")


class RecomputeInputSerializer(StrictInputMixin, serializers.Serializer):
    period = serializers.CharField(
        required=False,
        max_length=12,
        help_text="A period label of the KPI's cycle (2026-10, 2026-H2…); empty: the running period.",
    )
    reason = serializers.CharField(
        required=False,
        max_length=1000,
        help_text="Required for a closed period: it is recomputed as a new revision with this reason.",
    )
