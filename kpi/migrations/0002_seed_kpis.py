"""The KPIs of reference 000 §7 and SPEC §6, with their targets from 2026-01-01."""

from datetime import date
from decimal import Decimal

from django.db import migrations

ALL = ["organisation", "department", "service", "technician"]
CUSTOMER = ["organisation", "department"]

# code, Chinese name, English name, source, unit, direction, cycle, target, tolerance, breakdowns, formula, measurement
KPIS = [
    ("incident_satisfaction", "客户事件处理满意度", "Incident handling satisfaction", "surveys.callback_satisfaction",
     "percent", "at_least", "monthly", "95", "3", ALL,
     "回访中客户表示总体满意的回访数 ÷ 当期完成的回访数 × 100%", "每月，按事件回访记录统计"),
    ("service_satisfaction", "客户服务满意度", "Customer service satisfaction", "surveys.campaign_satisfaction",
     "percent", "at_least", "half_yearly", "95", "3", CUSTOMER,
     "满意度调查中满意（4 或 5 分）的评分答案数 ÷ 评分答案总数 × 100%", "每半年，按客户满意度调查表统计"),
    ("survey_response_rate", "客户满意度调查表反馈率", "Satisfaction survey response rate", "surveys.response_rate",
     "percent", "at_least", "half_yearly", "95", "5", CUSTOMER,
     "已反馈的调查邀请数 ÷ 已送达的调查邀请数 × 100%（退信不计入）", "每半年，按调查邀请统计"),
    ("complaint_reply_time", "投诉平均回复时长", "Average complaint reply time", "complaints.reply_time",
     "working_days", "at_most", "half_yearly", "2", "0.5", ALL,
     "当期受理的投诉从登记到受理的工作时长之和 ÷ 投诉数（按工作日计）", "每半年，按投诉单统计"),
    ("complaint_result_satisfaction", "客户对投诉处理结果的满意度", "Satisfaction with complaint results",
     "complaints.result_satisfaction", "percent", "at_least", "half_yearly", "95", "3", ALL,
     "客户评价为满意（4 或 5 分）的投诉数 ÷ 有评价的投诉数 × 100%", "每半年，按投诉处理结果评价统计"),
    ("sla_attainment", "服务级别达成率", "SLA attainment", "sla.attainment",
     "percent", "at_least", "monthly", "95", "3", ["organisation", "service"],
     "达到目标的服务级别月度测量数 ÷ 月度测量总数 × 100%", "每月，按服务级别测量统计"),
    ("callback_within_24h", "24 小时内回访率", "Call-backs within 24 hours", "surveys.callback_within_24h",
     "percent", "at_least", "monthly", "95", "3", ALL,
     "解决后 24 小时内完成回访的事件数 ÷ 需回访的已解决事件数 × 100%", "每月，按事件回访记录统计"),
    ("tickets_closed_in_2_working_days", "解决后 2 个工作日内关闭率", "Tickets closed within 2 working days",
     "surveys.tickets_closed_in_2_working_days", "percent", "at_least", "monthly", "95", "3", ALL,
     "解决后 2 个工作日内关闭的事件数 ÷ 当期解决的事件数 × 100%", "每月，按事件记录统计"),
    ("complaint_reopen_rate", "投诉重开率", "Complaint reopen rate", "complaints.reopen_rate",
     "percent", "at_most", "half_yearly", "5", "2", ALL,
     "当期解决且曾被重开的投诉数 ÷ 当期解决的投诉数 × 100%", "每半年，按投诉单统计"),
    ("complaints_received", "投诉数量", "Complaints received", "complaints.count",
     "count", "at_most", "monthly", None, "0", ["organisation", "service"],
     "当期登记的投诉数（撤回的不计）", "每月，按投诉单统计"),
]


# Tickets arrive from the ITSM tool with the moment they were resolved but not the moment they
# were closed: this KPI waits, inactive, until the ingestion carries the close time.
INACTIVE = {"tickets_closed_in_2_working_days"}


def seed(apps, schema_editor):
    KpiDefinition = apps.get_model("kpi", "KpiDefinition")
    KpiTarget = apps.get_model("kpi", "KpiTarget")
    for order, row in enumerate(KPIS):
        code, zh, en, source, unit, direction, cycle, target, tolerance, breakdowns, formula, measurement = row
        definition, created = KpiDefinition.objects.get_or_create(
            code=code,
            defaults={
                "name_zh": zh,
                "name_en": en,
                "source": source,
                "unit": unit,
                "direction": direction,
                "cycle": cycle,
                "amber_tolerance": Decimal(tolerance),
                "breakdowns": breakdowns,
                "formula": formula,
                "measurement": measurement,
                "sort_order": order,
                "is_active": code not in INACTIVE,
            },
        )
        if created and target is not None:
            KpiTarget.objects.create(definition=definition, value=Decimal(target), valid_from=date(2026, 1, 1))


class Migration(migrations.Migration):
    dependencies = [("kpi", "0001_kpis")]

    # Going back leaves the rows (the table goes with 0001).
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
