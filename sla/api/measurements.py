"""The measurements API (SPEC §9): ``/api/v1/measurements/`` — monthly actuals per target.

* GET list (``target``, ``agreement``, ``period`` (a month: ``YYYY-MM``), ``period_from`` /
  ``period_to``, ``met``, ``metric``, ``priority``, ``source``; plus ``ordering``; paginated) and
  retrieve, with ``sla.view_measurement``.
* POST one measurement object or a list of them (at most ``MAX_BULK``), from the ITSM system
  or a script, through ``measurement_bulk_record``: ``target`` (an id, or
  ``{"agreement": "SLA-2026-001", "metric": "resolution", "priority": "P1"}`` — ``name`` too
  for another measure), ``period`` (``YYYY-MM`` or any date in the month), ``actual`` (in the
  target's unit), optionally ``sample_size`` and ``note``. ``met`` is computed, never sent.
  Idempotent by target + month: a repeat updates the month's row (an identical one changes
  nothing). All or nothing: every item is checked (unknown target, bad / future / closed month
  — the month's report is approved —, bad actual, the same target and month twice) and any
  error is a 400 keyed ``<index>.<field>`` for a list (``<field>`` for one object), nothing
  written. 201 when any measurement was new, else 200; each returned item says whether it was
  ``created``, ``updated`` or ``unchanged``.

Recording needs ``sla.add_measurement`` and ``sla.change_measurement`` (a repeat changes a row):
the service level manager role holds both, so the integration account that pushes
measurements is given that role and an API token (``manage.py create_api_token``). No role
may update or delete a measurement through the API (PUT / PATCH / DELETE: 405).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from datetime import date
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from itsm.core.api.filters import StableOrderingFilter
from itsm.core.api.schema import one_or_many

from ..choices import MeasurementSource, Metric, Priority
from ..models import Agreement, Measurement, ServiceLevelTarget
from ..services.measurements import MeasurementRowsInvalid, measurement_bulk_record
from .serializers import ERRORS, person
from .views import SlaViewSetMixin

MAX_BULK = 1000
ITEM_FIELDS = ("target", "period", "actual", "sample_size", "note")
REQUIRED = ("target", "period", "actual")
REFERENCE_FIELDS = ("agreement", "metric", "priority", "name")
_MONTH = re.compile(r"(\d{4})-(\d{1,2})(?:-(\d{1,2}))?")


def parse_month(value: Any) -> date | None:
    """``YYYY-MM`` or ``YYYY-MM-DD`` → the month's first day; None when it is neither."""
    match = _MONTH.fullmatch(str(value).strip())
    if not match:
        return None
    try:
        day = date(int(match.group(1)), int(match.group(2)), int(match.group(3) or 1))
    except ValueError:
        return None
    return day.replace(day=1)


# --- filters ------------------------------------------------------------------------------------


class MonthField(forms.Field):
    def to_python(self, value: Any) -> date | None:
        if value in self.empty_values:
            return None
        period = parse_month(value)
        if period is None:
            raise forms.ValidationError(_("Give the month as YYYY-MM."), code="invalid")
        return period


@extend_schema_field(OpenApiTypes.STR)
class MonthFilter(django_filters.Filter):
    """A month, ``YYYY-MM`` (a full date stands for its month)."""

    field_class = MonthField


