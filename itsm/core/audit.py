"""Audit trail: every create / update / delete of a domain record, with actor and changes.

Recording is django-auditlog's (actor from the request middleware, or ``set_actor`` in
services and tasks — this module's, which keeps the request's client address: auditlog's own
would record none for everything a service writes). What this module adds is that the trail cannot be changed: the admin
offers no add / change / delete, and database triggers (installed by migration core.0003) refuse UPDATE
and DELETE of log rows except the ``actor_id`` being nulled when a user row goes away.
TRUNCATE (and dropping the triggers) needs the table owner's rights, which the application's
database role should not have in production.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from auditlog.context import auditlog_value
from auditlog.context import set_actor as auditlog_set_actor
from auditlog.models import LogEntry
from django.db import connection as default_connection


@contextmanager
def set_actor(actor) -> Iterator[None]:
    """Record ``actor`` as the author of every audit entry written inside the block, with the
    client address and port the request middleware found (``itsm.core.throttle.client_ip``;
    none outside a request). The request's own context is back in force after the block."""
    try:
        outer = auditlog_value.get()
    except LookupError:
        outer = None
    context = outer or {}
    with auditlog_set_actor(actor, remote_addr=context.get("remote_addr"), remote_port=context.get("remote_port")):
        yield
    if outer is not None:
        auditlog_value.set(outer)


def register_core_models() -> None:
    """The core app's audited models (called from its ``AppConfig.ready``)."""
    from .history import audit_register
    from .models import Calendar, CalendarOverride, Contact, Department, Organisation, User

    audit_register(Organisation, url_name="organisation_detail")
    audit_register(Department)
    audit_register(Contact, url_name="contact_detail")
    audit_register(Calendar, url_name="calendar_detail", hidden=("version",))
    audit_register(CalendarOverride)
    audit_register(User, exclude=("password", "last_login"), m2m=("groups",))


def history_of(obj):
    """The audit trail of ``obj``, newest first, with actors loaded in the same query."""
    return LogEntry.objects.get_for_object(obj).select_related("actor", "content_type").order_by("-timestamp", "-pk")


_PROTECTED_COLUMNS = (
    "content_type_id, object_pk, object_id, object_repr, serialized_data, action, changes_text, "
    "changes, cid, remote_addr, remote_port, timestamp, additional_data, actor_email"
)

_TRIGGERS = {
    "sqlite": (
        [
            f"""CREATE TRIGGER auditlog_logentry_no_update BEFORE UPDATE OF {_PROTECTED_COLUMNS}
                ON auditlog_logentry BEGIN SELECT RAISE(ABORT, 'the audit trail cannot be changed'); END;""",
            """CREATE TRIGGER auditlog_logentry_no_delete BEFORE DELETE ON auditlog_logentry
                BEGIN SELECT RAISE(ABORT, 'the audit trail cannot be deleted'); END;""",
            # actor_id may only be nulled (user deleted), never pointed at someone else.
            """CREATE TRIGGER auditlog_logentry_no_new_actor BEFORE UPDATE OF actor_id ON auditlog_logentry
                WHEN NEW.actor_id IS NOT NULL
                BEGIN SELECT RAISE(ABORT, 'the audit trail cannot be changed'); END;""",
        ],
        [
            "DROP TRIGGER IF EXISTS auditlog_logentry_no_new_actor;",
            "DROP TRIGGER IF EXISTS auditlog_logentry_no_update;",
            "DROP TRIGGER IF EXISTS auditlog_logentry_no_delete;",
        ],
    ),
    "postgresql": (
        [
            """CREATE OR REPLACE FUNCTION auditlog_logentry_refuse() RETURNS trigger AS $$
                BEGIN RAISE EXCEPTION 'the audit trail cannot be changed or deleted'; END;
                $$ LANGUAGE plpgsql;""",
            f"""CREATE TRIGGER auditlog_logentry_no_update BEFORE UPDATE OF {_PROTECTED_COLUMNS}
                ON auditlog_logentry FOR EACH ROW EXECUTE FUNCTION auditlog_logentry_refuse();""",
            """CREATE TRIGGER auditlog_logentry_no_delete BEFORE DELETE ON auditlog_logentry
                FOR EACH ROW EXECUTE FUNCTION auditlog_logentry_refuse();""",
            """CREATE TRIGGER auditlog_logentry_no_new_actor BEFORE UPDATE OF actor_id ON auditlog_logentry
                FOR EACH ROW WHEN (NEW.actor_id IS NOT NULL) EXECUTE FUNCTION auditlog_logentry_refuse();""",
        ],
        [
            "DROP TRIGGER IF EXISTS auditlog_logentry_no_new_actor ON auditlog_logentry;",
            "DROP TRIGGER IF EXISTS auditlog_logentry_no_update ON auditlog_logentry;",
            "DROP TRIGGER IF EXISTS auditlog_logentry_no_delete ON auditlog_logentry;",
            "DROP FUNCTION IF EXISTS auditlog_logentry_refuse();",
        ],
    ),
}


