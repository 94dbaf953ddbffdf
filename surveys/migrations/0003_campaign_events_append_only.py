"""A campaign's history is append-only in the database too: no UPDATE, no DELETE."""

from django.db import migrations

from itsm.core.audit import create_append_only_triggers, drop_append_only_triggers

TABLE = "surveys_campaignevent"


def forwards(apps, schema_editor):
    create_append_only_triggers(TABLE, schema_editor.connection)


def backwards(apps, schema_editor):
    drop_append_only_triggers(TABLE, schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("surveys", "0002_questionnaires_campaigns")]

    operations = [migrations.RunPython(forwards, backwards)]
