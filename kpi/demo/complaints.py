"""Eighteen months of closed complaints (reply time, satisfaction with the result, reopen
rate, complaints received), up to the month before the demo's own open ones.

Five to nine a month, each with the whole timeline the workflow would have written: registered,
accepted (late ones warned and escalated to the BR manager by the deadline check first),
investigated, remedied, analysed, resolved, rated by the customer through the link and closed;
about one in thirty rated unhappy first, reopened and worked again. The average reply time
(registered → accepted) grows from about 1.2 working days a year and a half ago to 2.2 in the
last closed half-year (amber against ≤ 2) and 2.8 in the running one (red): most are taken on
within the working day, the slow third ever slower. Results are rated satisfied 96–97 % of
the time. Numbered from each month's sequence like a registration; inserted in bulk, back-dated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import F

from complaints.choices import Category, Channel, ComplaintStatus, EscalationLevel, EventKind, Severity
from complaints.models import Complaint, ComplaintEvent, ComplaintSequence
from complaints.services import CUSTOMER, SYSTEM, complaint_target
from itsm.core import calendar as business_calendar
from itsm.core.periods import Cycle, period_of
from sla.models import Service

from .common import History, insert_rows, month_start, months_between, pick_exactly

S = ComplaintStatus


@dataclass(frozen=True)
class Scenario:
    category: str
    service: str  # a service code of the demo catalogue (sla/demo.py)
    title: str
    description: str
    diagnosis: str
    remedy: str
    root_cause: str
    result: str
    major: bool = False


SCENARIOS = [
    Scenario(Category.RESPONSE_SPEED, "service-desk", "服务台热线等待时间过长",
             "{who}反映拨打服务台热线等待超过 10 分钟无人接听，只能改用邮件报障。",
             "高峰时段坐席不足，排队提示未启用。", "高峰时段增派坐席，启用排队提示与回拨。",
             "排班未按话务量调整。", "热线平均等待时间降至 1 分钟以内，已电话致歉。"),
    Scenario(Category.RESPONSE_SPEED, "desk-support", "报修后工程师迟迟未到场",
             "{who}的电脑无法开机，报修后半天仍无工程师到场，影响当天业务办理。",
             "派单后工程师在外场，调度未及时改派。", "改派就近工程师到场更换电源。",
             "现场支持调度没有按位置改派的规则。", "调度规则已增加就近改派，客户确认设备恢复。"),
    Scenario(Category.RESOLUTION_QUALITY, "net-campus", "楼层网络反复中断",
             "{who}所在楼层网络一周内中断三次，每次重启交换机后恢复。",
             "接入交换机电源模块老化。", "更换接入交换机电源模块并检查同批设备。",
             "设备巡检未覆盖电源模块。", "更换后连续两周运行稳定。"),
    Scenario(Category.RESOLUTION_QUALITY, "office-mail", "邮件收发延迟严重",
             "{who}反映外部邮件延迟数小时才能收到，耽误了与合作方的沟通。",
             "反垃圾网关队列积压。", "扩容反垃圾网关并清理积压队列。",
             "网关容量规划未随邮件量增长调整。", "邮件延迟已消除，网关容量按季度复核。"),
    Scenario(Category.ATTITUDE, "desk-support", "工程师服务态度生硬",
             "{who}反映上门工程师对问题描述不耐烦，未说明处理过程就离开。",
             "工程师当天任务过多，沟通草率。", "更换工程师回访并当面致歉。",
             "工程师服务规范培训不足。", "已组织服务规范培训，客户接受致歉。"),
    Scenario(Category.SLA_BREACH, "db-ops", "数据库故障恢复超出承诺时间",
             "{who}的业务系统数据库故障，恢复用时超过 SLA 承诺的 2 小时。",
             "主备切换脚本失效，只能手工恢复。", "修复切换脚本并完成一次切换演练。",
             "切换脚本变更后未做回归演练。", "切换演练通过，已向客户提交书面说明。", major=True),
    Scenario(Category.SLA_BREACH, "net-wan", "专线中断通报不及时",
             "{who}的广域网专线中断 1 小时，我方在恢复后才通知客户。",
             "运营商线路故障，告警未推送给值班人员。", "告警接入值班短信平台，与运营商核对故障处理。",
             "专线告警只发到邮箱，夜间无人查看。", "告警改为短信与电话双通道，客户认可改进措施。", major=True),
    Scenario(Category.CONTRACT_BILLING, "net-wan", "月度账单费用有误",
             "{who}反映本月账单包含已撤销的线路费用。",
             "线路撤销后计费系统未同步。", "冲正多收费用并核对全部线路。",
             "线路变更与计费之间没有核对环节。", "已退还多收费用，变更流程增加计费核对。"),
    Scenario(Category.RESOLUTION_QUALITY, "app-hosting", "业务系统访问缓慢",
             "{who}反映业务系统白天响应缓慢，打开一张单据需要半分钟。",
             "应用服务器内存不足，频繁回收。", "扩容应用服务器内存并调整 JVM 参数。",
             "容量监控阈值设置过高，未及时预警。", "页面响应时间恢复到 2 秒以内。"),
    Scenario(Category.RESPONSE_SPEED, "service-desk", "夜间报障无人响应",
             "{who}夜间报障后直到次日早上才有人联系。",
             "夜班值班手机无人接听。", "夜班增加备班人员并每小时巡检值班手机。",
             "夜班交接未确认值班手机在身边。", "夜间响应已恢复到 30 分钟以内。"),
    Scenario(Category.RESOLUTION_QUALITY, "backup", "数据恢复不完整",
             "{who}申请恢复误删文件，恢复后发现缺少最近一周的数据。",
             "增量备份作业连续失败未被发现。", "从其他副本补齐数据并修复备份作业。",
             "备份失败告警被误设为静默。", "数据已全部找回，备份告警重新启用并每日核查。"),
    Scenario(Category.OTHER, "desk-support", "设备借用手续繁琐",
             "{who}反映借用投影仪需要三级审批，临时会议无法及时使用。",
             "借用流程沿用旧制度，没有简化。", "临时借用改为服务台当场登记。",
             "流程多年未复核。", "临时借用当场可办，客户认可。"),
    Scenario(Category.ATTITUDE, "service-desk", "服务台答复推诿",
             "{who}反映服务台多次答复“不是我们负责”，没有给出处理渠道。",
             "服务台对外包系统的受理范围不清。", "明确外包系统的受理与转派流程并回电客户。",
             "受理范围说明未更新。", "受理范围已更新到知识库，客户满意。"),
    Scenario(Category.RESOLUTION_QUALITY, "office-mail", "邮箱频繁要求重新登录",
             "{who}的邮箱客户端每天多次要求重新输入密码。",
             "认证服务器会话超时配置错误。", "修正会话超时配置并推送客户端更新。",
             "配置变更未经测试直接上线。", "登录问题消除，变更流程已补充测试环节。"),
]  # fmt: skip
CHANNELS = [Channel.PHONE] * 5 + [Channel.EMAIL] * 3 + [Channel.WEB_FORM] * 2 + [Channel.WEEKLY_VISIT, Channel.VISIT]
# Average reply time in working days by half-years before the running one (0: the running one).
REPLY_DAYS = {0: 2.8, 1: 2.2, 2: 1.5}
REPLY_DAYS_EARLIER = 1.2
WORK_DAYS = 3.0 + 1.0 + 1.5  # remedy, improvement plan, resolution at full pace (at most)
SLOW_SHARE = 0.3  # taken on after more than a working day
REOPEN_SHARE = 0.035  # of each half-year's complaints
UNSATISFIED_SHARE = 0.035  # rated 3 (settled, not satisfied)
HOUR = timedelta(hours=1)
HAPPY = ["处理及时，感谢。", "问题已解决。", "", "", "", "整改措施到位。", "服务态度很好。"]
UNHAPPY = "问题没有彻底解决，又出现了。"


def _half_years_back(history: History, moment: datetime) -> int:
    half = period_of(Cycle.HALF_YEARLY, history.local(moment).date())
    running = period_of(Cycle.HALF_YEARLY, history.today)
    return (running.start.year - half.start.year) * 2 + (running.start.month - half.start.month) // 6


class _Timeline:
    """The events of one complaint, in order."""

    def __init__(self) -> None:
        self.events: list[dict] = []

    def add(self, at, action, actor, before="", after="", note="", data=None, label=""):
        self.events.append(
            {
                "action": action,
                "from_status": before,
                "to_status": after,
                "actor": actor.pk if actor else None,
                "actor_label": "" if actor else label,
                "note": note,
                "data": data or {},
                "created_at": at,
            }
        )


def _plan(history: History, cutoff: datetime) -> list[dict[str, Any]]:
    """When each complaint came in, what it was about and how long its reply took (working
    seconds): each half-year's average as planned, its reopened and lukewarm ones exactly."""
    rng = history.rng
    plans: list[dict[str, Any]] = []
    for month in months_between(history.start, history.local(cutoff).date()):
        days = history.working_days(month, month_start(month, -1) - timedelta(days=1))
        for _ in range(rng.randint(5, 9)):
            received = history.working_moment(rng.choice(days))
            if received >= cutoff:
                continue
            scenario = rng.choice(SCENARIOS)
            plans.append({"received": received, "scenario": scenario, "major": scenario.major and rng.random() < 0.6})
    plans.sort(key=lambda plan: plan["received"])
    by_half: dict[int, list[dict[str, Any]]] = {}
    for plan in plans:
        by_half.setdefault(_half_years_back(history, plan["received"]), []).append(plan)
    day = history.day_seconds
    for back, group in by_half.items():
        mean = REPLY_DAYS.get(back, REPLY_DAYS_EARLIER)
        # Most are taken on within the working day (a major one within its 4 working hours);
        # the slow few (waiting on another team, lost in a shared mailbox) make the average.
        slow = pick_exactly(rng, group, SLOW_SHARE, weight=lambda plan: 0.01 if plan["major"] else 1.0)
        for index, plan in enumerate(group):
            quick = rng.uniform(0.05, 0.4) if plan["major"] else rng.uniform(0.1, 0.9)
            plan["reply"] = rng.uniform(0.8, 1.2) if index in slow else quick
        if slow:
            wanted = mean * len(group) - sum(plan["reply"] for index, plan in enumerate(group) if index not in slow)
            factor = max(wanted, 0) / sum(group[index]["reply"] for index in slow)
            for index in slow:
                group[index]["reply"] *= factor
        for plan in group:
            plan["reply"] = max(60, int(plan["reply"] * day))
        if back:
            # The running half-year has its reopened and its lukewarm complaints in the demo's
            # own (complaints.demo), rated lately.
            for index in pick_exactly(rng, group, REOPEN_SHARE):
                group[index]["reopened"] = True
            for index in pick_exactly(rng, group, UNSATISFIED_SHARE):
                group[index]["rating"] = 3
    return plans


