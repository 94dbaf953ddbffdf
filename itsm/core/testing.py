"""Test helpers every app's page and API tests share (the "base mixins" of STYLE.md).

A ``Resource`` names a model, how to make a row of it, and its pages and API endpoints.
``page_matrix`` / ``api_matrix`` turn resources into one ``AccessCase`` per
(resource, action, role), the expected answer read straight from ``ROLE_PERMISSIONS`` (not
from the code under test); ``check_page_access`` / ``check_api_access`` then assert it:

* pages: 200 with the permission, 403 without (also on POST, writing nothing), a redirect to
  the login page when signed out, 404 for a missing or out-of-reach row;
* API: 200 / 201 / 204 with the permission, 403 without (writing nothing), 401 or 403 when
  signed out, a JSON 404 for a missing or out-of-reach row.

Typical use::

    ORGANISATIONS = Resource.for_model(Organisation, OrganisationFactory, api_payload=lambda: {...})

    @pytest.mark.parametrize("case", page_matrix(ORGANISATIONS), ids=str)
    def test_page_access(client, case):
        check_page_access(client, case)

``assert_constant_queries`` proves a page's (or endpoint's) query count does not grow with
its rows. ``assert_nothing_written`` checks a refused or invalid request left no trace.

The helpers raise ``AssertionError`` with a message saying what was expected, so they read
well in pytest output without pytest's assertion rewriting (this module is not a test file).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from html import unescape as html_unescape
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

from auditlog.models import LogEntry
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import DEFAULT_DB_ALIAS, connections, models
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from .roles import PROJECT_APPS, ROLE_PERMISSIONS, Role

NO_ROLE = "no-role"  # signed in, but in no role group
ANONYMOUS = "anonymous"  # not signed in
ALL_ROLES: tuple[str, ...] = (*(role.value for role in Role), NO_ROLE, ANONYMOUS)

# What each page needs: every permission listed (a verb on the resource's model, or a full
# "app_label.codename"). Editing a row needs to see it first.
PAGE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "list": ("view",),
    "detail": ("view",),
    "create": ("add",),
    "edit": ("view", "change"),
    "history": ("auditlog.view_logentry",),
}
API_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "list": ("view",),
    "retrieve": ("view",),
    "create": ("add",),
    "update": ("view", "change"),
    "partial_update": ("view", "change"),
    "destroy": ("view", "delete"),
}
_PAGES_WITH_PK = {"detail", "edit", "history"}
_API_WITH_PK = {"retrieve", "update", "partial_update", "destroy"}
_API_METHOD = {
    "list": "get",
    "retrieve": "get",
    "create": "post",
    "update": "put",
    "partial_update": "patch",
    "destroy": "delete",
}
_API_SUCCESS = {"list": 200, "retrieve": 200, "create": 201, "update": 200, "partial_update": 200, "destroy": 204}

_usernames = itertools.count(1)


# --- what a role may do, read from the rule table --------------------------------------------


def granted_permissions(role: str) -> set[str]:
    """``"app_label.codename"`` strings ``ROLE_PERMISSIONS`` grants ``role`` (empty for no role).

    Read from the table and the app registry, independently of ``sync_role_permissions``, so a
    test built on it also catches a group whose permissions drifted from the table.
    """
    granted: set[str] = set()
    for target, verbs in ROLE_PERMISSIONS.get(role, {}).items():
        if target == "*":
            targets = [
                f"{model._meta.app_label}.{model._meta.model_name}"
                for label in PROJECT_APPS
                for model in apps.get_app_config(label).get_models()
            ]
        else:
            targets = [target]
        for app_label, model_name in (name.split(".") for name in targets):
            for verb in verbs.split():
                granted.add(f"{app_label}.{verb if '_' in verb else f'{verb}_{model_name}'}")
    return granted


def role_may(role: str, permissions: Sequence[str], model: type[models.Model]) -> bool:
    """Whether ``role`` holds every one of ``permissions`` (verbs on ``model`` or full names)."""
    opts = model._meta
    wanted = {perm if "." in perm else f"{opts.app_label}.{perm}_{opts.model_name}" for perm in permissions}
    return wanted <= granted_permissions(role)


def user_with_role(role: str, **fields: Any):
    """A saved user in ``role`` (``NO_ROLE``: in no group); password ``pw-for-tests-123``."""
    username = fields.pop("username", None) or f"{role.replace('-', '_')}_{next(_usernames)}"
    user = get_user_model().objects.create_user(username=username, password="pw-for-tests-123", **fields)  # noqa: S106
    if role not in (NO_ROLE, ANONYMOUS):
        user.groups.add(Group.objects.get(name=role))
    return user


# --- resources and cases ---------------------------------------------------------------------


@dataclass(frozen=True)
class Resource:
    """A model as the pages and the API expose it.

    ``factory()`` makes a row every role with the view permission can see; ``hidden_factory``
    (optional) makes, for a given user, a row that exists but is out of that user's reach.
    ``pages`` maps page actions to URL names; ``api_basename`` is the router basename (list
    and detail are ``<basename>-list`` / ``<basename>-detail``); ``api_payload()`` returns a
    valid, fresh body for create / update.
    """

    model: type[models.Model]
    factory: Callable[[], models.Model]
    pages: Mapping[str, str] = field(default_factory=dict)
    api_basename: str | None = None
    api_payload: Callable[[], dict[str, Any]] | None = None
    hidden_factory: Callable[[Any], models.Model] | None = None

    @classmethod
    def for_model(
        cls,
        model: type[models.Model],
        factory: Callable[[], models.Model],
        *,
        pages: Sequence[str] = ("list", "detail", "create", "edit", "history"),
        api_basename: str | None = None,
        api_payload: Callable[[], dict[str, Any]] | None = None,
        hidden_factory: Callable[[Any], models.Model] | None = None,
    ) -> Resource:
        """URL names by convention: ``<model_name>_<action>`` for pages, ``<model_name>`` for the API."""
        name = model._meta.model_name
        return cls(
            model=model,
            factory=factory,
            pages={action: f"{name}_{action}" for action in pages},
            api_basename=api_basename or (name if api_payload is not None else None),
            api_payload=api_payload,
            hidden_factory=hidden_factory,
        )

    @property
    def name(self) -> str:
        return str(self.model._meta.model_name)

    def page_url(self, action: str, pk: Any = None) -> str:
        url_name = self.pages[action]
        return reverse(url_name, args=[pk]) if action in _PAGES_WITH_PK else reverse(url_name)

    def api_url(self, pk: Any = None) -> str:
        if self.api_basename is None:
            raise ValueError(f"{self.name} has no API")
        if pk is None:
            return reverse(f"{self.api_basename}-list")
        return reverse(f"{self.api_basename}-detail", args=[pk])

    def missing_pk(self) -> int:
        """A primary key no row has."""
        last = self.model._default_manager.order_by("-pk").values_list("pk", flat=True).first()
        return (last or 0) + 1000


@dataclass(frozen=True)
class AccessCase:
    """One cell of the matrix: may ``role`` do ``action`` on ``resource``?"""

    resource: Resource
    action: str
    role: str
    allowed: bool

    def __str__(self) -> str:
        return f"{self.resource.name}-{self.action}-{self.role}-{'allowed' if self.allowed else 'refused'}"


def _matrix(
    resources: Sequence[Resource],
    table: Mapping[str, tuple[str, ...]],
    actions_of: Callable[[Resource], Sequence[str]],
    roles: Sequence[str],
) -> list[AccessCase]:
    return [
        AccessCase(resource, action, role, role_may(role, table[action], resource.model))
        for resource in resources
        for action in actions_of(resource)
        for role in roles
    ]


def page_matrix(*resources: Resource, roles: Sequence[str] = ALL_ROLES) -> list[AccessCase]:
    """One case per (resource, page, role); use with ``parametrize(..., ids=str)``."""
    return _matrix(resources, PAGE_PERMISSIONS, lambda r: list(r.pages), roles)


def api_matrix(*resources: Resource, roles: Sequence[str] = ALL_ROLES) -> list[AccessCase]:
    """One case per (resource, API action, role); use with ``parametrize(..., ids=str)``."""
    return _matrix(resources, API_PERMISSIONS, lambda r: list(API_PERMISSIONS), roles)


# --- assertions ------------------------------------------------------------------------------


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def _expect_status(response, expected: int | set[int], what: str) -> None:
    allowed = expected if isinstance(expected, set) else {expected}
    _expect(
        response.status_code in allowed,
        f"{what}: expected {' or '.join(map(str, sorted(allowed)))}, got {response.status_code}",
    )


@contextmanager
def assert_nothing_written(*tracked: type[models.Model]) -> Iterator[None]:
    """Fail if the block changes the row count of ``tracked`` models or adds an audit entry.

    Updates are noticed through the audit trail (every audited save writes an entry).
    """
    before = {model: model._default_manager.count() for model in tracked}
    log_before = LogEntry.objects.count()
    yield
    for model, count in before.items():
        now = model._default_manager.count()
        _expect(now == count, f"{model.__name__}: {count} rows before, {now} after; nothing should be written")
    log_now = LogEntry.objects.count()
    _expect(log_now == log_before, f"{log_now - log_before} audit entries written; nothing should be written")


def check_page_access(client, case: AccessCase) -> None:
    """Assert ``case`` on the resource's page with the Django test ``client``."""
    resource, action = case.resource, case.action
    obj = resource.factory()
    url = resource.page_url(action, obj.pk)
    what = f"GET {url} as {case.role}"

    if case.role == ANONYMOUS:
        response = client.get(url)
        _expect_status(response, 302, what)
        _expect(reverse("login") in response["Location"], f"{what}: redirected to {response['Location']}, not login")
        if action in ("create", "edit"):
            with assert_nothing_written(resource.model):
                _expect_status(client.post(url, {}), 302, f"POST {url} as {case.role}")
        return

    user = user_with_role(case.role)
    client.force_login(user)
    response = client.get(url)
    missing = resource.page_url(action, resource.missing_pk()) if action in _PAGES_WITH_PK else None
    if case.allowed:
        _expect_status(response, 200, what)
        if missing:
            _expect_status(client.get(missing), 404, f"GET {missing} (no such row) as {case.role}")
        if action in _PAGES_WITH_PK and resource.hidden_factory is not None:
            hidden = resource.page_url(action, resource.hidden_factory(user).pk)
            _expect_status(client.get(hidden), 404, f"GET {hidden} (out of reach) as {case.role}")
        return

    _expect_status(response, 403, what)
    if missing:
        # Refused before looking the row up: a missing row must not be told apart from a real one.
        _expect_status(client.get(missing), 403, f"GET {missing} (no such row) as {case.role}")
    if action in ("create", "edit"):
        with assert_nothing_written(resource.model):
            _expect_status(client.post(url, {}), 403, f"POST {url} as {case.role}")


