"""The improvement history behind the two improvement KPIs ("SIP actions on time", "items
closed within target"): two service improvement plans a month since the history began, each
with five actions due within its month and three items of the register it answers (raised from
the month's history complaints), done on time but for one action every third month and one
item every fourth (the KPIs stay green), an action cancelled every fifth month. Plans of past
months are closed (effective, one in four partly); the running month's are in progress with
what is not yet due still open.

Rows are inserted as they stood (their times in the past); each plan's history says it was
drafted, approved and closed then. References follow each record's own year.
"""

from __future__ import annotations

from datetime import date, time, timedelta

from django.contrib.contenttypes.models import ContentType

from complaints.models import Complaint
from improvement.choices import ActionStatus, Effectiveness, ItemStatus, PlanStatus
from improvement.models import ImprovementItem, ImprovementItemEvent, ImprovementPlan, ImprovementPlanEvent, PlanAction

from .common import History, insert_rows, month_start, months_between

THEMES = (
    ("投诉受理提醒优化", "投诉登记后 4 个工作小时内受理率 ≥ 95%"),
    ("回访不满意工单复核", "不满意回访 24 小时内复核率 100%"),
    ("夜间值班响应提升", "夜间来电 30 秒内接听率 ≥ 90%"),
    ("SLA 月报按时发布", "月报在次月 10 日前发布"),
    ("桌面运维知识库完善", "一次解决率 ≥ 85%"),
    ("满意度调查结果反馈", "调查结束后 10 个工作日内发布结果"),
)
ACTION_OWNERS = ("desk", "brm", "satisfaction", "owner")
PLANS_PER_MONTH = 2
ACTIONS_PER_PLAN = 5
ITEMS_PER_PLAN = 3


def _done_moment(history: History, due: date, late: bool):
    """When a task due on ``due`` was done: on a working day up to three before it (or on it),
    or three working days after it when ``late``."""
    if late:
        return history.working_moment(history.working_days(due + timedelta(days=1), due + timedelta(days=12))[2])
    days = history.working_days(due - timedelta(days=10), due)
    return history.working_moment(days[-1 - history.rng.randint(0, min(3, len(days) - 1))])