def _build(history: History, plan: dict, targets: dict, services: dict) -> tuple[Complaint, _Timeline]:
    rng, calendar = history.rng, history.calendar
    desk, brm = history.users["desk"], history.users["brm"]
    scenario: Scenario = plan["scenario"]
    severity = Severity.MAJOR if plan["major"] else Severity.NORMAL
    target = targets[severity]
    response_time, resolution_time = target.times(calendar)
    ratio = target.warning_percent / 100
    contact = rng.choice(history.contacts)
    who = f"{contact.organisation.name}{contact.department.name if contact.department else ''}的{contact.name}"
    received = plan["received"]
    add = business_calendar.add_working_time
    response_due, response_warn = add(received, response_time, calendar), add(received, response_time * ratio, calendar)
    responded = add(received, timedelta(seconds=plan["reply"]), calendar)
    timeline = _Timeline()
    timeline.add(received, EventKind.REGISTERED, desk, after=S.REGISTERED)
    level, owner, warned, escalated = EscalationLevel.DESK, desk, None, None
    if responded > response_warn:
        warned = response_warn
        timeline.add(warned, EventKind.WARNED, None, data={"deadline": "response"}, label=SYSTEM)
    if responded > response_due:
        escalated = response_due
        timeline.add(
            escalated, EventKind.AUTO_ESCALATED, None, S.REGISTERED, S.REGISTERED, label=SYSTEM,
            data={"deadline": "response", "escalation_level": [0, 1]},
        )  # fmt: skip
        level, owner = EscalationLevel.BR_MANAGER, brm
    timeline.add(responded, "accept", owner, S.REGISTERED, S.ACCEPTED)
    at = responded + timedelta(minutes=rng.randint(15, 90))
    timeline.add(at, "investigate", owner, S.ACCEPTED, S.INVESTIGATING)
    status = S.INVESTIGATING
    if level == EscalationLevel.DESK and rng.random() < 0.15:
        at = history.add_working(at, rng.uniform(0.2, 0.8))
        timeline.add(
            at, "escalate", desk, status, S.ESCALATED, note="涉及多个部门，需业务关系经理协调。",
            data={"escalation_level": [0, 1], "owner": brm.pk},
        )  # fmt: skip
        level, owner, status = EscalationLevel.BR_MANAGER, brm, S.ESCALATED
    paused = 0
    rounds = [(2, False, UNHAPPY)] if plan.get("reopened") else []
    # The work after acceptance fits in what the resolution target leaves (up to 5.5 working
    # days a round at full pace; the customer's time to answer does not count).
    left = (resolution_time.total_seconds() - plan["reply"]) / history.day_seconds - (level > 0) * 0.8
    pace = max(0.05, min(0.5 if plan["major"] else 1.0, 0.9 * left / (WORK_DAYS * (len(rounds) + 1))))
    rating = plan.get("rating") or rng.choice([5, 5, 5, 4, 4])
    rounds.append((rating, True, rng.choice(HAPPY)))
    improvement = rng.random() < 0.12
    for number, (score, settled, comment) in enumerate(rounds):
        at = history.add_working(at, rng.uniform(0.5, 3.0) * pace)
        timeline.add(at, "remedy", owner, status, S.AWAITING_FEEDBACK)
        waiting = at
        at = history.add_working(at, rng.uniform(0.3, 2.0) * pace)
        paused += history.working_seconds(waiting, at)
        timeline.add(at, "customer_satisfied", brm, S.AWAITING_FEEDBACK, S.ANALYSIS)
        status = S.ANALYSIS
        if improvement and not number:
            at = history.add_working(at, rng.uniform(0.2, 1.0) * pace)
            timeline.add(at, "plan_improvement", brm, status, S.IMPROVEMENT_PLANNED)
            status = S.IMPROVEMENT_PLANNED
        at = history.add_working(at, rng.uniform(0.2, 1.5) * pace)
        timeline.add(at, "resolve", brm, status, S.RESOLVED)
        resolved = at
        at = at + timedelta(minutes=rng.randint(3 * 60, 40 * 60))
        timeline.add(
            at, EventKind.FEEDBACK, None, note=comment, label=CUSTOMER, data={"satisfaction": score, "settled": settled}
        )
        feedback = at
        if not settled:
            at += timedelta(seconds=1)
            timeline.add(
                at, "reopen", None, S.RESOLVED, S.INVESTIGATING, label=CUSTOMER,
                note=f"客户对处理结果不满意（评分：{score}）。",
            )  # fmt: skip
            paused += history.working_seconds(resolved, at)
            status = S.INVESTIGATING
    closed = business_calendar.next_working_moment(at + timedelta(minutes=rng.randint(30, 240)), calendar)
    timeline.add(closed, "close", desk, S.RESOLVED, S.CLOSED)
    service = services.get(scenario.service)
    department = contact.department.name if contact.department else contact.organisation.name
    complaint = Complaint(
        title=f"{department}：{scenario.title}",
        description=scenario.description.format(who=who),
        channel=rng.choice(CHANNELS),
        organisation=contact.organisation,
        contact=contact,
        related_service=service,
        severity=severity,
        category=scenario.category,
        status=S.CLOSED,
        handler=desk,
        owner=owner,
        escalation_level=level,
        received_at=received,
        response_due_at=response_due,
        response_warn_at=response_warn,
        responded_at=responded,
        resolution_due_at=add(received, resolution_time + timedelta(seconds=paused), calendar),
        resolution_warn_at=add(received, resolution_time * ratio + timedelta(seconds=paused), calendar),
        resolved_at=resolved,
        closed_at=closed,
        reply_working_seconds=history.working_seconds(received, responded),
        paused_seconds=paused,
        paused_at=resolved,
        response_warned_at=warned,
        response_escalated_at=escalated,
        root_cause=scenario.root_cause,
        diagnosis=scenario.diagnosis,
        remedial_actions=scenario.remedy,
        result=scenario.result,
        result_satisfaction=rounds[-1][0],
        result_settled=True,
        feedback_comment=rounds[-1][2],
        feedback_at=feedback,
        reopen_count=len(rounds) - 1,
        created_by=desk,
    )
    return complaint, timeline


