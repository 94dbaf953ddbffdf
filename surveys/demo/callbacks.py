"""Demo ticket call-backs for ``manage.py load_demo``: due, overdue, answered happy and unhappy.

Tickets go through the real services (``ticket_ingest``, ``callback_record_phone``) as the
demo user ``desk``. Idempotent: a ticket is identified by its external id; one that exists is
left as it is.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from itsm.core.models import User

from ..models import Ticket
from ..services.callbacks import CallbackAnswer, callback_record_phone, ticket_ingest

# external id, requester email, requester name, technician, hours since resolution, answer
DEMO = [
    ("DEMO-CB-1", "chen.jianguo@hx-bank.example", "陈建国", "孙流程", 2, None, "网上银行登录缓慢，已优化数据库索引"),
    (
        "DEMO-CB-2",
        "grace.lin@hx-bank.example",
        "Grace Lin",
        "周服务级别",
        10,
        None,
        "Branch printer driver reinstalled",
    ),
    ("DEMO-CB-3", "yang.lei@dz-power.example", "杨磊", "孙流程", 40, None, "调度大屏信号中断，更换光模块"),
    ("DEMO-CB-4", "xu.qiang@mq-logistics.example", "徐强", "周服务级别", 30, "happy", "仓储扫码枪无法连接，已重新配对"),
    ("DEMO-CB-5", "zhu.wei@yc-hospital.example", "朱伟", "孙流程", 20, "unhappy", "门诊叫号系统卡顿，重启服务"),
]
HAPPY = CallbackAnswer(fixed=True, rating_attitude=5, rating_speed=4, rating_effect=5, satisfied=True)
UNHAPPY = CallbackAnswer(
    fixed=False,
    rating_attitude=4,
    rating_speed=2,
    rating_effect=2,
    satisfied=False,
    complaint_raised=True,
    comment="叫号系统仍然时常卡顿，希望彻底解决。",
)
TECHNICIAN_EMAILS = {"孙流程": "owner@example.com", "周服务级别": "slm@example.com"}


def load(stdout) -> int:
    created = 0
    now = timezone.now()
    desk = User.objects.filter(username="desk").first()
    for external_id, email, name, technician, hours_ago, answer, summary in DEMO:
        if Ticket.objects.filter(external_id=external_id).exists():
            continue
        ticket, _new = ticket_ingest(
            data={
                "external_id": external_id,
                "ticket_ref": external_id.replace("DEMO-CB", "INC-2026"),
                "requester_name": name,
                "requester_email": email,
                "requester_phone": "",
                "technician_name": technician,
                "technician_email": TECHNICIAN_EMAILS[technician],
                "resolved_at": now - timedelta(hours=hours_ago),
                # A happy customer's ticket is closed a few hours later (once that is past).
                "closed_at": now - timedelta(hours=hours_ago - 4) if answer == "happy" and hours_ago > 4 else None,
                "summary": summary,
            },
            actor=desk,
        )
        created += 1
        if answer and desk is not None:
            callback_record_phone(
                callback_id=ticket.callback.pk, answer=HAPPY if answer == "happy" else UNHAPPY, actor=desk
            )
    stdout.write(f"ticket call-backs: {created} tickets\n")
    return created
