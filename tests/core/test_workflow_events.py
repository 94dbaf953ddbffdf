"""Every machine's events are ``WorkflowEvent``s (issue 11, item 2): one shape, append-only in
Python and in the database, and the migration that brought them there kept every row and
the triggers."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.db.models import ProtectedError

from complaints.models import ComplaintEvent
from itsm.core.models import WorkflowEvent
from sla.models import AgreementEvent, ServiceEvent
from surveys.models import CampaignEvent
from tests.complaints.factories import make_complaint
from tests.factories import UserFactory
from tests.sla.factories import AgreementFactory, ServiceFactory
from tests.surveys.factories import CampaignFactory

EVENTS = (ComplaintEvent, CampaignEvent, ServiceEvent, AgreementEvent)
SHARED = ("action", "from_status", "to_status", "actor", "actor_label", "note", "data", "created_at")


def test_every_event_model_has_the_one_shape():
    for model in EVENTS:
        assert issubclass(model, WorkflowEvent), model
        fields = {f.name: f for f in model._meta.concrete_fields}
        for name in SHARED:
            assert name in fields, (model, name)
        assert fields["actor_label"].max_length == 100
        assert fields["from_status"].choices and fields["to_status"].choices, model
        assert model._meta.ordering == ["created_at", "pk"]


@pytest.mark.django_db
def test_an_event_cannot_be_changed_or_deleted_nor_its_actor_deleted():
    actor = UserFactory()
    event = ServiceEvent.objects.create(service=ServiceFactory(), action="accept", actor=actor)
    event.note = "rewritten"
    with pytest.raises(ValidationError):
        event.save()
    with pytest.raises(ValidationError):
        event.delete()
    for statement in ("UPDATE sla_serviceevent SET note = 'x'", "DELETE FROM sla_serviceevent"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    with pytest.raises(ProtectedError):
        actor.delete()


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_every_event_and_the_triggers():
    from django.db.migrations.executor import MigrationExecutor

    before = [
        ("complaints", "0005_status_names_no_level"),
        ("sla", "0002_append_only_history"),
        ("surveys", "0007_bilingual_texts"),
    ]
    # Made with today's models before going back: complaints.0007 onwards add columns to it.
    complaint = make_complaint()
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    state = executor.loader.project_state(before).apps
    user = state.get_model("core", "User").objects.create(username="old-actor")
    service = ServiceFactory()
    agreement = AgreementFactory()
    old_service_event = state.get_model("sla", "ServiceEvent").objects.create(
        service_id=service.pk, action="accept", from_status="proposed", to_status="accepted", rfc_ref="RFC-1"
    )
    old_agreement_event = state.get_model("sla", "AgreementEvent").objects.create(
        agreement_id=agreement.pk, action="negotiate", actor_id=user.pk, note="n", data={"a": 1}
    )
    old_complaint_event = state.get_model("complaints", "ComplaintEvent").objects.create(
        complaint_id=complaint.pk, action="accept", actor_label="system"
    )
    counts = {model: model.objects.count() for model in EVENTS}

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert {model: model.objects.count() for model in EVENTS} == counts
    service_event = ServiceEvent.objects.get(pk=old_service_event.pk)
    assert (service_event.rfc_ref, service_event.actor_label, service_event.data) == ("RFC-1", "", {})
    agreement_event = AgreementEvent.objects.get(pk=old_agreement_event.pk)
    assert (agreement_event.actor_id, agreement_event.note, agreement_event.data) == (user.pk, "n", {"a": 1})
    assert ComplaintEvent.objects.get(pk=old_complaint_event.pk).actor_label == "system"
    CampaignEvent.objects.create(campaign=CampaignFactory(), action="submit")  # a row for its trigger to guard
    for table in ("complaints_complaintevent", "surveys_campaignevent", "sla_serviceevent", "sla_agreementevent"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET note = 'x'")  # noqa: S608  (a constant table name)
