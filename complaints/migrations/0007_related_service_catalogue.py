"""A complaint's related service becomes a choice of the catalogue (``sla.Service``).

The free text recorded so far is kept: the column is renamed ``related_service_text`` and a
nullable foreign key ``related_service`` is added beside it. Each distinct text is then
matched to a service — by code (case-insensitive, exact once stripped), else by name (the
same, and only when one service has that name): a match sets the foreign key and clears the
text; a text that matches nothing stays as it was recorded, shown beside the service.

Reversible: going back writes the linked service's name (or else the kept text) into the one
text column again.

No table is rebuilt on SQLite (a column rename and an added nullable column), and the
complaint table has no triggers of its own; the timeline's append-only triggers
(complaints.0004 / 0006) are on ``complaints_complaintevent``, which this does not touch.
"""

import django.db.models.deletion
from django.db import migrations, models


def _key(text: str) -> str:
    return text.strip().casefold()


def match_services(apps, schema_editor):
    Complaint = apps.get_model("complaints", "Complaint")
    Service = apps.get_model("sla", "Service")
    by_code: dict[str, int] = {}
    by_name: dict[str, set[int]] = {}
    for pk, code, name in Service.objects.values_list("pk", "code", "name"):
        by_code[_key(code)] = pk
        by_name.setdefault(_key(name), set()).add(pk)
    texts = (
        Complaint.objects.exclude(related_service_text="")
        .values_list("related_service_text", flat=True)
        .distinct()
        .order_by()
    )
    # One UPDATE per distinct text, not one per complaint.
    for text in list(texts):
        key = _key(text)
        if not key:
            continue
        names = by_name.get(key, set())
        service = by_code.get(key) or (next(iter(names)) if len(names) == 1 else None)
        if service is not None:
            Complaint.objects.filter(related_service_text=text).update(related_service=service, related_service_text="")


def write_back(apps, schema_editor):
    Complaint = apps.get_model("complaints", "Complaint")
    Service = apps.get_model("sla", "Service")
    linked = Complaint.objects.filter(related_service__isnull=False).values_list("related_service", flat=True)
    for pk, name in Service.objects.filter(pk__in=linked.distinct().order_by()).values_list("pk", "name"):
        # Only the text column: the foreign key goes with its column in the next step back.
        Complaint.objects.filter(related_service=pk).update(related_service_text=name[:200])


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0006_events_on_workflow_event"),
        ("sla", "0003_events_on_workflow_event"),
    ]

    operations = [
        migrations.RenameField(model_name="complaint", old_name="related_service", new_name="related_service_text"),
        migrations.AlterField(
            model_name="complaint",
            name="related_service_text",
            field=models.CharField(blank=True, max_length=200, verbose_name="related service (as recorded)"),
        ),
        migrations.AddField(
            model_name="complaint",
            name="related_service",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="complaints",
                to="sla.service",
                verbose_name="related service",
            ),
        ),
        migrations.RunPython(match_services, write_back),
    ]
