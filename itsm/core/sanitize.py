"""Input hygiene at the edge: control characters and lone surrogates never reach a view.

A NUL byte cannot be stored in PostgreSQL (a query carrying one fails inside the driver), a
lone surrogate cannot be encoded as UTF-8, and the other C0/C1 control characters (BEL, ESC,
backspace…) have no place in a name, a search or a comment: they come from pasted terminal
output, broken clients or probes, and once stored they corrupt exports and mail headers.

So every text that enters the product is cleaned once, where it enters:

* ``InputHygieneMiddleware`` — the query string (searches, filters, pickers) and the fields
  of every HTML form (URL-encoded or multipart; uploaded files are left as they are);
* ``itsm.core.api.parsers.JSONParser`` — every string and key of an API request body;
* file imports clean each cell with ``clean_text`` (``sla.services.measurements``).

Tab, line feed and carriage return stay (a multi-line comment keeps its lines); everything
else in U+0000–U+001F, U+007F–U+009F and U+D800–U+DFFF is removed. Removing rather than
refusing: a search for “VPN\\x00” finds what a search for “VPN” finds, and a pasted name
keeps its letters.
"""

from __future__ import annotations

import re
from typing import Any

from django.http import QueryDict

# C0 controls but \t \n \r, DEL and the C1 controls, and the surrogate block.
_UNWANTED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def clean_text(value: str) -> str:
    """``value`` without control characters (tab and line breaks kept) or lone surrogates."""
    return _UNWANTED.sub("", value) if _UNWANTED.search(value) else value


def has_unwanted(value: str) -> bool:
    return _UNWANTED.search(value) is not None


def clean_data(value: Any) -> Any:
    """Clean every string (and dict key) in parsed JSON, iteratively: any depth the parser
    accepted is walked without recursion. Returns the same structure, cleaned in place."""
    if isinstance(value, str):
        return clean_text(value)
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key in list(node):
                item = node[key]
                if isinstance(item, str):
                    item = clean_text(item)
                elif isinstance(item, dict | list):
                    stack.append(item)
                if isinstance(key, str) and has_unwanted(key):
                    del node[key]
                    node[clean_text(key)] = item
                else:
                    node[key] = item
        elif isinstance(node, list):
            for index, item in enumerate(node):
                if isinstance(item, str):
                    node[index] = clean_text(item)
                elif isinstance(item, dict | list):
                    stack.append(item)
    return value


def clean_query_dict(query: QueryDict) -> QueryDict:
    """A copy of ``query`` with every key and value cleaned (``query`` itself when clean)."""
    if not any(has_unwanted(key) or any(has_unwanted(v) for v in values) for key, values in query.lists()):
        return query
    cleaned = QueryDict(mutable=True, encoding=query.encoding)
    for key, values in query.lists():
        cleaned.setlist(clean_text(key), [clean_text(v) for v in values])
    cleaned._mutable = False
    return cleaned


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class InputHygieneMiddleware:
    """Cleans the query string and HTML form fields of every request (see the module).

    Place it after SecurityMiddleware and before anything that reads ``request.GET`` or
    ``request.POST`` (CSRF, the views). A JSON body is left to the API's parser.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.META.get("QUERY_STRING"):
            request.GET = clean_query_dict(request.GET)
        if request.method == "POST" and request.content_type in FORM_TYPES:
            request.POST = clean_query_dict(request.POST)
        return self.get_response(request)
