"""Who the client is behind the proxy, and a small per-client rate limit for the public forms.

``client_ip`` is the one answer to "which address is this request from", for the public
forms' limit here, the log-in lock-out (django-axes), the API's throttles (DRF's
``NUM_PROXIES``, the same rule) and the audit trail. Behind ``TRUSTED_PROXIES`` reverse
proxies (README, "Behind a reverse proxy"), each of which appends the address it was reached
from to ``X-Forwarded-For``, the client is the entry that many places from the right: the
address the outermost trusted proxy saw. Entries further left were written by the client
and are ignored, so a forged header changes nothing. With no trusted proxy (the default)
``X-Forwarded-For`` is ignored entirely and the client is the connection's address.

``over_limit`` counts hits per (scope, client address) in Django's cache for a fixed window.
With several web processes the cache must be shared (``CACHE_URL=redis://…``) for the limit
to be global.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _


def client_ip(request: HttpRequest) -> str:
    """The client's address: ``REMOTE_ADDR``, or with ``TRUSTED_PROXIES`` = n > 0 the n-th
    ``X-Forwarded-For`` entry from the right (the leftmost when there are fewer)."""
    proxies = getattr(settings, "TRUSTED_PROXIES", 0)
    remote = request.META.get("REMOTE_ADDR", "")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "") if proxies > 0 else ""
    entries = [entry.strip() for entry in forwarded.split(",") if entry.strip()]
    if not entries:
        return remote
    return entries[-min(proxies, len(entries))]


def over_limit(
    request: HttpRequest, *, scope: str, limit: int, window_seconds: int = 3600, key: str | None = None
) -> bool:
    """Count this request; True once the client has made more than ``limit`` in the window.

    Counted per client address, or per ``key`` when given (e.g. one personal link, whoever
    uses it: pass a digest, never a secret, since cache keys may be logged)."""
    key = f"throttle:{scope}:{key if key is not None else client_ip(request)}"
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