class MeasurementFilter(django_filters.FilterSet):
    target = django_filters.ModelChoiceFilter(queryset=ServiceLevelTarget.objects.all(), label=gettext_lazy("Target"))
    agreement = django_filters.ModelChoiceFilter(
        field_name="target__agreement", queryset=Agreement.objects.all(), label=gettext_lazy("Agreement")
    )
    period = MonthFilter(field_name="period", label=gettext_lazy("Month (YYYY-MM)"))
    period_from = MonthFilter(field_name="period", lookup_expr="gte", label=gettext_lazy("From month (YYYY-MM)"))
    period_to = MonthFilter(field_name="period", lookup_expr="lte", label=gettext_lazy("To month (YYYY-MM)"))
    met = django_filters.BooleanFilter(label=gettext_lazy("Target met"))
    metric = django_filters.ChoiceFilter(
        field_name="target__metric", choices=Metric.choices, label=gettext_lazy("Metric")
    )
    priority = django_filters.ChoiceFilter(
        field_name="target__priority", choices=Priority.choices, label=gettext_lazy("Priority")
    )
    source = django_filters.ChoiceFilter(choices=MeasurementSource.choices, label=gettext_lazy("Source"))

    class Meta:
        model = Measurement
        fields = ["target", "agreement", "period", "period_from", "period_to", "met", "metric", "priority", "source"]


# --- serializers --------------------------------------------------------------------------------


class MeasurementSerializer(serializers.ModelSerializer):
    """One month's actual of one target, with the target it measures and whether it was met."""

    agreement = serializers.IntegerField(source="target.agreement_id", read_only=True)
    agreement_number = serializers.CharField(source="target.agreement.number", read_only=True)
    metric = serializers.ChoiceField(source="target.metric", choices=Metric.choices, read_only=True)
    priority = serializers.CharField(source="target.priority", read_only=True)
    name = serializers.CharField(source="target.name", read_only=True)
    target_value = serializers.DecimalField(source="target.value", max_digits=10, decimal_places=2, read_only=True)
    unit = serializers.CharField(source="target.unit", read_only=True)
    recorded_by_name = serializers.SerializerMethodField()

    class Meta:
        model = Measurement
        fields = [
            "id",
            "target",
            "agreement",
            "agreement_number",
            "metric",
            "priority",
            "name",
            "target_value",
            "unit",
            "period",
            "actual",
            "met",
            "sample_size",
            "note",
            "source",
            "recorded_by",
            "recorded_by_name",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_recorded_by_name(self, measurement: Measurement) -> str | None:
        return person(measurement.recorded_by)


class RecordedMeasurementSerializer(MeasurementSerializer):
    """A measurement as the POST returns it: what the request did to it."""

    outcome = serializers.ChoiceField(choices=["created", "updated", "unchanged"], read_only=True, source="api_outcome")

    class Meta(MeasurementSerializer.Meta):
        fields = [*MeasurementSerializer.Meta.fields, "outcome"]
        read_only_fields = fields


@extend_schema_field(
    {
        "oneOf": [
            {"type": "integer", "description": "The target's id."},
            {
                "type": "object",
                "description": (
                    "The target by its agreement number, metric and priority (and name, for another measure)."
                ),
                "properties": {
                    "agreement": {"type": "string", "example": "SLA-2026-001"},
                    "metric": {"type": "string", "enum": Metric.values},
                    "priority": {"type": "string", "enum": [*Priority.values, ""]},
                    "name": {"type": "string"},
                },
                "required": ["agreement", "metric"],
            },
        ]
    }
)
class TargetReferenceField(serializers.Field):
    """Documentation only: the view resolves the reference itself (all items in one query)."""


class MeasurementInputSerializer(serializers.Serializer):
    """One measurement as a client sends it (the request body is this object or a list of them)."""

    target = TargetReferenceField()
    period = serializers.CharField(help_text=gettext_lazy("The month: YYYY-MM (or any date in it)."))
    actual = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        coerce_to_string=False,
        help_text=gettext_lazy("In the target's unit: minutes, hours, working days or %."),
    )
    sample_size = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    note = serializers.CharField(required=False, allow_blank=True, max_length=300)


# --- reading the body ---------------------------------------------------------------------------


def _refusal(key: str) -> str:
    if key in MeasurementSerializer.Meta.fields:
        return _("This field is read-only.")
    return _("Unknown field.")


