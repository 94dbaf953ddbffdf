"""Serializers of the complaints API: one output shape, input shapes per write.

Writes go through ``complaints.services`` (registration, edits, workflow moves) with the
acting user, exactly as the pages do. Input serializers refuse keys they do not write with a
400 naming the key, rather than dropping them silently: a client sending ``status`` in a
PATCH learns that the status changes only through ``…/transitions/``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from improvement.choices import PLAN_OPEN_STATUSES
from improvement.models import ImprovementPlan
from improvement.selectors.sources import plans_of_items
from itsm.core.api.serializers import MomentField, ServiceModelSerializer, StrictInputMixin
from itsm.core.api.workflow import MoveSerializer, TransitionInputSerializer, WorkflowEventSerializer, action_field
from itsm.core.choices import OrganisationKind
from itsm.core.models import Contact, Organisation, User
from itsm.core.roles import Role
from sla.choices import ServiceStatus
from sla.models import Service

from .. import services
from ..choices import Category, ComplaintStatus, EscalationLevel
from ..models import Complaint, ComplaintEvent
from ..workflow import TRANSITIONS


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


ComplaintActionField = action_field(
    TRANSITIONS, component_name="ComplaintAction", description="A workflow action (complaints.workflow)."
)


def _complaint_staff() -> Any:
    """Who may handle a complaint: active members of the roles that work complaints."""
    return (
        User.objects.filter(is_active=True)
        .filter(Q(groups__name=Role.SERVICE_DESK.value) | Q(groups__name=Role.BR_MANAGER.value))
        .distinct()
    )


# --- output ----------------------------------------------------------------------------------


class PlanLinkSerializer(serializers.Serializer):
    """An improvement plan a record is linked to."""

    id = serializers.IntegerField()
    reference = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField()


class ComplaintSerializer(serializers.ModelSerializer):
    """A complaint as every endpoint returns it, with the actions the caller may take now.

    ``allowed_actions`` uses the caller's roles, fetched once per request (the view prefetches
    the user's groups), so a list page runs no query per row.
    """

    organisation_name = serializers.CharField(source="organisation.name", read_only=True)
    contact_name = serializers.CharField(source="contact.name", read_only=True)
    status = ComplaintStatusField(read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    related_service_name = serializers.SerializerMethodField()
    owner_name = serializers.SerializerMethodField()
    handler_name = serializers.SerializerMethodField()
    paused = serializers.BooleanField(source="is_paused", read_only=True)
    allowed_actions = serializers.SerializerMethodField()
    improvement_plans = serializers.SerializerMethodField()

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
            "related_service_name",
            "related_service_text",
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
            "diagnosis",
            "remedial_actions",
            "result",
            "improvement_plans",
            "result_satisfaction",
            "result_settled",
            "reopen_count",
            "allowed_actions",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(PlanLinkSerializer(many=True))
    def get_improvement_plans(self, complaint: Complaint) -> list[dict[str, Any]]:
        """The plans the complaint's register items belong to (``selectors.with_improvement_plans``)."""
        return list(PlanLinkSerializer(plans_of_items(complaint.improvement_items.all()), many=True).data)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_related_service_name(self, complaint: Complaint) -> str | None:
        service = complaint.related_service
        return service.name if service is not None else None

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


class ComplaintInput(StrictInputMixin):
    """The complaint's output fields are read-only in every input (a 400 saying so)."""

    read_only_names = frozenset(ComplaintSerializer.Meta.fields)


class ComplaintEventSerializer(WorkflowEventSerializer):
    """One timeline row: who (a user, or ``system`` / ``customer``), when, from, to, note."""

    machine = services.COMPLAINT_MACHINE

    from_status = ComplaintStatusField(read_only=True, allow_null=True)
    to_status = ComplaintStatusField(read_only=True, allow_null=True)

    class Meta(WorkflowEventSerializer.Meta):
        model = ComplaintEvent