def load_improvements(history: History) -> int:
    """Insert the plans, actions and items of the history; returns the rows created."""
    rng, now, today = history.rng, history.now, history.today
    brm = history.users["brm"]
    complaint_type = ContentType.objects.get_for_model(Complaint)
    running = month_start(today)
    numbers: dict[tuple[str, int], int] = {}

    def reference(prefix: str, year: int, width: int) -> str:
        if (prefix, year) not in numbers:  # after any the other demos numbered this year
            model = ImprovementPlan if prefix == "SIP" else ImprovementItem
            start = f"{prefix}-{year}-"
            taken = model.objects.filter(reference__startswith=start).values_list("reference", flat=True)
            numbers[prefix, year] = max((int(r[len(start) :]) for r in taken if r[len(start) :].isdigit()), default=0)
        numbers[prefix, year] += 1
        return f"{prefix}-{year}-{numbers[prefix, year]:0{width}d}"

    plans, actions, items, plan_events, item_events = [], [], [], [], []
    for index, month in enumerate(months_between(history.start, today)):
        month_end = month_start(month, -1) - timedelta(days=1)
        days = history.working_days(month, month_end)
        closed_moment = history.working_moment(
            history.working_days(month_end + timedelta(days=1), month_end + timedelta(days=14))[2]
        )
        is_running = month == running or closed_moment >= now
        for number in range(PLANS_PER_MONTH):
            theme, measure = THEMES[(index * PLANS_PER_MONTH + number) % len(THEMES)]
            drafted = history.at(month - timedelta(days=3 + number), time(10, 0))
            outcome = Effectiveness.PARTLY if (index + number) % 4 == 3 else Effectiveness.EFFECTIVE
            plan = ImprovementPlan(
                reference=reference("SIP", drafted.year, 4),
                title=f"{month:%Y-%m} {theme}",
                goal=theme,
                target_measure=measure,
                owner=brm,
                status=PlanStatus.IN_PROGRESS if is_running else PlanStatus.CLOSED,
                approved_by=brm,
                approved_at=history.working_moment(days[0]),
                outcome="" if is_running else outcome,
                outcome_note="" if is_running else "评审确认目标达成。",
                closed_at=None if is_running else closed_moment,
                created_by=brm,
            )
            plans.append((plan, drafted, closed_moment, is_running, month, days, index, number))
    ImprovementPlan.objects.bulk_create([entry[0] for entry in plans])
    for plan, drafted, closed_moment, is_running, month, days, index, number in plans:
        ImprovementPlan.objects.filter(pk=plan.pk).update(
            created_at=drafted, updated_at=plan.approved_at if is_running else closed_moment
        )
        plan_events += [
            {"plan": plan.pk, "action": "created", "from_status": "", "to_status": "", "actor": brm.pk,
             "actor_label": "", "note": "", "data": {}, "created_at": drafted},
            {"plan": plan.pk, "action": "approve", "from_status": PlanStatus.SUBMITTED,
             "to_status": PlanStatus.APPROVED, "actor": brm.pk, "actor_label": "", "note": "", "data": {"round": 1},
             "created_at": plan.approved_at},
        ]  # fmt: skip
        if not is_running:
            plan_events.append(
                {"plan": plan.pk, "action": "close", "from_status": PlanStatus.EFFECTIVENESS_REVIEW,
                 "to_status": PlanStatus.CLOSED, "actor": brm.pk, "actor_label": "", "note": "",
                 "data": {"outcome": plan.outcome, "round": 1}, "created_at": closed_moment}
            )  # fmt: skip
        due_days = sorted(rng.sample(days, ACTIONS_PER_PLAN))
        for task, due in enumerate(due_days):
            # One action late every third month, one cancelled every fifth: ≥ 90 % on time.
            late = number == 0 and task == 0 and index % 3 == 0 and not is_running
            cancelled = number == 1 and task == ACTIONS_PER_PLAN - 1 and index % 5 == 2
            done_at = None if cancelled else _done_moment(history, due, late)
            if done_at is not None and done_at >= now:
                done_at = None  # not done yet: still open
            actions.append(
                PlanAction(
                    plan=plan,
                    title=f"措施 {task + 1}：{plan.goal}",
                    owner=history.users[ACTION_OWNERS[task % len(ACTION_OWNERS)]],
                    due_on=due,
                    status=ActionStatus.CANCELLED
                    if cancelled
                    else (ActionStatus.DONE if done_at else ActionStatus.OPEN),
                    evidence_note="已完成，记录已归档。" if done_at else "",
                    done_at=done_at,
                )
            )
        complaints = list(
            Complaint.objects.filter(
                received_at__date__gte=month - timedelta(days=20), received_at__date__lte=month_end
            )
            .order_by("received_at")
            .values_list("pk", "reference", "title")[number * ITEMS_PER_PLAN : (number + 1) * ITEMS_PER_PLAN]
        )
        for position, (pk, complaint_reference, title) in enumerate(complaints):
            target = days[min(len(days) - 1, 5 + 4 * position + number)]
            # One item late every fourth month: ≥ 80 % closed within target.
            closed = _done_moment(history, target, number == 0 and position == 0 and index % 4 == 1)
            done = closed < now
            raised = history.at(month - timedelta(days=5), time(9, 30))
            items.append(
                (
                    ImprovementItem(
                        reference=reference("IMP", raised.year, 5),
                        title=f"{complaint_reference} {title}"[:200],
                        priority="medium",
                        status=ItemStatus.DONE if done else ItemStatus.PLANNED,
                        owner=brm,
                        plan=plan,
                        source_kind="complaint",
                        source_type=complaint_type,
                        source_id=pk,
                        target_date=target,
                        resolution="随改进计划完成。" if done else "",
                        closed_at=closed if done else None,
                        created_by=brm,
                    ),
                    raised,
                )
            )
    PlanAction.objects.bulk_create(actions, batch_size=500)
    ImprovementItem.objects.bulk_create([item for item, _raised in items], batch_size=500)
    for item, raised in items:
        ImprovementItem.objects.filter(pk=item.pk).update(created_at=raised)
        item_events.append(
            {"item": item.pk, "action": "created", "from_status": "", "to_status": ItemStatus.OPEN, "actor": brm.pk,
             "actor_label": "", "note": "", "data": {"source": "complaint", "source_id": item.source_id},
             "created_at": raised}
        )  # fmt: skip
    insert_rows(ImprovementPlanEvent, plan_events)
    insert_rows(ImprovementItemEvent, item_events)
    return len(plans) + len(actions) + len(items) + len(plan_events) + len(item_events)
