"""Serializers of the agreements API (``agreements.py``): the agreement as the list and the
detail show it, its frozen versions and their comparison, and the input of each write
(create, edit, workflow move, signed document, new version, standard targets). Writes go
through ``sla.services.agreements`` / ``sla.services.targets`` with the acting user."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from itsm.core.api.serializers import StrictInputMixin
from itsm.core.api.workflow import TransitionInputSerializer
from itsm.core.models import Calendar, Organisation, User

from ..choices import AgreementKind
from ..models import Agreement, AgreementVersion, Service
from ..selectors import SECTION_NAMES
from ..services import agreements as services
from ..services import targets as target_services
from ..underpinning import agreement_underpinning_summary
from ..workflow import AGREEMENT_TRANSITIONS
from .serializers import (
    AgreementActionField,
    TargetSerializer,
    TargetSpecSerializer,
    call_service,
    person,
)

# --- output -------------------------------------------------------------------------------------


class AgreementSerializer(serializers.ModelSerializer):
    """An agreement as the list shows it: who with, what it covers (service ids), validity,
    status, version, counts, and the moves the caller may make now."""

    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    counterparty_name = serializers.CharField(source="counterparty.name", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    owner_name = serializers.SerializerMethodField()
    services = serializers.SerializerMethodField()
    has_signed_document = serializers.SerializerMethodField()
    target_count = serializers.IntegerField(read_only=True)
    service_count = serializers.IntegerField(read_only=True)
    allowed_actions = serializers.SerializerMethodField()

    class Meta:
        model = Agreement
        fields = [
            "id",
            "kind",
            "kind_display",
            "number",
            "title",
            "counterparty",
            "counterparty_name",
            "services",
            "valid_from",
            "valid_to",
            "status",
            "status_display",
            "version",
            "owner",
            "owner_name",
            "signed_on",
            "has_signed_document",
            "last_review_on",
            "next_review_on",
            "activated_at",
            "ended_at",
            "target_count",
            "service_count",
            "allowed_actions",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_owner_name(self, agreement: Agreement) -> str | None:
        return person(agreement.owner)

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_services(self, agreement: Agreement) -> list[int]:
        return sorted(service.pk for service in agreement.services.all())

    def get_has_signed_document(self, agreement: Agreement) -> bool:
        return bool(agreement.signed_document)

    @extend_schema_field(serializers.ListField(child=AgreementActionField()))
    def get_allowed_actions(self, agreement: Agreement) -> list[str]:
        request = self.context.get("request")
        if request is None:
            return []
        return [t.action for t in services.agreement_allowed_actions(agreement, request.user)]


class CoveredServiceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Service
        fields = ["id", "code", "name", "status"]
        read_only_fields = fields


class UnderpinningSummarySerializer(serializers.Serializer):
    missing = serializers.IntegerField(help_text=gettext_lazy("SLA targets no live OLA or UC target underpins."))
    weak = serializers.IntegerField(help_text=gettext_lazy("SLA targets underpinned by a weaker target."))


class AgreementDetailSerializer(AgreementSerializer):
    """One agreement in full: the content sections (Markdown), the services covered, the
    targets and the underpinning summary (zeros for an OLA or UC)."""

    covered_services = CoveredServiceSerializer(source="services", many=True, read_only=True)
    targets = TargetSerializer(many=True, read_only=True)
    underpinning = serializers.SerializerMethodField()
    document_url = serializers.SerializerMethodField()

    class Meta(AgreementSerializer.Meta):
        fields = [
            *AgreementSerializer.Meta.fields,
            *SECTION_NAMES,
            "covered_services",
            "targets",
            "underpinning",
            "document_url",
        ]
        read_only_fields = fields

    @extend_schema_field(UnderpinningSummarySerializer)
    def get_underpinning(self, agreement: Agreement) -> dict[str, int]:
        return agreement_underpinning_summary(agreement)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_document_url(self, agreement: Agreement) -> str | None:
        return reverse("agreement_document", args=[agreement.pk]) if agreement.signed_document else None


class AgreementVersionSerializer(serializers.ModelSerializer):
    """A frozen version: its number, why it changed and under which RFC."""

    created_by_name = serializers.SerializerMethodField()

    class Meta:
        model = AgreementVersion
        fields = ["version", "reason", "rfc_ref", "created_by", "created_by_name", "created_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_created_by_name(self, version: AgreementVersion) -> str | None:
        return person(version.created_by)


class AgreementVersionDetailSerializer(AgreementVersionSerializer):
    """A version with its frozen content: title, counterparty, validity, signature, sections,
    services and targets as they were."""

    content = serializers.JSONField(read_only=True)

    class Meta(AgreementVersionSerializer.Meta):
        fields = [*AgreementVersionSerializer.Meta.fields, "content"]
        read_only_fields = fields


class FieldChangeSerializer(serializers.Serializer):
    label = serializers.CharField()  # type: ignore[assignment]  # a declared field
    before = serializers.CharField()
    after = serializers.CharField()


class SectionChangeSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a declared field
    before = serializers.CharField()
    after = serializers.CharField()
    unified = serializers.ListField(child=serializers.CharField(), help_text=gettext_lazy("A unified diff."))


class TargetChangeSerializer(serializers.Serializer):
    label = serializers.CharField()  # type: ignore[assignment]  # a declared field
    kind = serializers.ChoiceField(choices=["added", "removed", "changed"])
    before = serializers.CharField(allow_null=True)
    after = serializers.CharField(allow_null=True)


class VersionDiffSerializer(serializers.Serializer):
    """What changed from version ``a`` to version ``b``: fields, services, the sections that
    changed (with a unified diff) and targets added, removed and changed."""

    a = serializers.IntegerField(source="a.version")
    b = serializers.IntegerField(source="b.version")
    has_changes = serializers.BooleanField()
    fields = FieldChangeSerializer(many=True)  # type: ignore[assignment]  # a declared field
    services_added = serializers.ListField(child=serializers.CharField())
    services_removed = serializers.ListField(child=serializers.CharField())
    sections = SectionChangeSerializer(source="changed_sections", many=True)
    targets = TargetChangeSerializer(many=True)


# --- input --------------------------------------------------------------------------------------

READ_ONLY = frozenset(AgreementDetailSerializer.Meta.fields)


def _section_fields() -> dict[str, serializers.Field]:
    return {name: serializers.CharField(required=False, allow_blank=True) for name in SECTION_NAMES}


class AgreementWriteSerializer(StrictInputMixin, serializers.ModelSerializer):
    """What the agreement form writes. ``services`` is the full list of service ids (replacing
    the current ones when sent); the sections are Markdown."""

    read_only_names = READ_ONLY

    counterparty = serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.all(),
        help_text=gettext_lazy("A customer for an SLA, an internal team for an OLA, a supplier for a UC."),
    )
    services = serializers.PrimaryKeyRelatedField(queryset=Service.objects.all(), many=True, required=False)
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True),
        required=False,
        allow_null=True,
        help_text=gettext_lazy("Default: the caller."),
    )

    def _call(self, write: Any, /, **data: Any) -> Agreement:
        return call_service(write, actor=self.context["request"].user, **data)


class AgreementCreateSerializer(AgreementWriteSerializer):
    """A new agreement: a draft, numbered ``SLA-YYYY-NNN`` / ``OLA-…`` / ``UC-…``."""

    kind = serializers.ChoiceField(choices=AgreementKind.choices)

    class Meta:
        model = Agreement
        fields = ["kind", "title", "counterparty", "services", "valid_from", "valid_to", "owner", *SECTION_NAMES]

    def create(self, validated_data: dict[str, Any]) -> Agreement:
        return self._call(services.agreement_create, **validated_data)


class AgreementUpdateSerializer(AgreementWriteSerializer):
    """A draft or negotiating agreement's content (``AGREEMENT_FIELDS``) and services; the kind
    is chosen at creation only."""

    class Meta:
        model = Agreement
        fields = [*services.AGREEMENT_FIELDS, "services"]

    def update(self, instance: Agreement, validated_data: dict[str, Any]) -> Agreement:
        return self._call(services.agreement_update, agreement=instance, **validated_data)


class AgreementTransitionSerializer(TransitionInputSerializer):
    """A workflow move: the action and a note (required by ``terminate`` and ``return_to_draft``)."""

    table = AGREEMENT_TRANSITIONS

    action = AgreementActionField()


class DocumentUploadSerializer(StrictInputMixin, serializers.Serializer):
    file = serializers.FileField(help_text=gettext_lazy("The signed agreement: PDF, image or Word document."))
    signed_on = serializers.DateField(required=False, allow_null=True, default=None)


class VersionTargetSerializer(TargetSpecSerializer):
    """A target of the new version: ``id`` keeps (and changes) an existing target; without
    ``id`` it is a new one; a current target not listed is removed."""

    id = serializers.IntegerField(required=False)

    class Meta(TargetSpecSerializer.Meta):
        fields = ["id", *target_services.TARGET_FIELDS]


class NewVersionSerializer(StrictInputMixin, serializers.Serializer):
    """A change of an active agreement: why, under which RFC, and what changes. Fields not
    sent stay as they are; ``services`` / ``targets`` replace the whole list when sent."""

    reason = serializers.CharField(allow_blank=True)
    rfc_ref = serializers.CharField(max_length=60, allow_blank=True)
    title = serializers.CharField(max_length=200, required=False)
    valid_from = serializers.DateField(required=False, allow_null=True)
    valid_to = serializers.DateField(required=False, allow_null=True)
    signed_on = serializers.DateField(required=False, allow_null=True)
    services = serializers.PrimaryKeyRelatedField(queryset=Service.objects.all(), many=True, required=False)
    targets = VersionTargetSerializer(many=True, required=False)

    def get_fields(self) -> dict[str, serializers.Field]:
        return {**super().get_fields(), **_section_fields()}


class CompareQuerySerializer(serializers.Serializer):
    a = serializers.IntegerField(min_value=1)
    b = serializers.IntegerField(min_value=1)


class StandardTargetsSerializer(StrictInputMixin, serializers.Serializer):
    calendar = serializers.PrimaryKeyRelatedField(
        queryset=Calendar.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text=gettext_lazy("Count the targets on this business calendar; null: around the clock (24×7)."),
    )
