"""The audit trail: services record who changed what, and nobody can change the record."""

import pytest
from auditlog.models import LogEntry
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, transaction
from django.test import RequestFactory
from django.urls import resolve, reverse

from itsm.core.audit import history_of
from itsm.core.choices import OrganisationKind
from itsm.core.models import Contact, Organisation, User
from itsm.core.services import (
    contact_create,
    contact_delete,
    contact_update,
    organisation_create,
    organisation_delete,
    organisation_update,
)
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(make_user):
    return make_user("service_desk", email="desk@staff.example")


@pytest.fixture
def entry(desk):
    organisation = organisation_create(actor=desk, name="华信银行", code="hx-bank", kind=OrganisationKind.CUSTOMER)
    return LogEntry.objects.get_for_object(organisation).get()


# --- recording --------------------------------------------------------------------------


def test_create_records_actor_and_values(desk):
    organisation = organisation_create(actor=desk, name="华信银行", code="hx-bank", is_key_customer=True)
    entry = LogEntry.objects.get_for_object(organisation).get()
    assert entry.action == LogEntry.Action.CREATE
    assert entry.actor == desk
    assert entry.actor_email == "desk@staff.example"
    assert entry.changes["name"] == ["None", "华信银行"]
    assert entry.changes["code"] == ["None", "hx-bank"]
    assert entry.changes["is_key_customer"] == ["None", "True"]
    assert entry.timestamp is not None


def test_update_records_before_and_after_of_changed_fields_only(desk):
    organisation = organisation_create(actor=desk, name="华信银行", code="hx-bank")
    organisation_update(organisation=organisation, actor=desk, name="华信银行股份", is_key_customer=True)
    entry = history_of(organisation).first()
    assert entry.action == LogEntry.Action.UPDATE
    assert entry.actor == desk
    assert entry.changes == {"name": ["华信银行", "华信银行股份"], "is_key_customer": ["False", "True"]}


def test_contact_history(desk):
    organisation = OrganisationFactory()
    contact = contact_create(actor=desk, organisation=organisation, name="陈建国", email="chen@hx.example")
    contact_update(contact=contact, actor=desk, is_vip=True)
    entries = list(history_of(contact))
    assert [e.action for e in entries] == [LogEntry.Action.UPDATE, LogEntry.Action.CREATE]
    assert entries[0].changes == {"is_vip": ["False", "True"]}
    assert entries[1].changes["organisation"] == ["None", str(organisation.pk)]
    assert {e.actor for e in entries} == {desk}


def test_delete_records_the_deletion(make_user):
    owner = make_user("process_owner")
    organisation = organisation_create(actor=owner, name="明强物流", code="mq")
    contact = contact_create(actor=owner, organisation=organisation, name="刘芳")
    contact_pk, organisation_pk = contact.pk, organisation.pk
    contact_delete(contact=contact, actor=owner)
    organisation_delete(organisation=organisation, actor=owner)
    assert not Contact.objects.filter(pk=contact_pk).exists()
    assert not Organisation.objects.filter(pk=organisation_pk).exists()
    for model, pk, name in (("contact", contact_pk, "刘芳"), ("organisation", organisation_pk, "明强物流")):
        entry = LogEntry.objects.filter(object_pk=str(pk), content_type__model=model).latest("pk")
        assert entry.action == LogEntry.Action.DELETE
        assert entry.actor == owner
        assert entry.object_repr == name


def test_nothing_is_recorded_when_the_write_is_refused(make_user):
    auditor = make_user("auditor")
    before = LogEntry.objects.count()
    with pytest.raises(PermissionDenied):
        organisation_create(actor=auditor, name="X", code="x")
    assert LogEntry.objects.count() == before


# --- the trail cannot be changed ------------------------------------------------------------


def _refused(action) -> None:
    with pytest.raises(DatabaseError), transaction.atomic():
        action()


def test_log_entries_cannot_be_updated(entry):
    _refused(lambda: LogEntry.objects.filter(pk=entry.pk).update(changes={"name": ["x", "y"]}))
    _refused(lambda: LogEntry.objects.filter(pk=entry.pk).update(object_repr="forged"))
    _refused(lambda: LogEntry.objects.filter(pk=entry.pk).update(actor_email="someone@else.example"))
    entry.changes = {"name": ["None", "forged"]}
    _refused(entry.save)
    refreshed = LogEntry.objects.get(pk=entry.pk)
    assert refreshed.changes["name"] == ["None", "华信银行"]
    assert refreshed.object_repr == "华信银行"


