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
        ('sla', '0002_append_only_history'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='serviceevent',
            name='actor_label',
            field=models.CharField(blank=True, max_length=100, verbose_name='by (no account)'),
        ),
        migrations.AddField(
            model_name='serviceevent',
            name='data',
            field=models.JSONField(blank=True, default=dict, verbose_name='details'),
        ),
        migrations.AlterField(
            model_name='agreementevent',
            name='actor',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='by'),
        ),
        migrations.AlterField(
            model_name='agreementevent',
            name='actor_label',
            field=models.CharField(blank=True, max_length=100, verbose_name='by (no account)'),
        ),
        migrations.AlterField(
            model_name='agreementevent',
            name='created_at',
            field=models.DateTimeField(auto_now_add=True, db_index=True, verbose_name='when'),
        ),
        migrations.AlterField(
            model_name='agreementevent',
            name='from_status',
            field=models.CharField(blank=True, choices=[('draft', 'Draft'), ('negotiating', 'Negotiating'), ('active', 'Active'), ('expired', 'Expired'), ('terminated', 'Terminated')], max_length=30, verbose_name='from'),
        ),
        migrations.AlterField(
            model_name='agreementevent',
            name='to_status',
            field=models.CharField(blank=True, choices=[('draft', 'Draft'), ('negotiating', 'Negotiating'), ('active', 'Active'), ('expired', 'Expired'), ('terminated', 'Terminated')], max_length=30, verbose_name='to'),
        ),
        migrations.AlterField(
            model_name='serviceevent',
            name='actor',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='by'),
        ),
        migrations.AlterField(
            model_name='serviceevent',
            name='created_at',
            field=models.DateTimeField(auto_now_add=True, db_index=True, verbose_name='when'),
        ),
        migrations.AlterField(
            model_name='serviceevent',
            name='from_status',
            field=models.CharField(blank=True, choices=[('proposed', 'Proposed'), ('accepted', 'Accepted'), ('retired', 'Retired')], max_length=30, verbose_name='from'),
        ),
        migrations.AlterField(
            model_name='serviceevent',
            name='to_status',
            field=models.CharField(blank=True, choices=[('proposed', 'Proposed'), ('accepted', 'Accepted'), ('retired', 'Retired')], max_length=30, verbose_name='to'),
        ),
        restore_append_only('sla_serviceevent', 'sla_agreementevent'),
    ]
