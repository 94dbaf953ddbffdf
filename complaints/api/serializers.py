"""Serializers of the complaints API: one output shape, input shapes per write.

Writes go through ``complaints.services`` (registration, edits, workflow moves) with the
acting user, exactly as the pages do. Input serializers refuse keys they do not write with a
400 naming the key, rather than dropping them silently: a client sending ``status`` in a
PATCH learns that the status changes only through ``…/transitions/``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from itsm.core.api.serializers import MomentField, ServiceModelSerializer
from itsm.core.choices import OrganisationKind
from itsm.core.models import Contact, Organisation, User
from itsm.core.roles import Role

from .. import services
from ..choices import Category, ComplaintStatus, EscalationLevel, EventKind
from ..models import Complaint, ComplaintEvent
from ..workflow import COMMON_INPUTS, TRANSITIONS

ACTION_NAMES = list(TRANSITIONS)

# Keys a browser form posts besides the data (the browsable API's forms).
_FORM_KEYS = frozenset({"csrfmiddlewaretoken"})


def _person(user: User | None) -> str | None:
    return str(user) if user is not None else None


# The status and action names appear in several places (a complaint's status, a move's
# target, a timeline row's from / to; an action, the allowed actions): each is one named
# schema component, so clients get one enum type rather than one per field.
@extend_schema_field(
    {"type": "string", "enum": ComplaintStatus.values, "description": "A complaint status."},
    component_name="ComplaintStatus",
)
class ComplaintStatusField(serializers.ChoiceField):
    """A status name; ``null`` where there is none (the ``from`` of the registration row)."""

    def __init__(self, **kwargs):
        super().__init__(choices=ComplaintStatus.choices, **kwargs)

    def to_representation(self, value):
        return value or None


@extend_schema_field(
    {"type": "string", "enum": ACTION_NAMES, "description": "A workflow action (complaints.workflow)."},
    component_name="ComplaintAction",
)
class ComplaintActionField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=ACTION_NAMES, **kwargs)


class StrictInputMixin:
    """Refuse (400, per key) every key of the body that the serializer does not write."""

    fields: Any

    def refusal(self, key: str) -> str:
        if key == "status":
            return _("The status changes only through a workflow action (POST …/transitions/).")
        if key in ComplaintSerializer.Meta.fields:
            return _("This field is read-only.")
        return _("Unknown field.")

    def to_internal_value(self, data: Any) -> Any:
        extra: dict[str, list[str]] = {}
        if isinstance(data, Mapping):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            extra = {key: [self.refusal(key)] for key in data if key not in writable and key not in _FORM_KEYS}
        try:
            value = super().to_internal_value(data)  # type: ignore[misc]
        except serializers.ValidationError as exc:
            if extra and isinstance(exc.detail, dict):
                raise serializers.ValidationError({**extra, **exc.detail}) from exc
            raise
        if extra:
            raise serializers.ValidationError(extra)
        return value


def _complaint_staff() -> Any:
    """Who may handle a complaint: active members of the roles that work complaints."""
    return (
        User.objects.filter(is_active=True)
        .filter(Q(groups__name=Role.SERVICE_DESK.value) | Q(groups__name=Role.BR_MANAGER.value))
        .distinct()
    )


# --- output ----------------------------------------------------------------------------------


class ComplaintSerializer(serializers.ModelSerializer):
    """A complaint as every endpoint returns it, with the actions the caller may take now.

    ``allowed_actions`` uses the caller's roles, fetched once per request (the view prefetches
    the user's groups), so a list page runs no query per row.
    """

    organisation_name = serializers.CharField(source="organisation.name", read_only=True)
    contact_name = serializers.CharField(source="contact.name", read_only=True)
    status = ComplaintStatusField(read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    owner_name = serializers.SerializerMethodField()
    handler_name = serializers.SerializerMethodField()
    paused = serializers.BooleanField(source="is_paused", read_only=True)
    allowed_actions = serializers.SerializerMethodField()

    class Meta:
        model = Complaint
        fields = [
            "id",
            "reference",
            "title",
            "description",
            "channel",
            "organisation",
            "organisation_name",
            "contact",
            "contact_name",
            "related_service",
            "external_ticket_ref",
            "severity",
            "category",
            "status",
            "status_display",
            "escalation_level",
            "owner",
            "owner_name",
            "handler",
            "handler_name",
            "received_at",
            "response_due_at",
            "responded_at",
            "resolution_due_at",
            "resolved_at",
            "closed_at",
            "withdrawn_at",
            "paused",
            "root_cause",
            "remedial_actions",
            "result",
            "improvement_plan_ref",
            "result_satisfaction",
            "result_settled",
            "reopen_count",
            "allowed_actions",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_owner_name(self, complaint: Complaint) -> str | None:
        return _person(complaint.owner)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_handler_name(self, complaint: Complaint) -> str | None:
        return _person(complaint.handler)

    @extend_schema_field(serializers.ListField(child=ComplaintActionField()))
    def get_allowed_actions(self, complaint: Complaint) -> list[str]:
        request = self.context.get("request")
        if request is None:
            return []
        return [t.action for t in services.allowed_actions(complaint, request.user)]


class ComplaintEventSerializer(serializers.ModelSerializer):
    """One timeline row: who (a user, or ``system`` / ``customer``), when, from, to, note."""

    action_display = serializers.SerializerMethodField()
    from_status = ComplaintStatusField(read_only=True, allow_null=True)
    to_status = ComplaintStatusField(read_only=True, allow_null=True)
    actor_name = serializers.SerializerMethodField()

    class Meta:
        model = ComplaintEvent
        fields = [
            "id",
            "action",
            "action_display",
            "from_status",
            "to_status",
            "actor",
            "actor_name",
            "actor_label",
            "note",
            "data",
            "created_at",
        ]
        read_only_fields = fields

    def get_action_display(self, event: ComplaintEvent) -> str:
        transition = TRANSITIONS.get(event.action)
        if transition is not None:
            return str(transition.label)
        if event.action in EventKind.values:
            return str(EventKind(event.action).label)
        return event.action

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_actor_name(self, event: ComplaintEvent) -> str | None:
        return _person(event.actor)


class AvailableTransitionSerializer(serializers.Serializer):
    """A move the caller may make now, and what to send with it."""

    action = ComplaintActionField()
    # Declared fields leave the class body (DRF's metaclass), so these names shadow nothing.
    label = serializers.CharField()  # type: ignore[assignment]
    description = serializers.CharField()  # type: ignore[assignment]
    target = ComplaintStatusField()
    requires = serializers.ListField(child=serializers.CharField(), help_text="Inputs that must not be blank.")
    accepts = serializers.ListField(child=serializers.CharField(), help_text="Inputs the action takes.")

    def to_representation(self, instance):
        return {
            "action": instance.action,
            "label": str(instance.label),
            "description": str(instance.description),
            "target": instance.target,
            "requires": list(instance.requires),
            "accepts": [*COMMON_INPUTS, *instance.accepts],
        }


class ComplaintConfirmationSerializer(StrictInputMixin, serializers.Serializer):
    """The customer's answer on the result, given by phone and recorded by staff."""

    satisfaction = serializers.IntegerField(min_value=1, max_value=5, help_text="The customer's rating, 1–5.")
    settled = serializers.BooleanField(help_text="Whether the customer says the matter is settled.")
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


