"""Serializers of the service catalogue API shared by its endpoints: services, targets, the
underpinning rows, history rows and workflow moves (agreements: ``agreements.py``;
measurements: ``measurements.py``).

One output shape per resource and one input shape per write. Writes go through the services
of ``sla.services`` (and ``sla.underpinning``) with the acting user, exactly as the pages do.
Input serializers refuse every key they do not write with a 400 naming it (``status``: "the
status changes only through a workflow action"), rather than dropping it silently.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import serializers

from itsm.core.api.serializers import ApiErrorSerializer, StrictInputMixin
from itsm.core.api.workflow import MoveSerializer, TransitionInputSerializer, WorkflowEventSerializer, action_field
from itsm.core.models import Calendar, User

from ..choices import Metric, Priority, TargetUnit
from ..models import Agreement, AgreementEvent, Service, ServiceEvent, ServiceLevelTarget
from ..services import agreements as agreement_services
from ..services import catalogue as catalogue_services
from ..services import targets as target_services
from ..underpinning import UnderpinningRow, UnderpinningStatus, target_label
from ..workflow import AGREEMENT_TRANSITIONS, SERVICE_TRANSITIONS

ERRORS = {
    400: OpenApiResponse(ApiErrorSerializer, description="Invalid input: a message per field."),
    403: OpenApiResponse(ApiErrorSerializer, description="The caller's role may not do this."),
    404: OpenApiResponse(ApiErrorSerializer, description="Not found (or out of reach)."),
}


def person(user: User | None) -> str | None:
    return str(user) if user is not None else None


def call_service(write: Callable[..., Any], /, **kwargs: Any) -> Any:
    """Call a write service; its ``ValidationError`` becomes DRF's (a 400 per field)."""
    try:
        return write(**kwargs)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(serializers.as_serializer_error(exc)) from exc


# --- workflow actions ---------------------------------------------------------------------------

ServiceActionField = action_field(
    SERVICE_TRANSITIONS, component_name="ServiceAction", description="A service workflow action (sla.workflow)."
)
AgreementActionField = action_field(
    AGREEMENT_TRANSITIONS, component_name="AgreementAction", description="An agreement workflow action (sla.workflow)."
)


class ServiceMoveSerializer(MoveSerializer):
    action = ServiceActionField()
    inputs_before = ()
    inputs_after = ("note",)


class AgreementMoveSerializer(MoveSerializer):
    action = AgreementActionField()


# --- services -----------------------------------------------------------------------------------


class ServiceSerializer(serializers.ModelSerializer):
    """A service of the catalogue, with how many agreements cover it and the moves the caller
    may make now (the caller's roles are loaded once per request)."""

    owner_name = serializers.SerializerMethodField()
    calendar_name = serializers.SerializerMethodField()
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    agreement_count = serializers.IntegerField(read_only=True, help_text=gettext_lazy("Agreements covering it."))
    allowed_actions = serializers.SerializerMethodField()

    class Meta:
        model = Service
        fields = [
            "id",
            "code",
            "name",
            "category",
            "description",
            "owner",
            "owner_name",
            "standards",
            "contact_interface",
            "calendar",
            "calendar_name",
            "exceptions",
            "security",
            "status",
            "status_display",
            "rfc_ref",
            "agreement_count",
            "allowed_actions",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_owner_name(self, service: Service) -> str | None:
        return person(service.owner)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_calendar_name(self, service: Service) -> str | None:
        return service.calendar.name if service.calendar is not None else None

    @extend_schema_field(serializers.ListField(child=ServiceActionField()))
    def get_allowed_actions(self, service: Service) -> list[str]:
        request = self.context.get("request")
        if request is None:
            return []
        return [t.action for t in catalogue_services.service_allowed_actions(service, request.user)]


class ServiceWriteSerializer(StrictInputMixin, serializers.ModelSerializer):
    """The description of a service, written through ``service_create`` / ``service_update``.
    A change to an accepted service needs ``rfc_ref``; a retired one no longer changes."""

    read_only_names = frozenset(ServiceSerializer.Meta.fields)

    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True
    )
    calendar = serializers.PrimaryKeyRelatedField(
        queryset=Calendar.objects.all(),
        required=False,
        allow_null=True,
        help_text=gettext_lazy("The business calendar of the service hours; null: around the clock (24×7)."),
    )
    rfc_ref = serializers.CharField(
        max_length=60,
        required=False,
        allow_blank=True,
        default="",
        help_text=gettext_lazy("The RFC approving the change; required to change an accepted service."),
    )

    class Meta:
        model = Service
        fields = [*catalogue_services.SERVICE_FIELDS, "rfc_ref"]

    def create(self, validated_data: dict[str, Any]) -> Service:
        return call_service(catalogue_services.service_create, actor=self.context["request"].user, **validated_data)

    def update(self, instance: Service, validated_data: dict[str, Any]) -> Service:
        return call_service(
            catalogue_services.service_update, service=instance, actor=self.context["request"].user, **validated_data
        )


