"""Core services (itsm.core.services): permission first, full validation, one transaction, signals on commit."""

from contextlib import contextmanager
from datetime import date, time

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import ProtectedError

from itsm.core import calendar as business_calendar
from itsm.core.choices import OrganisationKind
from itsm.core.models import Calendar, CalendarOverride, Contact, Department, Organisation
from itsm.core.services import (
    calendar_create,
    calendar_override_create,
    calendar_override_delete,
    calendar_override_update,
    calendar_update,
    contact_create,
    contact_delete,
    contact_update,
    department_create,
    department_delete,
    organisation_create,
    organisation_delete,
    organisation_update,
)
from itsm.core.signals import calendar_changed
from tests.factories import CalendarFactory, ContactFactory, DepartmentFactory, OrganisationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(make_user):
    return make_user("service_desk")


@pytest.fixture
def owner(make_user):
    return make_user("process_owner")


@pytest.fixture
def auditor(make_user):
    return make_user("auditor")


@contextmanager
def nothing_written():
    """Asserts that the block adds no core row and no audit entry."""
    models = (Organisation, Department, Contact, Calendar, CalendarOverride, LogEntry)
    before = {model: model.objects.count() for model in models}
    yield
    assert {model: model.objects.count() for model in models} == before


def error_keys(excinfo) -> set[str]:
    return set(excinfo.value.message_dict)


# --- who may ------------------------------------------------------------------------------


def test_service_desk_creates_and_updates_a_contact(desk):
    organisation = OrganisationFactory()
    department = DepartmentFactory(organisation=organisation)
    contact = contact_create(
        actor=desk, organisation=organisation, department=department, name="陈建国", email="chen@hx.example"
    )
    assert Contact.objects.get(pk=contact.pk).department == department
    contact_update(contact=contact, actor=desk, phone="13800000001", is_vip=True)
    stored = Contact.objects.get(pk=contact.pk)
    assert (stored.phone, stored.is_vip, stored.name) == ("13800000001", True, "陈建国")


def test_service_desk_creates_organisations_and_departments(desk):
    organisation = organisation_create(actor=desk, name="东州电力", code="dz-power", is_key_customer=True)
    department = department_create(actor=desk, organisation=organisation, name="调度中心")
    assert Organisation.objects.get(code="dz-power").is_key_customer
    assert list(organisation.departments.all()) == [department]


@pytest.mark.parametrize(
    "write",
    [
        lambda actor: organisation_create(actor=actor, name="X", code="x"),
        lambda actor: department_create(actor=actor, organisation=OrganisationFactory.build(), name="X"),
        lambda actor: contact_create(actor=actor, organisation=OrganisationFactory.build(), name="X"),
        lambda actor: calendar_create(actor=actor, name="X"),
    ],
    ids=["organisation", "department", "contact", "calendar"],
)
def test_auditor_may_not_create(auditor, write):
    with nothing_written(), pytest.raises(PermissionDenied):
        write(auditor)


def test_auditor_may_not_update_or_delete(auditor):
    contact = ContactFactory(name="Old")
    with pytest.raises(PermissionDenied):
        contact_update(contact=contact, actor=auditor, name="New")
    with pytest.raises(PermissionDenied):
        contact_delete(contact=contact, actor=auditor)
    contact.refresh_from_db()
    assert contact.name == "Old"
    assert list(LogEntry.objects.get_for_object(contact).values_list("action", flat=True)) == [LogEntry.Action.CREATE]


def test_permission_is_checked_before_validation(auditor):
    with nothing_written(), pytest.raises(PermissionDenied):
        organisation_create(actor=auditor, name="", code="not a slug!")


def test_anonymous_and_missing_actor_may_not_write():
    for actor in (AnonymousUser(), None):
        with nothing_written(), pytest.raises(PermissionDenied):
            organisation_create(actor=actor, name="X", code="x")


def test_service_desk_may_not_delete_or_touch_calendars(desk):
    contact = ContactFactory()
    with pytest.raises(PermissionDenied):
        contact_delete(contact=contact, actor=desk)
    with pytest.raises(PermissionDenied):
        calendar_override_create(
            actor=desk, calendar=business_calendar.default_calendar(), date=date(2026, 9, 14), is_working_day=False
        )
    assert Contact.objects.filter(pk=contact.pk).exists()
    assert not CalendarOverride.objects.exists()


def test_delete_of_a_referenced_organisation_is_refused(owner):
    contact = ContactFactory()
    with pytest.raises(ProtectedError):
        organisation_delete(organisation=contact.organisation, actor=owner)
    assert Organisation.objects.filter(pk=contact.organisation_id).exists()
    department = DepartmentFactory()
    ContactFactory(organisation=department.organisation, department=department)
    with pytest.raises(ProtectedError):
        department_delete(department=department, actor=owner)


