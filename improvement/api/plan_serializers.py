"""Serializers of the plans' part of the improvement API (``views.ImprovementPlanViewSet``): the
plan as the list and the detail show it (with its items, actions and effectiveness reviews),
its workflow moves and history rows, and the input of each write — draft, edit, move, add /
edit / complete / cancel an action, record the effectiveness review. Writes go through
``improvement.services.plans`` with the acting user (the shared pieces: ``serializers.py``)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from itsm.core.api.serializers import StrictInputMixin
from itsm.core.api.workflow import MoveSerializer, TransitionInputSerializer, WorkflowEventSerializer
from itsm.core.models import Department, Organisation
from itsm.core.workflow import allowed
from kpi.models import KpiDefinition
from sla.models import Service

from ..choices import ACTION_OPEN_STATUSES
from ..models import EffectivenessReview, ImprovementItem, ImprovementPlan, ImprovementPlanEvent, PlanAction
from ..services.plans import ACTION_FIELDS, PLAN_FIELDS, PLAN_MACHINE, may_work_action, plan_create, plan_update
from ..workflow import PLAN_TRANSITIONS
from .serializers import (
    ActionStatusField,
    EffectivenessField,
    ImprovementItemSerializer,
    PlanActionField,
    PlanStatusField,
    StageField,
    active_users,
    call_service,
    caller_of,
    file_name,
    person,
)

# --- plans: output -------------------------------------------------------------------------------


class ImprovementActionSerializer(serializers.ModelSerializer):
    """An action of a plan: who does what by when, where it stands, its evidence, and whether
    the caller may record its progress (its owner, the plan's owner, or a role that changes
    actions)."""

    plan_status = PlanStatusField(source="plan.status", read_only=True)
    owner_name = serializers.SerializerMethodField()
    status = ActionStatusField(read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    overdue = serializers.SerializerMethodField()
    on_time = serializers.SerializerMethodField()
    evidence_file = serializers.SerializerMethodField()
    evidence_url = serializers.SerializerMethodField()
    may_work = serializers.SerializerMethodField()

    class Meta:
        model = PlanAction
        fields = [
            "id",
            "plan",
            "plan_status",
            "round",
            "title",
            "description",
            "owner",
            "owner_name",
            "due_on",
            "status",
            "status_display",
            "overdue",
            "evidence_note",
            "evidence_link",
            "evidence_file",
            "evidence_url",
            "done_at",
            "on_time",
            "may_work",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_owner_name(self, action: PlanAction) -> str | None:
        return person(action.owner)

    @extend_schema_field(serializers.BooleanField(help_text=gettext_lazy("Open and past its due date.")))
    def get_overdue(self, action: PlanAction) -> bool:
        return action.status in ACTION_OPEN_STATUSES and action.due_on < timezone.localdate()

    @extend_schema_field(
        serializers.BooleanField(allow_null=True, help_text=gettext_lazy("Done by its due date; null until done."))
    )
    def get_on_time(self, action: PlanAction) -> bool | None:
        if action.done_at is None:
            return None
        return timezone.localdate(action.done_at) <= action.due_on

    @extend_schema_field(serializers.CharField(allow_null=True, help_text=gettext_lazy("The evidence file's name.")))
    def get_evidence_file(self, action: PlanAction) -> str | None:
        return file_name(action.evidence)

    @extend_schema_field(
        serializers.CharField(allow_null=True, help_text=gettext_lazy("Where the evidence file is downloaded."))
    )
    def get_evidence_url(self, action: PlanAction) -> str | None:
        return reverse("improvement_action_evidence", args=[action.pk]) if action.evidence else None

    def get_may_work(self, action: PlanAction) -> bool:
        return may_work_action(caller_of(self), action)


class EffectivenessMeasuredValueSerializer(serializers.Serializer):
    """A closed period value of the plan's KPI against the plan's target, as the review read it."""

    period = serializers.CharField()
    value = serializers.CharField(allow_null=True)
    target = serializers.CharField(allow_null=True)
    baseline = serializers.CharField(allow_null=True)
    met = serializers.BooleanField(allow_null=True)


class EffectivenessReviewSerializer(serializers.ModelSerializer):
    """The effectiveness review of one round: when due, what it found (null until recorded),
    the evidence and, for a plan measured by a KPI, the period values it read."""

    result = EffectivenessField(read_only=True, allow_null=True)
    result_display = serializers.CharField(source="get_result_display", read_only=True)
    evidence_file = serializers.SerializerMethodField()
    measured = serializers.SerializerMethodField()
    reviewed_by_name = serializers.SerializerMethodField()

    class Meta:
        model = EffectivenessReview
        fields = [
            "id",
            "round",
            "due_on",
            "result",
            "result_display",
            "evidence_note",
            "evidence_file",
            "measured",
            "reviewed_by",
            "reviewed_by_name",
            "reviewed_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_evidence_file(self, review: EffectivenessReview) -> str | None:
        return file_name(review.evidence)

    @extend_schema_field(EffectivenessMeasuredValueSerializer(many=True))
    def get_measured(self, review: EffectivenessReview) -> list[Any]:
        return list(EffectivenessMeasuredValueSerializer(review.measured or [], many=True).data)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_reviewed_by_name(self, review: EffectivenessReview) -> str | None:
        return person(review.reviewed_by)


class ImprovementPlanTermsSerializer(serializers.Serializer):
    """What the approval approved (empty before the first approval)."""

    target_measure = serializers.CharField(required=False)
    kpi = serializers.IntegerField(required=False, allow_null=True)
    target_value = serializers.CharField(required=False, allow_null=True)
    target_date = serializers.CharField(required=False, allow_null=True)
    actions = serializers.ListField(
        child=serializers.IntegerField(), required=False, help_text=gettext_lazy("The ids of the actions approved.")
    )


class ImprovementPlanSerializer(serializers.ModelSerializer):
    """A plan as the list shows it: what, whose, where it stands (status, PDCA stage, round),
    its target date and review, how many of its actions are done, and the moves the caller may
    make now."""

    status = PlanStatusField(read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    stage = serializers.SerializerMethodField()
    stage_display = serializers.CharField(source="get_stage_display", read_only=True)
    owner_name = serializers.SerializerMethodField()
    team_name = serializers.SerializerMethodField()
    kpi_name = serializers.SerializerMethodField()
    outcome = EffectivenessField(read_only=True, allow_null=True)
    actions_done = serializers.IntegerField(read_only=True, help_text=gettext_lazy("Actions done."))
    actions_total = serializers.IntegerField(read_only=True, help_text=gettext_lazy("Actions not cancelled."))
    allowed_actions = serializers.SerializerMethodField()

    class Meta:
        model = ImprovementPlan
        fields = [
            "id",
            "reference",
            "title",
            "status",
            "status_display",
            "stage",
            "stage_display",
            "round",
            "owner",
            "owner_name",
            "team",
            "team_name",
            "kpi",
            "kpi_name",
            "target_date",
            "review_due_on",
            "change_request_ref",
            "actions_done",
            "actions_total",
            "approved_at",
            "outcome",
            "closed_at",
            "created_at",
            "updated_at",
            "allowed_actions",
        ]
        read_only_fields = fields

    @extend_schema_field(StageField())
    def get_stage(self, plan: ImprovementPlan) -> str:
        return plan.stage.value

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_owner_name(self, plan: ImprovementPlan) -> str | None:
        return person(plan.owner)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_team_name(self, plan: ImprovementPlan) -> str | None:
        return plan.team.name if plan.team is not None else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_kpi_name(self, plan: ImprovementPlan) -> str | None:
        return plan.kpi.name if plan.kpi is not None else None

    @extend_schema_field(serializers.ListField(child=PlanActionField()))
    def get_allowed_actions(self, plan: ImprovementPlan) -> list[str]:
        return [t.action for t in allowed(PLAN_MACHINE, plan, caller_of(self))]


def _ids(related: Any) -> list[int]:
    return sorted(row.pk for row in related.all())


class ImprovementPlanDetailSerializer(ImprovementPlanSerializer):
    """One plan in full: goal, scope (service, organisation and department ids), baseline and
    target, what was approved, the outcome, the items it answers (with their sources), its
    actions and its effectiveness reviews."""

    services = serializers.SerializerMethodField()
    organisations = serializers.SerializerMethodField()
    departments = serializers.SerializerMethodField()
    approved_by_name = serializers.SerializerMethodField()
    approved_terms = serializers.SerializerMethodField()
    items = ImprovementItemSerializer(many=True, read_only=True)
    actions = ImprovementActionSerializer(many=True, read_only=True)
    reviews = EffectivenessReviewSerializer(many=True, read_only=True)

    class Meta(ImprovementPlanSerializer.Meta):
        fields = [
            *ImprovementPlanSerializer.Meta.fields,
            "goal",
            "services",
            "organisations",
            "departments",
            "baseline_measure",
            "target_measure",
            "baseline_value",
            "target_value",
            "approved_by",
            "approved_by_name",
            "approved_terms",
            "outcome_note",
            "legacy_ref",
            "created_by",
            "items",
            "actions",
            "reviews",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_services(self, plan: ImprovementPlan) -> list[int]:
        return _ids(plan.services)

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_organisations(self, plan: ImprovementPlan) -> list[int]:
        return _ids(plan.organisations)

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_departments(self, plan: ImprovementPlan) -> list[int]:
        return _ids(plan.departments)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_approved_by_name(self, plan: ImprovementPlan) -> str | None:
        return person(plan.approved_by)

    @extend_schema_field(ImprovementPlanTermsSerializer)
    def get_approved_terms(self, plan: ImprovementPlan) -> dict[str, Any]:
        return dict(plan.approved_terms or {})


class ImprovementPlanEventSerializer(WorkflowEventSerializer):
    """One step of a plan's history: its moves, actions added and done, items joined, reviews."""

    machine = PLAN_MACHINE

    from_status = PlanStatusField(read_only=True, allow_null=True)
    to_status = PlanStatusField(read_only=True, allow_null=True)

    class Meta(WorkflowEventSerializer.Meta):
        model = ImprovementPlanEvent