def check_api_access(api_client, case: AccessCase) -> None:
    """Assert ``case`` on the resource's API with a DRF ``APIClient``."""
    resource, action = case.resource, case.action
    obj = resource.factory()
    with_pk = action in _API_WITH_PK
    url = resource.api_url(obj.pk if with_pk else None)
    method = _API_METHOD[action]
    payload = resource.api_payload() if method in ("post", "put", "patch") and resource.api_payload else None
    what = f"{method.upper()} {url} as {case.role}"

    def call(target: str):
        return getattr(api_client, method)(target, payload, format="json")

    if case.role == ANONYMOUS:
        api_client.force_authenticate(None)
        with assert_nothing_written(resource.model):
            _expect_status(call(url), {401, 403}, what)
        return

    user = user_with_role(case.role)
    api_client.force_authenticate(user)
    missing = resource.api_url(resource.missing_pk()) if with_pk else None
    if not case.allowed:
        with assert_nothing_written(resource.model):
            _expect_status(call(url), 403, what)
            if missing:
                _expect_status(call(missing), 403, f"{method.upper()} {missing} (no such row) as {case.role}")
        return

    count = resource.model._default_manager.count()
    response = call(url)
    _expect_status(response, _API_SUCCESS[action], f"{what} ({getattr(response, 'data', '')})")
    now = resource.model._default_manager.count()
    expected_count = {"create": count + 1, "destroy": count - 1}.get(action, count)
    _expect(now == expected_count, f"{what}: {count} rows before, {now} after, expected {expected_count}")
    if action == "list":
        ids = [row["id"] for row in response.json()["results"]]
        _expect(obj.pk in ids, f"{what}: row {obj.pk} not listed")
    elif action == "retrieve":
        _expect(response.json()["id"] == obj.pk, f"{what}: returned {response.json()}")
    if missing:
        for target, label in [(missing, "no such row")] + (
            [(resource.api_url(resource.hidden_factory(user).pk), "out of reach")] if resource.hidden_factory else []
        ):
            response = call(target)
            _expect_status(response, 404, f"{method.upper()} {target} ({label}) as {case.role}")
            _expect("message" in response.json(), f"{target}: 404 without a JSON message: {response.content!r}")


