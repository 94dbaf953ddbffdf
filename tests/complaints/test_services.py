"""Complaint services besides the workflow: registration (numbering, permission, validation,
mail), editing, attachments.

Mail is queued on commit: ``django_capture_on_commit_callbacks(execute=True)`` runs it, and the
locmem outbox holds what was sent. Non-urgent mail waits for working hours, so tests that read
the outbox register during them.
"""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections

from complaints import services
from complaints.choices import Category, Channel, ComplaintStatus, EventKind, Severity
from complaints.models import Complaint, ComplaintAttachment, ComplaintEvent, ComplaintSequence
from complaints.services import attachment_add, complaint_register, complaint_update
from itsm.core.choices import Language
from itsm.core.models import Notification
from itsm.core.roles import Role
from itsm.core.testing import assert_nothing_written
from sla.choices import ServiceStatus
from tests.complaints.factories import make_complaint, role_user
from tests.factories import ContactFactory, OrganisationFactory
from tests.sla.factories import ServiceFactory

pytestmark = pytest.mark.django_db

S = ComplaintStatus
# Tuesday 2026-11-10 10:00 in Shanghai: working hours, mail goes at once.
TUESDAY_10 = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)
REFERENCE = re.compile(r"^TS-\d{6}-\d{4}$")
WRITTEN_BY_REGISTRATION = (Complaint, ComplaintEvent, ComplaintSequence, Notification)


def register(*, actor=None, contact=None, **fields):
    contact = contact or ContactFactory()
    fields.setdefault("title", "网络中断后响应太慢")
    fields.setdefault("description", "The customer waited two hours for a call back.")
    fields.setdefault("channel", Channel.PHONE)
    return complaint_register(
        actor=actor or role_user(Role.SERVICE_DESK),
        organisation=fields.pop("organisation", contact.organisation),
        contact=contact,
        **fields,
    )


# --- references: TS-YYYYMM-NNNN, per local month, gap-free -----------------------------------


@time_machine.travel(datetime(2026, 12, 15, 2, 0, tzinfo=UTC), tick=False)
def test_references_are_numbered_per_month_and_restart_each_month():
    november = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    december = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    references = [
        register(received_at=november).reference,
        register(received_at=november).reference,
        register(received_at=december).reference,
        register(received_at=november).reference,
        register(received_at=december).reference,
    ]
    assert all(REFERENCE.match(ref) for ref in references)
    assert references == ["TS-202611-0001", "TS-202611-0002", "TS-202612-0001", "TS-202611-0003", "TS-202612-0002"]


@time_machine.travel(datetime(2026, 11, 10, 2, 0, tzinfo=UTC), tick=False)
def test_the_month_is_the_local_month_in_shanghai():
    # 2026-10-31 15:59 UTC is 23:59 in Shanghai (October); 20:00 UTC is 04:00 on 1 November.
    october = register(received_at=datetime(2026, 10, 31, 15, 59, tzinfo=UTC))
    november = register(received_at=datetime(2026, 10, 31, 20, 0, tzinfo=UTC))
    assert october.reference == "TS-202610-0001"
    assert november.reference == "TS-202611-0001"


@time_machine.travel(TUESDAY_10, tick=False)
def test_a_registration_failing_inside_its_transaction_gives_its_number_back(monkeypatch):
    first = register()
    contact = ContactFactory()
    real_event = services._event

    def failing_event(*args, **kwargs):
        raise ValidationError("the timeline could not be written")

    monkeypatch.setattr(services, "_event", failing_event)
    with assert_nothing_written(Complaint, ComplaintEvent), pytest.raises(ValidationError):
        register(contact=contact)
    monkeypatch.setattr(services, "_event", real_event)

    assert ComplaintSequence.objects.get(period="202611").last_number == 1
    assert register().reference == "TS-202611-0002"
    assert first.reference == "TS-202611-0001"


@time_machine.travel(TUESDAY_10, tick=False)
def test_an_invalid_registration_takes_no_number():
    other_organisation = OrganisationFactory()
    with pytest.raises(ValidationError):
        register(organisation=other_organisation)
    assert register().reference == "TS-202611-0001"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks under concurrency: PostgreSQL only")
def test_concurrent_registrations_get_distinct_consecutive_numbers(transactional_db):
    count = 6
    desk = role_user(Role.SERVICE_DESK)
    contacts = [ContactFactory() for _ in range(count)]
    start = threading.Barrier(count)
    references: list[str] = []
    errors: list[str] = []
    lock = threading.Lock()

    def work(contact) -> None:
        try:
            start.wait(timeout=10)
            complaint = register(actor=desk, contact=contact, received_at=datetime(2026, 11, 9, 2, 0, tzinfo=UTC))
            with lock:
                references.append(complaint.reference)
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            connections.close_all()

    with time_machine.travel(TUESDAY_10, tick=False):
        threads = [threading.Thread(target=work, args=(contact,)) for contact in contacts]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

    assert not errors, errors
    assert sorted(references) == [f"TS-202611-{n:04d}" for n in range(1, count + 1)]
    assert ComplaintSequence.objects.get(period="202611").last_number == count
    assert Complaint.objects.count() == count


