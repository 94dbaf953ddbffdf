"""Make the audit trail unchangeable in the database itself.

Triggers refuse DELETE of log rows and UPDATE of any column but ``actor_id`` (which the
database nulls when a user row is deleted: the entry stays, with its actor_email). The SQL
lives in ``itsm.core.audit`` so tests and maintenance can suspend the triggers.
"""

from django.db import migrations

from itsm.core.audit import create_immutability_triggers, drop_immutability_triggers


def forwards(apps, schema_editor):
    create_immutability_triggers(schema_editor.connection)


def backwards(apps, schema_editor):
    drop_immutability_triggers(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("core", "0002_roles_and_default_calendar"), ("auditlog", "0017_add_actor_email")]

    operations = [migrations.RunPython(forwards, backwards)]