# --- validation ---------------------------------------------------------------------------


def test_contact_department_must_belong_to_its_organisation(desk):
    other_department = DepartmentFactory()
    organisation = OrganisationFactory()
    with nothing_written(), pytest.raises(ValidationError) as excinfo:
        contact_create(actor=desk, organisation=organisation, department=other_department, name="X")
    assert error_keys(excinfo) == {"department"}


def test_contact_update_to_a_foreign_department_is_refused(desk):
    contact = ContactFactory()
    foreign = DepartmentFactory()
    with pytest.raises(ValidationError) as excinfo:
        contact_update(contact=contact, actor=desk, department=foreign)
    assert error_keys(excinfo) == {"department"}
    assert Contact.objects.get(pk=contact.pk).department is None
    assert list(LogEntry.objects.get_for_object(contact).values_list("action", flat=True)) == [LogEntry.Action.CREATE]


def test_duplicate_organisation_code_is_refused(desk):
    OrganisationFactory(code="hx-bank")
    before = Organisation.objects.count()
    with pytest.raises(ValidationError) as excinfo:
        organisation_create(actor=desk, name="Another bank", code="hx-bank")
    assert error_keys(excinfo) == {"code"}
    assert Organisation.objects.count() == before


@pytest.mark.parametrize(
    ("fields", "keys"),
    [
        ({"name": "", "code": "ok"}, {"name"}),
        ({"name": "Bad code", "code": "not a slug!"}, {"code"}),
        ({"name": "Bad kind", "code": "bad-kind", "kind": "partner"}, {"kind"}),
        # The check constraint spans two fields; the model's clean() puts it on the flag.
        (
            {"name": "Supplier", "code": "sup", "kind": OrganisationKind.SUPPLIER, "is_key_customer": True},
            {"is_key_customer"},
        ),
    ],
    ids=["blank-name", "bad-code", "bad-kind", "key-customer-supplier"],
)
def test_invalid_organisation_is_refused(desk, fields, keys):
    with nothing_written(), pytest.raises(ValidationError) as excinfo:
        organisation_create(actor=desk, **fields)
    assert error_keys(excinfo) == keys


def test_key_customer_flag_on_an_existing_supplier_is_refused(desk):
    supplier = OrganisationFactory(kind=OrganisationKind.SUPPLIER)
    with pytest.raises(ValidationError) as excinfo:
        organisation_update(organisation=supplier, actor=desk, is_key_customer=True)
    assert error_keys(excinfo) == {"is_key_customer"}
    assert not Organisation.objects.get(pk=supplier.pk).is_key_customer


@pytest.mark.parametrize(
    ("fields", "keys"),
    [
        ({"name": "Backwards", "work_start": time(18), "work_end": time(9)}, {"work_end"}),
        ({"name": "Empty day", "work_start": time(9), "work_end": time(9)}, {"work_end"}),
        ({"name": "Mars", "time_zone": "Mars/Olympus_Mons"}, {"time_zone"}),
        ({"name": "中国大陆工作日历"}, {"name"}),  # the default calendar's name, from the migration
    ],
    ids=["hours-reversed", "hours-empty", "zone", "duplicate-name"],
)
def test_invalid_calendar_is_refused(make_user, fields, keys):
    admin = _calendar_admin(make_user)
    with nothing_written(), pytest.raises(ValidationError) as excinfo:
        calendar_create(actor=admin, **fields)
    assert error_keys(excinfo) == keys


def test_second_default_calendar_is_refused(make_user):
    admin = _calendar_admin(make_user)
    with nothing_written(), pytest.raises(ValidationError):
        calendar_create(actor=admin, name="Another", is_default=True)


def test_calendar_update_with_reversed_hours_is_refused(owner):
    calendar = CalendarFactory()
    with pytest.raises(ValidationError):
        calendar_update(calendar=calendar, actor=owner, work_start=time(19), work_end=time(8))
    stored = Calendar.objects.get(pk=calendar.pk)
    assert (stored.work_start, stored.work_end, stored.version) == (time(9), time(18), 1)


def test_duplicate_override_day_is_refused(owner):
    calendar = CalendarFactory()
    calendar_override_create(actor=owner, calendar=calendar, date=date(2026, 9, 14), is_working_day=False, reason="a")
    calendar.refresh_from_db()
    with pytest.raises(ValidationError) as excinfo:
        calendar_override_create(
            actor=owner, calendar=calendar, date=date(2026, 9, 14), is_working_day=True, reason="b"
        )
    assert error_keys(excinfo) == {NON_FIELD_ERRORS}
    assert CalendarOverride.objects.filter(calendar=calendar).count() == 1
    assert Calendar.objects.get(pk=calendar.pk).version == 2  # the refused write bumped nothing