# --- permission and validation ---------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.QUALITY_MANAGER, Role.DEPARTMENT_HEAD, None])
def test_roles_without_the_add_permission_cannot_register(make_user, role, django_capture_on_commit_callbacks):
    contact, actor = ContactFactory(), make_user(role)
    with (
        django_capture_on_commit_callbacks(execute=True),
        assert_nothing_written(*WRITTEN_BY_REGISTRATION),
        pytest.raises(PermissionDenied),
    ):
        register(actor=actor, contact=contact)
    assert mail.outbox == []


@pytest.mark.parametrize("role", [Role.SERVICE_DESK, Role.BR_MANAGER])
def test_desk_and_br_managers_register(make_user, role):
    actor = make_user(role)
    complaint = register(actor=actor)
    assert complaint.created_by == actor and complaint.owner == actor and complaint.handler == actor
    assert complaint.status == S.REGISTERED and complaint.escalation_level == 0
    event = complaint.events.get()
    assert (event.action, event.actor, event.to_status) == (EventKind.REGISTERED, actor, S.REGISTERED)


@time_machine.travel(TUESDAY_10, tick=False)
def test_a_contact_of_another_organisation_is_refused(django_capture_on_commit_callbacks):
    contact, other, desk = ContactFactory(), OrganisationFactory(), role_user(Role.SERVICE_DESK)
    with (
        django_capture_on_commit_callbacks(execute=True),
        assert_nothing_written(*WRITTEN_BY_REGISTRATION),
        pytest.raises(ValidationError) as caught,
    ):
        register(actor=desk, contact=contact, organisation=other)
    assert "contact" in caught.value.message_dict
    assert mail.outbox == []


@time_machine.travel(TUESDAY_10, tick=False)
def test_a_complaint_cannot_be_received_in_the_future():
    contact, desk = ContactFactory(), role_user(Role.SERVICE_DESK)
    with assert_nothing_written(*WRITTEN_BY_REGISTRATION), pytest.raises(ValidationError) as caught:
        register(actor=desk, contact=contact, received_at=TUESDAY_10 + timedelta(hours=1))
    assert "received_at" in caught.value.message_dict
    # a clock a little ahead on the registering PC is tolerated
    assert register(received_at=TUESDAY_10 + timedelta(minutes=2)).received_at == TUESDAY_10 + timedelta(minutes=2)


@pytest.mark.parametrize(
    ("field", "value"),
    [("title", ""), ("description", ""), ("channel", "pigeon"), ("severity", "critical"), ("category", "weather")],
)
def test_invalid_fields_are_named_and_nothing_is_written(field, value):
    contact, desk = ContactFactory(), role_user(Role.SERVICE_DESK)
    with assert_nothing_written(*WRITTEN_BY_REGISTRATION), pytest.raises(ValidationError) as caught:
        register(actor=desk, contact=contact, **{field: value})
    assert field in caught.value.message_dict


# --- registration mail -------------------------------------------------------------------------


@pytest.mark.parametrize("language", [Language.ZH_HANS, Language.EN])
@time_machine.travel(TUESDAY_10, tick=False)
def test_the_contact_is_acknowledged_in_their_language(language, django_capture_on_commit_callbacks):
    contact = ContactFactory(preferred_language=language)
    with django_capture_on_commit_callbacks(execute=True):
        complaint = register(contact=contact)
    [message] = mail.outbox  # the registrar is the owner: nobody else is mailed
    assert message.to == [contact.email]
    assert complaint.reference in message.subject and complaint.reference in message.body
    assert complaint.title in message.body
    notification = Notification.objects.get(recipient_email=contact.email)
    assert notification.language == language
    assert notification.template == "complaints/email/registered_ack"
    assert notification.key == f"complaint:{complaint.pk}:registered"


@time_machine.travel(TUESDAY_10, tick=False)
def test_the_handler_is_told_when_someone_else_registers(make_user, django_capture_on_commit_callbacks):
    desk, handler = role_user(Role.SERVICE_DESK), make_user(Role.SERVICE_DESK)
    with django_capture_on_commit_callbacks(execute=True):
        complaint = register(actor=desk, handler=handler)
    assert complaint.owner == handler and complaint.handler == handler and complaint.created_by == desk
    [assigned] = [m for m in mail.outbox if m.to == [handler.email]]
    assert complaint.reference in assigned.subject
    assert not [m for m in mail.outbox if m.to == [desk.email]]


