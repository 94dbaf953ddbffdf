"""Ticket call-backs: ingestion over the API, the desk's pages, the customer's link, mail."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from itsm.core.roles import Role
from surveys.models import CallBack, Ticket
from surveys.periodic import callbacks_overdue
from surveys.services.callbacks import CallbackAnswer, callback_record_phone, callback_send_link, ticket_ingest
from tests.factories import ContactFactory, UserFactory

pytestmark = pytest.mark.django_db

RESOLVED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
HAPPY = {
    "fixed": "yes",
    "rating_attitude": "5",
    "rating_speed": "4",
    "rating_effect": "5",
    "satisfied": "yes",
    "comment": "",
}
UNHAPPY = {**HAPPY, "satisfied": "no", "fixed": "no", "comment": "still broken"}


def payload(external_id="T-1", **over):
    body = {
        "external_id": external_id,
        "ticket_ref": f"INC-{external_id}",
        "requester": {"name": "Li Lei", "email": "li@customer.example", "phone": "13900000000"},
        "technician": {"name": "Wang", "email": "wang@staff.example"},
        "resolved_at": RESOLVED.isoformat(),
        "summary": "Printer fixed",
    }
    body.update(over)
    return body


def make_ticket(external_id="T-1", *, resolved_at=RESOLVED, requester_email="li@customer.example", **extra):
    data = {
        "external_id": external_id,
        "ticket_ref": f"INC-{external_id}",
        "requester_name": "Li Lei",
        "requester_email": requester_email,
        "requester_phone": "",
        "technician_name": "Wang",
        "technician_email": "wang@staff.example",
        "resolved_at": resolved_at,
        "summary": "Printer fixed",
        **extra,
    }
    ticket, _created = ticket_ingest(data=data, actor=None)
    return ticket


def answer(**over):
    values = {
        "fixed": True,
        "rating_attitude": 5,
        "rating_speed": 4,
        "rating_effect": 5,
        "satisfied": True,
        "complaint_raised": False,
        "comment": "",
    }
    values.update(over)
    return CallbackAnswer(**values)


# --- ingestion ------------------------------------------------------------------------------


def test_ingest_creates_ticket_and_callback_due_24h_later_matching_contact_and_technician(api_as):
    contact = ContactFactory(email="li@customer.example")
    tech = UserFactory(email="wang@staff.example")
    response = api_as(Role.SERVICE_DESK).post("/api/v1/tickets/", payload(), format="json")
    assert response.status_code == 201, response.json()
    ticket = Ticket.objects.get()
    assert ticket.requester == contact
    assert ticket.organisation == contact.organisation
    assert ticket.technician == tech
    assert ticket.callback.due_at == RESOLVED + timedelta(hours=24)
    assert response.json()["callback"]["id"] == ticket.callback.pk


def test_contact_matched_by_phone_when_no_email():
    contact = ContactFactory(email="", phone="13811112222")
    ticket = make_ticket(requester_email="", requester_phone="13811112222")
    assert ticket.requester == contact


def test_ingest_is_idempotent_and_moves_due_time(api_as):
    client = api_as(Role.SERVICE_DESK)
    assert client.post("/api/v1/tickets/", payload(), format="json").status_code == 201
    later = RESOLVED + timedelta(hours=3)
    response = client.post(
        "/api/v1/tickets/", payload(summary="Printer replaced", resolved_at=later.isoformat()), format="json"
    )
    assert response.status_code == 200, response.json()
    ticket = Ticket.objects.get()
    assert ticket.summary == "Printer replaced"
    assert CallBack.objects.get().due_at == later + timedelta(hours=24)


def test_answered_callback_keeps_its_due_time_on_reingest(make_user):
    ticket = make_ticket()
    desk = make_user(Role.SERVICE_DESK)
    callback_record_phone(callback_id=ticket.callback.pk, answer=answer(), actor=desk)
    make_ticket(resolved_at=RESOLVED + timedelta(hours=5))
    assert CallBack.objects.get().due_at == RESOLVED + timedelta(hours=24)


def test_bulk_is_all_or_nothing_with_errors_per_item(api_as):
    client = api_as(Role.SERVICE_DESK)
    bad = payload("T-2", resolved_at="yesterday")
    bad["requester"] = {"name": "", "email": "not-an-email"}
    response = client.post("/api/v1/tickets/", [payload("T-1"), bad, payload("T-3")], format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert {"1.resolved_at", "1.requester.email", "1.requester.name"} <= set(errors)
    assert not any(key.startswith(("0.", "2.")) for key in errors)
    assert Ticket.objects.count() == 0 and CallBack.objects.count() == 0


def test_bulk_ingest(api_as):
    client = api_as(Role.SERVICE_DESK)
    response = client.post("/api/v1/tickets/", [payload("T-1"), payload("T-2")], format="json")
    assert response.status_code == 201
    assert len(response.json()) == 2
    assert CallBack.objects.count() == 2


@pytest.mark.parametrize(
    "body",
    [
        {},
        [],
        "nonsense",
        [1, 2],
        {"external_id": "x" * 200},
        {**payload(), "resolved_at": None},
        {**payload(), "requester": "Li"},
        [payload("T-1"), payload("T-1")],
    ],
)
def test_bad_input_is_400_never_500(api_as, body):
    response = api_as(Role.SERVICE_DESK).post("/api/v1/tickets/", body, format="json")
    assert response.status_code == 400, response.content
    assert "message" in response.json()
    assert Ticket.objects.count() == 0


# --- role matrix ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_api_role_matrix(api_as, role):
    from itsm.core.testing import granted_permissions

    perms = granted_permissions(role)
    ticket = make_ticket()
    client = api_as(role)
    can_view = "surveys.view_callback" in perms
    assert client.get("/api/v1/callbacks/").status_code == (200 if can_view else 403)
    assert client.get(f"/api/v1/tickets/{ticket.pk}/").status_code == (200 if "surveys.view_ticket" in perms else 403)
    post = client.post("/api/v1/tickets/", payload("T-9"), format="json")
    assert post.status_code == (201 if "surveys.add_ticket" in perms else 403)
    answered = client.post(
        f"/api/v1/callbacks/{ticket.callback.pk}/answer/",
        {"fixed": True, "rating_attitude": 5, "rating_speed": 5, "rating_effect": 5, "satisfied": True},
        format="json",
    )
    assert answered.status_code == (200 if "surveys.change_callback" in perms else 403)


def test_desk_and_auditor_explicitly(api_as, client_as):
    ticket = make_ticket()
    assert api_as(Role.AUDITOR).post("/api/v1/tickets/", payload("T-5"), format="json").status_code == 403
    auditor = client_as(Role.AUDITOR)
    url = reverse("callback_detail", args=[ticket.callback.pk])
    assert auditor.get(url).status_code == 200
    assert auditor.post(url, HAPPY).status_code == 403
    assert auditor.post(reverse("callback_send_link", args=[ticket.callback.pk])).status_code == 403
    assert CallBack.objects.get().answered_at is None


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_page_role_matrix(client_as, role):
    from itsm.core.testing import granted_permissions

    ticket = make_ticket()
    perms = granted_permissions(role)
    client = client_as(role)
    expected = 200 if "surveys.view_callback" in perms else 403
    assert client.get(reverse("callback_list")).status_code == expected
    assert client.get(reverse("callback_detail", args=[ticket.callback.pk])).status_code == expected


def test_pages_need_login(client):
    response = client.get(reverse("callback_list"))
    assert response.status_code == 302


# --- list --------------------------------------------------------------------------------------


def test_list_orders_due_first_and_highlights_overdue(client_as):
    make_ticket("OLD", resolved_at=RESOLVED)
    make_ticket("NEW", resolved_at=RESOLVED + timedelta(days=2))
    with time_machine.travel(RESOLVED + timedelta(hours=30), tick=False):
        response = client_as(Role.SERVICE_DESK).get(reverse("callback_list"))
        page = response.content.decode()
        assert page.index("INC-OLD") < page.index("INC-NEW")
        assert page.count('data-overdue="yes"') == 1
        overdue = client_as(Role.SERVICE_DESK).get(reverse("callback_list"), {"state": "overdue"}).content.decode()
        assert "INC-OLD" in overdue and "INC-NEW" not in overdue


def _list_queries(client, django_assert_max_num_queries, n):
    for i in range(n):
        make_ticket(f"Q{n}-{i}")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("callback_list")).status_code == 200
        assert client.get(reverse("callback_list"), {"state": "answered"}).status_code == 200
    return len(ctx.captured_queries)


def test_list_query_count_is_constant(client_as, django_assert_max_num_queries):
    client = client_as(Role.SERVICE_DESK)
    few = _list_queries(client, django_assert_max_num_queries, 5)
    Ticket.objects.all().delete()
    many = _list_queries(client, django_assert_max_num_queries, 50)
    assert few == many


# --- phone answers -------------------------------------------------------------------------


def test_phone_answer_recorded_on_behalf_and_correctable_for_12_hours(client_as):
    ticket = make_ticket()
    client = client_as(Role.SERVICE_DESK)
    url = reverse("callback_detail", args=[ticket.callback.pk])
    start = RESOLVED + timedelta(hours=2)
    with time_machine.travel(start, tick=False):
        response = client.post(url, HAPPY)
        assert response.status_code == 302
    callback = CallBack.objects.get()
    assert callback.on_behalf is True
    assert callback.recorded_by == client.user
    assert callback.method == "phone"
    assert callback.correctable_until == start + timedelta(hours=12)
    assert (callback.rating_attitude, callback.rating_speed, callback.rating_effect) == (5, 4, 5)

    other_desk = client_as(Role.SERVICE_DESK)
    with time_machine.travel(start + timedelta(hours=11), tick=False):
        assert other_desk.post(url, {**HAPPY, "rating_speed": "2"}).status_code == 302
    assert CallBack.objects.get().rating_speed == 2

    with time_machine.travel(start + timedelta(hours=12, minutes=1), tick=False):
        response = other_desk.post(url, {**HAPPY, "rating_speed": "1"})
        assert response.status_code == 400
        assert "12 小时更正期限已过" in response.content.decode()  # zh-hans, the default language
    assert CallBack.objects.get().rating_speed == 2


def test_invalid_phone_form_is_400_and_writes_nothing(client_as):
    ticket = make_ticket()
    response = client_as(Role.SERVICE_DESK).post(
        reverse("callback_detail", args=[ticket.callback.pk]), {**HAPPY, "rating_speed": "9"}
    )
    assert response.status_code == 400
    assert CallBack.objects.get().answered_at is None


def test_api_answer_and_late_correction_refused(api_as):
    ticket = make_ticket()
    client = api_as(Role.SERVICE_DESK)
    url = f"/api/v1/callbacks/{ticket.callback.pk}/answer/"
    body = {"fixed": True, "rating_attitude": 5, "rating_speed": 5, "rating_effect": 5, "satisfied": True}
    with time_machine.travel(RESOLVED + timedelta(hours=1), tick=False):
        response = client.post(url, body, format="json")
        assert response.status_code == 200, response.json()
        assert response.json()["on_behalf"] is True
        assert client.post(url, {**body, "rating_speed": 7}, format="json").status_code == 400
    with time_machine.travel(RESOLVED + timedelta(hours=14), tick=False):
        response = client.post(url, body, format="json")
        assert response.status_code == 400


# --- dissatisfied --------------------------------------------------------------------------


def test_dissatisfied_flags_ticket_mails_technician_and_offers_complaint(client_as, django_capture_on_commit_callbacks):
    contact = ContactFactory(email="li@customer.example")
    tech = UserFactory(email="wang@staff.example", preferred_language="en")
    ticket = make_ticket()
    client = client_as(Role.SERVICE_DESK)
    url = reverse("callback_detail", args=[ticket.callback.pk])
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, UNHAPPY).status_code == 302
    ticket.refresh_from_db()
    assert ticket.closable is False and ticket.flag_reason
    assert [m.to for m in mail.outbox] == [[tech.email]]
    assert "INC-T-1" in mail.outbox[0].subject
    page = client.get(url).content.decode()
    assert 'data-testid="register-complaint"' in page
    link = re.search(r'href="([^"]*complaints/new/\?[^"]*)"', page).group(1).replace("&amp;", "&")
    assert "external_ticket_ref=INC-T-1" in link
    assert f"organisation={contact.organisation_id}" in link
    assert f"contact={contact.pk}" in link
    assert "channel=phone" in link
    form = client.get(link)
    assert form.status_code == 200
    assert "INC-T-1" in form.content.decode()


def test_complaint_alone_flags_and_correction_to_happy_lifts_flag(make_user):
    desk = make_user(Role.SERVICE_DESK)
    ticket = make_ticket()
    callback_record_phone(callback_id=ticket.callback.pk, answer=answer(complaint_raised=True), actor=desk)
    ticket.refresh_from_db()
    assert ticket.closable is False
    callback_record_phone(callback_id=ticket.callback.pk, answer=answer(), actor=desk)
    ticket.refresh_from_db()
    assert ticket.closable is True and ticket.flag_reason == ""


def test_satisfied_answer_has_no_complaint_button(client_as):
    ticket = make_ticket()
    client = client_as(Role.SERVICE_DESK)
    url = reverse("callback_detail", args=[ticket.callback.pk])
    client.post(url, HAPPY)
    assert 'data-testid="register-complaint"' not in client.get(url).content.decode()
    assert Ticket.objects.get().closable is True


# --- link answers --------------------------------------------------------------------------


def _send_link(make_user, django_capture_on_commit_callbacks, language="en"):
    ContactFactory(email="li@customer.example", preferred_language=language)
    ticket = make_ticket()
    desk = make_user(Role.SERVICE_DESK)
    with django_capture_on_commit_callbacks(execute=True):
        callback_send_link(callback_id=ticket.callback.pk, actor=desk)
    body = mail.outbox[-1].body
    return re.search(r"/c/([A-Za-z0-9_-]+)/", body).group(0), ticket


def test_link_answer_is_single_use(client, make_user, django_capture_on_commit_callbacks):
    path, ticket = _send_link(make_user, django_capture_on_commit_callbacks)
    assert mail.outbox[-1].to == ["li@customer.example"]
    page = client.get(path)
    assert page.status_code == 200
    assert page.headers["Content-Language"] == "en"
    assert client.post(path, HAPPY).status_code == 200
    callback = CallBack.objects.get()
    assert callback.on_behalf is False and callback.method == "link"
    assert callback.correctable_until is None
    again = client.post(path, UNHAPPY)
    assert again.status_code == 410
    assert CallBack.objects.get().satisfied is True


def test_link_in_contacts_language_zh(make_user, django_capture_on_commit_callbacks):
    _send_link(make_user, django_capture_on_commit_callbacks, language="zh-hans")
    assert "回访" in mail.outbox[-1].subject


def test_link_expired_forged_and_invalid_submission(client, make_user, django_capture_on_commit_callbacks):
    path, _ticket = _send_link(make_user, django_capture_on_commit_callbacks)
    assert client.post(path, {**HAPPY, "satisfied": ""}).status_code == 400
    assert CallBack.objects.get().answered_at is None
    assert client.get("/c/" + "A" * 43 + "/").status_code == 404
    assert client.get("/c/<script>/").status_code == 404
    with time_machine.travel(datetime.now(UTC) + timedelta(days=8)):
        assert client.get(path).status_code == 410
        assert client.post(path, HAPPY).status_code == 410
    assert CallBack.objects.get().answered_at is None


def test_phone_answer_withdraws_the_link(client, make_user, django_capture_on_commit_callbacks):
    path, ticket = _send_link(make_user, django_capture_on_commit_callbacks)
    callback_record_phone(callback_id=ticket.callback.pk, answer=answer(), actor=make_user(Role.SERVICE_DESK))
    assert client.post(path, UNHAPPY).status_code == 410
    assert CallBack.objects.get().on_behalf is True


def test_link_answer_is_atomic_when_recording_fails(client, make_user, django_capture_on_commit_callbacks, monkeypatch):
    path, _ticket = _send_link(make_user, django_capture_on_commit_callbacks)
    import surveys.services.callbacks as services

    def boom(callback):
        raise RuntimeError("flag failed")

    monkeypatch.setattr(services, "_flag", boom)
    client.raise_request_exception = False
    assert client.post(path, HAPPY).status_code == 500
    monkeypatch.undo()
    assert CallBack.objects.get().answered_at is None
    assert client.post(path, HAPPY).status_code == 200


# --- overdue -----------------------------------------------------------------------------------


def test_overdue_check_mails_the_lead_once(settings, make_user, django_capture_on_commit_callbacks):
    settings.SERVICE_DESK_LEAD_EMAILS = ["lead@staff.example"]
    make_ticket("A")
    make_ticket("B", resolved_at=RESOLVED + timedelta(days=3))
    with time_machine.travel(RESOLVED + timedelta(hours=25), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert callbacks_overdue() == "1 overdue call-backs notified"
        with django_capture_on_commit_callbacks(execute=True):
            assert callbacks_overdue() == "0 overdue call-backs notified"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["lead@staff.example"]
    assert "INC-A" in mail.outbox[0].body and "INC-B" not in mail.outbox[0].body


def test_overdue_falls_back_to_service_desk_users(settings, make_user, django_capture_on_commit_callbacks):
    settings.SERVICE_DESK_LEAD_EMAILS = []
    desk = make_user(Role.SERVICE_DESK)
    make_user(Role.AUDITOR)
    make_ticket("A")
    with (
        time_machine.travel(RESOLVED + timedelta(hours=25), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        callbacks_overdue()
    assert [m.to for m in mail.outbox] == [[desk.email]]


def test_answered_callbacks_are_never_overdue(settings, make_user, django_capture_on_commit_callbacks):
    settings.SERVICE_DESK_LEAD_EMAILS = ["lead@staff.example"]
    ticket = make_ticket("A")
    callback_record_phone(callback_id=ticket.callback.pk, answer=answer(), actor=make_user(Role.SERVICE_DESK))
    with (
        time_machine.travel(datetime.now(UTC) + timedelta(days=3), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        callbacks_overdue()
    assert mail.outbox == []


def test_demo_loader_is_idempotent(make_user):
    import io

    make_user(Role.SERVICE_DESK, username="desk")

    from surveys.demo import callbacks as demo_callbacks

    out = io.StringIO()
    first = demo_callbacks.load(out)
    assert first > 0
    assert demo_callbacks.load(out) == 0
    assert CallBack.objects.filter(answered_at__isnull=True).exists()
    assert Ticket.objects.filter(closable=False).exists()


def test_integration_account_ingests_with_a_token(api_client, make_user):
    from knox.models import AuthToken

    account = make_user(Role.SERVICE_DESK, username="itsm-integration")
    _instance, token = AuthToken.objects.create(user=account)
    assert api_client.post("/api/v1/tickets/", payload(), format="json").status_code == 401
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api_client.post("/api/v1/tickets/", payload(), format="json").status_code == 201
    assert api_client.get("/api/v1/callbacks/").json()["count"] == 1


def test_link_answers_are_throttled_per_address(client, make_user, django_capture_on_commit_callbacks):
    path, _ticket = _send_link(make_user, django_capture_on_commit_callbacks)
    for _attempt in range(20):
        assert client.post(path, {**HAPPY, "satisfied": ""}).status_code == 400
    response = client.post(path, HAPPY)
    assert response.status_code == 429
    assert CallBack.objects.get().answered_at is None
    assert client.post(path, HAPPY, REMOTE_ADDR="10.0.0.9").status_code == 200  # another address is not affected
