"""Development mail: each message written to the log, readable, instead of being sent.

Django's console backend prints the raw MIME message: subjects as ``=?utf-8?b?…?=``, bodies
base64- or quoted-printable-encoded, so Chinese mail cannot be read on the worker's console.
``ConsoleLogBackend`` builds the same MIME message (header errors surface as they would with
SMTP), reads it back, and logs one INFO record per message on the ``itsm.mail`` logger:
sender, recipients, the decoded subject, the notification key and the plain-text body.

``itsm.settings.dev`` uses it unless ``EMAIL_URL`` names another backend.
"""

from __future__ import annotations

import email
import logging
from collections.abc import Sequence
from email import policy
from email.message import EmailMessage as ParsedMessage
from typing import cast

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend

logger = logging.getLogger("itsm.mail")


def _plain_text(parsed: ParsedMessage) -> str:
    part = parsed.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    content = part.get_content()
    return content if isinstance(content, str) else ""


class ConsoleLogBackend(BaseEmailBackend):
    """Logs every message at INFO (``itsm.mail``), decoded; sends nothing."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        sent = 0
        for message in email_messages:
            if not message.recipients():
                continue
            try:
                raw = message.message().as_bytes()
            except Exception:
                if not self.fail_silently:
                    raise
                continue
            # policy.default parses into email.message.EmailMessage (decoded headers, get_body).
            parsed = cast(ParsedMessage, email.message_from_bytes(raw, policy=policy.default))
            lines = ["mail (console backend: not sent)"]
            for header in ("From", "To", "Cc", "Subject", "X-Itsm-Notification"):
                if parsed.get(header):
                    # A long header is folded after "Subject:"; the decoded value keeps the space.
                    lines.append(f"{header}: {str(parsed[header]).strip()}")
            if message.bcc:
                lines.append(f"Bcc: {', '.join(message.bcc)}")
            lines += ["", _plain_text(parsed).rstrip()]
            logger.info("%s", "\n".join(lines))
            sent += 1
        return sent
