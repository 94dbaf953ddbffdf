"""Demo complaints for ``manage.py load_demo``: every state, some overdue, some major.

Each complaint is registered and moved through the real services (``complaint_register``,
``complaint_transition``, ``complaint_record_feedback``) as the demo users ``desk``, ``brm``,
``head`` and ``mrep``, so references, deadlines, timeline rows and mail are what the product
itself makes. Overdue ones are registered with a ``received_at`` weeks back; the periodic
deadline check escalates them on its first run. Most name a service of the demo catalogue
(``sla.demo``, loaded first); a few keep the service as the desk recorded it in words, one the
catalogue does not have. Every remedy records the investigation's diagnosis result.

Idempotent: a complaint is identified by its title; one that exists is left as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from itsm.core.models import Contact, User
from sla.models import Service

from .choices import Category, Channel, Severity
from .models import Complaint
from .services import FEEDBACK_PURPOSE, complaint_record_feedback, complaint_register, complaint_transition

# Steps: (action, username of the actor, inputs). Shared beginnings of the paths below.
Step = tuple[str, str, dict]
ACCEPT: Step = ("accept", "desk", {})
INVESTIGATE: Step = ("investigate", "desk", {})


@dataclass(frozen=True)
class DemoComplaint:
    title: str
    description: str
    contact: str  # contact email (load_demo's CONTACTS)
    channel: str
    received_ago: timedelta
    severity: str = Severity.NORMAL
    category: str = ""
    service: str = ""  # the code of a service of the catalogue (sla/demo.py)
    related_service: str = ""  # else the service as recorded in words (no such service)
    ticket: str = ""
    handler: str = ""  # username; empty: the registrar (desk) handles it
    steps: tuple = ()
    # The customer's answers on the result link, in order: (rating, settled, comment); an
    # unhappy answer reopens the complaint and ``next_round`` is worked before the next answer.
    feedback: tuple = ()
    next_round: tuple = ()
    close: bool = False


def _remedy(diagnosis: str, text: str, by: str = "desk") -> Step:
    """The investigation's diagnosis result (诊断结果) and the remedy applied."""
    return ("remedy", by, {"diagnosis": diagnosis, "remedial_actions": text})


def _analyse(category: str, cause: str, by: str = "brm") -> Step:
    return ("customer_satisfied", by, {"category": category, "root_cause": cause})


def _resolve(result: str, by: str = "brm") -> Step:
    return ("resolve", by, {"result": result})


DAY = timedelta(days=1)
HOUR = timedelta(hours=1)