def test_log_entries_cannot_be_deleted(entry):
    _refused(lambda: LogEntry.objects.filter(pk=entry.pk).delete())
    _refused(entry.delete)
    _refused(lambda: LogEntry.objects.all().delete())
    assert LogEntry.objects.filter(pk=entry.pk).exists()


def test_raw_sql_cannot_change_the_trail_either(entry):
    from django.db import connection

    def raw(sql):
        def run():
            with connection.cursor() as cursor:
                cursor.execute(sql, [entry.pk])

        return run

    _refused(raw("UPDATE auditlog_logentry SET action = 2 WHERE id = %s"))
    _refused(raw("DELETE FROM auditlog_logentry WHERE id = %s"))
    assert LogEntry.objects.get(pk=entry.pk).action == LogEntry.Action.CREATE


def test_deleting_an_actor_keeps_the_entry(desk, entry):
    desk.delete()
    entry = LogEntry.objects.get(pk=entry.pk)
    assert entry.actor is None
    assert entry.actor_email == "desk@staff.example"  # who it was is still known
    assert entry.changes["code"] == ["None", "hx-bank"]


def test_the_actor_cannot_be_changed_to_someone_else(entry, make_user):
    # actor_id stays writable only so that deleting a user can null it (SET NULL).
    other = make_user("auditor")
    _refused(lambda: LogEntry.objects.filter(pk=entry.pk).update(actor=other))
    assert LogEntry.objects.get(pk=entry.pk).actor.email == "desk@staff.example"
    LogEntry.objects.filter(pk=entry.pk).update(actor=None)
    assert LogEntry.objects.get(pk=entry.pk).actor is None
    _refused(lambda: LogEntry.objects.filter(pk=entry.pk).update(actor=other))  # nor set once nulled


# --- the admin --------------------------------------------------------------------------


@pytest.fixture
def superuser(make_user):
    return make_user(None, is_staff=True, is_superuser=True)


def test_admin_offers_no_add_change_or_delete_even_to_a_superuser(superuser, entry):
    model_admin = admin.site._registry[LogEntry]
    for url in (
        reverse("admin:auditlog_logentry_changelist"),
        reverse("admin:auditlog_logentry_change", args=[entry.pk]),
        # auditlog's own admin allows deletion from other models' pages (cascades); ours never.
        reverse("admin:core_user_delete", args=[superuser.pk]),
    ):
        request = RequestFactory().get(url)
        request.user = superuser
        request.resolver_match = resolve(url)
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request, entry)
        assert not model_admin.has_delete_permission(request)
        assert not model_admin.has_delete_permission(request, entry)
        assert model_admin.has_view_permission(request, entry)
        assert "delete_selected" not in model_admin.get_actions(request)


def test_admin_pages_refuse_add_and_delete(client, superuser, entry):
    client.force_login(superuser)
    assert client.get(reverse("admin:auditlog_logentry_changelist")).status_code == 200
    assert client.get(reverse("admin:auditlog_logentry_change", args=[entry.pk])).status_code == 200
    assert client.get(reverse("admin:auditlog_logentry_add")).status_code == 403
    assert client.post(reverse("admin:auditlog_logentry_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403
    response = client.post(
        reverse("admin:auditlog_logentry_changelist"),
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )
    assert response.status_code in (200, 302)  # the action does not exist: nothing happens
    response = client.post(reverse("admin:auditlog_logentry_change", args=[entry.pk]), {"object_repr": "forged"})
    assert response.status_code == 403
    assert LogEntry.objects.get(pk=entry.pk).object_repr == "华信银行"


def test_admin_can_still_delete_a_user_who_is_an_actor(client, superuser, desk, entry):
    client.force_login(superuser)
    response = client.post(reverse("admin:core_user_delete", args=[desk.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not User.objects.filter(pk=desk.pk).exists()
    assert LogEntry.objects.get(pk=entry.pk).actor is None


def test_history_of_loads_actors_in_one_query(desk, django_assert_num_queries):
    organisation = organisation_create(actor=desk, name="A", code="a")
    for n in range(3):
        organisation_update(organisation=organisation, actor=desk, notes=f"note {n}")
    with django_assert_num_queries(1):
        actors = [entry.actor.username for entry in history_of(organisation)]
    assert actors == [desk.username] * 4
    assert Organisation.objects.count() == 1
