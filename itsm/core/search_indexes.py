"""Trigram indexes for substring search (``icontains``) on PostgreSQL.

Django's ``icontains`` on PostgreSQL is ``UPPER(col::text) LIKE UPPER('%term%')``, which no
B-tree index serves; a GIN trigram index on the same expression does. SQLite has no such
index and is not the large-data target, so these are PostgreSQL-only migrations.
"""

from __future__ import annotations


def trigram_index_operation(table: str, columns: list[str], prefix: str):
    """A RunPython migration operation creating (and dropping) the trigram indexes."""
    from django.db import migrations

    def forwards(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for column in columns:
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {prefix}_{column}_trgm ON {table} "
                f'USING gin (UPPER("{column}"::text) gin_trgm_ops)'
            )

    def backwards(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for column in columns:
            schema_editor.execute(f"DROP INDEX IF EXISTS {prefix}_{column}_trgm")

    return migrations.RunPython(forwards, backwards)
