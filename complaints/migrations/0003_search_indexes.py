"""Trigram indexes behind the complaint search (reference, title, external ticket)."""

from django.db import migrations

from itsm.core.search_indexes import trigram_index_operation


class Migration(migrations.Migration):
    dependencies = [("complaints", "0002_default_targets")]

    operations = [
        trigram_index_operation(
            "complaints_complaint", ["reference", "title", "external_ticket_ref"], prefix="complaint"
        )
    ]