COMPLAINTS: list[DemoComplaint] = [
    # --- registered -----------------------------------------------------------------------
    DemoComplaint(
        title="营业厅网络中断，报障后两小时无人响应",
        description="零售业务部城东营业厅上午 9 点起网络中断，柜面业务全部停办。客户 9:10 致电服务台报障，"
        "直到 11 点仍无工程师联系，客户对响应速度非常不满。",
        contact="liu.fang@hx-bank.example",
        channel=Channel.PHONE,
        received_ago=2 * HOUR,
        service="net-wan",
        ticket="INC-HX-0412",
    ),
    DemoComplaint(
        title="核心交易系统中断 40 分钟，未按约定时限通报",
        description="核心交易系统数据库节点故障，业务中断约 40 分钟。按 SLA 应在 15 分钟内通报客户，"
        "实际在恢复后才收到通知。客户信息科技部负责人要求给出书面说明。",
        contact="chen.jianguo@hx-bank.example",
        channel=Channel.PHONE,
        received_ago=HOUR,
        severity=Severity.MAJOR,
        service="db-ops",
        ticket="INC-HX-0415",
        handler="brm",
    ),
    DemoComplaint(  # overdue: never accepted
        title="打印机故障报修三天未上门",
        description="仓储部出库单打印机卡纸报修，三天内两次催促均答复“已派单”，至今无人上门，出库单只能手写。",
        contact="ma.li@mq-logistics.example",
        channel=Channel.EMAIL,
        received_ago=30 * DAY,  # past both deadlines even across a long holiday
        service="desk-support",
        ticket="INC-MQ-0318",
    ),
    # --- accepted / investigating ------------------------------------------------------------
    DemoComplaint(
        title="工程师服务态度差，电话中多次打断客户",
        description="信息中心反映，桌面运维工程师在电话支持中多次打断客户描述，并称“这是你们自己操作的问题”，"
        "客户要求更换工程师并道歉。",
        contact="huang.min@dz-power.example",
        channel=Channel.PHONE,
        received_ago=DAY,
        category=Category.ATTITUDE,
        service="desk-support",
        steps=(ACCEPT,),
    ),
    DemoComplaint(  # overdue: resolution deadline long past
        title="同一交换机一个月内三次故障，问题未根治",
        description="调度中心楼层接入交换机本月第三次宕机，每次重启后恢复，但根本原因一直没有查明。"
        "客户认为每次都是“临时处理”，要求给出根治方案。",
        contact="yang.lei@dz-power.example",
        channel=Channel.VISIT,
        received_ago=32 * DAY,
        category=Category.RESOLUTION_QUALITY,
        service="net-campus",
        ticket="PRB-DZ-0107",
        steps=(ACCEPT, INVESTIGATE),
    ),
    DemoComplaint(
        title="邮件系统大附件发送失败，多次报障未解决",
        description="信息科多名医生发送超过 10 MB 的检查报告附件失败，已报障三次，每次都回复“已恢复”，但问题依旧。",
        contact="zhu.wei@yc-hospital.example",
        channel=Channel.WEB_FORM,
        received_ago=3 * DAY,
        category=Category.RESOLUTION_QUALITY,
        service="office-mail",
        ticket="INC-YC-0221",
        steps=(ACCEPT, INVESTIGATE),
    ),
    # --- escalated to the BR manager ---------------------------------------------------------
    DemoComplaint(
        title="账单计费错误：已停用线路仍在收费",
        description="明强物流 6 月已书面申请停用两条专线，7 月至今账单仍按原价计费，财务多次沟通未果，客户来函投诉。",
        contact="xu.qiang@mq-logistics.example",
        channel=Channel.LETTER,
        received_ago=4 * DAY,
        category=Category.CONTRACT_BILLING,
        service="net-wan",
        steps=(ACCEPT, INVESTIGATE, ("escalate", "desk", {"note": "涉及合同与计费，客户要求业务关系经理直接跟进。"})),
    ),
    DemoComplaint(  # overdue and major
        title="机房空调故障导致服务器宕机，恢复时间远超承诺",
        description="医院数据中心精密空调故障，机房温度过高导致 HIS 应用服务器自动关机，门诊挂号中断 3 小时，"
        "远超合同约定的 1 小时恢复时间。",
        contact="zhu.wei@yc-hospital.example",
        channel=Channel.PHONE,
        received_ago=20 * DAY,
        severity=Severity.MAJOR,
        category=Category.SLA_BREACH,
        service="app-hosting",
        ticket="INC-YC-0198",
        steps=(ACCEPT, INVESTIGATE, ("escalate", "desk", {"note": "重大投诉，SLA 严重违约，需业务关系经理牵头处理。"})),
    ),
    # --- waiting on the customer ------------------------------------------------------------
    DemoComplaint(
        title="VPN 远程接入频繁掉线",
        description="Retail banking staff working from home are disconnected from the VPN every 20–30 minutes "
        "and lose unsaved work. The issue has lasted two weeks.",
        contact="grace.lin@hx-bank.example",
        channel=Channel.EMAIL,
        received_ago=5 * DAY,
        related_service="远程接入",
        steps=(
            ACCEPT,
            INVESTIGATE,
            _remedy(
                "一台 VPN 网关硬件故障，会话超时又只设了 20 分钟，连接频繁重建后掉线。",
                "更换故障 VPN 网关，会话超时由 20 分钟调整为 8 小时，并电话告知客户。",
            ),
        ),
    ),
    # --- escalated to the department head (level 2) and the management representative (3) -----
    DemoComplaint(
        title="门诊叫号系统故障期间无人到场支持",
        description="Outpatient queue-calling screens failed on Monday morning; nobody came on site for two hours "
        "although the contract promises on-site support within 30 minutes.",
        contact="david.wong@yc-hospital.example",
        channel=Channel.PHONE,
        received_ago=6 * DAY,
        category=Category.RESPONSE_SPEED,
        related_service="现场支持",
        steps=(
            ACCEPT,
            INVESTIGATE,
            _remedy(
                "现场支持排班没有覆盖周一早高峰，派单后无人可派。",
                "安排工程师驻场一周，并提供备用叫号终端。",
            ),
            ("customer_unsatisfied", "brm", {"note": "客户认为补救措施不足，要求部门负责人出面说明现场支持的安排。"}),
        ),
    ),
    DemoComplaint(
        title="调度系统网络抖动反复出现，客户要求管理层介入",
        description="电网调度系统专网近两个月内多次出现丢包和时延抖动，影响实时数据采集。两轮整改后问题仍然出现，"
        "客户调度中心主任要求我方管理层给出正式答复。",
        contact="yang.lei@dz-power.example",
        channel=Channel.VISIT,
        received_ago=9 * DAY,
        severity=Severity.MAJOR,
        category=Category.RESOLUTION_QUALITY,
        service="net-wan",
        ticket="PRB-DZ-0112",
        steps=(
            ACCEPT,
            INVESTIGATE,
            _remedy(
                "汇聚层光模块老化导致丢包，QoS 策略没有优先保障调度业务。",
                "更换汇聚层光模块，调整 QoS 策略。",
            ),
            ("customer_unsatisfied", "desk", {"note": "整改后次日再次出现抖动，客户不认可。"}),
            _remedy(
                "专项排查发现核心交换机板卡间歇性故障，是抖动反复出现的根因。",
                "部门负责人组织专项排查，更换核心交换机板卡。",
                by="head",
            ),
            ("customer_unsatisfied", "head", {"note": "问题仍未根除，客户要求管理者代表介入。"}),
        ),
    ),
    # --- analysis and improvement -----------------------------------------------------------
    DemoComplaint(
        title="服务台电话长时间无人接听",
        description="晚间 19:00–21:00 拨打服务台热线，等待超过 10 分钟无人接听，客户多次投诉。",
        contact="ma.li@mq-logistics.example",
        channel=Channel.SURVEY_FEEDBACK,
        received_ago=7 * DAY,
        service="service-desk",
        steps=(
            ACCEPT,
            INVESTIGATE,
            _remedy(
                "晚间 19:00–21:00 话务量高，只排一名坐席，且没有排队提示和回拨。",
                "晚间增加一名值班坐席，启用排队语音提示并回拨未接来电。",
            ),
            _analyse(Category.RESPONSE_SPEED, "晚间班次只排一名坐席，话务高峰时无人接听且没有回拨机制。"),
        ),
    ),
    DemoComplaint(
        title="SLA 月报多次延迟提交",
        description="近三个月的 SLA 月度报告均晚于合同约定的每月 10 日提交，客户信息中心提出正式投诉。",
        contact="huang.min@dz-power.example",
        channel=Channel.WEEKLY_VISIT,
        received_ago=8 * DAY,
        related_service="服务级别管理",
        steps=(
            ACCEPT,
            INVESTIGATE,
            _remedy(
                "月报靠人工从多个系统汇总数据，没有专人负责，连续三个月超期。",
                "补交三个月报告并致歉，月报改由服务级别经理专人负责。",
            ),
            _analyse(Category.SLA_BREACH, "月报数据靠人工汇总，数据源口径不一致，每月核对耗时过长。"),
            ("plan_improvement", "brm", {"new_plan_title": "SLA 月报自动化"}),
        ),
    ),
    # --- resolved, waiting for the customer's confirmation -----------------------------------
    DemoComplaint(
        title="桌面终端重装系统后个人数据丢失",
        description="工程师为运营管理部员工重装操作系统前未备份桌面文件，导致近半年的工作文档丢失。",
        contact="liu.fang@hx-bank.example",
        channel=Channel.PHONE,
        received_ago=9 * DAY,
        service="desk-support",
        ticket="INC-HX-0377",
        steps=(
            ACCEPT,
            INVESTIGATE,
            _remedy(
                "工程师重装系统前没有备份桌面文件，重装流程缺少备份确认环节。",
                "从邮件附件和共享盘找回大部分文档，并赔礼道歉。",
            ),
            _analyse(Category.RESOLUTION_QUALITY, "重装流程中没有强制备份检查项。"),
            _resolve("已恢复约 90% 的文档；重装前备份确认已加入作业指导书并培训全部桌面工程师。"),
        ),
    ),
    # --- closed, rated by the customer ------------------------------------------------------
    DemoComplaint(
        title="网络中断响应慢，超出 SLA 承诺时间",
        description="信息科技部机房出口链路中断，报障后 1 小时才有工程师响应，超出 SLA 承诺的 30 分钟。",
        contact="chen.jianguo@hx-bank.example",
        channel=Channel.PHONE,
        received_ago=20 * DAY,
        service="net-wan",
        ticket="INC-HX-0301",
        steps=(
            ACCEPT,
            INVESTIGATE,
            _remedy(
                "出口链路光缆中断，链路告警没有推送给值班人员，发现和响应都晚了。",
                "切换备用链路恢复业务，联系运营商更换故障光缆。",
            ),
            _analyse(Category.RESPONSE_SPEED, "告警未接入值班手机，夜班人员未及时发现。"),
            _resolve("链路告警已接入值班短信平台，响应时间恢复到 15 分钟内；向客户书面致歉。"),
        ),
        feedback=((5, True, "处理及时，感谢。"),),
        close=True,
    ),
    DemoComplaint(
        title="工程师上门未带备件，需二次上门",
        description="仓储扫描枪故障，工程师首次上门未携带备件，隔天才二次上门更换，影响当日出库。",
        contact="xu.qiang@mq-logistics.example",
        channel=Channel.EMAIL,
        received_ago=15 * DAY,
        service="desk-support",
        steps=(
            ACCEPT,
            INVESTIGATE,
            _remedy(
                "扫描枪主板故障；派单信息缺少设备型号，首次上门没有带备件。",
                "当天调拨备用扫描枪，次日更换故障设备。",
            ),
            _analyse(Category.RESOLUTION_QUALITY, "派单信息未包含设备型号，工程师无法提前准备备件。"),
            _resolve("派单模板增加设备型号与故障现象必填项，常用备件随车配备。"),
        ),
        feedback=((4, True, ""),),
        close=True,
    ),
    DemoComplaint(
        title="无线网络覆盖不足问题反复出现",
        description="住院部三楼病区无线信号弱，移动护理终端频繁断线。上月已处理过一次，本月再次出现。",
        contact="zhu.wei@yc-hospital.example",
        channel=Channel.PHONE,
        received_ago=16 * DAY,
        service="net-campus",
        steps=(
            ACCEPT,
            INVESTIGATE,
            _remedy(
                "三楼病区部分 AP 功率偏低，相邻 AP 信道相互干扰。",
                "调整 AP 功率和信道。",
            ),
            _analyse(Category.RESOLUTION_QUALITY, "病区改造后增加了隔断，原有 AP 布点不足。"),
            _resolve("调整了 AP 功率和信道，信号强度测试合格。"),
        ),
        # unhappy first (reopens it), then happy after the second round
        feedback=((2, False, "晚上仍然断线。"), (4, True, "新增 AP 后稳定了。")),
        next_round=(
            _remedy(
                "病区改造新增了隔断，原有 AP 布点覆盖不到，需要增加 AP。",
                "新增两台 AP，重新勘测病区覆盖。",
            ),
            ("customer_satisfied", "brm", {}),
            _resolve("新增两台 AP 并重新勘测，全病区信号强度达标，连续一周无断线。"),
        ),
        close=True,
    ),
    # --- withdrawn --------------------------------------------------------------------------
    DemoComplaint(
        title="误报：客户自行重启后恢复",
        description="客户反映办公电脑无法访问内网，来电投诉等待时间长；随后客户自行重启后恢复。",
        contact="huang.min@dz-power.example",
        channel=Channel.PHONE,
        received_ago=2 * DAY,
        steps=(("withdraw", "desk", {"note": "客户确认为本地设备问题，主动撤回投诉。"}),),
    ),
]


