from datetime import date
from decimal import Decimal

from django.db import migrations

# code, Chinese name, English name, source, target, tolerance, breakdowns, formula, measurement, order
KPIS = [
    (
        "sip_actions_on_time",
        "服务改进行动按时完成率",
        "SIP actions on time",
        "improvement.actions_on_time",
        "90",
        "5",
        ["organisation", "department"],
        "当期到期的改进行动中在到期日当天或之前完成的行动数 ÷ 当期到期且未取消的行动数 × 100%"
        "（尚未到期且未完成的行动不计入）",
        "每月，按服务改进计划的行动统计",
        11,
    ),
    (
        "improvement_items_closed_in_target",
        "改进项按期关闭率",
        "Improvement items closed within target",
        "improvement.items_closed_in_target",
        "80",
        "5",
        [],
        "当期应关闭的改进项中在目标关闭日当天或之前完成的改进项数 ÷ 当期应关闭且未驳回的改进项数 × 100%"
        "（尚未到目标关闭日且未完成的不计入）",
        "每月，按改进登记册的改进项统计",
        12,
    ),
]


def seed(apps, schema_editor):
    """SIP actions on time % (SPEC §6) and improvement items closed within target (issue 13
    item 7), measured by the improvement module's KPI sources; monthly, no owner, active."""
    KpiDefinition = apps.get_model("kpi", "KpiDefinition")
    KpiTarget = apps.get_model("kpi", "KpiTarget")
    for code, zh, en, source, target, tolerance, breakdowns, formula, measurement, order in KPIS:
        definition, created = KpiDefinition.objects.get_or_create(
            code=code,
            defaults={
                "name_zh": zh,
                "name_en": en,
                "source": source,
                "unit": "percent",
                "direction": "at_least",
                "cycle": "monthly",
                "amber_tolerance": Decimal(tolerance),
                "breakdowns": breakdowns,
                "formula": formula,
                "measurement": measurement,
                "sort_order": order,
                "is_active": True,
            },
        )
        if created:
            KpiTarget.objects.create(definition=definition, value=Decimal(target), valid_from=date(2026, 1, 1))


class Migration(migrations.Migration):
    dependencies = [("kpi", "0005_tickets_closed_in_2_working_days")]

    # Going back leaves the rows (as 0002 does).
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
