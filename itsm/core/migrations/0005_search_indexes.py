"""Trigram indexes behind contact search (name, phone, email) and organisation search."""

from django.db import migrations

from itsm.core.search_indexes import trigram_index_operation


class Migration(migrations.Migration):
    dependencies = [("core", "0004_accesstoken")]

    operations = [
        trigram_index_operation("core_contact", ["name", "phone", "email"], prefix="contact"),
        trigram_index_operation("core_organisation", ["name"], prefix="organisation"),
    ]
