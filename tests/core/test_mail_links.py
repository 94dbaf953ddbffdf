"""No live token outside its hash (issue 10, item 3): personal links in mail (itsm.core.mail_links).

Through the real callers — survey invitations (survey and unsubscribe links), a complaint's
result confirmation, a call-back link — a held, a queued, a refused and a sent mail's row holds
in no text column any string that opens a link (every 43-character window of every column is
hashed and looked up among the issued tokens); the sent mail holds the working link; the admin
page and /notifications/<pk>/ show the placeholder and no token; the key comes from the
environment (MAIL_LINK_KEY) or is derived from SECRET_KEY; and the migration takes the links
out of rows queued the old way.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import smtplib
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from cryptography.fernet import Fernet
from django.conf import settings as django_settings
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection
from django.urls import reverse

from itsm.core import mail_links
from itsm.core.choices import NotificationStatus
from itsm.core.models import AccessToken, Notification
from itsm.core.notifications import Recipient, notification_queue, notification_send
from itsm.core.roles import Role
from itsm.core.testing import user_with_role
from itsm.core.tokens import TOKEN_BYTES, token_check, token_url
from tests.factories import ContactFactory, OrganisationFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
FRIDAY_NIGHT = datetime(2026, 9, 11, 22, 0, tzinfo=SHANGHAI)  # mail is held until Monday
TUESDAY_TEN = datetime(2026, 9, 15, 10, 0, tzinfo=SHANGHAI)  # working hours: mail leaves at once
TOKEN_LENGTH = len(secrets.token_urlsafe(TOKEN_BYTES))  # what token_issue hands out: 43 characters
PLACEHOLDER = "[personal link — inserted when the mail is sent]"
ROOT = Path(__file__).resolve().parents[2]


class RefusingBackend(EmailBackend):
    def send_messages(self, messages):
        raise smtplib.SMTPRecipientsRefused({m.to[0]: (550, b"5.1.1 no such user") for m in messages})


# --- helpers ----------------------------------------------------------------------------------


def live_tokens_in(*texts: str) -> set[str]:
    """Every substring of ``texts`` that is an issued token (what ``token_check`` would find)."""
    windows = {text[i : i + TOKEN_LENGTH] for text in texts for i in range(len(text) - TOKEN_LENGTH + 1)}
    digests = {hashlib.sha256(w.encode()).hexdigest(): w for w in windows if w.isascii()}
    found: set[str] = set()
    keys = list(digests)
    for start in range(0, len(keys), 500):
        hits = AccessToken.objects.filter(token_hash__in=keys[start : start + 500]).values_list("token_hash", flat=True)
        found.update(digests[h] for h in hits)
    return found


def row_texts(notification: Notification) -> list[str]:
    """Every text column of the row, as the database holds it (whatever columns there are)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {Notification._meta.db_table} WHERE id = %s", [notification.pk])  # noqa: S608
        return [value for value in cursor.fetchone() if isinstance(value, str)]


def mails(template: str) -> list[Notification]:
    return list(Notification.objects.filter(template=template).order_by("pk"))


def run(action, capture, *, queued: bool = False) -> None:
    """Run ``action`` and the mail it queues on commit. ``queued``: run the commit hooks of
    ``action`` (which record the mail), not those they add (which hand it to a worker), as
    when no worker has taken the mail yet."""
    if not queued:
        with capture(execute=True):
            action()
        return
    with capture(execute=False) as callbacks:
        action()
    for callback in callbacks:
        callback()  # what this queues on commit waits for the test's transaction: never


def invite(make_user, capture, queued=False) -> list[Notification]:
    from tests.surveys.campaign_flow import launch_campaign

    organisation = OrganisationFactory()
    ContactFactory(organisation=organisation, email="ann@customer.example", preferred_language="en")
    run(lambda: launch_campaign(make_user, [organisation]), capture, queued=queued)
    return mails("surveys/email/invitation")


def resolve_complaint(make_user, capture, queued=False) -> list[Notification]:
    from tests.complaints.factories import make_complaint

    contact = ContactFactory(email="bob@customer.example", preferred_language="en")
    run(lambda: make_complaint("resolved", contact=contact), capture, queued=queued)
    return mails("complaints/email/result")


def send_callback_link(make_user, capture, queued=False) -> list[Notification]:
    from surveys.services.callbacks import callback_send_link
    from tests.surveys.test_callbacks import make_ticket

    ticket = make_ticket()
    desk = make_user(Role.SERVICE_DESK)
    run(lambda: callback_send_link(callback_id=ticket.callback.pk, actor=desk), capture, queued=queued)
    return mails("surveys/email/callback_link")


CALLERS = {"invitation": invite, "complaint result": resolve_complaint, "call-back link": send_callback_link}


