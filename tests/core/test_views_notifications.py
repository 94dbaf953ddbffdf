"""The mail queue page (/notifications/), "send now" (notification_release) and the readable
console mail of development (itsm.core.mail).

Who may: the process owner reads and releases; the auditor reads only; every other role gets
403. A customer-link mail's body shows its personal link as a placeholder: the link itself
is never stored readable (itsm.core.mail_links; tests/core/test_mail_links.py).
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from auditlog.models import LogEntry
from django.conf import settings as django_settings
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from itsm.core.choices import NotificationStatus
from itsm.core.mail_links import placeholder, seal
from itsm.core.models import Notification
from itsm.core.notifications import Recipient, notification_queue, notification_release
from itsm.core.roles import Role
from itsm.core.testing import NO_ROLE, assert_constant_queries, assert_nothing_written, user_with_role
from tests.factories import NotificationFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
FRIDAY_NIGHT = datetime(2026, 9, 11, 22, 0, tzinfo=SHANGHAI)
MONDAY_NINE = datetime(2026, 9, 14, 9, 0, tzinfo=SHANGHAI)
READERS = {Role.PROCESS_OWNER, Role.AUDITOR}
RELEASERS = {Role.PROCESS_OWNER}
ALL = [*(role.value for role in Role), NO_ROLE]
LIST = reverse("notification_list")
SEND_HELD = reverse("notification_send_held")


@pytest.fixture(autouse=True)
def _english(client):
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def at_night():
    with time_machine.travel(FRIDAY_NIGHT, tick=False):
        yield


def held(**fields) -> Notification:
    """A mail waiting for Monday 09:00 (it is Friday night)."""
    return NotificationFactory(send_after=MONDAY_NINE, **fields)


def sent(**fields) -> Notification:
    fields.setdefault("sent_at", timezone.now())
    return NotificationFactory(status=NotificationStatus.SENT, attempts=1, **fields)


def login(client, role: str):
    user = user_with_role(role)
    client.force_login(user)
    return user


def html(response) -> str:
    return response.content.decode()


def rows(page: str) -> list[str]:
    return re.findall(r'data-notification="(\d+)"', page)


def releases():
    """The audit entries of "send now" (users made by the tests have entries of their own)."""
    return LogEntry.objects.filter(content_type__app_label="core", content_type__model="notification")


def send_now_url(notification: Notification) -> str:
    return reverse("notification_send_now", args=[notification.pk])


# --- who may ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ALL)
def test_list_and_detail_are_for_the_process_owner_and_the_auditor(client, role, at_night):
    notification = held()
    login(client, role)
    detail = reverse("notification_detail", args=[notification.pk])
    missing = reverse("notification_detail", args=[notification.pk + 1000])
    if role in READERS:
        assert client.get(LIST).status_code == 200
        assert client.get(detail).status_code == 200
        assert client.get(missing).status_code == 404
    else:
        assert client.get(LIST).status_code == 403
        assert client.get(detail).status_code == 403
        assert client.get(missing).status_code == 403  # refused before the lookup


def test_signed_out_visitors_are_sent_to_the_login_page(client, at_night):
    notification = held()
    for url in (LIST, reverse("notification_detail", args=[notification.pk])):
        response = client.get(url)
        assert response.status_code == 302 and reverse("login") in response["Location"]
    with assert_nothing_written(Notification):
        assert client.post(send_now_url(notification)).status_code == 302
        assert client.post(SEND_HELD).status_code == 302
    assert Notification.objects.get().send_after == MONDAY_NINE


@pytest.mark.parametrize("role", ALL)
def test_send_now_is_for_the_process_owner_only(client, role, at_night):
    notification = held()
    login(client, role)
    if role in RELEASERS:
        response = client.post(send_now_url(notification))
        assert response.status_code == 302 and response["Location"] == LIST
        assert Notification.objects.get().send_after == FRIDAY_NIGHT
        return
    with assert_nothing_written(Notification):
        assert client.post(send_now_url(notification)).status_code == 403
        assert client.post(reverse("notification_send_now", args=[notification.pk + 1000])).status_code == 403
        assert client.post(SEND_HELD).status_code == 403
    assert Notification.objects.get().send_after == MONDAY_NINE


def test_the_auditor_reads_without_send_buttons(client, at_night):
    notification = held()
    login(client, Role.AUDITOR)
    for url in (LIST, reverse("notification_detail", args=[notification.pk])):
        page = html(client.get(url))
        assert 'data-testid="send-now"' not in page and 'data-testid="send-held"' not in page


def test_a_superuser_may_release(client, at_night):
    notification = held()
    admin = user_with_role(NO_ROLE, is_superuser=True, is_staff=True)
    client.force_login(admin)
    assert client.get(LIST).status_code == 200
    assert client.post(send_now_url(notification)).status_code == 302
    assert Notification.objects.get().send_after == FRIDAY_NIGHT


def test_sending_needs_post_and_a_csrf_token(at_night):
    notification = held()
    client = Client(enforce_csrf_checks=True)
    login(client, Role.PROCESS_OWNER)
    assert client.get(send_now_url(notification)).status_code == 405
    with assert_nothing_written(Notification):
        assert client.post(send_now_url(notification)).status_code == 403
        assert client.post(SEND_HELD).status_code == 403
    assert Notification.objects.get().send_after == MONDAY_NINE


def test_the_navigation_shows_notifications_to_those_who_may_read_them(client):
    login(client, Role.PROCESS_OWNER)
    assert 'data-nav="notification_list"' in html(client.get(reverse("home")))
    login(client, Role.SERVICE_DESK)
    assert 'data-nav="notification_list"' not in html(client.get(reverse("home")))


# --- the service ------------------------------------------------------------------------------


def test_release_sends_a_held_mail_now_and_records_who(at_night, django_capture_on_commit_callbacks):
    owner = user_with_role(Role.PROCESS_OWNER)
    notification = held(
        body_text=f"Your link: {placeholder('link')}", secret_context=seal({"link": "https://x/s/raw-token"})
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert notification_release(notifications=Notification.objects.all(), actor=owner) == 1
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.SENT and notification.sent_at == FRIDAY_NIGHT
    assert [(m.subject, m.body) for m in mail.outbox] == [(notification.subject, "Your link: https://x/s/raw-token")]
    assert notification.secret_context == ""  # the link has left: erased
    assert notification.body_text == f"Your link: {placeholder('link')}"  # the record stays
    entry = releases().get()
    assert entry.actor == owner and entry.object_pk == str(notification.pk)
    assert entry.changes == {"send_after": ["2026-09-14 01:00:00", "2026-09-11 14:00:00"]}
    assert "raw-token" not in str(entry.changes) + entry.object_repr


def test_release_queues_the_mail_only_after_commit(at_night, django_capture_on_commit_callbacks):
    owner = user_with_role(Role.PROCESS_OWNER)
    held()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notification_release(notifications=Notification.objects.all(), actor=owner)
    assert len(callbacks) == 1 and mail.outbox == []


@pytest.mark.parametrize(
    ("fields", "state"),
    [
        ({"status": NotificationStatus.SENT, "sent_at": FRIDAY_NIGHT - timedelta(hours=1)}, "Sent"),
        ({"status": NotificationStatus.SENDING, "claimed_at": FRIDAY_NIGHT}, "Sending"),
        ({"status": NotificationStatus.FAILED, "last_error": "550"}, "Failed"),
        ({"send_after": FRIDAY_NIGHT - timedelta(minutes=1)}, "Queued"),  # due: the worker has it
    ],
)
def test_only_held_mail_can_be_released(fields, state, at_night, django_capture_on_commit_callbacks):
    owner = user_with_role(Role.PROCESS_OWNER)
    notification = NotificationFactory(**fields)
    before = Notification.objects.values().get()
    with (
        assert_nothing_written(Notification),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(ValidationError) as refused,
        translation.override("en"),
    ):
        notification_release(notifications=Notification.objects.filter(pk=notification.pk), actor=owner)
    assert refused.value.messages == [f"Only held mail can be sent now; this mail is “{state}”."]
    assert Notification.objects.values().get() == before and callbacks == [] and mail.outbox == []


def test_a_sent_mail_cannot_be_sent_again(at_night, django_capture_on_commit_callbacks):
    owner = user_with_role(Role.PROCESS_OWNER)
    notification = held()
    with django_capture_on_commit_callbacks(execute=True):
        notification_release(notifications=Notification.objects.all(), actor=owner)
    assert len(mail.outbox) == 1
    with assert_nothing_written(Notification), pytest.raises(ValidationError):
        notification_release(notifications=Notification.objects.filter(pk=notification.pk), actor=owner)
    assert len(mail.outbox) == 1 and releases().count() == 1


def test_releasing_twice_releases_once(at_night, django_capture_on_commit_callbacks):
    owner = user_with_role(Role.PROCESS_OWNER)
    held()
    with django_capture_on_commit_callbacks(execute=False):
        assert notification_release(notifications=Notification.objects.all(), actor=owner) == 1
        with pytest.raises(ValidationError):  # now due (queued), no longer held
            notification_release(notifications=Notification.objects.all(), actor=owner)
    assert releases().count() == 1


def test_a_mixed_selection_releases_only_its_held_mail(at_night, django_capture_on_commit_callbacks):
    owner = user_with_role(Role.PROCESS_OWNER)
    waiting = [held(), held()]
    done = sent()
    failed = NotificationFactory(status=NotificationStatus.FAILED)
    with django_capture_on_commit_callbacks(execute=True):
        assert notification_release(notifications=Notification.objects.all(), actor=owner) == 2
    assert sorted(m.subject for m in mail.outbox) == sorted(n.subject for n in waiting)
    assert Notification.objects.get(pk=done.pk).sent_at == done.sent_at
    assert Notification.objects.get(pk=failed.pk).status == NotificationStatus.FAILED
    assert releases().count() == 2


def test_none_held_in_a_selection_is_refused(at_night):
    owner = user_with_role(Role.PROCESS_OWNER)
    sent(), sent()
    with assert_nothing_written(Notification), pytest.raises(ValidationError) as refused, translation.override("en"):
        notification_release(notifications=Notification.objects.all(), actor=owner)
    assert refused.value.messages == ["None of these mails is held; nothing was sent."]


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.SERVICE_DESK, NO_ROLE])
def test_release_refuses_those_without_the_permission(role, at_night):
    notification = held()
    actor = user_with_role(role)
    with assert_nothing_written(Notification), pytest.raises(PermissionDenied):
        notification_release(notifications=Notification.objects.all(), actor=actor)
    notification.refresh_from_db()
    assert notification.send_after == MONDAY_NINE


def test_a_large_selection_is_released_in_chunks(at_night, django_capture_on_commit_callbacks, monkeypatch):
    from itsm.core import notifications

    monkeypatch.setattr(notifications, "RELEASE_CHUNK", 2)
    owner = user_with_role(Role.PROCESS_OWNER)
    for _ in range(5):
        held()
    with django_capture_on_commit_callbacks(execute=True):
        assert notification_release(notifications=Notification.objects.all(), actor=owner) == 5
    assert len(mail.outbox) == 5 and releases().count() == 5


# --- the list page ----------------------------------------------------------------------------


def test_the_list_shows_state_times_and_errors_in_the_calendar_zone(client, at_night):
    waiting = held(recipient_name="王经理", recipient_email="wang@customer.example", subject="投诉已升级")
    due = NotificationFactory(send_after=FRIDAY_NIGHT - timedelta(minutes=5))
    done = sent(sent_at=FRIDAY_NIGHT - timedelta(hours=2, minutes=3))
    failed = NotificationFactory(status=NotificationStatus.FAILED, attempts=5, last_error="550 5.1.1 " + "x" * 300)
    login(client, Role.PROCESS_OWNER)
    page = html(client.get(LIST))
    assert rows(page) == [str(n.pk) for n in (failed, done, due, waiting)]  # newest first
    assert "王经理" in page and "wang@customer.example" in page and "投诉已升级" in page
    assert f'data-notification="{waiting.pk}" data-state="held"' in page
    assert f'data-notification="{due.pk}" data-state="queued"' in page
    assert f'data-notification="{done.pk}" data-state="sent"' in page
    assert f'data-notification="{failed.pk}" data-state="failed"' in page
    assert ">Held<" in page and ">Queued<" in page and ">Sent<" in page and ">Failed<" in page
    assert "2026-09-14 09:00" in page  # held until, Asia/Shanghai, to the minute
    assert "2026-09-11 19:57" in page  # sent at
    # Short in the cell, in full in its title.
    assert f'title="550 5.1.1 {"x" * 300}">550 5.1.1 {"x" * 69}…</td>' in page
    assert page.count('data-testid="send-now"') == 1  # only the held one
    assert "Send the 1 held mail now" in page
    assert "这是一封测试邮件" not in page  # no bodies on the list


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("state=held", ["held"]),
        ("state=queued", ["queued"]),
        ("state=sent", ["sent"]),
        ("state=failed", ["failed"]),
        ("recipient=WANG", ["held"]),
        ("recipient=王经理", ["held"]),
        ("template=complaints/email/escalated", ["queued"]),
        ("since=2026-09-11&until=2026-09-11", ["held", "queued", "sent", "failed"]),
        ("since=2026-09-12", []),
    ],
)
def test_the_list_filters(client, query, expected, at_night):
    held(recipient_name="王经理", recipient_email="wang@customer.example")
    NotificationFactory(send_after=FRIDAY_NIGHT, template="complaints/email/escalated")
    sent()
    NotificationFactory(status=NotificationStatus.FAILED)
    login(client, Role.AUDITOR)
    page = html(client.get(f"{LIST}?{query}"))
    assert sorted(re.findall(r'data-state="(\w+)"', page)) == sorted(expected)


def test_the_kind_filter_offers_the_mail_templates_by_app(client):
    login(client, Role.AUDITOR)
    page = html(client.get(LIST))
    assert '<option value="surveys/email/invitation">invitation</option>' in page
    assert '<option value="sla/email/report">report</option>' in page  # report.zh-hans.* counted once
    assert page.count('value="sla/email/report"') == 1


def test_a_bad_filter_shows_its_error_and_no_rows(client, at_night):
    held()
    login(client, Role.PROCESS_OWNER)
    response = client.get(f"{LIST}?state=lost&since=yesterday")
    assert response.status_code == 200 and rows(html(response)) == []
    assert "Select a valid choice" in html(response) and "Enter a valid date" in html(response)


def test_send_held_releases_the_filtered_set_only(client, at_night, django_capture_on_commit_callbacks):
    mine = held(recipient_email="wang@customer.example")
    other = held(recipient_email="li@customer.example")
    login(client, Role.PROCESS_OWNER)
    page = html(client.get(f"{LIST}?recipient=wang"))
    assert "Send the 1 held mail now" in page and 'name="recipient" value="wang"' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(SEND_HELD, {"recipient": "wang"})
    assert response.status_code == 302 and response["Location"] == f"{LIST}?recipient=wang"
    assert [m.to for m in mail.outbox] == [["wang@customer.example"]]
    assert Notification.objects.get(pk=mine.pk).status == NotificationStatus.SENT
    assert Notification.objects.get(pk=other.pk).send_after == MONDAY_NINE
    assert "1 held mail is being sent now." in html(client.get(response["Location"]))


def test_send_held_with_nothing_held_is_a_400_that_writes_nothing(client, at_night):
    sent(), sent()
    login(client, Role.PROCESS_OWNER)
    with assert_nothing_written(Notification):
        response = client.post(SEND_HELD, {"state": "sent"})
    assert response.status_code == 400
    assert "None of these mails is held; nothing was sent." in html(response)


def test_send_held_with_a_bad_filter_is_a_400_that_writes_nothing(client, at_night):
    held()
    login(client, Role.PROCESS_OWNER)
    with assert_nothing_written(Notification):
        response = client.post(SEND_HELD, {"since": "not a date"})
    assert response.status_code == 400 and "Correct the filters first" in html(response)
    assert Notification.objects.get().send_after == MONDAY_NINE


def test_send_now_of_a_sent_mail_is_a_400_that_writes_nothing(client, at_night):
    notification = sent()
    login(client, Role.PROCESS_OWNER)
    with assert_nothing_written(Notification):
        response = client.post(send_now_url(notification))
    assert response.status_code == 400
    assert "Only held mail can be sent now; this mail is “Sent”." in html(response)
    assert len(mail.outbox) == 0


def test_send_now_returns_to_the_page_it_came_from_on_this_site_only(client, at_night):
    first, second = held(), held()
    login(client, Role.PROCESS_OWNER)
    back = f"{LIST}?state=held&page=1"
    assert client.post(send_now_url(first), {"next": back})["Location"] == back
    assert client.post(send_now_url(second), {"next": "https://evil.example/"})["Location"] == LIST


def test_the_list_runs_a_constant_number_of_queries(client, at_night):
    login(client, Role.PROCESS_OWNER)
    kinds = [held, sent, lambda: NotificationFactory(status=NotificationStatus.FAILED, last_error="550")]

    def make_rows(n: int) -> None:
        for i in range(n):
            kinds[i % len(kinds)]()

    assert_constant_queries(client, LIST, make_rows, few=3, many=45)
    assert_constant_queries(client, f"{LIST}?state=held&recipient=customer", make_rows, few=3, many=10)


# --- one mail ---------------------------------------------------------------------------------


def test_the_detail_runs_a_constant_number_of_queries(client, at_night):
    notification = held()
    login(client, Role.PROCESS_OWNER)

    def make_rows(n: int) -> None:
        for _ in range(n):
            held(), sent()

    assert_constant_queries(client, reverse("notification_detail", args=[notification.pk]), make_rows, few=2, many=20)


def test_the_detail_shows_an_ordinary_body(client, at_night):
    notification = held(body_text="赵部长，您好：投诉已升级至您处理。")
    login(client, Role.AUDITOR)
    page = html(client.get(reverse("notification_detail", args=[notification.pk])))
    assert 'data-body="text"' in page and "投诉已升级至您处理" in page
    assert "2026-09-14 09:00" in page


@pytest.mark.parametrize(
    "fields",
    [
        {"send_after": MONDAY_NINE},  # held
        {"send_after": FRIDAY_NIGHT},  # queued
        {"status": NotificationStatus.SENDING},
        {"status": NotificationStatus.FAILED, "last_error": "550"},
        {"status": NotificationStatus.SENT},
    ],
)
@pytest.mark.parametrize("role", sorted(READERS))
def test_a_personal_link_is_shown_as_its_placeholder(client, fields, role, at_night):
    notification = NotificationFactory(
        body_text=f"Answer: {placeholder('link')}",
        secret_context=seal({"link": "https://x/s/LIVE-TOKEN-123"}),
        **fields,
    )
    login(client, role)
    for url in (LIST, reverse("notification_detail", args=[notification.pk])):
        assert "LIVE-TOKEN-123" not in html(client.get(url))
    page = html(client.get(reverse("notification_detail", args=[notification.pk])))
    assert "Answer: [personal link — inserted when the mail is sent]" in page
    assert "personal-link:" not in page


def test_a_sent_link_mail_keeps_its_body_with_the_placeholder(client, at_night, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notification = notification_queue(
            key="link-1",
            template="core/email/test_message",
            recipient=Recipient(email="c@customer.example", name="C"),
            urgent=True,
            secret_context={"site_url": "https://x/s/LIVE-TOKEN-456"},
        )
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.SENT
    assert "https://x/s/LIVE-TOKEN-456" in mail.outbox[0].body
    login(client, Role.PROCESS_OWNER)
    page = html(client.get(reverse("notification_detail", args=[notification.pk])))
    assert "LIVE-TOKEN-456" not in page and "[personal link — inserted when the mail is sent]" in page
    assert 'data-testid="send-now"' not in page


def test_send_now_from_the_detail_page(client, at_night, django_capture_on_commit_callbacks):
    notification = held()
    login(client, Role.PROCESS_OWNER)
    url = reverse("notification_detail", args=[notification.pk])
    assert 'data-testid="send-now"' in html(client.get(url))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(send_now_url(notification), {"next": url})
    assert response["Location"] == url
    page = html(client.get(url))
    assert 'data-state="sent"' in page and f"The mail to {notification.recipient_email} is being sent now." in page


# --- console mail (development) ---------------------------------------------------------------


def test_the_console_backend_logs_mail_decoded_at_info(caplog):
    message = EmailMultiAlternatives(
        subject="投诉 TS-202611-0007 已升级至您处理（部门负责人）",
        body="赵部长，您好：\n\n来自东州电力的投诉已升级至您处理。\n",
        from_email="itsm <itsm@localhost>",
        to=["head@example.com"],
        headers={"X-Itsm-Notification": "complaint:7:escalated"},
    )
    message.attach_alternative("<p>赵部长，您好</p>", "text/html")
    with caplog.at_level(logging.INFO, logger="itsm.mail"):
        sent_count = get_connection("itsm.core.mail.ConsoleLogBackend").send_messages([message])
    assert sent_count == 1
    (record,) = [r for r in caplog.records if r.name == "itsm.mail"]
    text = record.getMessage()
    assert record.levelno == logging.INFO
    assert "Subject: 投诉 TS-202611-0007 已升级至您处理（部门负责人）" in text
    assert "From: itsm <itsm@localhost>" in text and "To: head@example.com" in text
    assert "X-Itsm-Notification: complaint:7:escalated" in text
    assert "来自东州电力的投诉已升级至您处理。" in text
    assert "=?utf-8?" not in text and "<p>" not in text  # no MIME encoding, the plain part only


def test_the_console_backend_refuses_a_bad_header_like_smtp_would(caplog):
    message = EmailMultiAlternatives(subject="two\nlines", body="x", to=["a@example.com"])
    with pytest.raises(ValueError):
        get_connection("itsm.core.mail.ConsoleLogBackend").send_messages([message])
    assert get_connection("itsm.core.mail.ConsoleLogBackend", fail_silently=True).send_messages([message]) == 0


def _dev_settings(**env) -> list[str]:
    code = "from django.conf import settings; print(settings.SITE_URL); print(settings.EMAIL_BACKEND)"
    clean = {k: v for k, v in os.environ.items() if k not in ("SITE_URL", "EMAIL_URL", "ITSM_PORT")}
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        env={**clean, "DJANGO_SETTINGS_MODULE": "itsm.settings.dev", **env},
        capture_output=True,
        text=True,
        check=True,
        cwd=django_settings.BASE_DIR,
    )
    return result.stdout.split()


def test_dev_settings_follow_itsm_port_and_log_mail_unless_told_otherwise():
    assert _dev_settings() == ["http://127.0.0.1:8000", "itsm.core.mail.ConsoleLogBackend"]
    assert _dev_settings(ITSM_PORT="8765")[0] == "http://127.0.0.1:8765"
    assert _dev_settings(ITSM_PORT="8765", SITE_URL="https://itsm.example.com")[0] == "https://itsm.example.com"
    assert _dev_settings(EMAIL_URL="smtp://mail.example.com:25")[1] == "django.core.mail.backends.smtp.EmailBackend"
