"""Personal links for people without an account: issue, check, consume, revoke, extend.

A customer confirms a complaint result or answers a survey through a link mailed to them.
``token_issue`` makes a random token (``secrets.token_urlsafe(32)``, 256 bits), stores only
its SHA-256 digest in an ``AccessToken`` row and returns the token once, for the mail
(``token_url`` builds the link). A copy of the database therefore opens no link, and the
pages reveal nothing about other links or whom a link belongs to.

Looking a token up costs the same whatever it is: the digest of a well-formed token is
looked up by its unique index (an attacker cannot steer a digest, so the index lookup leaks
nothing useful); a token that could never have been issued (empty, too long, characters
outside the URL-safe alphabet) is refused as not found without a query.

What a link that cannot be used says, in this order of precedence:

1. ``TokenNotFound`` (404): unknown, malformed, or issued for another purpose — one answer
   for all three, so probing tells nothing;
2. ``TokenRevoked`` (410): staff withdrew it; a deliberate act stays final;
3. ``TokenUsed`` (410): already submitted — reported before expiry so a customer who answered
   and clicks again after the close date reads "thank you, your answer was recorded";
4. ``TokenExpired`` (410).

Revoking and consuming touch only open tokens (neither used nor revoked), so a token is never
both revoked and used.

Views: ``token_view(purpose=...)`` wraps a public view, checks the token from the URL and
renders ``core/token_error.html`` for any ``TokenError`` (``render_token_error``), including
one the view raises itself (a second submission). A submission calls ``token_consume`` inside
the transaction that records the answer, so the answer and the use of the link commit or roll
back together.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime, timedelta
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt

from .models import AccessToken

TOKEN_BYTES = 32
# What secrets.token_urlsafe can produce (43 characters for 32 bytes); some slack either way
# so a change of TOKEN_BYTES does not orphan links already mailed.
_WELL_FORMED = re.compile(r"[A-Za-z0-9_-]{16,128}")
# Opening a link refreshes ``last_seen_at`` at most this often: reloading a page writes nothing.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)


# --- errors ---------------------------------------------------------------------------------


class TokenError(Exception):
    """A link that cannot be used. ``status`` is the HTTP status of the page that says so,
    ``title`` and ``message`` what it says (translated when rendered), ``code`` a stable name.
    ``token`` is the row when one was found (never shown; lets a view pick the language)."""

    status = 404
    code = "invalid"
    title: Any = _("Link not recognised")
    message: Any = _(
        "Please make sure you opened the complete link from the email. "
        "If it still does not work, reply to that email and we will help."
    )

    def __init__(self, token: AccessToken | None = None) -> None:
        super().__init__(self.code)
        self.token = token


class TokenNotFound(TokenError):
    """Unknown, malformed or issued for another purpose (deliberately indistinguishable)."""


class TokenExpired(TokenError):
    status = 410
    code = "expired"
    title = _("This link has expired")
    message = _(
        "The time for using this link is over. If you would still like to tell us something, "
        "reply to the email you received."
    )


class TokenUsed(TokenError):
    status = 410
    code = "used"
    title = _("Thank you, your answer was recorded")
    message = _(
        "This link has already been used; each link can be used only once. "
        "If you would like to add something, reply to the email you received."
    )


class TokenRevoked(TokenError):
    status = 410
    code = "revoked"
    title = _("This link has been withdrawn")
    message = _("This link is no longer valid. If we have sent you a newer email, please use the link in that one.")


# --- issuing and checking -------------------------------------------------------------------


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("ascii")).hexdigest()


def _find(raw: Any, purpose: str) -> AccessToken:
    if not isinstance(raw, str) or not _WELL_FORMED.fullmatch(raw):
        raise TokenNotFound
    token = AccessToken.objects.filter(token_hash=_digest(raw), purpose=purpose).first()
    if token is None:
        raise TokenNotFound
    return token


def _ensure_usable(token: AccessToken, now: datetime) -> None:
    if token.revoked_at is not None:
        raise TokenRevoked(token)
    if token.used_at is not None:
        raise TokenUsed(token)
    if token.expires_at <= now:
        raise TokenExpired(token)


def _future(expires_at: datetime) -> datetime:
    if timezone.is_naive(expires_at):
        raise ValueError("expires_at must be an aware datetime")
    if expires_at <= timezone.now():
        raise ValueError("expires_at must be in the future")
    return expires_at


def token_issue(*, purpose: str, target: models.Model, expires_at: datetime) -> str:
    """Create a link granting ``purpose`` on ``target`` until ``expires_at``; return the raw token.

    The raw token is returned once and never stored: put it in the mail (``token_url``) and
    nowhere else. Earlier tokens of the same target and purpose stay valid; revoke them with
    ``token_revoke`` when the new link supersedes them. Raises ``ValueError`` for an unsaved
    target or an ``expires_at`` that is naive or not in the future; ``ValidationError`` for an
    empty or over-long purpose or a target whose primary key is not a positive integer.
    """
    if target.pk is None:
        raise ValueError("the target must be saved before a link to it is issued")
    raw = secrets.token_urlsafe(TOKEN_BYTES)
    token = AccessToken(
        purpose=purpose,
        content_type=ContentType.objects.get_for_model(target),
        object_id=target.pk,
        token_hash=_digest(raw),
        expires_at=_future(expires_at),
    )
    # The unique check on a digest of 256 random bits would only cost a query; the database
    # constraint still stands behind it.
    token.full_clean(validate_unique=False)
    token.save(force_insert=True)
    return raw


def token_check(raw: str, *, purpose: str) -> AccessToken:
    """The usable ``AccessToken`` for ``raw`` and ``purpose``; records that the link was opened.

    Raises ``TokenNotFound`` (unknown, malformed, other purpose), else ``TokenRevoked``,
    ``TokenUsed`` or ``TokenExpired`` in that order of precedence; whatever ``raw`` is (empty,
    huge, not a string), nothing else. ``last_seen_at`` is refreshed (at most once per ``LAST_SEEN_RESOLUTION``,
    by a conditional UPDATE of that column alone) even when the link can no longer be used.
    Use it to show a page; a submission must go through ``token_consume``.
    """
    token = _find(raw, purpose)
    now = timezone.now()
    stale = Q(last_seen_at__isnull=True) | Q(last_seen_at__lt=now - LAST_SEEN_RESOLUTION)
    if AccessToken.objects.filter(stale, pk=token.pk).update(last_seen_at=now):
        token.last_seen_at = now
    _ensure_usable(token, now)
    return token


def token_consume(raw: str, *, purpose: str) -> AccessToken:
    """Claim the link for its one submission; call it inside the transaction that records it.

    Checks like ``token_check`` (same errors, same precedence), then sets ``used_at`` with a
    conditional UPDATE that succeeds only while the token is unused, unrevoked and unexpired.
    Of two concurrent submissions exactly one claims it; the other waits for the first
    transaction and then gets ``TokenUsed`` (or proceeds, if the first rolled back). When the
    caller's transaction rolls back, the claim goes with it and the link is usable again.
    Raises ``TransactionManagementError`` outside ``transaction.atomic()``.
    """
    if not transaction.get_connection().in_atomic_block:
        raise transaction.TransactionManagementError("token_consume must run inside the caller's transaction")
    token = _find(raw, purpose)
    now = timezone.now()
    _ensure_usable(token, now)
    claimed = AccessToken.objects.filter(
        pk=token.pk, used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
    ).update(used_at=now, last_seen_at=now)
    if not claimed:
        # Someone else claimed or revoked it since we read it: say which.
        token.refresh_from_db()
        _ensure_usable(token, now)
        raise TokenUsed(token)
    token.used_at = token.last_seen_at = now
    return token


# --- managing a target's links --------------------------------------------------------------


def _open_tokens(target: models.Model | models.QuerySet, purpose: str) -> models.QuerySet[AccessToken]:
    if isinstance(target, models.QuerySet):
        ids: Any = target.values("pk")
        content_type = ContentType.objects.get_for_model(target.model)
        of_target = Q(content_type=content_type, object_id__in=ids)
    else:
        if target.pk is None:
            raise ValueError("the target must be saved")
        of_target = Q(content_type=ContentType.objects.get_for_model(target), object_id=target.pk)
    return AccessToken.objects.filter(of_target, purpose=purpose, used_at__isnull=True, revoked_at__isnull=True)


def token_open_exists(*, target: models.Model, purpose: str) -> bool:
    """Whether ``target`` still has a link for ``purpose`` that could be answered now."""
    return _open_tokens(target, purpose).filter(expires_at__gt=timezone.now()).exists()


def token_revoke(*, target: models.Model | models.QuerySet, purpose: str) -> int:
    """Withdraw every open (unused, unrevoked) link of ``target`` for ``purpose``; return how many.

    ``target`` is a saved instance or a queryset of them (closing a campaign revokes all its
    invitations in one UPDATE). Expired links are revoked too, so the page says "withdrawn".
    Used links stay used: their page keeps saying "thank you". Revocation is final.
    Raises ``ValueError`` for an unsaved instance.
    """
    return _open_tokens(target, purpose).update(revoked_at=timezone.now())


def token_extend(*, target: models.Model | models.QuerySet, purpose: str, expires_at: datetime) -> int:
    """Move the expiry of every open link of ``target`` for ``purpose``; return how many moved.

    Open links that have already expired come back to life (a campaign's close date moved
    past today); used and revoked links are left alone. ``target`` as for ``token_revoke``.
    Raises ``ValueError`` for an unsaved instance or an ``expires_at`` that is naive or not
    in the future (to end links now, revoke them).
    """
    return _open_tokens(target, purpose).update(expires_at=_future(expires_at))


def token_url(raw: str, url_name: str) -> str:
    """The absolute link for a mail: ``settings.SITE_URL`` + ``reverse(url_name, args=[raw])``."""
    return settings.SITE_URL.rstrip("/") + reverse(url_name, args=[raw])


# --- views ----------------------------------------------------------------------------------


def render_token_error(request: HttpRequest, error: TokenError) -> HttpResponse:
    """The page telling a customer why their link does not work (404 or 410), in the active
    language. It shows only the error's own text: nothing about the target or other links."""
    response = render(
        request,
        "core/token_error.html",
        {"code": error.code, "title": error.title, "message": error.message},
        status=error.status,
    )
    add_never_cache_headers(response)
    return response


