"""Demo weekly visit reports for ``manage.py load_demo``: two weeks for three departments.

The reports are made through the real services as the demo user ``desk`` so the second week
carries over the first week's open items, as it would in use. Idempotent: a department's
report of a week that exists is left as it is (and nothing is carried over again).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.utils import timezone

from itsm.core.models import Department, User

from ..choices import WeeklyItemKind
from ..models import WeeklyReport, WeeklyReportItem
from ..services.weekly import week_monday, weekly_item_add, weekly_report_create, weekly_report_submit

# (organisation code, department, [(kind, text, owner username, resolved)]) per week, oldest first.
DEPARTMENTS = [("hx-bank", "信息科技部"), ("dz-power", "调度中心"), ("mq-logistics", "IT 部")]
WEEKS: list[dict[str, list[tuple[str, str, str | None, bool]]]] = [
    {
        "信息科技部": [
            (WeeklyItemKind.NEW_PROBLEM, "核心系统夜间批处理偶发超时", "desk", False),
            (WeeklyItemKind.SUGGESTION, "希望提供月度服务报告", "brm", True),
        ],
        "调度中心": [
            (WeeklyItemKind.COMPLAINT, "上周网络中断通知不及时", "brm", False),
            (WeeklyItemKind.NEW_PROBLEM, "调度台打印机卡纸", "desk", True),
        ],
        "IT 部": [(WeeklyItemKind.NEW_PROBLEM, "仓库扫码枪无线信号弱", "desk", False)],
    },
    {
        "信息科技部": [(WeeklyItemKind.NEW_PROBLEM, "网银证书更新提醒缺失", "desk", False)],
        "调度中心": [(WeeklyItemKind.SUGGESTION, "建议增加夜间值班电话", None, False)],
        "IT 部": [(WeeklyItemKind.SUGGESTION, "希望服务台提供微信渠道", "brm", False)],
    },
]


def load(stdout) -> int:
    desk = User.objects.filter(username="desk").first()
    if desk is None:
        return 0
    users = {user.username: user for user in User.objects.filter(username__in=["desk", "brm"])}
    this_week = week_monday(timezone.localdate())
    first_week = this_week - timedelta(weeks=2)
    created = 0
    for offset, week_items in enumerate(WEEKS):
        week_start = first_week + timedelta(weeks=offset)
        for code, name in DEPARTMENTS:
            department = Department.objects.filter(organisation__code=code, name=name).first()
            if department is None or WeeklyReport.objects.filter(department=department, week_start=week_start).exists():
                continue
            recorded = timezone.make_aware(datetime.combine(week_start + timedelta(days=4), time(16, 0)))
            before = WeeklyReportItem.objects.count()
            report = weekly_report_create(
                department=department, week_start=week_start, recorder=desk, recorded_at=recorded, actor=desk
            )
            for kind, text, owner, resolved in week_items.get(name, []):
                weekly_item_add(
                    report=report, kind=kind, text=text, owner=users.get(owner or ""), resolved=resolved, actor=desk
                )
            if offset == 0:  # the older week was handed in; last week's is still open
                weekly_report_submit(report=report, actor=desk)
            created += 1 + WeeklyReportItem.objects.count() - before
    if created:
        stdout.write(f"weekly visit reports: {created} rows")
    return created
