"""The API side of the workflow kit (``itsm.core.workflow``): one mixin gives a viewset over a
record of a ``Machine`` its ``{id}/transitions/`` and ``{id}/events/``, with their OpenAPI
declarations written here once.

* ``GET {id}/transitions/``: the moves the caller may make now (``allowed``), each with its
  label, description, target status, ``requires`` and ``accepts``;
* ``POST {id}/transitions/``: ``action``, ``note`` and the action's inputs, performed through
  the machine (``perform``): 400 for a move the table forbids from the current status or an
  input missing, unknown or invalid (``errors`` names it), 403 for a role that may not (the
  kit's message kept);
* ``GET {id}/events/``: the record's history, oldest first, paginated.

A viewset declares ``workflow_machine``, the serializers (``move_serializer_class`` — a
``MoveSerializer`` with the machine's action field —, ``transition_serializer_class`` — a
``TransitionInputSerializer`` —, ``event_serializer_class``, ``output_serializer_class``),
the texts of its operations, and ``_output(record)``, the response after a move.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, cast

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import exceptions, mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from ..models import User
from ..workflow import Machine, Transition, allowed, perform
from .mixins import CallerRolesOnceMixin, MissingMethodIs405Mixin, OutputAfterWriteMixin
from .permissions import RolePermission
from .serializers import ApiErrorSerializer, StrictInputMixin

ERRORS = {
    400: OpenApiResponse(ApiErrorSerializer, description="Invalid input: a message per field."),
    403: OpenApiResponse(ApiErrorSerializer, description="The caller's role may not do this."),
    404: OpenApiResponse(ApiErrorSerializer, description="Not found (or out of reach)."),
}


class WorkflowPermission(RolePermission):
    """A workflow move (or another action on a record) changes it: POST needs ``change``, not ``add``."""

    perms_map = {**RolePermission.perms_map, "POST": ["%(app_label)s.change_%(model_name)s"]}


def action_field(table: Mapping[str, Transition], *, component_name: str, description: str) -> type:
    """A ``ChoiceField`` of ``table``'s actions, one named enum in the schema (``ComplaintAction``)."""

    names = list(table)

    @extend_schema_field({"type": "string", "enum": names, "description": description}, component_name=component_name)
    class ActionField(serializers.ChoiceField):
        def __init__(self, **kwargs):
            super().__init__(choices=names, **kwargs)

    ActionField.__name__ = ActionField.__qualname__ = f"{component_name}Field"
    return ActionField


class MoveSerializer(serializers.Serializer):
    """A move the caller may make now, and what to send with it."""

    # A machine's subclass declares ``action`` (its ``action_field``). ``accepts`` lists
    # ``inputs_before``, the transition's own inputs, then ``inputs_after``.

    # Declared fields leave the class body (DRF's metaclass), so these names shadow nothing.
    label = serializers.CharField()  # type: ignore[assignment]
    description = serializers.CharField()  # type: ignore[assignment]
    target = serializers.CharField(help_text=gettext_lazy("The status the move leads to."))
    requires = serializers.ListField(
        child=serializers.CharField(), help_text=gettext_lazy("Inputs that must not be blank.")
    )
    accepts = serializers.ListField(child=serializers.CharField(), help_text=gettext_lazy("Inputs the action takes."))

    inputs_before: ClassVar[tuple[str, ...]] = ("note",)
    inputs_after: ClassVar[tuple[str, ...]] = ()

    def to_representation(self, instance: Transition) -> dict[str, Any]:
        return {
            "action": instance.action,
            "label": str(instance.label),
            "description": str(instance.description),
            "target": instance.target,
            "requires": list(instance.requires),
            "accepts": [*self.inputs_before, *instance.accepts, *self.inputs_after],
        }


class TransitionInputSerializer(StrictInputMixin, serializers.Serializer):
    """A workflow move's body: the action (a subclass declares its ``action_field``), a note for
    the history, and the inputs the action accepts (the subclass declares them as fields). An
    input the chosen action does not take is a 400 naming it; whether the move is possible
    (status, role, required inputs) is the machine's call."""

    table: ClassVar[Mapping[str, Transition]]
    note = serializers.CharField(required=False, allow_blank=True, default="")

    def validate(self, attrs):
        transition = self.table[attrs["action"]]
        unexpected = set(attrs) - {"action", "note", *transition.accepts}
        if unexpected:
            message = _("“%(action)s” does not take this field.") % {"action": transition.label}
            raise serializers.ValidationError({name: [message] for name in sorted(unexpected)})
        return attrs


class WorkflowEventSerializer(serializers.ModelSerializer):
    """One history row of a machine's record: who (a user, or ``system`` / ``customer``), when,
    the action (and its label), from, to, note and details."""

    # A subclass sets ``Meta.model`` and its ``machine`` (whose ``action_label`` names the rows).
    machine: ClassVar[Machine]

    action_display = serializers.SerializerMethodField()
    actor_name = serializers.SerializerMethodField()

    class Meta:
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

    def get_action_display(self, event: Any) -> str:
        return self.machine.action_label(event.action)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_actor_name(self, event: Any) -> str | None:
        return str(event.actor) if event.actor is not None else None