# Friday 2026-10-02 23:30 in Shanghai: a National Day holiday, at night.
HOLIDAY_NIGHT = datetime(2026, 10, 2, 15, 30, tzinfo=UTC)


@time_machine.travel(HOLIDAY_NIGHT, tick=False)
def test_a_major_complaint_tells_the_management_representative_at_once(django_capture_on_commit_callbacks):
    mrep = role_user(Role.MANAGEMENT_REP)
    contact = ContactFactory()
    with django_capture_on_commit_callbacks(execute=True):
        complaint = register(contact=contact, severity=Severity.MAJOR)

    notice = Notification.objects.get(recipient_email=mrep.email)
    assert notice.urgent and notice.send_after == HOLIDAY_NIGHT
    assert notice.template == "complaints/email/major_registered"
    [message] = mail.outbox  # only the urgent one went out in the night
    assert message.to == [mrep.email] and complaint.reference in message.subject
    # the customer's acknowledgement waits for the first working morning after the holiday
    ack = Notification.objects.get(recipient_email=contact.email)
    assert not ack.urgent and ack.send_after == datetime(2026, 10, 8, 1, 0, tzinfo=UTC)


@time_machine.travel(TUESDAY_10, tick=False)
def test_a_normal_complaint_does_not_bother_the_management_representative(django_capture_on_commit_callbacks):
    mrep = role_user(Role.MANAGEMENT_REP)
    with django_capture_on_commit_callbacks(execute=True):
        register()
    assert not Notification.objects.filter(recipient_email=mrep.email).exists()


@time_machine.travel(TUESDAY_10, tick=False)
def test_a_contact_without_email_gets_no_mail(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        register(contact=ContactFactory(email=""))
    assert mail.outbox == [] and not Notification.objects.exists()


# --- editing ------------------------------------------------------------------------------------


def test_editable_fields_are_changed_and_recorded():
    complaint = make_complaint(S.INVESTIGATING)
    desk = role_user(Role.SERVICE_DESK)
    service = ServiceFactory(name="桌面运维", status=ServiceStatus.ACCEPTED)
    updated = complaint_update(
        complaint=complaint,
        actor=desk,
        title="工程师服务态度差",
        category=Category.ATTITUDE,
        related_service=service,
    )
    stored = Complaint.objects.get(pk=complaint.pk)
    assert (stored.title, stored.category, stored.related_service) == ("工程师服务态度差", "attitude", service)
    assert updated.title == stored.title
    event = stored.events.last()
    assert event.action == EventKind.EDITED and event.actor == desk
    assert sorted(event.data["fields"]) == ["category", "related_service", "title"]


def test_an_edit_that_changes_nothing_records_nothing():
    complaint = make_complaint(S.ACCEPTED)
    with assert_nothing_written(ComplaintEvent):
        complaint_update(complaint=complaint, actor=role_user(Role.SERVICE_DESK), title=complaint.title)


def test_fields_outside_the_editable_set_are_refused():
    complaint = make_complaint(S.ACCEPTED)
    before = Complaint.objects.values().get(pk=complaint.pk)
    for field in ("status", "reference", "escalation_level", "owner", "response_due_at", "resolved_at", "created_by"):
        with pytest.raises(ValidationError) as caught:
            complaint_update(complaint=complaint, actor=role_user(Role.SERVICE_DESK), title="ok", **{field: None})
        assert field in caught.value.message_dict
        assert Complaint.objects.values().get(pk=complaint.pk) == before, field


def test_changing_the_severity_recomputes_the_deadlines():
    received = datetime(2026, 11, 9, 1, 0, tzinfo=UTC)  # Monday 09:00
    with time_machine.travel(received, tick=False):
        complaint = make_complaint(S.ACCEPTED)
    assert complaint.response_due_at == datetime(2026, 11, 9, 10, 0, tzinfo=UTC)  # 1 working day: Mon 18:00
    assert complaint.resolution_due_at == datetime(2026, 11, 20, 10, 0, tzinfo=UTC)  # 10 days: Fri 20th 18:00
    with time_machine.travel(received + timedelta(hours=1), tick=False):
        complaint_update(complaint=complaint, actor=role_user(Role.SERVICE_DESK), severity=Severity.MAJOR)
    stored = Complaint.objects.get(pk=complaint.pk)
    assert stored.response_due_at == datetime(2026, 11, 9, 5, 0, tzinfo=UTC)  # 4 working hours: Mon 13:00
    assert stored.resolution_due_at == datetime(2026, 11, 13, 10, 0, tzinfo=UTC)  # 5 days: Fri 13th 18:00


def test_an_invalid_edit_changes_nothing():
    complaint = make_complaint(S.ACCEPTED)
    before = Complaint.objects.values().get(pk=complaint.pk)
    with assert_nothing_written(ComplaintEvent), pytest.raises(ValidationError) as caught:
        complaint_update(complaint=complaint, actor=role_user(Role.SERVICE_DESK), title="new", severity="apocalyptic")
    assert "severity" in caught.value.message_dict
    assert Complaint.objects.values().get(pk=complaint.pk) == before


@pytest.mark.parametrize("status", [S.RESOLVED, S.CLOSED, S.WITHDRAWN])
def test_a_finished_complaint_cannot_be_edited(status):
    complaint = make_complaint(status)
    with assert_nothing_written(ComplaintEvent), pytest.raises(ValidationError):
        complaint_update(complaint=complaint, actor=role_user(Role.SERVICE_DESK), title="changed later")
    assert Complaint.objects.get(pk=complaint.pk).title == complaint.title


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.SATISFACTION_OWNER])
def test_roles_without_the_change_permission_cannot_edit(make_user, role):
    complaint, actor = make_complaint(S.ACCEPTED), make_user(role)
    with assert_nothing_written(ComplaintEvent), pytest.raises(PermissionDenied):
        complaint_update(complaint=complaint, actor=actor, title="changed")