def assert_constant_queries(
    client,
    url: str,
    make_rows: Callable[[int], object],
    *,
    few: int = 5,
    many: int = 60,
    using: str = DEFAULT_DB_ALIAS,
) -> int:
    """Assert ``GET url`` runs as many queries with ``many`` rows as with ``few``; return the count.

    ``make_rows(n)`` adds ``n`` rows that the page shows. One unmeasured request first fills
    per-process caches (content types, translations) so they do not count.
    """
    make_rows(few)
    _expect_status(client.get(url), 200, f"GET {url}")
    with CaptureQueriesContext(connections[using]) as small:
        _expect_status(client.get(url), 200, f"GET {url} with {few} rows")
    make_rows(many - few)
    with CaptureQueriesContext(connections[using]) as large:
        _expect_status(client.get(url), 200, f"GET {url} with {many} rows")
    if len(small) != len(large):
        queries = "\n".join(f"  {q['sql']}" for q in large.captured_queries)
        raise AssertionError(
            f"GET {url}: {len(small)} queries with {few} rows, {len(large)} with {many}; "
            f"the count grows with the rows. Queries with {many} rows:\n{queries}"
        )
    return len(large)


# --- the crawl: every link a role can reach answers without a server error --------------------

_HREF = re.compile(r'href="([^"#]*)')
_SKIP_PREFIXES = ("/logout", "/static/", "/media/", "/i18n/", "/admin/logout")


