"""Mail (itsm.core.notifications, itsm.core.tasks): language, once-only, after commit, held, claims.

SMTP is Django's locmem outbox; the failure cases swap in small backends defined here.
Celery runs eagerly (test settings), so a task queued on commit runs when the callback runs.
"""

import hashlib
import smtplib
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.core.management import call_command
from django.db import transaction
from django.template import TemplateDoesNotExist
from django.utils import timezone

from itsm.core.choices import Language, NotificationStatus
from itsm.core.models import Calendar, Notification
from itsm.core.notifications import (
    MAX_ATTEMPTS,
    Recipient,
    claim_timeout,
    message_id_for,
    notification_claim_expires_in,
    notification_deliver_due,
    notification_queue,
    notification_send,
)
from itsm.core.periodic import run_check
from itsm.core.tasks import send_notification_task
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
FRIDAY_NIGHT = datetime(2026, 9, 11, 22, 0, tzinfo=SHANGHAI)
MONDAY_MORNING = datetime(2026, 9, 14, 9, 0, tzinfo=SHANGHAI)
TUESDAY_NOON = datetime(2026, 9, 15, 12, 0, tzinfo=SHANGHAI)
DELIVER = "core.deliver_due_notifications"


# --- test-only SMTP backends ------------------------------------------------------------


class RefusingBackend(EmailBackend):
    """The server refuses every recipient (no such mailbox)."""

    def send_messages(self, messages):
        raise smtplib.SMTPRecipientsRefused({m.to[0]: (550, b"5.1.1 no such user") for m in messages})


class DisconnectingBackend(EmailBackend):
    """The server drops the connection; ``failures`` calls fail, then it works again."""

    failures = 0
    calls = 0

    def send_messages(self, messages):
        type(self).calls += 1
        if type(self).calls <= type(self).failures:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


class BrokenBackend(EmailBackend):
    """Fails with an error the task does not retry (a bug, a dead broker...) once, then works."""

    calls = 0

    def send_messages(self, messages):
        type(self).calls += 1
        if type(self).calls == 1:
            raise RuntimeError("boom")
        return super().send_messages(messages)


def use_backend(settings, backend, **attributes):
    for name, value in attributes.items():
        setattr(backend, name, value)
    settings.EMAIL_BACKEND = f"{__name__}.{backend.__name__}"


# --- helpers ----------------------------------------------------------------------------


@pytest.fixture
def templates(settings, tmp_path):
    """A template directory of our own, so language choice does not depend on the catalogues."""
    files = {
        "t/hello.subject.txt": "{% load i18n %}{% get_current_language as lang %}Subject {{ lang }}\n  for {{ who }}",
        "t/hello.en.txt": "Hello {{ recipient_name }} ({{ site_url }})",
        "t/hello.zh-hans.txt": "您好 {{ recipient_name }}",
        "t/hello.html": "{% load i18n %}{% get_current_language as lang %}<p lang='{{ lang }}'>{{ who }}</p>",
        "t/shared.subject.txt": "shared",
        "t/shared.txt": "{% load i18n %}{% get_current_language as lang %}body in {{ lang }}",
        "t/link.subject.txt": "Your survey",
        "t/link.txt": "Open {{ link }} now",
        "t/link.html": '<a href="{{ link }}">open</a>',
    }
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    engine = {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    settings.TEMPLATES = [engine, *settings.TEMPLATES[1:]]
    return tmp_path


def queue(
    key="k1",
    *,
    email="a@customer.example",
    language=Language.EN,
    urgent=True,
    template="t/shared",
    context=None,
    calendar=None,
):
    """Queue a mail to Ann (urgent unless told, so it is due at once)."""
    return notification_queue(
        key=key,
        template=template,
        recipient=Recipient(email=email, name="Ann", language=language, calendar=calendar),
        context=context,
        urgent=urgent,
    )


def refresh(notification: Notification) -> Notification:
    notification.refresh_from_db()
    return notification


# --- rendering --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "subject", "body"),
    [
        (Language.EN, "Subject en for Bob", "Hello Ann ({site_url})"),
        (Language.ZH_HANS, "Subject zh-hans for Bob", "您好 Ann"),
    ],
)
def test_renders_in_the_recipient_language(templates, django_capture_on_commit_callbacks, language, subject, body):
    with django_capture_on_commit_callbacks(execute=True):
        notification = queue(template="t/hello", language=language, context={"who": "Bob"})
    assert notification.language == language
    assert notification.subject == subject  # whitespace and newlines collapsed
    (message,) = mail.outbox
    assert message.subject == subject
    assert message.body == body.format(site_url=django_settings.SITE_URL)
    assert message.to == ["a@customer.example"]
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert f"lang='{language}'" in html
    assert message.extra_headers["X-Itsm-Notification"] == "k1"