class ServiceTransitionSerializer(TransitionInputSerializer):
    """A catalogue move: ``accept`` (RFC required) or ``retire`` (RFC and note required)."""

    table = SERVICE_TRANSITIONS

    action = ServiceActionField()
    rfc_ref = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")


class ServiceEventSerializer(WorkflowEventSerializer):
    """One step of a service's life: created, changed (under an RFC), accepted, retired."""

    machine = catalogue_services.SERVICE_MACHINE

    class Meta(WorkflowEventSerializer.Meta):
        model = ServiceEvent
        fields = [*WorkflowEventSerializer.Meta.fields, "rfc_ref"]
        read_only_fields = fields


class AgreementEventSerializer(WorkflowEventSerializer):
    """One history row of an agreement: who (a user, or ``system``), when, from, to, note, details."""

    machine = agreement_services.AGREEMENT_MACHINE

    class Meta(WorkflowEventSerializer.Meta):
        model = AgreementEvent


# --- targets ------------------------------------------------------------------------------------


class TargetSerializer(serializers.ModelSerializer):
    """A service level target, with its agreement and the OLA / UC targets linked under it."""

    agreement_number = serializers.CharField(source="agreement.number", read_only=True)
    agreement_kind = serializers.CharField(source="agreement.kind", read_only=True)
    label = serializers.SerializerMethodField()  # type: ignore[assignment]  # a declared field
    calendar_name = serializers.SerializerMethodField()
    supported_by = serializers.SerializerMethodField()

    class Meta:
        model = ServiceLevelTarget
        fields = [
            "id",
            "agreement",
            "agreement_number",
            "agreement_kind",
            "metric",
            "name",
            "priority",
            "value",
            "unit",
            "calendar",
            "calendar_name",
            "label",
            "supported_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_label(self, target: ServiceLevelTarget) -> str:
        return target_label(target)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_calendar_name(self, target: ServiceLevelTarget) -> str | None:
        return target.calendar.name if target.calendar is not None else None

    @extend_schema_field(
        serializers.ListField(
            child=serializers.IntegerField(),
            help_text=gettext_lazy("Ids of the OLA / UC targets linked under this (SLA) target."),
        )
    )
    def get_supported_by(self, target: ServiceLevelTarget) -> list[int]:
        return sorted(t.pk for t in target.supported_by.all())


class TargetSpecSerializer(StrictInputMixin, serializers.ModelSerializer):
    """The fields of a target as written (``sla.services.targets.TARGET_FIELDS``)."""

    read_only_names = frozenset(TargetSerializer.Meta.fields)

    metric = serializers.ChoiceField(choices=Metric.choices)
    name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    priority = serializers.ChoiceField(
        choices=Priority.choices,
        required=False,
        allow_blank=True,
        help_text=gettext_lazy("P1–P4; blank for availability and other measures that apply to every priority."),
    )
    value = serializers.DecimalField(max_digits=10, decimal_places=2)
    unit = serializers.ChoiceField(choices=TargetUnit.choices)
    calendar = serializers.PrimaryKeyRelatedField(
        queryset=Calendar.objects.all(),
        required=False,
        allow_null=True,
        help_text=gettext_lazy("Business hours of this calendar; null: around the clock (24×7)."),
    )

    class Meta:
        model = ServiceLevelTarget
        fields = list(target_services.TARGET_FIELDS)
        # One target per (agreement, metric, priority, name) is the service's check, with its
        # message; the generated unique-together validator would make every key required.
        validators: list[Any] = []


class TargetCreateSerializer(TargetSpecSerializer):
    """A new target of a draft or negotiating agreement (``target_create``)."""

    agreement = serializers.PrimaryKeyRelatedField(queryset=Agreement.objects.all())

    class Meta(TargetSpecSerializer.Meta):
        fields = ["agreement", *target_services.TARGET_FIELDS]

    def create(self, validated_data: dict[str, Any]) -> ServiceLevelTarget:
        return call_service(target_services.target_create, actor=self.context["request"].user, **validated_data)


class TargetUpdateSerializer(TargetSpecSerializer):
    """A change of a target of a draft or negotiating agreement (``target_update``); its
    agreement does not change."""

    def update(self, instance: ServiceLevelTarget, validated_data: dict[str, Any]) -> ServiceLevelTarget:
        return call_service(
            target_services.target_update, target=instance, actor=self.context["request"].user, **validated_data
        )


class SupportChangeSerializer(StrictInputMixin, serializers.Serializer):
    """Link (``supporting``) and / or unlink (``unlink``) OLA / UC targets under an SLA target."""

    supporting = serializers.PrimaryKeyRelatedField(
        queryset=ServiceLevelTarget.objects.all(),
        many=True,
        required=False,
        help_text=gettext_lazy("Ids of OLA / UC targets to link (same metric and priority)."),
    )
    unlink = serializers.PrimaryKeyRelatedField(
        queryset=ServiceLevelTarget.objects.all(),
        many=True,
        required=False,
        help_text=gettext_lazy("Ids of linked targets to remove."),
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("supporting") and not attrs.get("unlink"):
            raise serializers.ValidationError({"supporting": [_("Choose at least one OLA or UC target.")]})
        return attrs


# --- underpinning -------------------------------------------------------------------------------


class SupportingTargetSerializer(serializers.Serializer):
    """One linked OLA / UC target measured against the SLA target it underpins."""

    target = serializers.IntegerField(help_text=gettext_lazy("The supporting target's id."))
    agreement = serializers.IntegerField()
    agreement_number = serializers.CharField()
    agreement_status = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a declared field
    supported = serializers.BooleanField(help_text=gettext_lazy("Whether this target alone backs the promise."))
    basis = serializers.ChoiceField(
        choices=["clock", "elapsed", "percent", "incomparable"],
        help_text=gettext_lazy(
            "How it was compared: minutes on clocks where it never falls behind (clock), worst-case "
            "wall-clock time against the SLA's best case (elapsed), percentages, or not comparable."
        ),
    )
    live = serializers.BooleanField(help_text=gettext_lazy("False when its agreement has expired or ended."))

    def to_representation(self, comparison: Any) -> dict[str, Any]:
        supporting = comparison.supporting
        return {
            "target": supporting.pk,
            "agreement": supporting.agreement_id,
            "agreement_number": supporting.agreement.number,
            "agreement_status": supporting.agreement.status,
            "label": target_label(supporting),
            "supported": comparison.supported,
            "basis": comparison.basis,
            "live": comparison.live,
        }


class UnderpinningRowSerializer(serializers.Serializer):
    """One SLA target of the underpinning check: supported, weakly supported or not
    underpinned, with the gap in words and every linked target compared (weakest first)."""

    target = serializers.IntegerField(help_text=gettext_lazy("The SLA target's id."))
    agreement = serializers.IntegerField()
    agreement_number = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a declared field
    metric = serializers.ChoiceField(choices=Metric.choices)
    priority = serializers.CharField()
    status = serializers.ChoiceField(choices=UnderpinningStatus.choices)
    status_display = serializers.CharField()
    gap = serializers.CharField(
        help_text=gettext_lazy("What falls short, e.g. “UC-2026-003 resolves P1 in 4 h; SLA-2026-011 promises 2 h.”")
    )
    weakest = serializers.IntegerField(
        allow_null=True, help_text=gettext_lazy("The weakest live supporting target's id.")
    )
    supporting = SupportingTargetSerializer(many=True)

    def to_representation(self, row: UnderpinningRow) -> dict[str, Any]:
        target = row.target
        return {
            "target": target.pk,
            "agreement": target.agreement_id,
            "agreement_number": target.agreement.number,
            "label": row.label,
            "metric": target.metric,
            "priority": target.priority,
            "status": row.status,
            "status_display": row.status_label,
            "gap": row.gap,
            "weakest": row.weakest.pk if row.weakest is not None else None,
            "supporting": [SupportingTargetSerializer(c).data for c in row.comparisons],
        }


class CandidateSerializer(serializers.Serializer):
    """An OLA / UC target that may be linked under the SLA target (same metric and priority)."""

    target = serializers.IntegerField()
    agreement_number = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a declared field

    def to_representation(self, target: ServiceLevelTarget) -> dict[str, Any]:
        return {"target": target.pk, "agreement_number": target.agreement.number, "label": target_label(target)}


class TargetUnderpinningSerializer(serializers.Serializer):
    """An SLA target's underpinning now, and the OLA / UC targets that could be linked."""

    row = UnderpinningRowSerializer(allow_null=True)
    candidates = CandidateSerializer(many=True)
