"""The response and resolution targets of SPEC §3, so a fresh database has them."""

from django.db import migrations

DEFAULTS = [
    # severity, response value, unit, resolution value, unit
    ("normal", 1, "working_days", 10, "working_days"),
    ("major", 4, "working_hours", 5, "working_days"),
]


def create_targets(apps, schema_editor):
    ComplaintTarget = apps.get_model("complaints", "ComplaintTarget")
    for severity, response, response_unit, resolution, resolution_unit in DEFAULTS:
        ComplaintTarget.objects.get_or_create(
            severity=severity,
            defaults={
                "response_value": response,
                "response_unit": response_unit,
                "resolution_value": resolution,
                "resolution_unit": resolution_unit,
                "warning_percent": 75,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("complaints", "0001_initial")]

    operations = [migrations.RunPython(create_targets, migrations.RunPython.noop)]