class AvailableTransitionSerializer(MoveSerializer):
    action = ComplaintActionField()
    target = ComplaintStatusField()  # type: ignore[assignment]  # a status: one enum, not a string


class ComplaintConfirmationSerializer(ComplaintInput, serializers.Serializer):
    """The customer's answer on the result, given by phone and recorded by staff."""

    satisfaction = serializers.IntegerField(min_value=1, max_value=5, help_text="The customer's rating, 1–5.")
    settled = serializers.BooleanField(help_text="Whether the customer says the matter is settled.")
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


# --- input -----------------------------------------------------------------------------------


def _related_service_field() -> serializers.PrimaryKeyRelatedField:
    """The service a complaint names: one of the catalogue in use (accepted), by id."""
    return serializers.PrimaryKeyRelatedField(
        queryset=Service.objects.filter(status=ServiceStatus.ACCEPTED),
        required=False,
        allow_null=True,
        help_text="The id of a service of the catalogue in use (accepted); null: none.",
        error_messages={"does_not_exist": gettext_lazy("Choose a service of the catalogue that is in use (accepted).")},
    )


class ComplaintCreateSerializer(ComplaintInput, ServiceModelSerializer):
    """Registration: ``services.complaint_register`` numbers it, computes its deadlines, mails."""

    create_service = staticmethod(services.complaint_register)

    organisation = serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.filter(kind=OrganisationKind.CUSTOMER, is_active=True)
    )
    contact = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.filter(is_active=True))
    handler = serializers.PrimaryKeyRelatedField(queryset=_complaint_staff(), required=False, allow_null=True)
    related_service = _related_service_field()
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


class ComplaintUpdateSerializer(ComplaintInput, ServiceModelSerializer):
    """Edits of the details (``services.EDITABLE_FIELDS``) through ``services.complaint_update``.

    State, reference, level, owner and deadlines are not here: the workflow sets them.
    """

    update_service = staticmethod(services.complaint_update)

    handler = serializers.PrimaryKeyRelatedField(queryset=_complaint_staff(), required=False, allow_null=True)
    related_service = _related_service_field()

    class Meta:
        model = Complaint
        fields = list(services.EDITABLE_FIELDS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        current = getattr(self.instance, "related_service_id", None)
        if current is not None:
            # The service named now stays valid even if retired since (a PUT of what GET gave).
            field = self.fields["related_service"]
            field.queryset = field.queryset | Service.objects.filter(pk=current)


class ComplaintTransitionSerializer(ComplaintInput, TransitionInputSerializer):
    """A workflow move: the action, a note for the timeline, and the inputs the action accepts.

    Which inputs an action takes is the workflow table's ``accepts``; whether the move is
    possible (state, role, required inputs) is decided by ``services.complaint_transition``.
    """

    table = TRANSITIONS

    action = ComplaintActionField()
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True),
        required=False,
        help_text=(
            "escalate, escalate_mrep, customer_unsatisfied: the new owner (a user id); default: the level's "
            "first member."
        ),
    )
    level = serializers.ChoiceField(
        choices=[level for level in EscalationLevel.choices if level[0] > 0],
        required=False,
        help_text="escalate: the level to go to (default one up; a BR manager may choose 3).",
    )
    diagnosis = serializers.CharField(required=False, allow_blank=True, help_text="remedy: the diagnosis result")
    remedial_actions = serializers.CharField(required=False, allow_blank=True, help_text="remedy")
    category = serializers.ChoiceField(
        choices=Category.choices, required=False, allow_blank=True, help_text="customer_satisfied"
    )
    root_cause = serializers.CharField(required=False, allow_blank=True, help_text="customer_satisfied")
    plan = serializers.PrimaryKeyRelatedField(
        queryset=ImprovementPlan.objects.filter(status__in=PLAN_OPEN_STATUSES),
        required=False,
        help_text="plan_improvement: an open improvement plan (its id)",
    )
    new_plan_title = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="plan_improvement: the title of a new draft plan (instead of plan)",
    )
    result = serializers.CharField(required=False, allow_blank=True, help_text="resolve")