# --- attachments ----------------------------------------------------------------------------------

PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 32


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


ACCEPTED_FILES = [
    ("通话记录.pdf", PDF, "application/pdf"),
    ("screenshot.png", PNG, "image/png"),
    ("notes.txt", "客户说：网络中断两小时。".encode(), "text/plain"),
    ("notes-gbk.txt", "客户说：网络中断两小时。".encode("gb18030"), "text/plain"),
]
REFUSED_FILES = [
    ("setup.exe", b"MZ\x90\x00" + b"\x00" * 60),  # an executable
    ("invoice.pdf", b"MZ\x90\x00 this is really a program"),  # a fake PDF
    ("photo.png", PDF),  # a PDF named .png
    ("empty.txt", b""),
    ("no-extension", b"hello"),
    ("binary.txt", b"text\x00with a NUL"),
]


def test_accepted_files_are_attached_and_recorded(media):
    complaint = make_complaint(S.ACCEPTED)
    desk = role_user(Role.SERVICE_DESK)
    for name, content, content_type in ACCEPTED_FILES:
        attachment = attachment_add(complaint=complaint, actor=desk, upload=SimpleUploadedFile(name, content))
        assert (attachment.original_name, attachment.content_type, attachment.size) == (
            name,
            content_type,
            len(content),
        )
        assert attachment.uploaded_by == desk
        with attachment.file.open("rb") as stored:
            assert stored.read() == content
        event = complaint.events.last()
        assert (event.action, event.note, event.actor) == (EventKind.ATTACHED, name, desk)
    assert complaint.attachments.count() == len(ACCEPTED_FILES)


def test_refused_files_leave_nothing(media):
    complaint = make_complaint(S.ACCEPTED)
    desk = role_user(Role.SERVICE_DESK)
    for name, content in REFUSED_FILES:
        with assert_nothing_written(ComplaintAttachment, ComplaintEvent), pytest.raises(ValidationError) as caught:
            attachment_add(complaint=complaint, actor=desk, upload=SimpleUploadedFile(name, content))
        assert "file" in caught.value.message_dict, name
    assert [path for path in media.rglob("*") if path.is_file()] == []


def test_a_file_over_the_size_limit_is_refused(media, settings):
    settings.UPLOAD_MAX_BYTES = len(PDF) - 1
    complaint = make_complaint(S.ACCEPTED)
    with assert_nothing_written(ComplaintAttachment, ComplaintEvent), pytest.raises(ValidationError) as caught:
        attachment_add(complaint=complaint, actor=role_user(Role.SERVICE_DESK), upload=SimpleUploadedFile("a.pdf", PDF))
    assert "file" in caught.value.message_dict
    settings.UPLOAD_MAX_BYTES = len(PDF)
    attachment_add(complaint=complaint, actor=role_user(Role.SERVICE_DESK), upload=SimpleUploadedFile("a.pdf", PDF))


def test_an_auditor_cannot_attach(media, make_user):
    complaint, auditor = make_complaint(S.ACCEPTED), make_user(Role.AUDITOR)
    with assert_nothing_written(ComplaintAttachment, ComplaintEvent), pytest.raises(PermissionDenied):
        attachment_add(complaint=complaint, actor=auditor, upload=SimpleUploadedFile("a.pdf", PDF))