@pytest.fixture(params=list(CALLERS))
def link_mail(request, make_user, django_capture_on_commit_callbacks):
    """Queue a real mail with personal links through its caller; returns the function."""

    def make(queued: bool = False) -> Notification:
        rows = CALLERS[request.param](make_user, django_capture_on_commit_callbacks, queued=queued)
        assert len(rows) == 1, request.param
        return rows[0]

    return make


def assert_row_holds_no_live_token(notification: Notification) -> None:
    notification.refresh_from_db()
    texts = row_texts(notification)
    assert live_tokens_in(*texts) == set()
    assert PLACEHOLDER not in notification.body_text  # stored as the machine placeholder …
    assert mail_links.holds_placeholder(notification.body_text)  # … which the links will replace


# --- the rows: held, queued, refused, sent -----------------------------------------------------


@pytest.mark.parametrize("caller", ["invitation", "complaint result"])  # call-back links are urgent
def test_a_held_mail_holds_its_links_only_sealed(caller, make_user, django_capture_on_commit_callbacks):
    with time_machine.travel(FRIDAY_NIGHT, tick=False):
        (notification,) = CALLERS[caller](make_user, django_capture_on_commit_callbacks)
    assert notification.status == NotificationStatus.PENDING and notification.send_after > FRIDAY_NIGHT
    assert_row_holds_no_live_token(notification)
    # The links are there, encrypted, and still work once decrypted (at send time).
    links = mail_links.unseal(notification.secret_context)
    assert links and live_tokens_in(*links.values())
    assert mail.outbox == []


def test_a_queued_mail_holds_no_live_token(link_mail):
    with time_machine.travel(TUESDAY_TEN, tick=False):
        notification = link_mail(queued=True)
    assert notification.status == NotificationStatus.PENDING and notification.send_after <= TUESDAY_TEN
    assert_row_holds_no_live_token(notification)
    assert mail.outbox == []


def test_a_refused_mail_keeps_no_link_at_all(settings, link_mail):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    with time_machine.travel(TUESDAY_TEN, tick=False):
        notification = link_mail()
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.FAILED and "no such user" in notification.last_error
    assert_row_holds_no_live_token(notification)
    assert notification.secret_context == ""  # erased: it will never be sent


def test_the_sent_mail_holds_the_working_link_and_the_row_none(link_mail):
    with time_machine.travel(TUESDAY_TEN, tick=False):
        notification = link_mail()
        notification.refresh_from_db()
        assert notification.status == NotificationStatus.SENT
        (message,) = [m for m in mail.outbox if m.extra_headers["X-Itsm-Notification"] == notification.key]
        tokens = live_tokens_in(message.body)
        assert tokens  # the mail carries its links, and they open
        purposes = set(AccessToken.objects.values_list("purpose", flat=True))
        for raw in tokens:
            assert any(_opens(raw, purpose) for purpose in purposes)
    assert "personal-link" not in message.body
    assert_row_holds_no_live_token(notification)
    assert notification.secret_context == ""


def _opens(raw: str, purpose: str) -> bool:
    from itsm.core.tokens import TokenError

    try:
        token_check(raw, purpose=purpose)
    except TokenError:
        return False
    return True


# --- what people see --------------------------------------------------------------------------


@pytest.fixture
def held_invitation(make_user, django_capture_on_commit_callbacks) -> Notification:
    with time_machine.travel(FRIDAY_NIGHT, tick=False):
        (notification,) = invite(make_user, django_capture_on_commit_callbacks)
    assert notification.status == NotificationStatus.PENDING
    return notification


def test_the_admin_page_shows_the_placeholder_and_no_token(client, held_invitation):
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(user_with_role(Role.PROCESS_OWNER, is_staff=True, is_superuser=True))
    page = client.get(reverse("admin:core_notification_change", args=[held_invitation.pk])).content.decode()
    assert live_tokens_in(page) == set()
    assert PLACEHOLDER in page
    assert held_invitation.secret_context not in page and "personal links (encrypted)" not in page
    listing = client.get(reverse("admin:core_notification_changelist")).content.decode()
    assert live_tokens_in(listing) == set()


def test_the_notifications_page_shows_the_placeholder_and_no_token(client, held_invitation):
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(user_with_role(Role.PROCESS_OWNER))
    page = client.get(reverse("notification_detail", args=[held_invitation.pk])).content.decode()
    assert live_tokens_in(page) == set()
    assert page.count(PLACEHOLDER) == 2  # the survey link and the unsubscribe link


# --- the key ----------------------------------------------------------------------------------