def token_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Decorate the view of a URL that carries a personal token (``/s/<token>/``).

    Every answer, an error or a throttled one included, carries ``Referrer-Policy:
    no-referrer``: nothing requested from the page (a link followed, a stylesheet) carries
    its address, the token, as a Referer. The view is exempt from Django's CSRF check: with
    no-referrer the browser sends ``Origin: null`` on the page's own POST, which the check
    refuses — and the check protects nothing here. It guards a visitor's cookies against a
    request forged by another site; these pages read no cookie, and what grants the request
    is the token in the address, which a forging site cannot know.
    """

    @csrf_exempt
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    wrapper.token_page = True  # type: ignore[attr-defined]  # tests find every URL's view has it
    return wrapper


def token_view(*, purpose: str, language: Callable[[AccessToken], str | None] | None = None):
    """Decorate a public view reached through a personal link.

    The URL passes the raw token as ``token`` (``path("s/<str:token>/", view)``). The view is
    called as ``view(request, access, raw, **other_url_kwargs)`` with the checked
    ``AccessToken`` and the raw token (for ``token_consume`` in the service that records the
    submission). Any ``TokenError`` — from the check or raised by the view — becomes the
    error page; responses are never cached. ``language(access)``, if given, names the
    language to render in (the contact's); it must cope with a deleted target (return None:
    the request's language stays).

    The wrapper is a ``token_page``. A URL's view that calls ``token_view`` inside (to throttle
    first, say) must be decorated with ``token_page`` itself.
    """
    supported = {code for code, _name in settings.LANGUAGES}

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @token_page
        @wraps(view)
        def wrapper(request: HttpRequest, token: str, **kwargs: Any) -> HttpResponse:
            try:
                access = token_check(token, purpose=purpose)
            except TokenError as error:
                with _language_of(error.token, language, supported):
                    response = render_token_error(request, error)
                    response.headers.setdefault("Content-Language", translation.get_language())
                    return response
            with _language_of(access, language, supported):
                try:
                    response = view(request, access, token, **kwargs)
                except TokenError as error:
                    response = render_token_error(request, error)
                add_never_cache_headers(response)
                response.headers.setdefault("Content-Language", translation.get_language())
                return response

        return wrapper

    return decorator


def _language_of(
    access: AccessToken | None, language: Callable[[AccessToken], str | None] | None, supported: set[str]
) -> AbstractContextManager[Any]:
    chosen = language(access) if access is not None and language is not None else None
    return translation.override(chosen) if chosen in supported else nullcontext()
