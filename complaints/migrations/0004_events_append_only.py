"""A complaint's timeline is append-only in the database too: no UPDATE, no DELETE."""

from django.db import migrations

from itsm.core.audit import create_append_only_triggers, drop_append_only_triggers

TABLE = "complaints_complaintevent"


def forwards(apps, schema_editor):
    create_append_only_triggers(TABLE, schema_editor.connection)


def backwards(apps, schema_editor):
    drop_append_only_triggers(TABLE, schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("complaints", "0003_search_indexes")]

    operations = [migrations.RunPython(forwards, backwards)]
