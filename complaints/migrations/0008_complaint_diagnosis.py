"""The investigation's output, the diagnosis result (诊断结果, reference 000 §5.1): a text the
``remedy`` move requires from now on. Complaints past investigation before this keep it empty.

SQLite adds the column by rebuilding ``complaints_complaint``; that table has no triggers, and
the timeline table (with its append-only triggers) is not rebuilt."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("complaints", "0007_related_service_catalogue")]

    operations = [
        migrations.AddField(
            model_name="complaint",
            name="diagnosis",
            field=models.TextField(blank=True, verbose_name="diagnosis result"),
        ),
    ]