@dataclass
class CrawlResult:
    visited: dict[str, int] = field(default_factory=dict)  # url → status
    found_on: dict[str, str] = field(default_factory=dict)  # url → the page that linked it

    def failures(self, *, allowed: Callable[[str, int], bool]) -> list[str]:
        return [
            f"{status} {url} (linked from {self.found_on.get(url, '—')})"
            for url, status in self.visited.items()
            if not allowed(url, status)
        ]


def _pattern(path: str, query: str) -> tuple[str, frozenset[str]]:
    """What a URL is an instance of: its view's name and the names of its query parameters."""
    from django.urls import Resolver404, resolve

    try:
        match = resolve(path)
        name = match.view_name
    except Resolver404:
        name = path
    keys = frozenset(key for key, _value in parse_qsl(query, keep_blank_values=True))
    return name, keys


def crawl(
    client,
    start: Sequence[str] = ("/",),
    *,
    per_pattern: int = 3,
    limit: int = 3000,
    skip: Callable[[str], bool] | None = None,
) -> CrawlResult:
    """Follow every same-site link from ``start`` as ``client``'s user, breadth first.

    A URL is visited once; at most ``per_pattern`` URLs of one pattern (view name + query
    parameter names: ``complaint_detail``, ``audit_list?page``) are visited, so a list of a
    thousand records costs three detail pages, not a thousand. Downloads (streamed exports)
    are read to the end, so an error half-way through a stream counts. Returns what each
    visited URL answered and where it was linked from.
    """
    result = CrawlResult()
    seen_patterns: dict[tuple[str, frozenset[str]], int] = {}
    queue: list[str] = list(start)
    queued = set(queue)
    while queue and len(result.visited) < limit:
        url = queue.pop(0)
        response = client.get(url)
        status = response.status_code
        if getattr(response, "streaming", False):
            try:
                for _chunk in response.streaming_content:
                    pass
            except Exception:  # noqa: BLE001  (a stream that fails half-way is a server error)
                status = 500
        result.visited[url] = status
        content_type = response.get("Content-Type", "")
        if status != 200 or "text/html" not in content_type or getattr(response, "streaming", False):
            continue
        for href in _HREF.findall(response.content.decode(errors="replace")):
            href = html_unescape(href).strip()
            if not href or href.startswith(("mailto:", "tel:", "javascript:")):
                continue
            target = urlsplit(urljoin(url, href))
            if target.netloc and target.netloc not in ("testserver", "localhost", "127.0.0.1"):
                continue
            path = target.path + (f"?{target.query}" if target.query else "")
            if path in queued or path.startswith(_SKIP_PREFIXES) or (skip and skip(path)):
                continue
            pattern = _pattern(target.path, target.query)
            if seen_patterns.get(pattern, 0) >= per_pattern:
                continue
            seen_patterns[pattern] = seen_patterns.get(pattern, 0) + 1
            queued.add(path)
            result.found_on[path] = url
            queue.append(path)
    return result
