"""Service and agreement histories and frozen agreement versions are append-only in the
database too: no UPDATE, no DELETE."""

from django.db import migrations

from itsm.core.audit import create_append_only_triggers, drop_append_only_triggers

TABLES = ("sla_serviceevent", "sla_agreementevent", "sla_agreementversion")


def forwards(apps, schema_editor):
    for table in TABLES:
        create_append_only_triggers(table, schema_editor.connection)


def backwards(apps, schema_editor):
    for table in TABLES:
        drop_append_only_triggers(table, schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("sla", "0001_catalogue_agreements")]

    operations = [migrations.RunPython(forwards, backwards)]