# --- input -----------------------------------------------------------------------------------


class ComplaintCreateSerializer(StrictInputMixin, ServiceModelSerializer):
    """Registration: ``services.complaint_register`` numbers it, computes its deadlines, mails."""

    create_service = staticmethod(services.complaint_register)

    organisation = serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.filter(kind=OrganisationKind.CUSTOMER, is_active=True)
    )
    contact = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.filter(is_active=True))
    handler = serializers.PrimaryKeyRelatedField(queryset=_complaint_staff(), required=False, allow_null=True)
    received_at = MomentField(required=False)

    class Meta:
        model = Complaint
        fields = [
            "organisation",
            "contact",
            "title",
            "description",
            "channel",
            "severity",
            "received_at",
            "related_service",
            "external_ticket_ref",
            "category",
            "handler",
        ]


class ComplaintUpdateSerializer(StrictInputMixin, ServiceModelSerializer):
    """Edits of the details (``services.EDITABLE_FIELDS``) through ``services.complaint_update``.

    State, reference, level, owner and deadlines are not here: the workflow sets them.
    """

    update_service = staticmethod(services.complaint_update)

    handler = serializers.PrimaryKeyRelatedField(queryset=_complaint_staff(), required=False, allow_null=True)

    class Meta:
        model = Complaint
        fields = list(services.EDITABLE_FIELDS)


class ComplaintTransitionSerializer(StrictInputMixin, serializers.Serializer):
    """A workflow move: the action, a note for the timeline, and the inputs the action accepts.

    Which inputs an action takes is the workflow table's ``accepts``; whether the move is
    possible (state, role, required inputs) is decided by ``services.complaint_transition``.
    """

    action = ComplaintActionField()
    note = serializers.CharField(required=False, allow_blank=True, default="")
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True),
        required=False,
        help_text="escalate, customer_unsatisfied: the new owner (a user id); default: the level's first member.",
    )
    level = serializers.ChoiceField(
        choices=[level for level in EscalationLevel.choices if level[0] > 0],
        required=False,
        help_text="escalate: the level to go to (default one up; a BR manager may choose 3).",
    )
    remedial_actions = serializers.CharField(required=False, allow_blank=True, help_text="remedy")
    category = serializers.ChoiceField(
        choices=Category.choices, required=False, allow_blank=True, help_text="customer_satisfied"
    )
    root_cause = serializers.CharField(required=False, allow_blank=True, help_text="customer_satisfied")
    improvement_plan_ref = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=Complaint._meta.get_field("improvement_plan_ref").max_length,
        help_text="plan_improvement",
    )
    result = serializers.CharField(required=False, allow_blank=True, help_text="resolve")

    def validate(self, attrs):
        transition = TRANSITIONS[attrs["action"]]
        unexpected = set(attrs) - {"action", *COMMON_INPUTS, *transition.accepts}
        if unexpected:
            message = _("“%(action)s” does not take this field.") % {"action": transition.label}
            raise serializers.ValidationError({name: [message] for name in sorted(unexpected)})
        return attrs