class ImprovementPlanMoveSerializer(MoveSerializer):
    action = PlanActionField()
    target = PlanStatusField()  # type: ignore[assignment]  # a status: one enum, not a string


# --- plans: input --------------------------------------------------------------------------------


class PlanInput(StrictInputMixin):
    read_only_names = frozenset(ImprovementPlanDetailSerializer.Meta.fields)


class ImprovementPlanWriteSerializer(PlanInput, serializers.ModelSerializer):
    """What a plan's form writes (``PLAN_FIELDS``) and its scope: ``services``,
    ``organisations`` and ``departments`` are the full lists of ids (replacing the current ones
    when sent)."""

    owner = serializers.PrimaryKeyRelatedField(
        queryset=active_users(), required=False, allow_null=True, help_text=gettext_lazy("Default: the caller.")
    )
    team = serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.all(),
        required=False,
        allow_null=True,
        help_text=gettext_lazy("An internal team whose own plan this is: its department head approves it."),
    )
    kpi = serializers.PrimaryKeyRelatedField(
        queryset=KpiDefinition.objects.all(),
        required=False,
        allow_null=True,
        help_text=gettext_lazy("A KPI that measures success (then the target value and date are needed)."),
    )
    services = serializers.PrimaryKeyRelatedField(queryset=Service.objects.all(), many=True, required=False)
    organisations = serializers.PrimaryKeyRelatedField(queryset=Organisation.objects.all(), many=True, required=False)
    departments = serializers.PrimaryKeyRelatedField(queryset=Department.objects.all(), many=True, required=False)

    class Meta:
        model = ImprovementPlan
        fields = [*PLAN_FIELDS, "services", "organisations", "departments"]


