"""complaints.0007: the related service's free text is matched to the catalogue — by code, else
by name — and what matches nothing is kept; going back writes the names into the text again.
The timeline's append-only triggers survive both ways."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from complaints.models import Complaint
from sla.choices import ServiceStatus
from tests.complaints.factories import make_complaint
from tests.sla.factories import ServiceFactory

BEFORE = [("complaints", "0006_events_on_workflow_event")]


def _migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor


def _latest():
    # Every app's latest: going back unapplied what depends on the complaints' migrations
    # too (the improvement register adopted their plan references), which must come back.
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_the_text_is_matched_by_code_then_by_name_and_the_rest_is_kept_and_it_goes_back():
    desk = ServiceFactory(code="desk-support", name="桌面运维服务", status=ServiceStatus.ACCEPTED)
    mail = ServiceFactory(code="office-mail", name="Enterprise Mail", status=ServiceStatus.RETIRED)
    ServiceFactory(code="wan-a", name="专线")
    ServiceFactory(code="wan-b", name="专线")  # two services of one name: no match by name
    # Made with today's models, then taken back to the free text of before.
    complaints = [make_complaint(title=f"complaint {n}") for n in range(7)]
    executor = _migrate(BEFORE)
    Old = executor.loader.project_state(BEFORE).apps.get_model("complaints", "Complaint")
    texts = ["  DESK-SUPPORT ", "enterprise mail", "桌面运维服务", "专线", "VPN 远程接入", "", "desk-support"]
    for complaint, text in zip(complaints, texts, strict=True):
        Old.objects.filter(pk=complaint.pk).update(related_service=text)

    _migrate(_latest())

    stored = {c.pk: (c.related_service, c.related_service_text) for c in Complaint.objects.all()}
    assert [stored[c.pk] for c in complaints] == [
        (desk, ""),  # the code, whatever its case and spaces
        (mail, ""),  # the name, whatever its case (a retired service too: it was named)
        (desk, ""),  # the name
        (None, "专线"),  # two services have that name: kept as recorded
        (None, "VPN 远程接入"),  # no such service: kept
        (None, ""),
        (desk, ""),
    ]

    # Back: the linked service's name, or the kept text, in the one text column again.
    Complaint.objects.filter(pk=complaints[4].pk).update(related_service=mail)  # a service and a text
    executor = _migrate(BEFORE)
    Old = executor.loader.project_state(BEFORE).apps.get_model("complaints", "Complaint")
    back = dict(Old.objects.values_list("pk", "related_service"))
    assert [back[c.pk] for c in complaints] == [
        "桌面运维服务",
        "Enterprise Mail",
        "桌面运维服务",
        "专线",
        "Enterprise Mail",
        "",
        "桌面运维服务",
    ]

    _migrate(_latest())
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE complaints_complaintevent SET note = 'x'")