def test_the_key_from_the_environment_encrypts_the_links():
    key = Fernet.generate_key().decode()
    code = "import django; django.setup(); from itsm.core import mail_links; print(mail_links.seal({'link': 'L'}))"
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "itsm.settings.test", "MAIL_LINK_KEY": key}
    sealed = subprocess.run(  # noqa: S603  (our own interpreter)
        [sys.executable, "-c", code], env=environment, cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert json.loads(Fernet(key).decrypt(sealed.encode())) == {"link": "L"}


def test_a_configured_key_is_used_and_can_be_rotated(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.MAIL_LINK_KEY = old
    sealed = mail_links.seal({"link": "L"})
    assert json.loads(Fernet(old).decrypt(sealed.encode())) == {"link": "L"}
    settings.MAIL_LINK_KEY = f"{new},{old}"  # rotation: the new key encrypts, the old still decrypts
    assert mail_links.unseal(sealed) == {"link": "L"}
    assert json.loads(Fernet(new).decrypt(mail_links.seal({"link": "M"}).encode())) == {"link": "M"}
    settings.MAIL_LINK_KEY = new
    with pytest.raises(mail_links.LinksUnreadable):
        mail_links.unseal(sealed)
    settings.MAIL_LINK_KEY = "not a key"
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="MAIL_LINK_KEY"):
        mail_links.seal({"link": "L"})


def test_the_default_key_is_derived_from_the_secret_key(settings):
    settings.MAIL_LINK_KEY = ""
    sealed = mail_links.seal({"link": "L"})
    old_secret = settings.SECRET_KEY
    settings.SECRET_KEY = "another-secret-key"
    with pytest.raises(mail_links.LinksUnreadable):
        mail_links.unseal(sealed)
    settings.SECRET_KEY_FALLBACKS = [old_secret]
    assert mail_links.unseal(sealed) == {"link": "L"}


def test_a_mail_whose_links_cannot_be_decrypted_fails_unsent(settings, django_capture_on_commit_callbacks):
    settings.MAIL_LINK_KEY = Fernet.generate_key().decode()
    with django_capture_on_commit_callbacks(execute=False):
        notification = notification_queue(
            key="k",
            template="core/email/test_message",
            recipient=Recipient(email="a@customer.example", name="A", language="en"),
            urgent=True,
            secret_context={"site_url": "https://x.example/s/token"},
        )
    settings.MAIL_LINK_KEY = Fernet.generate_key().decode()  # changed without keeping the old one
    assert notification_send(notification.pk) is False
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.FAILED
    assert "cannot be decrypted" in notification.last_error and notification.secret_context == ""
    assert mail.outbox == []


def test_text_that_merely_looks_like_a_placeholder_gets_nothing():
    assert mail_links.insert("[[personal-link:other]] x", {"link": "L"}) == "[[personal-link:other]] x"
    assert mail_links.insert("<a href='[[personal-link:link]]'>", {"link": "a&b"}, html=True) == "<a href='a&amp;b'>"
    with pytest.raises(ValueError):
        mail_links.placeholder("not a name")


# --- the migration of rows queued the old way ----------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_migration_takes_the_links_out_of_old_rows():
    from django.db.migrations.executor import MigrationExecutor
    from django.utils import timezone

    before = [("core", "0008_api_token_proxy")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps.get_model("core", "Notification")
    site = "https://itsm.example.com"
    survey = token_url("A" * 43, "survey_answer").replace(django_settings.SITE_URL.rstrip("/"), site)
    unsubscribe = token_url("B" * 43, "survey_unsubscribe").replace(django_settings.SITE_URL.rstrip("/"), site)
    common = {"recipient_email": "a@customer.example", "language": "en", "template": "t", "subject": "s"}
    now = timezone.now()
    rows = {
        status: old.objects.create(
            key=f"old:{status}",
            body_text=f"Answer here:\n{survey}\nUnsubscribe ({unsubscribe}).",
            body_html=f'<a href="{survey}">answer</a>',
            redact_after_send=True,
            send_after=now,
            status=status,
            **common,
        ).pk
        for status in ("pending", "sending", "failed")
    }
    plain = old.objects.create(
        key="old:plain", body_text=f"See {site}/complaints/12/", send_after=now, status="pending", **common
    ).pk
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    for status, pk in rows.items():
        row = Notification.objects.get(pk=pk)
        texts = " ".join(row_texts(row))
        assert "A" * 43 not in texts and "B" * 43 not in texts, status
        assert row.body_text == "Answer here:\n[[personal-link:link]]\nUnsubscribe ([[personal-link:link_2]])."
        assert row.body_html == '<a href="[[personal-link:link]]">answer</a>'
        if status == "failed":
            assert row.secret_context == ""  # never sent again: the link is not kept
        else:
            assert mail_links.unseal(row.secret_context) == {"link": survey, "link_2": unsubscribe}
    assert Notification.objects.get(pk=plain).body_text == f"See {site}/complaints/12/"

    # The pending one still goes out with its working links.
    Notification.objects.filter(pk=rows["pending"]).update(send_after=timezone.now() - timedelta(seconds=1))
    assert notification_send(rows["pending"]) is True
    assert mail.outbox[0].body == f"Answer here:\n{survey}\nUnsubscribe ({unsubscribe})."
