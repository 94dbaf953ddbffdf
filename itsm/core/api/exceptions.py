"""One error format for the whole API.

Every error is ``{"message": "...", "errors": {field: [messages]}}`` (``errors`` only for
invalid input): a validation problem is a 400 with a message per field, never a 500.
Services raise Django's ``ValidationError`` / ``PermissionDenied``; they map here too. A URL
under ``/api/`` that no route matches (``/api/v1/complaints/1.5/``) is a 404 in the same body,
not the HTML page (``page_not_found``, the project's ``handler404``).
"""

from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler


def flatten_errors(errors: Any, prefix: str = "") -> dict[str, list[str]]:
    """Nested input errors keyed by their path, every value a list of messages:
    ``{"requester": {"email": [...]}}`` → ``{"requester.email": [...]}``, a list item's field
    ``{"department_ratios": [{}, {"percent": [...]}]}`` → ``{"department_ratios.1.percent": [...]}``."""
    flat: dict[str, list[str]] = {}
    if isinstance(errors, dict):
        for key, value in errors.items():
            flat.update(flatten_errors(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(errors, list) and errors and all(not isinstance(e, dict | list) for e in errors):
        flat[prefix or api_settings.NON_FIELD_ERRORS_KEY] = [str(e) for e in errors]
    elif isinstance(errors, list):
        for index, value in enumerate(errors):
            flat.update(flatten_errors(value, f"{prefix}.{index}" if prefix else str(index)))
    elif errors:
        flat[prefix or api_settings.NON_FIELD_ERRORS_KEY] = [str(errors)]
    return flat


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, ProtectedError):
        return Response(
            {"message": _("This record is still referenced by other records and cannot be deleted.")},
            status=status.HTTP_409_CONFLICT,
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = response.data
        if not isinstance(errors, dict):
            errors = {api_settings.NON_FIELD_ERRORS_KEY: errors}
        errors = flatten_errors(errors)
        if NON_FIELD_ERRORS in errors:
            # Django's "__all__" (model clean / check constraints) under DRF's one name.
            errors = {api_settings.NON_FIELD_ERRORS_KEY: errors.pop(NON_FIELD_ERRORS), **errors}
        response.data = {"message": _("The input is not valid."), "errors": errors}
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else response.data
        response.data = {"message": str(detail)}
    return response


def page_not_found(request, exception):
    """A URL no route matches: the API's error body under ``/api/``, the 404 page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"message": str(exceptions.NotFound.default_detail)},
            status=status.HTTP_404_NOT_FOUND,
            json_dumps_params={"ensure_ascii": False},
        )
    return defaults.page_not_found(request, exception)
