"""The events become ``itsm.core.models.WorkflowEvent``s: one shape for every machine (the
actor protected, a 100-character label, indexed times, 30-character statuses; services gain a
label and details). Existing rows are kept. SQLite alters a table by rebuilding it, without
its triggers: the append-only triggers are made afresh at the end."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from itsm.core.audit import restore_append_only


class Migration(migrations.Migration):

    dependencies = [
        ('complaints', '0005_status_names_no_level'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='complaintevent',
            name='actor',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='by'),
        ),
        migrations.AlterField(
            model_name='complaintevent',
            name='actor_label',
            field=models.CharField(blank=True, max_length=100, verbose_name='by (no account)'),
        ),
        restore_append_only('complaints_complaintevent'),
    ]