def load_complaints(history: History) -> int:
    """Insert the closed complaints of the history and their timelines; returns the rows created."""
    # Up to a month before the demo's own complaints (the oldest came in 32 days ago), so a
    # month's references follow the order its complaints came in.
    plans = _plan(history, history.now - timedelta(days=33))
    targets = {severity: complaint_target(severity) for severity in Severity.values}
    services = {s.code: s for s in Service.objects.filter(code__in={s.service for s in SCENARIOS})}
    built = [_build(history, plan, targets, services) for plan in plans]
    # Whatever was not finished an hour ago (a long holiday in the last weeks) is left out.
    built = [
        (complaint, timeline) for complaint, timeline in built if timeline.events[-1]["created_at"] < history.now - HOUR
    ]
    by_month: dict[str, list[Complaint]] = {}
    for complaint, _timeline in built:
        by_month.setdefault(history.local(complaint.received_at).strftime("%Y%m"), []).append(complaint)
    for period, complaints in by_month.items():
        sequence, _new = ComplaintSequence.objects.select_for_update().get_or_create(period=period)
        for number, complaint in enumerate(complaints, start=sequence.last_number + 1):
            complaint.reference = f"TS-{period}-{number:04d}"
        ComplaintSequence.objects.filter(pk=sequence.pk).update(last_number=F("last_number") + len(complaints))
    Complaint.objects.bulk_create([complaint for complaint, _timeline in built], batch_size=500)
    Complaint.objects.filter(pk__in=[c.pk for c, _t in built]).update(
        created_at=F("received_at"), updated_at=F("closed_at")
    )
    events = [{"complaint": complaint.pk, **event} for complaint, timeline in built for event in timeline.events]
    insert_rows(ComplaintEvent, events)
    return len(built) + len(events)
