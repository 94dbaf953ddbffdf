"""Serializers of the improvement API: the register's items (with their sources), their
workflow moves and history rows, the input of each write on an item, and what the plans' part
(``plan_serializers.py``) and the review meetings' share — one named schema component per
choice set (``ImprovementItemStatus``, ``ImprovementPriority``…, so clients get one enum type
however many fields carry it) and ``call_service``.

Writes go through ``improvement.services`` with the acting user, exactly as the pages do.
Input serializers refuse every key they do not write with a 400 naming it (``status``: "the
status changes only through a workflow action"), rather than dropping it silently.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePath
from typing import Any, cast

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import serializers

from itsm.core.api.serializers import ApiErrorSerializer, StrictInputMixin
from itsm.core.api.workflow import (
    MoveSerializer,
    TransitionInputSerializer,
    WorkflowEventSerializer,
    action_field,
    refused_as_403,
)
from itsm.core.models import User
from itsm.core.workflow import allowed

from ..choices import (
    ITEM_OPEN_STATUSES,
    ActionStatus,
    Effectiveness,
    ItemStatus,
    PlanStatus,
    Priority,
    Stage,
)
from ..models import (
    ImprovementItem,
    ImprovementItemEvent,
    ImprovementPlan,
)
from ..registry import source_for
from ..services.items import ITEM_FIELDS, ITEM_MACHINE, item_create, item_update
from ..workflow import ITEM_TRANSITIONS, PLAN_TRANSITIONS
from .sources import ResolvedSource, resolve_sources

ERRORS = {
    400: OpenApiResponse(ApiErrorSerializer, description="Invalid input: a message per field."),
    403: OpenApiResponse(ApiErrorSerializer, description="The caller's role may not do this."),
    404: OpenApiResponse(ApiErrorSerializer, description="Not found (or out of reach)."),
}
MAX_ID = 2**63 - 1
SOURCES_KEY = "improvement_sources"


def person(user: User | None) -> str | None:
    return str(user) if user is not None else None


def call_service(write: Callable[..., Any], /, *, rename: dict[str, str] | None = None, **kwargs: Any) -> Any:
    """Call a write service: its ``ValidationError`` becomes a 400 per field (``rename`` maps a
    service's field name to the input's: ``source`` → ``source_id``), its ``PermissionDenied``
    a 403 that keeps its message."""
    try:
        return write(**kwargs)
    except DjangoValidationError as exc:
        errors = serializers.as_serializer_error(exc)
        for old, new in (rename or {}).items():
            if old in errors:
                errors[new] = [*errors.get(new, []), *errors.pop(old)]
        raise serializers.ValidationError(errors) from exc
    except DjangoPermissionDenied as exc:
        raise refused_as_403(exc) from exc


def caller_of(serializer: serializers.Field) -> Any:
    request = serializer.context.get("request")
    return getattr(request, "user", None) or AnonymousUser()


def file_name(file: Any) -> str | None:
    return PurePath(file.name).name if file else None


def choice_field(choices: type[models.TextChoices], *, component_name: str, description: str) -> type:
    """A ``ChoiceField`` of ``choices``, one named enum in the schema; ``null`` stands for blank."""

    @extend_schema_field(
        {"type": "string", "enum": list(choices.values), "description": description}, component_name=component_name
    )
    class Field(serializers.ChoiceField):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(choices=choices.choices, **kwargs)

        def to_representation(self, value: Any) -> Any:
            return value or None

    Field.__name__ = Field.__qualname__ = f"{component_name}Field"
    return Field


ItemStatusField = choice_field(
    ItemStatus, component_name="ImprovementItemStatus", description="An improvement item's status."
)
PlanStatusField = choice_field(
    PlanStatus, component_name="ImprovementPlanStatus", description="A service improvement plan's status."
)
PriorityField = choice_field(Priority, component_name="ImprovementPriority", description="An item's priority.")
StageField = choice_field(Stage, component_name="PdcaStage", description="The PDCA stage of a plan's status.")
ActionStatusField = choice_field(
    ActionStatus, component_name="ImprovementActionStatus", description="An improvement action's status."
)
EffectivenessField = choice_field(
    Effectiveness, component_name="EffectivenessResult", description="What an effectiveness review found."
)
ItemActionField = action_field(
    ITEM_TRANSITIONS,
    component_name="ImprovementItemAction",
    description="A workflow action of an improvement item (improvement.workflow).",
)
PlanActionField = action_field(
    PLAN_TRANSITIONS,
    component_name="ImprovementPlanAction",
    description="A workflow action of a service improvement plan (improvement.workflow).",
)


# --- items: output -------------------------------------------------------------------------------


class ImprovementSourceSerializer(serializers.Serializer):
    """Where an item comes from: the kind (and its label), the record and the part of it named,
    described and linked as the caller may see it (``readable`` false: neither)."""

    kind = serializers.CharField(help_text=gettext_lazy("The kind of source (improvement.registry)."))
    label = serializers.CharField(help_text=gettext_lazy("The kind's name."))  # type: ignore[assignment]
    id = serializers.IntegerField(allow_null=True, help_text=gettext_lazy("The source record's id."))
    part_id = serializers.IntegerField(
        allow_null=True, help_text=gettext_lazy("The part of the source named (a survey question), if any.")
    )
    description = serializers.CharField(
        allow_null=True, help_text=gettext_lazy("The source named; null when it is gone or not the caller's to read.")
    )
    url = serializers.CharField(allow_null=True, help_text=gettext_lazy("The source's page, if any."))
    readable = serializers.BooleanField(help_text=gettext_lazy("Whether the caller may read sources of this kind."))


class ImprovementItemListSerializer(serializers.ListSerializer):
    """Many items: their sources resolved together, a query per kind of record, not per item."""

    def to_representation(self, data: Any) -> list[Any]:
        items = list(data.all() if isinstance(data, models.manager.BaseManager) else data)
        known: dict[int, ResolvedSource] = cast(dict, self.context).setdefault(SOURCES_KEY, {})
        missing = [item for item in items if item.pk not in known]
        if missing:
            known.update(resolve_sources(missing, caller_of(self)))
        child = self.child
        assert child is not None  # noqa: S101  (narrowing for mypy)
        return [child.to_representation(item) for item in items]


class ImprovementItemSerializer(serializers.ModelSerializer):
    """An item of the register as every endpoint returns it: what, how urgent, whose, where it
    stands, the plan it is part of, its source, and the moves the caller may make now (the
    caller's roles are loaded once per request)."""

    priority = PriorityField(read_only=True)
    priority_display = serializers.CharField(source="get_priority_display", read_only=True)
    status = ItemStatusField(read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    owner_name = serializers.SerializerMethodField()
    plan_reference = serializers.SerializerMethodField()
    duplicate_of_reference = serializers.SerializerMethodField()
    source = serializers.SerializerMethodField()  # type: ignore[assignment]  # a declared field, not Field.source
    overdue = serializers.SerializerMethodField()
    suggested = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField()

    class Meta:
        model = ImprovementItem
        list_serializer_class = ImprovementItemListSerializer
        fields = [
            "id",
            "reference",
            "title",
            "description",
            "priority",
            "priority_display",
            "status",
            "status_display",
            "owner",
            "owner_name",
            "plan",
            "plan_reference",
            "duplicate_of",
            "duplicate_of_reference",
            "source_kind",
            "source_id",
            "source_part_id",
            "source",
            "target_date",
            "overdue",
            "resolution",
            "suggested",
            "closed_at",
            "created_by",
            "created_at",
            "updated_at",
            "allowed_actions",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_owner_name(self, item: ImprovementItem) -> str | None:
        return person(item.owner)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_plan_reference(self, item: ImprovementItem) -> str | None:
        return item.plan.reference if item.plan is not None else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_duplicate_of_reference(self, item: ImprovementItem) -> str | None:
        return item.duplicate_of.reference if item.duplicate_of is not None else None

    @extend_schema_field(ImprovementSourceSerializer)
    def get_source(self, item: ImprovementItem) -> dict[str, Any]:
        known: dict[int, ResolvedSource] = cast(dict, self.context).setdefault(SOURCES_KEY, {})
        if item.pk not in known:
            known.update(resolve_sources([item], caller_of(self)))
        return ImprovementSourceSerializer(known[item.pk]).data

    @extend_schema_field(
        serializers.BooleanField(help_text=gettext_lazy("Still to be worked on and past its close-by date."))
    )
    def get_overdue(self, item: ImprovementItem) -> bool:
        return bool(item.status in ITEM_OPEN_STATUSES and item.target_date and item.target_date < timezone.localdate())

    @extend_schema_field(serializers.BooleanField(help_text=gettext_lazy("Raised by the system's intake.")))
    def get_suggested(self, item: ImprovementItem) -> bool:
        return item.intake_key is not None

    @extend_schema_field(serializers.ListField(child=ItemActionField()))
    def get_allowed_actions(self, item: ImprovementItem) -> list[str]:
        return [t.action for t in allowed(ITEM_MACHINE, item, caller_of(self))]


class ImprovementItemEventSerializer(WorkflowEventSerializer):
    """One step of an item's history: raised or suggested, accepted, planned, done, dismissed…"""

    machine = ITEM_MACHINE

    from_status = ItemStatusField(read_only=True, allow_null=True)
    to_status = ItemStatusField(read_only=True, allow_null=True)

    class Meta(WorkflowEventSerializer.Meta):
        model = ImprovementItemEvent


class ImprovementItemMoveSerializer(MoveSerializer):
    action = ItemActionField()
    target = ItemStatusField()  # type: ignore[assignment]  # a status: one enum, not a string


# --- items: input --------------------------------------------------------------------------------


class ItemInput(StrictInputMixin):
    """The item's output fields are read-only in every input (a 400 saying so)."""

    read_only_names = frozenset(ImprovementItemSerializer.Meta.fields)


def active_users() -> Any:
    return User.objects.filter(is_active=True)


class ImprovementItemCreateSerializer(ItemInput, serializers.Serializer):
    """An item raised from a source: the kind, the record (and the part of it), what and how
    urgent. ``plan`` puts it straight into an open plan."""

    source_kind = serializers.CharField(
        max_length=40, help_text=gettext_lazy("A kind of source the register knows (improvement.registry).")
    )
    source_id = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text=gettext_lazy("The source record's id.")
    )
    source_part_id = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        allow_null=True,
        default=None,
        help_text=gettext_lazy("A part of the source the kind names (survey_question: the question's id)."),
    )
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    priority = PriorityField(required=False, default=Priority.MEDIUM)
    owner = serializers.PrimaryKeyRelatedField(
        queryset=active_users(),
        required=False,
        allow_null=True,
        default=None,
        help_text=gettext_lazy("Default: the caller."),
    )
    plan = serializers.PrimaryKeyRelatedField(
        queryset=ImprovementPlan.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text=gettext_lazy("An open plan the item joins at once (it is then planned)."),
    )
    target_date = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text=gettext_lazy("Default: from the priority, in working days."),
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        kind = attrs["source_kind"]
        registered = source_for(kind)
        if registered is None:
            raise serializers.ValidationError({"source_kind": [_("Unknown source “%(kind)s”.") % {"kind": kind}]})
        if not registered.manual:
            raise serializers.ValidationError(
                {"source_kind": [_("Items of this kind are suggested by the system only.")]}
            )
        if not registered.readable_by(caller_of(self)):
            raise serializers.ValidationError({"source_id": [_("You may not read this source.")]})
        records = registered.records()
        if hasattr(records, "visible_to"):  # a record out of the caller's reach is no source of theirs
            records = records.visible_to(caller_of(self))
        source = records.filter(pk=attrs["source_id"]).first()
        if source is None:
            raise serializers.ValidationError({"source_id": [_("There is no such record of this kind.")]})
        part = None
        part_id = attrs.get("source_part_id")
        if part_id is not None:
            part_class = registered.part_class
            part = part_class._default_manager.filter(pk=part_id).first() if part_class is not None else None
            if part is None:
                raise serializers.ValidationError({"source_part_id": [_("This source has no such part.")]})
        attrs["source"], attrs["source_part"] = source, part
        return attrs

    def create(self, validated_data: dict[str, Any]) -> ImprovementItem:
        data = dict(validated_data)
        data.pop("source_id")
        data.pop("source_part_id", None)
        return call_service(
            item_create,
            rename={"source": "source_id"},
            actor=self.context["request"].user,
            **data,
        )


class ImprovementItemUpdateSerializer(ItemInput, serializers.ModelSerializer):
    """An item's text, priority, owner and close-by date (``ITEM_FIELDS``, ``item_update``); the
    status, source and plan change only through the workflow."""

    priority = PriorityField(required=False)
    owner = serializers.PrimaryKeyRelatedField(queryset=active_users(), required=False, allow_null=True)

    class Meta:
        model = ImprovementItem
        fields = list(ITEM_FIELDS)

    def update(self, instance: ImprovementItem, validated_data: dict[str, Any]) -> ImprovementItem:
        return call_service(item_update, item=instance, actor=self.context["request"].user, **validated_data)


class ImprovementItemTransitionSerializer(ItemInput, TransitionInputSerializer):
    """A move of an item: the action, a note for the history (required by ``dismiss``,
    ``unplan`` and ``reopen``) and the inputs the action takes."""

    table = ITEM_TRANSITIONS

    action = ItemActionField()
    plan = serializers.PrimaryKeyRelatedField(
        queryset=ImprovementPlan.objects.all(), required=False, help_text=gettext_lazy("plan: an open plan's id.")
    )
    duplicate_of = serializers.PrimaryKeyRelatedField(
        queryset=ImprovementItem.objects.all(),
        required=False,
        allow_null=True,
        help_text=gettext_lazy("dismiss: the item this one duplicates."),
    )
    resolution = serializers.CharField(
        required=False, allow_blank=True, help_text=gettext_lazy("complete: what was done about it.")
    )
