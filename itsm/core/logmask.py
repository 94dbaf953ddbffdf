"""No live link in a log: personal tokens in logged URLs are masked before any handler sees them.

A survey or confirmation link carries its token in the path (``/s/<token>/``,
``/complaint-feedback/<token>/``); the database keeps only its digest (``itsm.core.tokens``),
but every log line that names the request — Django's ``Not Found`` / ``Gone`` warnings, the
development server's request lines, gunicorn's access log, an error mailed to the
administrators — would otherwise carry a link that still works.

``install()`` wraps the logging module's record factory, so every record of every logger in
the process is masked once, when it is made: its message is formatted and each path segment
that looks like a token (32–128 characters of the URL-safe alphabet, alone between slashes —
a token is 43; no route, slug or hashed static name has that shape) becomes ``…``. The token's
first four characters stay, enough to tell two links apart when reading a log.

It is installed by the core app (``CoreConfig.ready``) for Django, Celery and runserver, and
by ``gunicorn.conf.py`` for gunicorn's own access and error logs. No Django import here, so
gunicorn's master can load it before Django.
"""

from __future__ import annotations

import logging
import re

TOKEN_SEGMENT = re.compile(r"(?<=/)([A-Za-z0-9_-]{4})[A-Za-z0-9_-]{28,124}(?=/|\?|#|\s|$|\"|')")
_installed = False


def mask(text: str) -> str:
    """``text`` with every token-shaped path segment cut to its first four characters + ``…``."""
    return TOKEN_SEGMENT.sub(r"\1…", text) if "/" in text else text


def install() -> None:
    """Mask every log record made from now on in this process (idempotent)."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001  (a bad format string is logging's to report, not ours)
            return record
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
