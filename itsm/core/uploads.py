"""Upload checks used wherever a file is attached: size, extension and content must agree.

The extension decides the type; the first bytes must match it (a renamed executable is not a
PDF), and the size must stay under ``UPLOAD_MAX_BYTES``. Raises ``ValidationError`` with a
message for the ``file`` field.
"""

from __future__ import annotations

import codecs
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

_ZIP = (b"PK\x03\x04",)
_OLE = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)  # legacy Office and Outlook .msg

# extension: (content type, accepted leading bytes, or None for text files)
ALLOWED: dict[str, tuple[str, tuple[bytes, ...] | None]] = {
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".gif": ("image/gif", (b"GIF87a", b"GIF89a")),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", _ZIP),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", _ZIP),
    ".pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", _ZIP),
    ".doc": ("application/msword", _OLE),
    ".xls": ("application/vnd.ms-excel", _OLE),
    ".msg": ("application/vnd.ms-outlook", _OLE),
    ".zip": ("application/zip", _ZIP),
    ".txt": ("text/plain", None),
    ".csv": ("text/csv", None),
    ".eml": ("message/rfc822", None),
}


def validate_upload(upload) -> str:
    """Check ``upload`` (a Django UploadedFile); return its content type."""
    max_bytes = settings.UPLOAD_MAX_BYTES
    if upload.size == 0:
        raise ValidationError({"file": _("The file is empty.")})
    if upload.size > max_bytes:
        raise ValidationError({"file": _("The file is larger than %(limit)s.") % {"limit": filesizeformat(max_bytes)}})
    extension = PurePath(upload.name or "").suffix.lower()
    if extension not in ALLOWED:
        allowed = ", ".join(sorted(ALLOWED))
        raise ValidationError(
            {"file": _("This type of file is not accepted. Accepted: %(types)s.") % {"types": allowed}}
        )
    content_type, signatures = ALLOWED[extension]
    upload.seek(0)
    head = upload.read(2048)
    upload.seek(0)
    if signatures is None:
        if b"\x00" in head:
            raise ValidationError({"file": _("The file's content does not match its type.")})
        if not any(_decodes(head, encoding) for encoding in ("utf-8", "gb18030")):
            raise ValidationError({"file": _("The file's content does not match its type.")})
    elif not head.startswith(signatures):
        raise ValidationError({"file": _("The file's content does not match its type.")})
    return content_type


def _decodes(head: bytes, encoding: str) -> bool:
    # Incremental: the 2 KB sample may end inside a multi-byte character.
    try:
        codecs.getincrementaldecoder(encoding)().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True
