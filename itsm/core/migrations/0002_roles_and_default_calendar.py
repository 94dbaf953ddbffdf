"""Create the role groups with their permissions, and the default business calendar.

A fresh database has every role of SPEC §1 and the CN / Asia/Shanghai 09:00–18:00
calendar. Later apps' permissions are granted by the post_migrate sync (itsm.core.roles).
"""

from datetime import time

from django.db import migrations


def create_roles(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    from itsm.core.roles import sync_role_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    sync_role_permissions(apps)


def create_default_calendar(apps, schema_editor):
    Calendar = apps.get_model("core", "Calendar")
    if not Calendar.objects.filter(is_default=True).exists():
        Calendar.objects.create(
            name="中国大陆工作日历",
            country="CN",
            time_zone="Asia/Shanghai",
            work_start=time(9, 0),
            work_end=time(18, 0),
            is_default=True,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auditlog", "0017_add_actor_email"),
    ]

    operations = [
        migrations.RunPython(create_roles, migrations.RunPython.noop),
        migrations.RunPython(create_default_calendar, migrations.RunPython.noop),
    ]