def _execute(connection, index: int) -> None:
    statements = _TRIGGERS.get(connection.vendor)
    if statements is None:
        raise RuntimeError(f"No audit-trail triggers for the {connection.vendor} database.")
    with connection.cursor() as cursor:
        for statement in statements[index]:
            cursor.execute(statement)


def create_immutability_triggers(connection=default_connection) -> None:
    _execute(connection, 0)


def drop_immutability_triggers(connection=default_connection) -> None:
    _execute(connection, 1)


# Domain tables that are append-only like the audit trail (a complaint's timeline): rows are
# inserted, never updated or deleted. Each app's migration installs its table's triggers with
# create_append_only_triggers; the table is listed here so maintenance can lift them.
APPEND_ONLY_TABLES = (
    "complaints_complaintevent",
    "surveys_campaignevent",
    "sla_serviceevent",
    "sla_agreementevent",
    "sla_agreementversion",
    "improvement_improvementitemevent",
    "improvement_improvementplanevent",
    "improvement_reviewmeetingevent",
)


def _append_only_sql(connection, table: str) -> tuple[list[str], list[str]]:
    if connection.vendor == "sqlite":
        return (
            [
                f"""CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
                    BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;""",
                f"""CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
                    BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;""",
            ],
            [f"DROP TRIGGER IF EXISTS {table}_no_update;", f"DROP TRIGGER IF EXISTS {table}_no_delete;"],
        )
    if connection.vendor == "postgresql":
        return (
            [
                """CREATE OR REPLACE FUNCTION itsm_append_only_refuse() RETURNS trigger AS $$
                    BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END;
                    $$ LANGUAGE plpgsql;""",
                f"""CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
                    FOR EACH ROW EXECUTE FUNCTION itsm_append_only_refuse();""",
                f"""CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
                    FOR EACH ROW EXECUTE FUNCTION itsm_append_only_refuse();""",
            ],
            [
                f"DROP TRIGGER IF EXISTS {table}_no_update ON {table};",
                f"DROP TRIGGER IF EXISTS {table}_no_delete ON {table};",
            ],
        )
    raise RuntimeError(f"No append-only triggers for the {connection.vendor} database.")


def create_append_only_triggers(table: str, connection=default_connection) -> None:
    with connection.cursor() as cursor:
        for statement in _append_only_sql(connection, table)[0]:
            cursor.execute(statement)


def drop_append_only_triggers(table: str, connection=default_connection) -> None:
    with connection.cursor() as cursor:
        for statement in _append_only_sql(connection, table)[1]:
            cursor.execute(statement)


def restore_append_only_triggers(table: str, connection=default_connection) -> None:
    """Create ``table``'s append-only triggers afresh. For a migration that alters the table:
    SQLite rebuilds a table to alter it, and the rebuilt table has no triggers."""
    drop_append_only_triggers(table, connection)
    create_append_only_triggers(table, connection)


def restore_append_only(*tables: str):
    """A migration operation: ``restore_append_only_triggers`` for each of ``tables``."""
    from django.db import migrations

    def forwards(apps, schema_editor):
        for table in tables:
            restore_append_only_triggers(table, schema_editor.connection)

    return migrations.RunPython(forwards, forwards)


@contextmanager
def immutability_suspended(connection=default_connection):
    """Lift the audit-trail and append-only triggers for a maintenance step (a test database
    flush, a retention purge), restoring them afterwards."""
    drop_immutability_triggers(connection)
    for table in APPEND_ONLY_TABLES:
        drop_append_only_triggers(table, connection)
    try:
        yield
    finally:
        create_immutability_triggers(connection)
        for table in APPEND_ONLY_TABLES:
            create_append_only_triggers(table, connection)