def test_shared_template_is_rendered_under_the_recipient_language(templates, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        queue("en", language=Language.EN)
        queue("zh", language=Language.ZH_HANS)
    bodies = {m.extra_headers["X-Itsm-Notification"]: m.body for m in mail.outbox}
    assert bodies == {"en": "body in en", "zh": "body in zh-hans"}
    assert all(not m.alternatives for m in mail.outbox)  # no HTML template: text only


def test_language_of_a_user_or_contact_and_unknown_language(templates, make_user):
    user = make_user(None, preferred_language=Language.EN, email="u@staff.example")
    contact = ContactFactory(preferred_language=Language.ZH_HANS)
    assert notification_queue(key="u", template="t/shared", recipient=Recipient.of(user)).language == "en"
    assert notification_queue(key="c", template="t/shared", recipient=Recipient.of(contact)).language == "zh-hans"
    # A language we have no templates for falls back to the site language.
    assert queue("x", language="fr").language == "zh-hans"


def test_missing_template_raises_and_records_nothing(templates):
    with pytest.raises(TemplateDoesNotExist):
        queue(template="t/nonexistent")
    assert not Notification.objects.exists()


# --- once only, after commit ------------------------------------------------------------


def test_same_key_twice_is_one_row_and_one_mail(templates, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        first = queue("complaint:1:ack")
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        second = queue("complaint:1:ack", email="someone-else@customer.example")
    assert second.pk == first.pk
    assert second.recipient_email == "a@customer.example"
    assert callbacks == []
    assert Notification.objects.count() == 1
    assert len(mail.outbox) == 1


def test_same_key_recorded_concurrently_returns_the_other_row(templates, django_capture_on_commit_callbacks):
    """Another transaction records the key between our look-up and our insert (the unique index decides)."""

    class ConcurrentWriter:
        """Rendered into the mail: records the same key, as the other transaction would."""

        def __str__(self):
            Notification.objects.get_or_create(
                key="race",
                defaults={
                    "recipient_email": "other@customer.example",
                    "language": "en",
                    "template": "t/shared",
                    "subject": "theirs",
                    "body_text": "theirs",
                    "send_after": datetime(2026, 1, 1, tzinfo=UTC),
                },
            )
            return "rendered"

    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        notification = queue("race", template="t/hello", context={"who": ConcurrentWriter()})
        assert Notification.objects.count() == 1  # the transaction is still usable (PostgreSQL)
    assert notification.subject == "theirs"
    assert callbacks == []
    assert mail.outbox == []


def test_sent_only_after_commit(templates, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            notification = queue()
            assert mail.outbox == []
        assert mail.outbox == []  # a savepoint is not a commit
    assert len(mail.outbox) == 1
    assert refresh(notification).status == NotificationStatus.SENT
    assert notification.sent_at is not None
    assert notification.attempts == 1


def test_nothing_is_sent_when_the_transaction_rolls_back(templates, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        queue()
        raise RuntimeError("the complaint could not be saved")
    assert callbacks == []
    assert mail.outbox == []
    assert not Notification.objects.exists()


def test_a_failure_handing_over_one_mail_does_not_stop_the_others(
    settings, templates, django_capture_on_commit_callbacks
):
    use_backend(settings, BrokenBackend, calls=0)
    with django_capture_on_commit_callbacks(execute=True):
        first = queue("one")
        second = queue("two")
    assert [m.extra_headers["X-Itsm-Notification"] for m in mail.outbox] == ["two"]
    assert refresh(first).status == NotificationStatus.PENDING  # left for the periodic check
    assert refresh(second).status == NotificationStatus.SENT
    run_check(DELIVER)
    assert refresh(first).status == NotificationStatus.SENT
    assert len(mail.outbox) == 2


# --- held to working hours ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("queued_at", "opens_at"),
    [
        (FRIDAY_NIGHT, MONDAY_MORNING),
        (datetime(2026, 10, 3, 10, 0, tzinfo=SHANGHAI), datetime(2026, 10, 8, 9, 0, tzinfo=SHANGHAI)),  # holiday
        (datetime(2026, 10, 9, 18, 30, tzinfo=SHANGHAI), datetime(2026, 10, 10, 9, 0, tzinfo=SHANGHAI)),  # 调休
        (datetime(2026, 9, 15, 23, 0, tzinfo=UTC), datetime(2026, 9, 16, 9, 0, tzinfo=SHANGHAI)),  # 07:00 Shanghai
    ],
)
def test_non_urgent_mail_is_held_until_working_hours(
    templates, django_capture_on_commit_callbacks, queued_at, opens_at
):
    with time_machine.travel(queued_at, tick=False):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            notification = queue(urgent=False)
        assert notification.send_after == opens_at
        assert callbacks == []
        run_check(DELIVER)
    assert mail.outbox == []
    with time_machine.travel(opens_at - timedelta(seconds=1), tick=False):
        run_check(DELIVER)
    assert mail.outbox == []
    assert refresh(notification).status == NotificationStatus.PENDING
    with time_machine.travel(opens_at, tick=False):
        run_check(DELIVER)
    assert len(mail.outbox) == 1
    assert refresh(notification).status == NotificationStatus.SENT
    assert notification.sent_at == opens_at


def test_non_urgent_mail_in_working_hours_goes_at_once(templates, django_capture_on_commit_callbacks):
    with time_machine.travel(TUESDAY_NOON, tick=False), django_capture_on_commit_callbacks(execute=True):
        notification = queue(urgent=False)
    assert notification.send_after == TUESDAY_NOON
    assert len(mail.outbox) == 1


def test_held_mail_follows_the_recipient_calendar(templates):
    london = Calendar(name="London office", country="GB", time_zone="Europe/London")
    with time_machine.travel(datetime(2026, 7, 1, 7, 30, tzinfo=UTC), tick=False):  # 15:30 Shanghai, 08:30 London
        notification = queue(urgent=False, calendar=london)
    assert notification.send_after == datetime(2026, 7, 1, 8, 0, tzinfo=UTC)


def test_urgent_mail_goes_at_once(templates, django_capture_on_commit_callbacks):
    with time_machine.travel(FRIDAY_NIGHT, tick=False):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            notification = queue(urgent=True)
        assert notification.send_after == FRIDAY_NIGHT
    assert len(callbacks) == 1
    assert len(mail.outbox) == 1


# --- claims -----------------------------------------------------------------------------


def test_a_claimed_row_is_not_sent_twice(templates, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):  # the worker has not run yet
        notification = queue()
    assert notification_send(notification.pk) is True
    assert notification_send(notification.pk) is False  # a duplicate delivery of the task
    assert send_notification_task.delay(notification.pk).get() is False
    assert len(mail.outbox) == 1
    assert refresh(notification).attempts == 1


def test_a_row_claimed_by_another_worker_is_left_alone(templates, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        notification = queue()
    Notification.objects.filter(pk=notification.pk).update(status=NotificationStatus.SENDING)
    assert notification_send(notification.pk) is False
    assert mail.outbox == []


def test_a_row_not_yet_due_is_not_sent(templates):
    with time_machine.travel(FRIDAY_NIGHT, tick=False):
        notification = queue(urgent=False)
        assert notification_send(notification.pk) is False
    assert mail.outbox == []


def test_a_stale_claim_is_released_and_sent(templates, django_capture_on_commit_callbacks):
    with time_machine.travel(TUESDAY_NOON, tick=False):
        with django_capture_on_commit_callbacks(execute=False):
            notification = queue()
        # A worker claimed it and died before sending.
        Notification.objects.filter(pk=notification.pk).update(
            status=NotificationStatus.SENDING, claimed_at=TUESDAY_NOON, attempts=1
        )
    with time_machine.travel(TUESDAY_NOON + claim_timeout() - timedelta(seconds=1), tick=False):
        assert notification_deliver_due() == (0, 0)
    assert refresh(notification).status == NotificationStatus.SENDING
    assert mail.outbox == []
    with time_machine.travel(TUESDAY_NOON + claim_timeout() + timedelta(seconds=1), tick=False):
        assert notification_deliver_due() == (1, 1)
    assert refresh(notification).status == NotificationStatus.SENT
    assert notification.attempts == 2
    assert len(mail.outbox) == 1


# --- SMTP failures ----------------------------------------------------------------------


def test_a_refused_recipient_is_failed_and_not_retried(settings, templates, django_capture_on_commit_callbacks):
    use_backend(settings, RefusingBackend)
    with django_capture_on_commit_callbacks(execute=True):
        notification = queue(email="nobody@customer.example")
    assert refresh(notification).status == NotificationStatus.FAILED
    assert notification.attempts == 1
    assert "no such user" in notification.last_error
    run_check(DELIVER)
    assert send_notification_task.delay(notification.pk).get() is False
    assert refresh(notification).attempts == 1
    assert notification.status == NotificationStatus.FAILED


def test_a_transient_error_leaves_the_mail_pending(settings, templates, django_capture_on_commit_callbacks):
    use_backend(settings, DisconnectingBackend, failures=1, calls=0)
    with django_capture_on_commit_callbacks(execute=False):
        notification = queue()
    with pytest.raises(smtplib.SMTPServerDisconnected):
        notification_send(notification.pk)
    assert refresh(notification).status == NotificationStatus.PENDING
    assert notification.attempts == 1
    assert "unexpectedly closed" in notification.last_error
    assert notification_send(notification.pk) is True  # the server is back
    assert refresh(notification).status == NotificationStatus.SENT
    assert len(mail.outbox) == 1


def test_the_task_retries_a_transient_error(settings, templates, django_capture_on_commit_callbacks):
    use_backend(settings, DisconnectingBackend, failures=1, calls=0)
    with django_capture_on_commit_callbacks(execute=False):
        notification = queue()
    # throw=False: let Celery's eager mode run the retry (the test settings propagate instead).
    assert send_notification_task.apply(args=[notification.pk], throw=False).get() is True
    assert refresh(notification).status == NotificationStatus.SENT
    assert notification.attempts == 2
    assert len(mail.outbox) == 1


def test_a_transient_error_in_the_commit_hook_leaves_the_mail_for_the_periodic_check(
    settings, templates, django_capture_on_commit_callbacks
):
    """The caller's transaction has committed: a send that must be retried never breaks it."""
    use_backend(settings, DisconnectingBackend, failures=1, calls=0)
    with django_capture_on_commit_callbacks(execute=True):
        notification = queue()
    assert refresh(notification).status == NotificationStatus.PENDING
    run_check(DELIVER)
    assert refresh(notification).status == NotificationStatus.SENT
    assert len(mail.outbox) == 1


def test_sending_gives_up_after_max_attempts(settings, templates, django_capture_on_commit_callbacks):
    use_backend(settings, DisconnectingBackend, failures=100, calls=0)
    with django_capture_on_commit_callbacks(execute=False):
        notification = queue()
    for _ in range(MAX_ATTEMPTS - 1):
        with pytest.raises(smtplib.SMTPServerDisconnected):
            notification_send(notification.pk)
    assert notification_send(notification.pk) is False  # the last attempt: no retry asked for
    assert refresh(notification).status == NotificationStatus.FAILED
    assert notification.attempts == MAX_ATTEMPTS
    run_check(DELIVER)
    assert DisconnectingBackend.calls == MAX_ATTEMPTS  # a failed mail is not picked up again
    assert mail.outbox == []


# --- the management command ---------------------------------------------------------------


@pytest.mark.parametrize("language", [Language.EN, Language.ZH_HANS])
def test_send_test_mail_command(django_capture_on_commit_callbacks, capsys, language):
    # Friday night: urgent, so not held to working hours.
    with time_machine.travel(FRIDAY_NIGHT, tick=False), django_capture_on_commit_callbacks(execute=True):
        call_command("send_test_mail", "ops@example.com", "--language", language)
    (message,) = mail.outbox
    assert message.to == ["ops@example.com"]
    assert message.subject
    assert "ops@example.com" in message.body
    assert "2026-09-11 22:00" in message.body
    notification = Notification.objects.get()
    assert notification.language == language
    assert notification.status == NotificationStatus.SENT
    assert f"Notification {notification.pk} to ops@example.com" in capsys.readouterr().out


def test_a_personal_link_is_inserted_at_send_time_and_the_body_kept(templates, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        notification = notification_queue(
            key="survey:1:invite",
            template="t/link",
            recipient=Recipient(email="a@customer.example", name="Ann", language=Language.EN),
            urgent=True,
            secret_context={"link": "https://x.example/s/abc?a=1&b=2"},
        )
    assert "abc" not in notification.body_text + notification.body_html
    assert notification.body_text == "Open [[personal-link:link]] now"
    assert notification.secret_context  # encrypted
    assert notification_send(notification.pk) is True
    (message,) = mail.outbox
    assert message.body == "Open https://x.example/s/abc?a=1&b=2 now"
    assert message.alternatives[0].content == '<a href="https://x.example/s/abc?a=1&amp;b=2">open</a>'
    refresh(notification)
    assert notification.secret_context == ""  # erased once sent
    assert notification.body_text == "Open [[personal-link:link]] now"  # the record stays


def test_a_failed_mail_keeps_its_sealed_link_for_the_retry(templates, monkeypatch):
    def refuse(self, messages):
        raise smtplib.SMTPServerDisconnected("gone")

    monkeypatch.setattr(EmailBackend, "send_messages", refuse)
    notification = notification_queue(
        key="survey:2:invite",
        template="t/link",
        recipient=Recipient(email="a@customer.example", name="Ann", language=Language.EN),
        urgent=True,
        secret_context={"link": "https://x.example/s/abc"},
    )
    with pytest.raises(smtplib.SMTPServerDisconnected):
        notification_send(notification.pk)
    sealed = notification.secret_context
    refresh(notification)
    assert notification.status == NotificationStatus.PENDING
    assert notification.secret_context == sealed


def test_a_secret_that_would_be_stored_readable_is_refused(templates):
    recipient = Recipient(email="a@customer.example", name="Ann", language=Language.EN)
    link = "https://x.example/s/abc"
    with pytest.raises(ValueError, match="stored readable"):  # also passed as an ordinary value
        notification_queue(
            key="k", template="t/hello", recipient=recipient, context={"who": link}, secret_context={"link": link}
        )
    with pytest.raises(ValueError, match="subject"):
        notification_queue(key="k", template="t/hello", recipient=recipient, secret_context={"who": link})
    assert not Notification.objects.exists()


# --- redelivery after a dead worker, the Message-ID -------------------------------------------


def test_a_redelivered_task_takes_over_a_claim_its_dead_worker_left(templates, django_capture_on_commit_callbacks):
    with time_machine.travel(TUESDAY_NOON, tick=False):
        with django_capture_on_commit_callbacks(execute=False):
            notification = queue()
        Notification.objects.filter(pk=notification.pk).update(
            status=NotificationStatus.SENDING, claimed_at=TUESDAY_NOON, attempts=1
        )
    with time_machine.travel(TUESDAY_NOON + claim_timeout() - timedelta(seconds=1), tick=False):
        assert notification_send(notification.pk) is False  # the claimant may still be sending
        assert notification_claim_expires_in(notification.pk) == 1.0
    with time_machine.travel(TUESDAY_NOON + claim_timeout() + timedelta(seconds=1), tick=False):
        assert notification_send(notification.pk) is True  # no periodic check needed
    assert refresh(notification).status == NotificationStatus.SENT
    assert notification.attempts == 2
    assert notification_claim_expires_in(notification.pk) is None
    assert len(mail.outbox) == 1


def test_a_claim_abandoned_at_every_attempt_ends_failed(templates, django_capture_on_commit_callbacks):
    with time_machine.travel(TUESDAY_NOON, tick=False):
        with django_capture_on_commit_callbacks(execute=False):
            notification = queue(context={})
        Notification.objects.filter(pk=notification.pk).update(
            status=NotificationStatus.SENDING, claimed_at=TUESDAY_NOON, attempts=MAX_ATTEMPTS
        )
    with time_machine.travel(TUESDAY_NOON + claim_timeout() + timedelta(seconds=1), tick=False):
        assert notification_send(notification.pk) is False
        assert notification_deliver_due() == (0, 0)
    assert refresh(notification).status == NotificationStatus.FAILED
    assert "stopped at every attempt" in notification.last_error
    assert mail.outbox == []


def test_a_redelivered_task_finding_a_fresh_claim_looks_again_once_it_expires(
    templates, django_capture_on_commit_callbacks
):
    from celery.exceptions import Retry

    with django_capture_on_commit_callbacks(execute=False):
        notification = queue()
    Notification.objects.filter(pk=notification.pk).update(
        status=NotificationStatus.SENDING, claimed_at=timezone.now(), attempts=1
    )
    # A plain duplicate delivery leaves a fresh claim alone …
    assert send_notification_task.run(notification.pk) is False
    # … a redelivered message (its worker died, maybe the claimant) retries once it expired.
    send_notification_task.push_request(
        id="redelivered", args=[notification.pk], retries=0, called_directly=False, delivery_info={"redelivered": True}
    )
    try:
        with pytest.raises(Retry) as retry:
            send_notification_task.run(notification.pk)
    finally:
        send_notification_task.pop_request()
    assert 0 < retry.value.when <= claim_timeout().total_seconds() + 1
    assert mail.outbox == []


def test_every_attempt_carries_the_message_id_of_the_key(settings, templates, django_capture_on_commit_callbacks):
    use_backend(settings, DisconnectingBackend, failures=0, calls=0)
    settings.DEFAULT_FROM_EMAIL = "itsm <noreply@itsm.example.com>"
    with django_capture_on_commit_callbacks(execute=False):
        first, second = queue("survey:7:invite"), queue("survey:8:invite", email="b@customer.example")
    digest = hashlib.sha256(b"survey:7:invite").hexdigest()[:32]
    assert message_id_for("survey:7:invite") == f"<{digest}@itsm.example.com>"
    assert notification_send(first.pk) is True
    # The same mail again (a worker died between the server's accept and the commit).
    Notification.objects.filter(pk=first.pk).update(status=NotificationStatus.PENDING)
    assert notification_send(first.pk) is True
    assert notification_send(second.pk) is True
    ids = [m.message()["Message-ID"] for m in mail.outbox]
    assert ids == [message_id_for("survey:7:invite")] * 2 + [message_id_for("survey:8:invite")]
    settings.MAIL_MESSAGE_ID_DOMAIN = "mail.example.org"
    assert message_id_for("survey:7:invite").endswith("@mail.example.org>")


class RecordingBackend(EmailBackend):
    """Records the row's status when the connection is closed (after the server accepted)."""

    seen: list[str] = []

    def close(self):
        type(self).seen.extend(Notification.objects.values_list("status", flat=True))
        raise smtplib.SMTPServerDisconnected("QUIT failed")


def test_the_mail_is_marked_sent_before_the_connection_closes(settings, templates, django_capture_on_commit_callbacks):
    use_backend(settings, RecordingBackend, seen=[])
    with django_capture_on_commit_callbacks(execute=False):
        notification = queue()
    assert notification_send(notification.pk) is True  # a failing QUIT changes nothing
    assert RecordingBackend.seen == [NotificationStatus.SENT]
    assert refresh(notification).status == NotificationStatus.SENT
    assert len(mail.outbox) == 1