class ImprovementPlanCreateSerializer(ImprovementPlanWriteSerializer):
    """A new plan (a draft, numbered ``SIP-YYYY-NNNN``) answering ``items``: open items of the
    register, each then planned."""

    items = serializers.PrimaryKeyRelatedField(
        queryset=ImprovementItem.objects.all(),
        many=True,
        required=False,
        help_text=gettext_lazy("Ids of open items the plan answers."),
    )

    class Meta(ImprovementPlanWriteSerializer.Meta):
        fields = [*ImprovementPlanWriteSerializer.Meta.fields, "items"]

    def create(self, validated_data: dict[str, Any]) -> ImprovementPlan:
        return call_service(plan_create, actor=self.context["request"].user, **validated_data)


class ImprovementPlanUpdateSerializer(ImprovementPlanWriteSerializer):
    """A change of a plan that is not closed or rejected (``plan_update``): a changed target
    on an approved plan sends it back for approval."""

    def update(self, instance: ImprovementPlan, validated_data: dict[str, Any]) -> ImprovementPlan:
        return call_service(plan_update, plan=instance, actor=self.context["request"].user, **validated_data)


class ImprovementPlanTransitionSerializer(PlanInput, TransitionInputSerializer):
    """A move of a plan: the action, a note for the history (required by ``return_for_rework``,
    ``reject`` and ``repeat``) and the inputs the action takes."""

    table = PLAN_TRANSITIONS

    action = PlanActionField()
    review_due_on = serializers.DateField(
        required=False, allow_null=True, help_text=gettext_lazy("request_review: when the effectiveness review is due.")
    )
    outcome_note = serializers.CharField(
        required=False, allow_blank=True, help_text=gettext_lazy("close: the outcome recorded.")
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("action") == "resubmit":
            raise serializers.ValidationError(
                {"action": [_("A plan goes back for approval when its target or actions change.")]}
            )
        return super().validate(attrs)


class ImprovementActionAddSerializer(StrictInputMixin, serializers.Serializer):
    """A new action of a plan, due on a date or in a number of working days (the business
    calendar counts them)."""

    read_only_names = frozenset(ImprovementActionSerializer.Meta.fields) - {"title", "description", "owner", "due_on"}

    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    owner = serializers.PrimaryKeyRelatedField(queryset=active_users())
    due_on = serializers.DateField(required=False, allow_null=True, default=None)
    working_days = serializers.IntegerField(
        min_value=1,
        max_value=750,
        required=False,
        allow_null=True,
        default=None,
        help_text=gettext_lazy("Due in this many working days from today (instead of due_on)."),
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("due_on") is None and attrs.get("working_days") is None:
            raise serializers.ValidationError({"due_on": [_("Give the due date or a number of working days.")]})
        if attrs.get("due_on") is not None and attrs.get("working_days") is not None:
            raise serializers.ValidationError(
                {"working_days": [_("Give the due date or a number of working days, not both.")]}
            )
        return attrs


class ImprovementActionUpdateSerializer(StrictInputMixin, serializers.ModelSerializer):
    """An open action's title, description, owner or due date (``action_update``)."""

    read_only_names = frozenset(ImprovementActionSerializer.Meta.fields) - set(ACTION_FIELDS)

    owner = serializers.PrimaryKeyRelatedField(queryset=active_users(), required=False)

    class Meta:
        model = PlanAction
        fields = list(ACTION_FIELDS)


class ImprovementActionCompleteSerializer(StrictInputMixin, serializers.Serializer):
    """An action done, with its evidence: what was done, a link, a file (multipart) — at least one."""

    evidence_note = serializers.CharField(required=False, allow_blank=True, default="")
    evidence_link = serializers.URLField(max_length=500, required=False, allow_blank=True, default="")
    evidence = serializers.FileField(
        required=False,
        allow_null=True,
        default=None,
        help_text=gettext_lazy("An evidence file (multipart only): PDF, image, Office document, text, mail or zip."),
    )


class ImprovementActionCancelSerializer(StrictInputMixin, serializers.Serializer):
    reason = serializers.CharField(allow_blank=True, help_text=gettext_lazy("Why the action is cancelled."))


class EffectivenessReviewRecordSerializer(StrictInputMixin, serializers.Serializer):
    """The effectiveness review's result with its evidence: effective or partly closes the plan,
    not effective sends it round again."""

    result = EffectivenessField()
    evidence_note = serializers.CharField(allow_blank=True, help_text=gettext_lazy("What the result rests on."))
    evidence = serializers.FileField(
        required=False, allow_null=True, default=None, help_text=gettext_lazy("An evidence file (multipart only).")
    )