def _answer(complaint: Complaint, rating: int, settled: bool, comment: str) -> Complaint:
    """The customer answers on a result link, as through the mailed one.

    The mailed token exists only in the mail (it is queued after commit), so the demo re-sends
    the link the way staff would — the earlier one withdrawn, a new one issued — and answers
    on that one through the real service.
    """
    from itsm.core.tokens import token_issue, token_revoke

    token_revoke(target=complaint, purpose=FEEDBACK_PURPOSE)
    days = getattr(settings, "COMPLAINT_FEEDBACK_DAYS", 14)
    raw = token_issue(purpose=FEEDBACK_PURPOSE, target=complaint, expires_at=timezone.now() + timedelta(days=days))
    return complaint_record_feedback(raw_token=raw, satisfaction=rating, settled=settled, comment=comment)


def _run(complaint: Complaint, steps, users: dict[str, User]) -> Complaint:
    for action, username, inputs in steps:
        complaint = complaint_transition(complaint=complaint, action=action, actor=users[username], **inputs)
    return complaint


def load(stdout) -> int:
    """Create the demo complaints that do not exist yet; return how many rows were created
    (the service catalogue's included: it is loaded first, so the complaints can name it)."""
    from sla import demo as sla_demo

    usernames = ["desk", "brm", "head", "mrep"]
    users = {user.username: user for user in User.objects.filter(username__in=usernames, is_active=True)}
    if len(users) < len(usernames):
        stdout.write("complaints: demo users missing, no demo complaints created\n")
        return 0
    # The apps load in INSTALLED_APPS order, complaints before sla; sla's loader is idempotent,
    # so its own turn afterwards creates nothing more.
    catalogue = sla_demo.load(stdout)
    services = {s.code: s for s in Service.objects.filter(code__in={spec.service for spec in COMPLAINTS} - {""})}
    contacts = {c.email: c for c in Contact.objects.filter(email__in={spec.contact for spec in COMPLAINTS})}
    titles = [spec.title for spec in COMPLAINTS]
    existing = set(Complaint.objects.filter(title__in=titles).values_list("title", flat=True))
    now = timezone.now()
    created = 0
    # Oldest first, so references within a month follow the order the complaints came in.
    for spec in sorted(COMPLAINTS, key=lambda spec: spec.received_ago, reverse=True):
        contact = contacts.get(spec.contact)
        if spec.title in existing or contact is None:
            continue
        complaint = complaint_register(
            actor=users["desk"],
            organisation=contact.organisation,
            contact=contact,
            title=spec.title,
            description=spec.description,
            channel=spec.channel,
            severity=spec.severity,
            received_at=now - spec.received_ago,
            related_service=services.get(spec.service),
            related_service_text=spec.related_service,
            external_ticket_ref=spec.ticket,
            category=spec.category,
            handler=users.get(spec.handler) if spec.handler else None,
        )
        complaint = _run(complaint, spec.steps, users)
        for number, (rating, settled, comment) in enumerate(spec.feedback):
            if number:
                complaint = _run(complaint, spec.next_round, users)
            complaint = _answer(complaint, rating, settled, comment)
        if spec.close:
            complaint = complaint_transition(complaint=complaint, action="close", actor=users["desk"])
        created += 1
    if created:
        stdout.write(f"complaints: {created} demo complaints created\n")
    return created + catalogue
