"""Personal links in mail: never in the stored body, sealed until the mail is sent.

A mail that carries a personal link (a survey, unsubscribe, result-confirmation or call-back
link: a raw token that works for whoever holds it) is queued with the link as a *secret
context value*: ``notification_queue(..., secret_context={"link": token_url(...)})``. The
templates are rendered with a placeholder in the link's place (``placeholder("link")``, i.e.
``[[personal-link:link]]``), so ``Notification.body_text`` and ``body_html`` never hold the
link. The links themselves are encrypted (``seal``: Fernet, i.e. AES-128-CBC with an
HMAC-SHA256, from ``cryptography``) into ``Notification.secret_context``. At send time the
worker decrypts them (``unseal``) and puts each in its placeholder's place (``insert``:
HTML-escaped in the HTML part); once the mail is sent or has finally failed the sealed value is
erased, and the body stays for the record. People who read a mail — the notifications page, the
admin — see each placeholder as "[personal link — inserted when the mail is sent]"
(``for_display``), in their own language.

A copy of the database (or of the admin page) therefore holds no working link: a held, queued
or refused mail's link is ciphertext under a key that is not in the database.

The key: ``settings.MAIL_LINK_KEY`` (environment ``MAIL_LINK_KEY``), one or more Fernet keys
separated by commas — the first encrypts, every one decrypts, so a key can be rotated while
mail is queued. Empty (the default): a key derived from ``SECRET_KEY`` (and one from each of
``SECRET_KEY_FALLBACKS`` for decrypting). A mail whose links cannot be decrypted any more (the
key was changed without keeping the old one) is marked failed rather than sent without them.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.crypto import salted_hmac
from django.utils.html import escape
from django.utils.translation import gettext as _

_PLACEHOLDER = "[[personal-link:{name}]]"
_PLACEHOLDERS = re.compile(r"\[\[personal-link:([A-Za-z_][A-Za-z0-9_]*)\]\]")


class LinksUnreadable(Exception):
    """The sealed links of a mail cannot be decrypted with the configured keys."""


def placeholder(name: str) -> str:
    """What the template renders in place of the secret context value ``name``."""
    if not name.isidentifier():
        raise ValueError(f"a secret context name must be an identifier, not {name!r}")
    return _PLACEHOLDER.format(name=name)


def _derived_key(secret: str) -> bytes:
    digest = salted_hmac("itsm.core.mail_links", "fernet-key", secret=secret, algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest)


def _keys() -> MultiFernet:
    configured = [key.strip() for key in (getattr(settings, "MAIL_LINK_KEY", "") or "").split(",") if key.strip()]
    if configured:
        try:
            return MultiFernet([Fernet(key) for key in configured])
        except ValueError as exc:
            raise ImproperlyConfigured(
                "MAIL_LINK_KEY must be Fernet keys (32 url-safe base64-encoded bytes) separated by commas; make "
                "one with: python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
            ) from exc
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([Fernet(_derived_key(secret)) for secret in secrets if secret])


def seal(values: Mapping[str, str]) -> str:
    """The secret context values encrypted for ``Notification.secret_context`` ("" for none)."""
    if not values:
        return ""
    payload = json.dumps(dict(values), ensure_ascii=False, sort_keys=True).encode()
    return _keys().encrypt(payload).decode("ascii")


def unseal(sealed: str) -> dict[str, str]:
    """The secret context values of ``sealed`` ({} for ""). Raises ``LinksUnreadable``."""
    if not sealed:
        return {}
    try:
        values = json.loads(_keys().decrypt(sealed.encode("ascii")))
    except (InvalidToken, ValueError) as exc:
        raise LinksUnreadable from exc
    if not isinstance(values, dict):
        raise LinksUnreadable
    return {str(name): str(value) for name, value in values.items()}


def insert(text: str, values: Mapping[str, str], *, html: bool = False) -> str:
    """``text`` with each placeholder of ``values`` replaced by its value (escaped for HTML).

    Placeholders of names not in ``values`` are left alone: text that merely looks like one
    (in a complaint's title, say) gets nothing inserted."""
    if not values:
        return text

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            return match.group(0)
        return str(escape(values[name])) if html else values[name]

    return _PLACEHOLDERS.sub(value, text)


def for_display(text: str) -> str:
    """``text`` as people may read it: each placeholder says what will stand there."""
    return _PLACEHOLDERS.sub(lambda _match: _("[personal link — inserted when the mail is sent]"), text)


def holds_placeholder(text: str) -> bool:
    return bool(_PLACEHOLDERS.search(text))
