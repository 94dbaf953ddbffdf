"""A small per-client rate limit for the public (no-login) forms.

Counts hits per (scope, client address) in Django's cache for a fixed window. With several
web processes the cache must be shared (``CACHE_URL=redis://…``) for the limit to be global.
"""

from __future__ import annotations

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _


def over_limit(
    request: HttpRequest, *, scope: str, limit: int, window_seconds: int = 3600, key: str | None = None
) -> bool:
    """Count this request; True once the client has made more than ``limit`` in the window.

    Counted per client address, or per ``key`` when given (e.g. one personal link, whoever
    uses it: pass a digest, never a secret, since cache keys may be logged)."""
    key = f"throttle:{scope}:{key if key is not None else request.META.get('REMOTE_ADDR', '')}"
    if cache.add(key, 1, timeout=window_seconds):
        return False
    try:
        return cache.incr(key) > limit
    except ValueError:  # the key expired between add and incr
        cache.add(key, 1, timeout=window_seconds)
        return False


def throttled_response(request: HttpRequest) -> HttpResponse:
    """The 429 page of a public form: the same token-error page, saying to wait."""
    response = render(
        request,
        "core/token_error.html",
        {"code": "throttled", "title": _("Too many attempts"), "message": _("Please wait a while and try again.")},
        status=429,
    )
    response.headers["Retry-After"] = "600"
    add_never_cache_headers(response)
    return response