def _calendar_admin(make_user):
    """Nobody but an administrator creates calendars (no role holds core.add_calendar)."""
    return make_user(None, is_superuser=True, is_staff=True)


# --- calendars: version and signal --------------------------------------------------------


@pytest.fixture
def changes():
    """The calendars ``calendar_changed`` was sent for."""
    received = []

    def receiver(sender, calendar, **kwargs):
        received.append((calendar.pk, calendar.version))

    calendar_changed.connect(receiver, dispatch_uid="test-calendar-changed")
    yield received
    calendar_changed.disconnect(dispatch_uid="test-calendar-changed")


def test_override_create_bumps_the_version_and_signals_on_commit(owner, changes, django_capture_on_commit_callbacks):
    calendar = CalendarFactory()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        calendar_override_create(
            actor=owner, calendar=calendar, date=date(2026, 10, 10), is_working_day=False, reason="r"
        )
        assert changes == []  # not before commit
        assert calendar.version == 2
    assert len(callbacks) == 1
    assert changes == [(calendar.pk, 2)]
    assert Calendar.objects.get(pk=calendar.pk).version == 2


def test_override_update_and_delete_bump_the_version(owner, changes, django_capture_on_commit_callbacks):
    calendar = CalendarFactory()
    with django_capture_on_commit_callbacks(execute=True):
        override = calendar_override_create(
            actor=owner, calendar=calendar, date=date(2026, 10, 10), is_working_day=False, reason="a"
        )
        calendar_override_update(override=override, actor=owner, reason="b")
        calendar_override_delete(override=override, actor=owner)
    assert Calendar.objects.get(pk=calendar.pk).version == 4
    assert changes and all(pk == calendar.pk for pk, _version in changes)
    assert not CalendarOverride.objects.exists()


def test_calendar_update_bumps_the_version(owner, changes, django_capture_on_commit_callbacks):
    calendar = CalendarFactory()
    with django_capture_on_commit_callbacks(execute=True):
        calendar_update(calendar=calendar, actor=owner, work_start=time(8, 30))
    stored = Calendar.objects.get(pk=calendar.pk)
    assert (stored.work_start, stored.version) == (time(8, 30), 2)
    assert changes == [(calendar.pk, 2)]


def test_calendar_update_from_a_stale_instance_never_reuses_a_version(owner):
    """Cached year tables are keyed by version: an old version number must not come back."""
    calendar = CalendarFactory()
    stale = Calendar.objects.get(pk=calendar.pk)  # e.g. loaded by another request
    override = calendar_override_create(
        actor=owner, calendar=calendar, date=date(2026, 10, 10), is_working_day=False, reason="a"
    )
    assert not business_calendar.is_working_day(date(2026, 10, 10), calendar)  # cached under version 2
    calendar_override_delete(override=override, actor=owner)  # version 3
    calendar_update(calendar=stale, actor=owner, name="Renamed")
    fresh = Calendar.objects.get(pk=calendar.pk)
    assert fresh.version == 4
    assert business_calendar.is_working_day(date(2026, 10, 10), fresh)


def test_no_signal_and_no_bump_when_the_transaction_rolls_back(owner, changes, django_capture_on_commit_callbacks):
    calendar = CalendarFactory()
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        calendar_override_create(
            actor=owner, calendar=calendar, date=date(2026, 10, 10), is_working_day=False, reason="r"
        )
        raise RuntimeError("the import failed half way")
    assert callbacks == []
    assert changes == []
    assert Calendar.objects.get(pk=calendar.pk).version == 1
    assert not CalendarOverride.objects.exists()


def test_refused_override_sends_no_signal(desk, changes, django_capture_on_commit_callbacks):
    calendar = CalendarFactory()
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(PermissionDenied):
        calendar_override_create(
            actor=desk, calendar=calendar, date=date(2026, 10, 10), is_working_day=False, reason="r"
        )
    assert callbacks == []
    assert Calendar.objects.get(pk=calendar.pk).version == 1


def test_calendar_writes_are_audited_with_the_actor(owner):
    calendar = CalendarFactory()
    override = calendar_override_create(
        actor=owner, calendar=calendar, date=date(2026, 10, 10), is_working_day=False, reason="new schedule"
    )
    entry = LogEntry.objects.get_for_object(override).get()
    assert entry.actor == owner
    assert entry.changes["reason"] == ["None", "new schedule"]
