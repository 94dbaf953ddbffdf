"""Permission predicates: the one place pages, the API and services ask "may this user…?".

Capabilities are model permissions granted to roles (``itsm.core.roles``); these helpers
name the questions so callers never spell permission strings themselves.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import models


def _codename(verb: str, model: type[models.Model] | models.Model) -> str:
    opts = model._meta
    return f"{opts.app_label}.{verb}_{opts.model_name}"


def can(user, verb: str, model: type[models.Model] | models.Model) -> bool:
    """Whether ``user`` holds the ``verb`` (view / add / change / delete) permission on ``model``."""
    return bool(user and user.is_authenticated and user.has_perm(_codename(verb, model)))


def can_view(user, model) -> bool:
    return can(user, "view", model)


def can_add(user, model) -> bool:
    return can(user, "add", model)


def can_change(user, model) -> bool:
    return can(user, "change", model)


def can_delete(user, model) -> bool:
    return can(user, "delete", model)


def can_view_history(user) -> bool:
    """Auditors and process owners read the audit trail of every record."""
    return bool(user and user.is_authenticated and user.has_perm("auditlog.view_logentry"))


def require(allowed: bool) -> None:
    """Raise ``PermissionDenied`` unless ``allowed`` (services call this before writing)."""
    if not allowed:
        raise PermissionDenied


def require_all(user, verbs: tuple[str, ...] | list[str], model) -> None:
    """Raise ``PermissionDenied`` unless ``user`` holds every one of ``verbs`` on ``model``."""
    require(all(can(user, verb, model) for verb in verbs))


def acting_user(request):
    """The signed-in ``User`` behind a request (``PermissionDenied`` for an anonymous one);
    what views pass to services as ``actor``."""
    from .models import User

    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user
