"""View mixins the apps' viewsets share."""

from __future__ import annotations

from typing import Any

from django.db.models import prefetch_related_objects
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response


class CallerRolesOnceMixin:
    """Load the caller's roles (groups) once per request: the serializers ask for them per row
    (``allowed_actions``), and a list of N records must not run N queries for them."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        if request.user.is_authenticated:
            getattr(request.user, "_prefetched_objects_cache", {}).pop("groups", None)
            prefetch_related_objects([request.user], "groups")


class MissingMethodIs405Mixin:
    """A method the resource lacks (DELETE of a record that is retired, never deleted) is a 405
    for everyone, not a 403 for lacking a permission that no role holds."""

    allowed_methods: list[str]

    def check_permissions(self, request: Request) -> None:
        if request.method and request.method.upper() not in self.allowed_methods:
            raise exceptions.MethodNotAllowed(request.method)
        super().check_permissions(request)  # type: ignore[misc]


class OutputAfterWriteMixin:
    """``create`` and ``update`` answer with the record as the viewset's ``_output(record, code)``
    reads it back (the output shape, fresh from the database), not with the input serializer's
    idea of it. Put it before DRF's ``CreateModelMixin`` / ``UpdateModelMixin``."""

    def _output(self, record: Any, code: int = status.HTTP_200_OK) -> Response:
        raise NotImplementedError

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)  # type: ignore[attr-defined]
        serializer.is_valid(raise_exception=True)
        return self._output(serializer.save(), status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = kwargs.pop("partial", False)
        view: Any = self
        serializer = view.get_serializer(view.get_object(), data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return self._output(serializer.save())
