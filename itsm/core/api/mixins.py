"""View mixins the apps' viewsets share."""

from __future__ import annotations

from typing import Any

from django.db.models import prefetch_related_objects
from rest_framework import exceptions
from rest_framework.request import Request


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
