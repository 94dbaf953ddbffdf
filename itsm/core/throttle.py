"""A small per-client rate limit for the public (no-login) forms.

Counts hits per (scope, client address) in Django's cache for a fixed window. With several
web processes the cache must be shared (``CACHE_URL=redis://…``) for the limit to be global.
"""

from __future__ import annotations

from django.core.cache import cache
from django.http import HttpRequest


def over_limit(request: HttpRequest, *, scope: str, limit: int, window_seconds: int = 3600) -> bool:
    """Count this request; True once the client has made more than ``limit`` in the window."""
    key = f"throttle:{scope}:{request.META.get('REMOTE_ADDR', '')}"
    if cache.add(key, 1, timeout=window_seconds):
        return False
    try:
        return cache.incr(key) > limit
    except ValueError:  # the key expired between add and incr
        cache.add(key, 1, timeout=window_seconds)
        return False
