"""The API's JSON parser: bounded in size and depth, numbers kept exact, text cleaned.

DRF's own parser hands any JSON to ``json.load``: a body nested 2,000 levels deep overflows
the decoder's recursion guard (``RecursionError``, a 500), and ``1e309`` becomes ``inf``,
which no field expects. This one refuses, with a 400 that says why:

* a body larger than ``API_JSON_MAX_BYTES`` (default: Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE``,
  2.5 MB — a bulk of 1,000 measurements is about 150 KB);
* nesting deeper than ``API_JSON_MAX_DEPTH`` (default 20; the deepest real payload, a
  questionnaire with sections, questions and bilingual choices, is 6);
* malformed JSON, ``NaN`` and ``Infinity`` (as DRF's strict mode does).

A number too large for a float is kept as its exact ``Decimal``, so the field it belongs to
refuses it by name ("at most 8 digits before the point…") instead of seeing infinity. Every
string and key is cleaned of control characters (``itsm.core.sanitize``).
"""

from __future__ import annotations

import codecs
import json
import math
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser as DRFJSONParser
from rest_framework.utils.mediatypes import _MediaType

from itsm.core.sanitize import clean_data

DEFAULT_MAX_DEPTH = 20


def max_bytes() -> int:
    return getattr(settings, "API_JSON_MAX_BYTES", None) or settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 2_621_440


def max_depth() -> int:
    return getattr(settings, "API_JSON_MAX_DEPTH", DEFAULT_MAX_DEPTH)


def _number(text: str) -> float | Decimal:
    value = float(text)
    return value if math.isfinite(value) else Decimal(text)


def _constant(name: str) -> Any:
    raise ValueError(_("%(value)s is not a number JSON allows.") % {"value": name})


def depth_of(value: Any, limit: int) -> int:
    """The nesting depth of ``value`` (a scalar is 0), counted without recursion; stops
    counting once ``limit`` is passed."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    return deepest
            stack.extend((item, depth) for item in (node.values() if isinstance(node, dict) else node))
    return deepest


class JSONParser(DRFJSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = _MediaType(media_type or self.media_type).params.get("charset", None) or settings.DEFAULT_CHARSET
        limit = max_bytes()
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise ParseError(_("The request body is larger than %(limit)s KB.") % {"limit": limit // 1024})
        try:
            text = codecs.decode(raw, encoding)
            data = json.loads(text, parse_float=_number, parse_constant=_constant)
        except RecursionError:
            data = None
            too_deep = True
        except (ValueError, LookupError) as exc:
            raise ParseError(_("The request body is not valid JSON: %(error)s") % {"error": exc}) from None
        else:
            too_deep = depth_of(data, max_depth()) > max_depth()
        if too_deep:
            raise ParseError(_("The request body is nested more than %(depth)s levels deep.") % {"depth": max_depth()})
        return clean_data(data)