class _Items:
    """The body's items checked for shape, with target references resolved to ids; errors
    keyed ``<index>.<field>`` (``<field>`` for a single object)."""

    def __init__(self, items: list[Any], many: bool):
        self.many = many
        self.errors: dict[str, list[str]] = {}
        self.rows: list[dict[str, Any]] = []
        references: dict[int, Mapping[str, Any]] = {}
        for index, item in enumerate(items):
            if not isinstance(item, Mapping):
                self.add(index, "non_field_errors", _("Each measurement is an object."))
                continue
            for key in item:
                if key not in ITEM_FIELDS:
                    self.add(index, str(key), _refusal(str(key)))
            for key in REQUIRED:
                if item.get(key) in (None, ""):
                    self.add(index, key, _("This field is required."))
            note = item.get("note")
            if note is not None and not isinstance(note, str):
                self.add(index, "note", _("Not a valid string."))
            target = item.get("target")
            if isinstance(target, Mapping):
                references[index] = target
            elif target not in (None, "") and not (
                (isinstance(target, int) and not isinstance(target, bool))
                or (isinstance(target, str) and target.isdigit())
            ):
                self.add(index, "target", _("Give the target's id or its agreement, metric and priority."))
            self.rows.append({key: item.get(key) for key in ITEM_FIELDS if key in item})
        if references:
            self._resolve(references)

    def key(self, index: int, field: str) -> str:
        return f"{index}.{field}" if self.many else field

    def add(self, index: int, field: str, message: str) -> None:
        self.errors.setdefault(self.key(index, field), []).append(message)

    def _resolve(self, references: dict[int, Mapping[str, Any]]) -> None:
        """Targets named by agreement number, metric, priority (and name), in two queries."""
        numbers = {str(ref.get("agreement") or "").strip() for ref in references.values()} - {""}
        wanted = numbers | {number.upper() for number in numbers}
        agreements = Agreement.objects.filter(number__in=wanted).values_list("number", flat=True)
        known = {number.casefold(): number for number in agreements}
        targets: dict[str, list[ServiceLevelTarget]] = defaultdict(list)
        candidates = ServiceLevelTarget.objects.filter(agreement__number__in=known.values()).select_related("agreement")
        for target in candidates:
            targets[target.agreement.number].append(target)
        for index, ref in references.items():
            before = len(self.errors)
            for key in ref:
                if key not in REFERENCE_FIELDS:
                    self.add(index, f"target.{key}", _("Unknown field."))
            raw_number = str(ref.get("agreement") or "").strip()
            number = known.get(raw_number.casefold())
            if not raw_number:
                self.add(index, "target.agreement", _("Give the agreement number."))
            elif number is None:
                self.add(index, "target.agreement", _("Unknown agreement “%(number)s”.") % {"number": raw_number})
            metric = str(ref.get("metric") or "").strip()
            if metric not in Metric.values:
                self.add(
                    index,
                    "target.metric",
                    _("Unknown metric “%(value)s”; use one of %(choices)s.")
                    % {"value": metric, "choices": ", ".join(Metric.values)},
                )
            priority = str(ref.get("priority") or "").strip().upper()
            if priority and priority not in Priority.values:
                self.add(
                    index,
                    "target.priority",
                    _("Unknown priority “%(value)s”; use P1 to P4 or leave it blank.") % {"value": priority},
                )
            if len(self.errors) != before or number is None:
                continue
            name = str(ref.get("name") or "").strip().casefold()
            matches = [
                target
                for target in targets.get(number, [])
                if target.metric == metric
                and target.priority == priority
                and (not name or target.name.casefold() == name)
            ]
            values = {"agreement": number, "priority": priority or _("no priority"), "metric": Metric(metric).label}
            if len(matches) == 1:
                self.rows[index]["target"] = matches[0].pk
            elif not matches:
                self.add(index, "target", _("%(agreement)s has no %(metric)s target for %(priority)s.") % values)
            else:
                self.add(
                    index,
                    "target",
                    _("%(agreement)s has several %(metric)s targets for %(priority)s: give the measure name.") % values,
                )


