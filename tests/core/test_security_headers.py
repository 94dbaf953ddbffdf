"""Headers and throttles (issue 10, item 5): a Content-Security-Policy with no inline script and
a Permissions-Policy on every page, no Referer from a token page, the client's address behind
the configured proxies for throttles, lock-out and audit trail, a lock-out per username
across addresses with a message and an administrator's unlock, and the API schema behind a
login. Browser tests fail on anything the policy refuses (tests/e2e/conftest.py)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from auditlog.models import LogEntry
from axes.models import AccessAttempt
from django.core.management import call_command
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from itsm.core.models import Organisation
from itsm.core.roles import Role
from itsm.core.throttle import client_ip
from itsm.core.tokens import token_issue
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "pw-for-tests-123"


def _directives(response) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";") if part.strip())


@pytest.mark.parametrize("path", ["/login/", "/", "/complaints/", "/api/v1/complaints/", "/s/not-a-token-at-all/"])
def test_every_answer_carries_the_policies(client_as, path):
    response = client_as(Role.SERVICE_DESK.value).get(path)
    directives = _directives(response)
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in directives["script-src"] and "unsafe-eval" not in response.headers[
        "Content-Security-Policy"
    ].replace("style-src-attr 'unsafe-inline'", "")
    policy = response.headers["Permissions-Policy"]
    assert "camera=()" in policy and "geolocation=()" in policy and "microphone=()" in policy


def test_no_template_has_an_inline_script_or_handler_or_style_element():
    """What the policy would refuse, found before a browser does: <script> without src,
    on*= handler attributes, <style> elements and javascript: URLs."""
    offenders = []
    for template in (ROOT / "templates").rglob("*.html"):
        if "/email/" in str(template):
            continue  # mail is not a page: no policy applies, and mail clients want inline styles
        text = template.read_text()
        for pattern in (r"<script(?![^>]*\bsrc=)[^>]*>", r"\son[a-z]+\s*=", r"<style[\s>]", r"javascript:"):
            if re.search(pattern, text, re.I):
                offenders.append(f"{template.relative_to(ROOT)}: {pattern}")
    assert not offenders, offenders


def test_a_token_page_sends_no_referrer_and_takes_its_post_without_a_csrf_cookie(client):
    contact = ContactFactory()
    # A real token for another purpose: each page refuses it (404), as for any link it did not issue.
    raw = token_issue(purpose="tests.other", target=contact, expires_at=timezone.now() + timedelta(days=1))
    for path in (f"/s/{raw}/", f"/complaint-feedback/{raw}/", "/s/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcde/"):
        response = client.get(path)
        assert response.headers["Referrer-Policy"] == "no-referrer", path
    # The browser sends "Origin: null" from a no-referrer page: the post is still taken to the
    # view (the token grants it; no cookie is read) — here the page's own 404, not CSRF's 403.
    strict = type(client)(enforce_csrf_checks=True)
    response = strict.post(f"/complaint-feedback/{raw}/", {}, HTTP_ORIGIN="null")
    assert response.status_code == 404
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_signed_in_pages_keep_same_origin_referrers(client_as):
    assert client_as(Role.SERVICE_DESK.value).get("/").headers["Referrer-Policy"] == "same-origin"


# --- the client's address --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "203.0.113.9", "10.0.0.2"),  # no trusted proxy: the header is the client's to forge
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "6.6.6.6, 203.0.113.9", "203.0.113.9"),  # the forged entry on the left is ignored
        (2, "6.6.6.6, 203.0.113.9, 10.0.0.7", "203.0.113.9"),
        (3, "203.0.113.9", "203.0.113.9"),  # fewer entries than proxies: the leftmost
        (1, "", "10.0.0.2"),
    ],
)
def test_client_ip_counts_trusted_proxies_from_the_right(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXIES = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def _fail(client, username, address, proxy="10.0.0.2"):
    return client.post(
        reverse("login"),
        {"username": username, "password": "wrong"},
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR=f"6.6.6.6, {address}",
    )


def test_behind_a_proxy_each_client_is_locked_out_by_its_own_address(client, make_user, settings):
    settings.TRUSTED_PROXIES = 1
    user = make_user(Role.SERVICE_DESK.value)
    for _ in range(4):
        assert _fail(client, user.username, "203.0.113.1").status_code == 200
    assert _fail(client, user.username, "203.0.113.1").status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.1"}
    # The same user from another client behind the same proxy is not locked out by the first.
    response = client.post(
        reverse("login"),
        {"username": user.username, "password": PASSWORD},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="203.0.113.2",
    )
    assert response.status_code == 302


def test_forty_guesses_from_ten_addresses_lock_the_username(client, make_user, settings):
    settings.TRUSTED_PROXIES = 1
    assert settings.LOGIN_USERNAME_FAILURE_LIMIT == 20
    user = make_user(Role.SERVICE_DESK.value)
    answers = [_fail(client, user.username, f"198.51.100.{n}").status_code for n in range(10) for _guess in range(4)]
    # Four from each address stay under the pair limit (5); the username locks at its 20th.
    assert answers[:19] == [200] * 19
    assert set(answers[19:]) == {429}
    # Locked for every address now, the right password included, with a message saying so.
    response = client.post(
        reverse("login"),
        {"username": user.username, "password": PASSWORD},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="192.0.2.200",
    )
    assert response.status_code == 429
    assert "15" in response.content.decode() and response.headers["Retry-After"] == "900"
    assert "_auth_user_id" not in client.session
    # Another username is not affected.
    other = make_user(Role.AUDITOR.value)
    assert client.post(reverse("login"), {"username": other.username, "password": PASSWORD}).status_code == 302


def test_an_administrator_unlocks_a_username(client, make_user, settings):
    settings.TRUSTED_PROXIES = 1
    user = make_user(Role.SERVICE_DESK.value)
    for n in range(20):
        _fail(client, user.username, f"198.51.100.{n}")
    assert _fail(client, user.username, "198.51.100.99").status_code == 429
    call_command("axes_reset_username", user.username, verbosity=0)
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302


def test_the_lockout_page_in_english_names_the_wait_and_the_administrator(client, make_user):
    user = make_user(Role.SERVICE_DESK.value)
    client.cookies["django_language"] = "en"
    for _ in range(5):
        response = client.post(reverse("login"), {"username": user.username, "password": "wrong"})
    assert response.status_code == 429
    text = response.content.decode()
    assert "Try again in 15 minutes" in text and "administrator" in text


def test_the_audit_trail_records_the_client_behind_the_proxy(client_as, settings):
    settings.TRUSTED_PROXIES = 1
    client = client_as(Role.SERVICE_DESK.value)
    response = client.post(
        reverse("organisation_create"),
        {"name": "代理后客户", "code": "PROXY-1", "kind": "customer", "is_active": "on"},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.5",
    )
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    organisation = Organisation.objects.get(name="代理后客户")
    entry = LogEntry.objects.get_for_object(organisation).get()
    assert entry.remote_addr == "203.0.113.5"


# --- the schema --------------------------------------------------------------------------------


def test_the_schema_and_docs_need_a_login(client, api_as, client_as):
    assert client.get("/api/schema/").status_code in (401, 403)
    assert client.get("/api/docs/").status_code == 302
    assert api_as(Role.AUDITOR.value).get("/api/schema/", {"format": "json"}).status_code == 200
    docs = client_as(Role.AUDITOR.value).get("/api/docs/")
    assert docs.status_code == 200
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", docs.content.decode())


def test_every_url_with_a_token_is_a_token_page():
    """A URL carrying a personal token must be a ``token_page`` (no Referer, no CSRF check that
    would refuse the browser's ``Origin: null``): found by walking the URL configuration."""
    from django.urls import URLPattern, URLResolver, get_resolver

    def walk(patterns, prefix=""):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                yield from walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                yield prefix + str(entry.pattern), entry.callback

    token_routes = {route: view for route, view in walk(get_resolver().url_patterns) if "<str:token>" in route}
    assert len(token_routes) >= 4, token_routes
    for route, view in token_routes.items():
        assert getattr(view, "token_page", False) and getattr(view, "csrf_exempt", False), route


def test_a_refused_csrf_check_is_the_product_s_own_page(client_as):
    client = client_as(Role.SERVICE_DESK.value)
    strict = type(client)(enforce_csrf_checks=True)
    strict.force_login(client.user)
    response = strict.post(reverse("contact_create"), {"name": "x"})
    assert response.status_code == 403
    assert "<style" not in response.content.decode() and 'lang="zh-hans"' in response.content.decode()


def test_an_administrator_unlocks_a_username_in_the_admin(client, make_user, settings, django_user_model):
    settings.TRUSTED_PROXIES = 1
    user = make_user(Role.SERVICE_DESK.value)
    for n in range(21):
        _fail(client, user.username, f"198.51.100.{n}")
    admin = django_user_model.objects.create_superuser("root", "root@example.com", PASSWORD)
    staff = type(client)()
    staff.force_login(admin)
    ids = [str(pk) for pk in AccessAttempt.objects.filter(username=user.username).values_list("pk", flat=True)]
    assert len(ids) >= 20
    response = staff.post(
        "/admin/axes/accessattempt/", {"action": "delete_selected", "_selected_action": ids, "post": "yes"}
    )
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username=user.username).exists()
    assert client.post(reverse("login"), {"username": user.username, "password": PASSWORD}).status_code == 302