class WorkflowViewSetMixin(CallerRolesOnceMixin):
    """``transitions`` and ``events`` for a viewset over ``workflow_machine``'s model (see the module)."""

    workflow_machine: ClassVar[Machine]
    move_serializer_class: ClassVar[type[MoveSerializer]]
    transition_serializer_class: ClassVar[type[TransitionInputSerializer]]
    event_serializer_class: ClassVar[type[serializers.Serializer]]
    output_serializer_class: ClassVar[type[serializers.Serializer]]
    # The operations' texts in the schema.
    moves_summary: ClassVar[str] = "The workflow moves the caller may make now"
    move_summary: ClassVar[str] = "Perform a workflow action"
    move_description: ClassVar[str] = ""
    events_summary: ClassVar[str] = "The history, oldest first"
    # Reading the history needs the event model's own view permission (sla's rule).
    events_need_view_permission: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "workflow_machine" not in cls.__dict__:
            return
        event_model = cls.workflow_machine.event_model._meta
        events_errors = {404: ERRORS[404]}
        events_description = ""
        if cls.events_need_view_permission:
            events_errors = {403: ERRORS[403], 404: ERRORS[404]}
            events_description = f"Needs `{event_model.app_label}.view_{event_model.model_name}`."
        extend_schema_view(
            transitions=[
                extend_schema(
                    methods=["GET"],
                    summary=cls.moves_summary,
                    responses={200: cls.move_serializer_class(many=True), 404: ERRORS[404]},
                ),
                extend_schema(
                    methods=["POST"],
                    summary=cls.move_summary,
                    description=cls.move_description,
                    request=cls.transition_serializer_class,
                    responses={200: cls.output_serializer_class, **ERRORS},
                ),
            ],
            events=extend_schema(
                summary=cls.events_summary,
                description=events_description,
                responses={200: cls.event_serializer_class(many=True), **events_errors},
            ),
        )(cls)

    def workflow_serializer_class(self) -> type[serializers.Serializer] | None:
        """The serializer of ``transitions`` / ``events`` (the browsable API's forms), else None:
        for a viewset's own ``get_serializer_class`` to ask first."""
        moves = {"transitions": self.transition_serializer_class, "events": self.event_serializer_class}
        return moves.get(cast(Any, self).action or "")

    def get_serializer_class(self) -> Any:
        return self.workflow_serializer_class() or super().get_serializer_class()  # type: ignore[misc]

    def allowed_moves(self, record: Any) -> list[Transition]:
        return allowed(self.workflow_machine, record, self.request.user)  # type: ignore[attr-defined]

    def _output(self, record: Any, code: int = 200) -> Response:
        """The response after a move: the record in the viewset's output shape."""
        raise NotImplementedError

    @action(
        detail=True,
        methods=["get", "post"],
        permission_classes=[WorkflowPermission],
        filter_backends=[],
        pagination_class=None,
    )
    def transitions(self, request: Request, pk: str | None = None) -> Response:
        view = cast(Any, self)
        record = view.get_object()
        if request.method == "GET":
            return Response(self.move_serializer_class(self.allowed_moves(record), many=True).data)
        serializer = self.transition_serializer_class(data=request.data, context=view.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        inputs = dict(serializer.validated_data)
        try:
            record = perform(
                self.workflow_machine,
                record,
                inputs.pop("action"),
                actor=cast(User, request.user),  # signed in: the permission class saw to it
                note=inputs.pop("note", ""),
                inputs=inputs,
            )
        except DjangoPermissionDenied as exc:
            raise refused_as_403(exc) from exc
        return self._output(record)

    @action(detail=True, methods=["get"], filter_backends=[])
    def events(self, request: Request, pk: str | None = None) -> Response:
        view = cast(Any, self)
        record = view.get_object()
        if self.events_need_view_permission:
            from ..permissions import can

            if not can(request.user, "view", self.workflow_machine.event_model):
                raise exceptions.PermissionDenied()
        page = view.paginate_queryset(self.workflow_machine.events(record))
        return view.get_paginated_response(self.event_serializer_class(page, many=True).data)


class MachineRecordViewSet(
    MissingMethodIs405Mixin,
    WorkflowViewSetMixin,
    OutputAfterWriteMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """A record on a machine: list, read, create, edit and its workflow; never deleted (a
    complaint is withdrawn, a service retired, an agreement ended: DELETE is a 405)."""


def refused_as_403(exc: DjangoPermissionDenied) -> exceptions.PermissionDenied:
    """A service's refusal as the API's 403, its message kept ("Your role may not perform …")."""
    return exceptions.PermissionDenied(str(exc) or None)