# --- the view -----------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="List monthly measurements", responses={200: MeasurementSerializer(many=True)}),
    retrieve=extend_schema(summary="One monthly measurement", responses={200: MeasurementSerializer, 404: ERRORS[404]}),
    create=extend_schema(
        summary="Record monthly actuals (one or a list; idempotent by target + month)",
        description=(
            "POST one measurement object or a list of them (at most 1000). `target` is an id or "
            '`{"agreement": "SLA-2026-001", "metric": "resolution", "priority": "P1"}` (with `name` '
            "for another measure); `period` a month (`YYYY-MM`); `actual` in the target's unit. "
            "A target's month that is already recorded is updated (an identical repeat changes "
            "nothing); `met` is computed. All or nothing: errors are keyed `<index>.<field>` for a "
            "list (e.g. `0.actual`), `<field>` for one object; a closed month (its report approved) "
            "or a future one is refused. 201 when any measurement was new, else 200. Needs "
            "`sla.add_measurement` and `sla.change_measurement` (the service_level_manager role; "
            "give the integration account that role)."
        ),
        request={
            "application/json": one_or_many(MeasurementInputSerializer, name="MeasurementInputOneOrList"),
            "application/x-www-form-urlencoded": MeasurementInputSerializer,
            "multipart/form-data": MeasurementInputSerializer,
        },
        responses={
            # The shape it was sent: one measurement for one object, a list for a list.
            200: one_or_many(RecordedMeasurementSerializer, name="RecordedMeasurementOneOrList"),
            201: one_or_many(RecordedMeasurementSerializer, name="RecordedMeasurementOneOrList"),
            400: ERRORS[400],
            403: ERRORS[403],
        },
    ),
)
class MeasurementViewSet(
    SlaViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = MeasurementSerializer
    filterset_class = MeasurementFilter
    filter_backends = [DjangoFilterBackend, StableOrderingFilter]
    ordering_fields = ["period", "actual", "met", "updated_at"]
    ordering = ["-period", "target"]

    def get_queryset(self):
        return Measurement.objects.visible_to(self.request.user).select_related("target__agreement", "recorded_by")

    def get_serializer_class(self):
        return MeasurementInputSerializer if self.action == "create" else MeasurementSerializer

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = request.data
        many = isinstance(data, list)
        if not many and not isinstance(data, Mapping):
            raise ValidationError({"non_field_errors": [_("Send one measurement object or a list of them.")]})
        items = list(data) if many else [data.dict() if hasattr(data, "dict") else data]
        if not items:
            raise ValidationError({"non_field_errors": [_("Give at least one measurement.")]})
        if len(items) > MAX_BULK:
            raise ValidationError(
                {"non_field_errors": [_("At most %(count)s measurements at once.") % {"count": MAX_BULK}]}
            )
        checked = _Items(items, many)
        if checked.errors:
            raise ValidationError(checked.errors)
        try:
            result = measurement_bulk_record(rows=checked.rows, source=MeasurementSource.API, actor=self.user)
        except MeasurementRowsInvalid as exc:
            errors: dict[str, list[str]] = {}
            for error in exc.row_errors:
                field = "period" if error.column == "month" else error.column
                errors.setdefault(checked.key(error.row, field), []).append(error.message)
            raise ValidationError(errors) from exc
        except DjangoValidationError as exc:
            raise ValidationError({"non_field_errors": exc.messages}) from exc
        fresh = self.get_queryset().in_bulk([measurement.pk for measurement, _outcome in result.items])
        recorded = []
        for measurement, outcome in result.items:
            row = fresh[measurement.pk]
            row.api_outcome = outcome  # type: ignore[attr-defined]
            recorded.append(row)
        output = RecordedMeasurementSerializer(recorded, many=True).data
        code = status.HTTP_201_CREATED if result.count("created") else status.HTTP_200_OK
        return Response(output if many else output[0], status=code)
