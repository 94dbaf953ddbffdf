"""The OpenAPI schema tells the truth about every operation (drf-spectacular).

``ApiAutoSchema`` is the API's ``DEFAULT_SCHEMA_CLASS``. It adds to each operation the error
answers every view can give, each with the one error body of ``itsm.core.api.exceptions``, so
a view declares only what is particular to it (its own description of an error wins):

* 400 where the operation reads input: a request body, or query parameters (a filter value
  that is not valid);
* 401 and 403 everywhere: no credentials, or a role without the permission;
* 404 where the path names a record, and on a paginated list (a page that does not exist);
* 409 on a delete that a protecting reference can refuse (``ProtectedError``);
* 429 where the view is throttled.

Only a GET lists: a write that answers with several rows (the bulk ingestion of tickets and
measurements) answers a plain array, never a filtered, paginated page; ``one_or_many`` says
that such an endpoint takes and returns one object or a list of them.

It also declares the blank choice of a read-only choice field whose model field allows
blank: DRF drops ``allow_blank`` from read-only model fields, so the enum would leave out the
``""`` that such a record really holds (a complaint without a category).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import get_lib_doc_excludes, get_view_model
from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer
from rest_framework import serializers

from .serializers import ApiErrorSerializer

ERROR_DESCRIPTIONS = {
    "400": "Invalid input: `message`, and `errors` with a message per field.",
    "401": "No valid credentials (a session or an `Authorization: Token …` header).",
    "403": "The caller's role may not do this.",
    "404": "No such record (or out of the caller's reach), or no such page of a list.",
    "409": "The record is still referenced by other records and cannot be deleted.",
    "429": "Too many requests: try again later.",
}
WRITE_METHODS = {"POST", "PUT", "PATCH"}


def one_or_many(serializer_class: type[serializers.Serializer], *, name: str) -> PolymorphicProxySerializer:
    """A body that is one ``serializer_class`` object or a list of them (a bulk endpoint
    answers in the shape it was sent)."""
    return PolymorphicProxySerializer(
        component_name=name,
        serializers=[serializer_class, serializer_class(many=True)],
        resource_type_field_name=None,
        many=False,
    )


def lib_doc_excludes() -> list[type]:
    """Classes whose docstrings describe code, not an operation (``GET_LIB_DOC_EXCLUDES``):
    drf-spectacular's list and the project's view mixins, so a viewset without a docstring of
    its own does not lend a mixin's to every operation."""
    from .mixins import CallerRolesOnceMixin, MissingMethodIs405Mixin, OutputAfterWriteMixin
    from .workflow import MachineRecordViewSet, WorkflowViewSetMixin

    return [
        *get_lib_doc_excludes(),
        MissingMethodIs405Mixin,
        CallerRolesOnceMixin,
        OutputAfterWriteMixin,
        WorkflowViewSetMixin,
        MachineRecordViewSet,
    ]


class ApiAutoSchema(AutoSchema):
    def _is_list_view(self, serializer=None) -> bool:
        # Lists (filters, pagination) are read with GET; a POST answering several rows is an array.
        return self.method == "GET" and super()._is_list_view(serializer)

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation["responses"]
        for code in self._error_codes(operation):
            if code not in responses:
                error = OpenApiResponse(ApiErrorSerializer, description=ERROR_DESCRIPTIONS[code])
                responses[code] = self._get_response_for_code(error, code)
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _error_codes(self, operation: dict[str, Any]) -> list[str]:
        parameters = operation.get("parameters", [])
        codes = ["401", "403"]
        if self.method in WRITE_METHODS or any(p["in"] == "query" for p in parameters):
            codes.append("400")
        paginated_list = self.method == "GET" and self._is_list_view() and self._get_paginator() is not None
        if paginated_list or any(p["in"] == "path" for p in parameters):
            codes.append("404")
        if self.method == "DELETE" and _deletion_can_be_refused(self._deleted_model()):
            codes.append("409")
        if self.view.get_throttles():
            codes.append("429")
        return codes

    def _deleted_model(self) -> type[models.Model] | None:
        # A nested delete (``questionnaires/{id}/questions/{question_id}/``) removes the row
        # of its action's serializer, not one of the view's queryset.
        serializer = self._get_serializer()
        model = getattr(getattr(serializer, "Meta", None), "model", None)
        return model or get_view_model(self.view, emit_warnings=False)

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if (
            direction == "response"
            and isinstance(field, serializers.ChoiceField)
            and not isinstance(field, serializers.MultipleChoiceField)
            and isinstance(schema, dict)
            and "" not in schema.get("enum", [""])
        ):
            model_field = _model_field(field)
            if isinstance(model_field, models.CharField | models.TextField) and model_field.blank:
                schema["enum"] = [*schema["enum"], ""]
        return schema


def _model_field(field: serializers.Field) -> models.Field | None:
    """The model field a serializer field reads (``source`` followed through relations)."""
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    if model is None or field.source == "*":
        return None
    model_field = None
    for attr in field.source_attrs:
        if model is None:
            return None
        try:
            model_field = model._meta.get_field(attr)
        except FieldDoesNotExist:
            return None
        model = model_field.related_model
    return model_field if isinstance(model_field, models.Field) else None


def _deletion_can_be_refused(model: type[models.Model] | None, seen: set | None = None) -> bool:
    """Whether deleting a row of ``model`` can meet a PROTECT / RESTRICT reference, on the row
    itself or on a row its deletion cascades to."""
    if model is None:
        return False
    seen = seen if seen is not None else set()
    if model in seen:
        return False
    seen.add(model)
    for relation in model._meta.related_objects:
        on_delete = getattr(relation, "on_delete", None)
        if on_delete in (models.PROTECT, models.RESTRICT):
            return True
        if on_delete is models.CASCADE and _deletion_can_be_refused(relation.related_model, seen):
            return True
    return False
