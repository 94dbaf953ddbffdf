"""Demo records of continual improvement for ``manage.py load_demo`` (issue 13 §9), made
through the real services after every other app's demo (``LAST_APPS``):

* the system's intake runs once (red KPI periods of the history, repeated SLA breaches,
  survey questions below target → suggested items);
* items raised by people from every kind of source the other demos made (a complaint, a
  campaign and one of its questions, a call-back, a weekly-visit item, an SLA breach and a
  monthly report, a KPI period value; agreement reviews raised theirs when recorded);
* plans in every state — draft, submitted, approved, in progress (one with an overdue action),
  under effectiveness review, closed, rejected — a department's own plan approved by its head,
  a plan measured by a KPI, and one sent round the loop once (not effective → a new action,
  approved again, in progress in round 2);
* a monthly quality analysis meeting held last month (inputs frozen, decisions turned into an
  item and an action) and this month's review meeting planned.

Loaded once: nothing is done when a review meeting exists.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db.models import Q
from django.utils import timezone

from itsm.core import calendar as business_calendar
from itsm.core.choices import OrganisationKind
from itsm.core.models import Organisation, User
from itsm.core.periods import Cycle, period_of

from .choices import Effectiveness
from .models import ImprovementItem, ImprovementPlan, PlanAction, ReviewMeeting
from .services.intake import intake_run
from .services.items import item_create, item_transition
from .services.plans import (
    action_add,
    action_complete,
    effectiveness_review_record,
    plan_create,
    plan_transition,
    plan_update,
)

USERS = ("desk", "brm", "head", "owner", "satisfaction", "slm", "quality")


def _raise(kind: str, source, actor: User, **fields) -> ImprovementItem | None:
    if source is None:
        return None
    from .registry import source_for

    registered = source_for(kind)
    prefill = registered.prefill(source, fields.pop("part", None)) if registered else {}
    return item_create(
        actor=actor,
        source_kind=kind,
        source=source,
        title=fields.pop("title", prefill.get("title") or str(source))[:200],
        description=fields.pop("description", prefill.get("description", "")),
        priority=fields.pop("priority", prefill.get("priority", "medium")),
        **fields,
    )


def _sources(users: dict[str, User]) -> list[ImprovementItem]:
    from complaints.models import Complaint
    from kpi.models import ElementKind, KpiValue
    from sla.models import Measurement, SlaReport
    from surveys.improvements import FINAL_STATUSES
    from surveys.models import CallBack, Campaign, Question, WeeklyReportItem

    brm, desk, sat, slm = users["brm"], users["desk"], users["satisfaction"], users["slm"]
    items: list[ImprovementItem | None] = []
    complaint = Complaint.objects.filter(improvement_items__isnull=True).exclude(root_cause="").order_by("pk").first()
    items.append(_raise("complaint", complaint, brm))
    campaign = Campaign.objects.filter(status__in=FINAL_STATUSES).order_by("-closes_at").first()
    if campaign is not None:
        items.append(_raise("survey_campaign", campaign, sat, title="满意度调查结果向客户反馈不及时"))
        question = (
            Question.objects.filter(questionnaire=campaign.questionnaire, kind="rating").order_by("position").first()
        )
        if question is not None:
            items.append(_raise("survey_question", campaign, sat, part=question, source_part=question))
    callback = (
        CallBack.objects.filter(Q(fixed=False) | Q(satisfied=False)).select_related("ticket").order_by("pk").first()
    )
    items.append(_raise("callback", callback, desk, title="回访发现故障未修复即关闭工单"))
    visit_item = WeeklyReportItem.objects.filter(resolved=False).select_related("report").order_by("pk").first()
    items.append(_raise("weekly_visit_item", visit_item, desk))
    breach = Measurement.objects.filter(met=False).select_related("target__agreement").order_by("-period").first()
    items.append(_raise("sla_measurement", breach, slm))
    report = SlaReport.objects.select_related("agreement").order_by("-period").first()
    items.append(_raise("sla_report", report, slm, title="月度 SLA 报告的趋势分析需要补充", priority="low"))
    value = (
        KpiValue.objects.filter(element_kind=ElementKind.OVERALL, closed=True, is_current=True, status="amber")
        .select_related("definition")
        .order_by("-period_start")
        .first()
    )
    items.append(_raise("kpi_value", value, users["owner"]))
    return [item for item in items if item is not None]


def _plan(users, title, goal, *, owner, items=(), actions=(), **fields) -> ImprovementPlan:
    plan = plan_create(actor=owner, title=title, goal=goal, owner=owner, items=list(items), **fields)
    today = timezone.localdate()
    for index, (action_title, action_owner) in enumerate(actions):
        action_add(
            plan=plan,
            actor=owner,
            title=action_title,
            owner=users[action_owner],
            due_on=business_calendar.add_working_days(today, 5 + 5 * index),
        )
    return plan


def _do_all(plan: ImprovementPlan) -> None:
    for action in plan.actions.filter(status="open"):
        action_complete(action=action, actor=action.owner, evidence_note="已按计划完成，记录见附件说明。")


def _plans(users: dict[str, User], items: list[ImprovementItem]) -> int:
    brm, head, _owner, sat, slm = users["brm"], users["head"], users["owner"], users["satisfaction"], users["slm"]
    open_items = iter([item for item in items if item.status == "open"])
    review_day = timezone.localdate() + timedelta(days=30)
    created = 0

    def take():
        return [item] if (item := next(open_items, None)) is not None else []

    # Draft: being written.
    _plan(
        users,
        "客户满意度调查结果发布流程优化",
        "调查结束后 10 个工作日内向客户发布结果与改进计划。",
        owner=sat,
        items=take(),
        actions=[("制定结果发布模板", "satisfaction")],
        target_measure="结果在结束后 10 个工作日内发布",
    )
    # Submitted: waiting for the BR manager.
    submitted = _plan(
        users,
        "重大投诉 4 小时响应保障",
        "重大投诉 4 个工作小时内响应率达到 100%。",
        owner=brm,
        items=take(),
        actions=[("建立重大投诉值班表", "desk"), ("投诉登记后自动通知值班经理", "brm")],
        target_measure="重大投诉 4 个工作小时内响应率 100%",
    )
    plan_transition(plan=submitted, action="submit", actor=brm)
    # Approved, not started.
    approved = _plan(
        users,
        "SLA 月报数据自动采集",
        "月报数据从监控系统自动采集，人工汇总时间减少 80%。",
        owner=slm,
        items=take(),
        actions=[("梳理月报数据源", "slm")],
        target_measure="人工汇总时间减少 80%",
    )
    plan_transition(plan=approved, action="submit", actor=slm)
    plan_transition(plan=approved, action="approve", actor=brm)
    # In progress, measured by a KPI, with one action done and one overdue.
    from kpi.models import KpiDefinition

    kpi = KpiDefinition.objects.filter(code__in=["incident_satisfaction", "callback_satisfaction"]).first() or (
        KpiDefinition.objects.filter(is_active=True, unit="percent").order_by("code").first()
    )
    running = _plan(
        users,
        "提升事件处理满意度",
        "事件处理满意度恢复到 95% 以上。",
        owner=brm,
        items=take(),
        actions=[("回访不满意工单 24 小时内复核", "desk"), ("技术员服务规范培训", "head")],
        kpi=kpi,
        baseline_value=92,
        target_value=95,
        target_date=timezone.localdate() + timedelta(days=90),
    )
    plan_transition(plan=running, action="submit", actor=brm)
    plan_transition(plan=running, action="approve", actor=brm)
    plan_transition(plan=running, action="start", actor=brm)
    first, second = running.actions.order_by("pk")
    action_complete(action=first, actor=first.owner, evidence_note="已上线复核流程，每日由服务台组长检查。")
    # The second action's due date has passed (the demo's history: set directly).
    PlanAction.objects.filter(pk=second.pk).update(due_on=business_calendar.add_working_days(timezone.localdate(), -3))
    # Under effectiveness review: a department's own plan, approved by its head.
    team = Organisation.objects.filter(kind=OrganisationKind.INTERNAL_TEAM).order_by("pk").first()
    reviewing = _plan(
        users,
        "桌面运维一次解决率提升",
        "桌面运维工单一次解决率达到 85%。",
        owner=head,
        items=take(),
        actions=[("常见故障知识库补充 30 条", "head")],
        target_measure="一次解决率 85%",
        team=team,
    )
    plan_transition(plan=reviewing, action="submit", actor=head)
    plan_transition(plan=reviewing, action="approve", actor=head)
    plan_transition(plan=reviewing, action="start", actor=head)
    _do_all(reviewing)
    plan_transition(plan=reviewing, action="request_review", actor=head, review_due_on=review_day)
    # Closed as effective.
    closed = _plan(
        users,
        "夜间告警升级流程完善",
        "夜间 P1 告警 30 分钟内升级到值班经理。",
        owner=slm,
        items=take(),
        actions=[("修订夜间告警升级流程", "slm")],
        target_measure="夜间 P1 告警 30 分钟内升级率 100%",
    )
    for step in ("submit", "approve", "start"):
        plan_transition(plan=closed, action=step, actor=brm if step == "approve" else slm)
    _do_all(closed)
    plan_transition(plan=closed, action="request_review", actor=slm, review_due_on=review_day)
    effectiveness_review_record(
        plan=closed,
        actor=brm,
        result=Effectiveness.EFFECTIVE,
        evidence_note="近三个月夜间 P1 告警全部在 30 分钟内升级。",
    )
    # Rejected.
    rejected = _plan(
        users,
        "全部客户改为每周回访",
        "所有客户每周回访一次。",
        owner=sat,
        actions=[("制定每周回访计划", "satisfaction")],
        target_measure="每周回访覆盖率 100%",
    )
    plan_transition(plan=rejected, action="submit", actor=sat)
    plan_transition(
        plan=rejected, action="reject", actor=brm, note="投入过大，重点客户已有周调查，其余客户按季度回访即可。"
    )
    # Round the loop once: not effective, a new action, approved again, in progress in round 2.
    loop = _plan(
        users,
        "投诉回复时长缩短",
        "投诉平均回复时长不超过 2 个工作日。",
        owner=brm,
        items=take(),
        actions=[("投诉受理提醒改为 4 小时", "desk")],
        target_measure="投诉平均回复时长 ≤ 2 个工作日",
    )
    for step in ("submit", "approve", "start"):
        plan_transition(plan=loop, action=step, actor=brm)
    _do_all(loop)
    plan_transition(plan=loop, action="request_review", actor=brm, review_due_on=review_day)
    effectiveness_review_record(
        plan=loop,
        actor=brm,
        result=Effectiveness.NOT_EFFECTIVE,
        evidence_note="提醒提前后回复时长仍为 2.6 个工作日：瓶颈在投诉分派而非提醒。",
    )
    action_add(plan=loop, actor=brm, title="投诉按服务自动分派到责任组", owner=users["desk"], working_days=10)
    plan_transition(plan=loop, action="approve", actor=brm)
    plan_transition(plan=loop, action="start", actor=brm)
    plan_update(plan=loop, actor=brm, change_request_ref="RFC-2026-118")
    created += 8
    return created


def _meetings(users: dict[str, User]) -> int:
    from .services.meetings import decision_add, decision_add_action, decision_raise_item, meeting_create, meeting_hold

    quality, brm = users["quality"], users["brm"]
    zone = business_calendar.zone_of()
    today = timezone.localdate()
    last_month = period_of(Cycle.MONTHLY, today.replace(day=1) - timedelta(days=1))
    this_month = period_of(Cycle.MONTHLY, today)
    held_on = business_calendar.add_working_days(last_month.end, 3)
    held = meeting_create(
        actor=quality,
        kind="quality_analysis",
        title=f"{last_month.label} 月度质量分析会",
        period_label=last_month.label,
        scheduled_at=timezone.make_aware(datetime.combine(held_on, time(14, 0)), zone),
        location="三楼会议室",
        chair=quality,
        attendees=[brm, users["slm"], users["head"], users["owner"]],
        agenda="1. 上月 KPI 完成情况\n2. 服务改进计划进展\n3. 投诉情况\n4. 下月改进事项",
    )
    held = meeting_hold(
        meeting=held, actor=quality, minutes="会议回顾了上月 KPI 与投诉情况，确认事件处理满意度仍未达标。"
    )
    decision = decision_add(
        meeting=held, actor=quality, text="事件处理满意度连续两月未达标，需专项分析原因。", owner=brm
    )
    decision_raise_item(decision=decision, actor=quality)
    plan = ImprovementPlan.objects.filter(status="in_progress").order_by("pk").first()
    if plan is not None:
        decision = decision_add(
            meeting=held,
            actor=quality,
            text="满意度改进计划增加技术员回访抽查。",
            owner=users["head"],
            due_on=business_calendar.add_working_days(today, 10),
        )
        decision_add_action(decision=decision, actor=quality, plan=plan)
        # The added action went back for approval: the BR manager approved it, the work goes on.
        plan_transition(plan=plan, action="approve", actor=brm)
        plan_transition(plan=plan, action="start", actor=brm)
    meeting_create(
        actor=brm,
        kind="review",
        title=f"{this_month.label} 服务回顾会议",
        period_label=this_month.label,
        scheduled_at=timezone.make_aware(
            datetime.combine(business_calendar.add_working_days(this_month.end, 2), time(10, 0)), zone
        ),
        location="客户现场",
        chair=brm,
        attendees=[users["slm"], users["satisfaction"]],
        agenda="1. KPI 报告\n2. SIP 状态\n3. 客户意见",
    )
    return 2


def load(stdout) -> int:
    if ReviewMeeting.objects.exists():
        return 0
    users = {user.username: user for user in User.objects.filter(username__in=USERS, is_active=True)}
    if len(users) < len(USERS):
        stdout.write("improvement: demo users missing, nothing created\n")
        return 0
    suggested = sum(intake_run().values())
    items = _sources(users)
    # One suggestion accepted, the others wait for their owners; one raised item dismissed.
    suggestion = ImprovementItem.objects.filter(status="suggested").order_by("pk").first()
    if suggestion is not None:
        item_transition(item=suggestion, action="accept", actor=users["brm"])
        items.append(suggestion)
    report_item = next((item for item in items if item.source_kind == "sla_report"), None)
    if report_item is not None:
        item_transition(
            item=report_item, action="dismiss", actor=users["slm"], note="趋势分析已列入月报模板，下月起自动生成。"
        )
        items.remove(report_item)
    created = suggested + len(items)
    created += _plans(users, items)
    created += _meetings(users)
    return created
