"""``manage.py clean_control_characters [--dry-run]``: remove control characters stored earlier.

Since input is cleaned where it enters (``itsm.core.sanitize``), no new text carries control
characters; rows written before — contact names pasted from a terminal, say — may. This finds
them in every text column of the project's own models (one query per column, the match done
by the database) and cleans each row through ``save()``, so the audit trail records the
change. Append-only records (events, agreement versions) are never changed: their rows are
counted and reported. ``--dry-run`` reports without writing.
"""

from __future__ import annotations

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import models, transaction

from itsm.core.audit import APPEND_ONLY_TABLES
from itsm.core.roles import PROJECT_APPS
from itsm.core.sanitize import clean_text

# What clean_text removes, as a regular expression the database evaluates (PostgreSQL cannot
# store NUL or lone surrogates at all, so those need no pattern).
PATTERN = "[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"


class Command(BaseCommand):
    help = "Remove control characters from text stored before input was cleaned."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="report what would change, change nothing")

    def handle(self, *args, dry_run: bool = False, **options):
        cleaned = untouched = 0
        for model in apps.get_models():
            if model._meta.app_label not in PROJECT_APPS or model._meta.proxy or not model._meta.managed:
                continue
            fields = [
                field.name
                for field in model._meta.concrete_fields
                if isinstance(field, models.CharField | models.TextField) and not field.choices
            ]
            for name in fields:
                rows = model._default_manager.filter(**{f"{name}__regex": PATTERN})
                count = rows.count()
                if not count:
                    continue
                label = f"{model._meta.label}.{name}"
                if model._meta.db_table in APPEND_ONLY_TABLES:
                    untouched += count
                    self.stdout.write(f"{label}: {count} row(s), append-only, left as recorded")
                    continue
                self.stdout.write(f"{label}: {count} row(s){' would be' if dry_run else ''} cleaned")
                cleaned += count
                if dry_run:
                    continue
                with transaction.atomic():
                    for row in rows.select_for_update():
                        setattr(row, name, clean_text(getattr(row, name)))
                        row.save(update_fields=[name])
        verb = "would be cleaned" if dry_run else "cleaned"
        self.stdout.write(f"{cleaned} value(s) {verb}; {untouched} in append-only records left as they are.")
