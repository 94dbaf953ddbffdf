"""Make the audit trail unchangeable in the database itself.

Triggers refuse DELETE of log rows and UPDATE of any column but ``actor_id`` (which the
database nulls when a user row is deleted: the entry stays, with its actor_email).
"""

from django.db import migrations

PROTECTED_COLUMNS = (
    "content_type_id, object_pk, object_id, object_repr, serialized_data, action, changes_text, "
    "changes, cid, remote_addr, remote_port, timestamp, additional_data, actor_email"
)

SQLITE = [
    f"""CREATE TRIGGER auditlog_logentry_no_update BEFORE UPDATE OF {PROTECTED_COLUMNS}
        ON auditlog_logentry BEGIN SELECT RAISE(ABORT, 'the audit trail cannot be changed'); END;""",
    """CREATE TRIGGER auditlog_logentry_no_delete BEFORE DELETE ON auditlog_logentry
        BEGIN SELECT RAISE(ABORT, 'the audit trail cannot be deleted'); END;""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS auditlog_logentry_no_update;",
    "DROP TRIGGER IF EXISTS auditlog_logentry_no_delete;",
]

POSTGRES = [
    """CREATE OR REPLACE FUNCTION auditlog_logentry_refuse() RETURNS trigger AS $$
        BEGIN RAISE EXCEPTION 'the audit trail cannot be changed or deleted'; END;
        $$ LANGUAGE plpgsql;""",
    f"""CREATE TRIGGER auditlog_logentry_no_update BEFORE UPDATE OF {PROTECTED_COLUMNS}
        ON auditlog_logentry FOR EACH ROW EXECUTE FUNCTION auditlog_logentry_refuse();""",
    """CREATE TRIGGER auditlog_logentry_no_delete BEFORE DELETE ON auditlog_logentry
        FOR EACH ROW EXECUTE FUNCTION auditlog_logentry_refuse();""",
    """CREATE TRIGGER auditlog_logentry_no_truncate BEFORE TRUNCATE ON auditlog_logentry
        FOR EACH STATEMENT EXECUTE FUNCTION auditlog_logentry_refuse();""",
]
POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS auditlog_logentry_no_truncate ON auditlog_logentry;",
    "DROP TRIGGER IF EXISTS auditlog_logentry_no_update ON auditlog_logentry;",
    "DROP TRIGGER IF EXISTS auditlog_logentry_no_delete ON auditlog_logentry;",
    "DROP FUNCTION IF EXISTS auditlog_logentry_refuse();",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        statements = statements_by_vendor.get(schema_editor.connection.vendor)
        if statements is None:
            raise RuntimeError(f"No audit-trail triggers for {schema_editor.connection.vendor}.")
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("core", "0002_roles_and_default_calendar"), ("auditlog", "0017_add_actor_email")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRES}),
            _run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE}),
        )
    ]
