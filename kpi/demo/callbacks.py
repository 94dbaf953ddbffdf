"""Eighteen months of resolved tickets and their call-backs (incident handling satisfaction,
call-backs within 24 hours).

About thirteen tickets a working day (twenty in the last quarter), each called back: the same
afternoon, the next morning when resolved late, a few a day or two late. Satisfaction runs at 97–98 % until the last
quarter, then drifts down (96 %, 94 %, 93 %: amber), most of the unhappy answers about one
engineer; in the running month it falls day by day (every call-back of the first day happy,
one in twenty the next, one in ten the day after …), so the month heads for a miss. Inserted
in bulk, back-dated; unhappy answers flag their ticket as the service does.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from django.db.models import F
from django.utils import translation
from django.utils.translation import gettext as _

from itsm.core.calendar import add_working_time, default_calendar, working_day_length
from surveys.choices import CallbackMethod
from surveys.models import CallBack, Ticket
from surveys.services.callbacks import CALLBACK_DUE, CLOSE_WITHIN, CORRECTION_WINDOW

from .common import MARKER, History, month_start, pick_exactly

SUMMARIES = [
    "网上银行登录缓慢，已优化数据库连接池",
    "办公电脑无法连接打印机，重新安装驱动",
    "邮箱空间已满无法收信，已扩容并归档旧邮件",
    "VPN 客户端证书过期，已更新证书",
    "无线网络频繁掉线，调整 AP 信道",
    "业务系统报表导出超时，优化查询",
    "新员工账号开通及权限配置",
    "视频会议终端无声音，更换麦克风",
    "共享盘访问被拒绝，修正目录权限",
    "电脑蓝屏，更换内存条",
    "门禁系统与考勤数据不同步，重启同步服务",
    "扫码枪无法识别条码，重新配对并升级固件",
    "HIS 客户端升级后无法启动，修复运行库",
    "调度大屏画面卡顿，更换显卡驱动",
    "数据库表空间告警，已扩容",
    "防病毒软件误报拦截业务程序，已加白名单",
    "IP 电话无法注册，重新配置话机",
    "报销系统附件上传失败，调整上传大小限制",
    "备份作业失败，更换磁带并重跑",
    "操作系统补丁安装后网卡失效，回退驱动",
]
UNHAPPY_COMMENTS = [
    "问题过了两天又出现了。",
    "工程师到场太晚，影响了上午的业务。",
    "处理过程中没有人告诉我们进度。",
    "电话里解释得不清楚，最后还是自己摸索的。",
    "修好了但是换了一台旧设备，很不方便。",
]
# Share of unhappy answers by months before the running one (1: last month); older months
# draw theirs between 1.5 % and 3.2 %.
DRIFT = {3: 0.038, 2: 0.056, 1: 0.066}
# In the running month, the share of unhappy answers on its n-th working day (from 0).
FALL_PER_DAY, FALL_CAP = 0.05, 0.15
# Share of call-backs made more than 24 hours after the resolution, in the months gone.
LATE = (0.01, 0.03)
# The engineer most of the recent unhappy answers are about (people.ENGINEERS).
STRUGGLING = "eng-song"


def _answer_delay(history: History, resolved: datetime, late: bool) -> timedelta:
    rng = history.rng
    if late:
        return timedelta(minutes=rng.randint(26 * 60, 50 * 60))
    local = history.local(resolved)
    if local.time() < time(16, 30):
        return timedelta(minutes=rng.randint(25, 180))
    # Resolved late in the day: called back the next morning (the weekend duty calls too).
    morning = history.at(local.date() + timedelta(days=1), time(9)) + timedelta(minutes=rng.randint(0, 120))
    return morning - resolved


def _unhappy_share(history: History, answered: datetime, running_days: list) -> float:
    local = history.local(answered).date()
    months_back = (history.today.year - local.year) * 12 + history.today.month - local.month
    if months_back == 0:
        day_index = sum(1 for day in running_days if day < local)
        return min(FALL_PER_DAY * day_index, FALL_CAP)
    if months_back in DRIFT:
        return DRIFT[months_back]
    return 0.015 + 0.017 * ((local.year * 12 + local.month) * 7919 % 100) / 100


# Share of tickets the ITSM system closed later than 2 working days after the resolution (the
# customer confirmed late), and how many are still open.
CLOSED_LATE = 0.02
STILL_OPEN = 0.01


def _close(tickets: list[Ticket], now: datetime) -> None:
    """Each ticket's close deadline (2 working days after the resolution, by the calendar) and
    when it was closed: mostly within a working day, a few late, a few still open. Its own
    random sequence, so the call-backs drawn above stay the same."""
    rng = random.Random(20261204)  # noqa: S311 — demo data, not a secret
    calendar = default_calendar()
    window = CLOSE_WITHIN * working_day_length(calendar)
    for ticket in tickets:
        ticket.close_due_at = add_working_time(ticket.resolved_at, window, calendar)
        draw = rng.random()
        if draw < STILL_OPEN:
            closed = None
        elif draw < STILL_OPEN + CLOSED_LATE:
            closed = ticket.close_due_at + timedelta(hours=rng.randint(2, 40))
        else:
            closed = add_working_time(ticket.resolved_at, window * rng.uniform(0.05, 0.6), calendar)
        ticket.closed_at = closed if closed is not None and closed <= now else None


def load_callbacks(history: History) -> int:
    """Insert the tickets and call-backs of the history; returns the rows created."""
    rng, now = history.rng, history.now
    desk = history.users["desk"]
    latest = now - timedelta(hours=2)  # the last two hours' tickets are the demo's own, still due
    tickets: list[Ticket] = []
    answers: list[dict] = []
    day = history.start
    late_share: dict[date, float] = {}
    while day <= history.today:
        if history.is_working_day(day):
            month = month_start(day)
            share = 0.0 if month == month_start(history.today) else late_share.setdefault(month, rng.uniform(*LATE))
            # The desk took on more users over the last quarter: more tickets a day.
            busy = month >= month_start(history.today, 3)
            for number in range(rng.randint(17, 23) if busy else rng.randint(11, 16)):
                resolved = history.working_moment(day)
                if resolved > latest:
                    continue
                late = rng.random() < share
                answered = resolved + _answer_delay(history, resolved, late)
                if answered > now - timedelta(minutes=5):
                    answered = resolved + (now - timedelta(minutes=5) - resolved) * rng.uniform(0.2, 0.9)
                contact = rng.choice(history.contacts)
                engineer = rng.choice(history.engineers)
                ref = f"{day:%Y%m%d}-{number + 1:03d}"
                tickets.append(
                    Ticket(
                        external_id=f"{MARKER}{ref}",
                        ticket_ref=f"INC-{ref}",
                        organisation=contact.organisation,
                        requester=contact,
                        requester_name=contact.name,
                        requester_email=contact.email,
                        requester_phone=contact.phone,
                        technician=engineer,
                        technician_name=engineer.first_name,
                        technician_email=engineer.email,
                        resolved_at=resolved,
                        summary=rng.choice(SUMMARIES),
                    )
                )
                answers.append({"answered": answered, "phone": rng.random() < 0.8, "engineer": engineer})
        day += timedelta(days=1)

    # Who was unhappy: the planned share of each month (each day in the running one), exactly.
    running_days = history.working_days(month_start(history.today), history.today)
    groups: dict[tuple, list[int]] = {}
    for index, answer in enumerate(answers):
        local = history.local(answer["answered"]).date()
        key = (local.year, local.month, local.day if local >= month_start(history.today) else 0)
        groups.setdefault(key, []).append(index)
    unhappy: set[int] = set()
    recent = month_start(history.today, 3)
    for indexes in groups.values():
        answered = answers[indexes[0]]["answered"]
        share = _unhappy_share(history, answered, running_days)
        drifting = history.local(answered).date() >= recent

        def weight(index: int, drifting: bool = drifting) -> float:
            return 4.0 if drifting and answers[index]["engineer"].username == STRUGGLING else 1.0

        chosen = pick_exactly(rng, indexes, share, weight=weight)
        unhappy.update(indexes[i] for i in chosen)

    with translation.override("zh-hans"):
        flag = _("Call-back: ") + _("customer dissatisfied")
        flag_not_fixed = _("Call-back: ") + ", ".join([_("fault not fixed"), _("customer dissatisfied")])
    callbacks = []
    for index, (ticket, answer) in enumerate(zip(tickets, answers, strict=True)):
        answered = answer["answered"]
        happy = index not in unhappy
        fixed = happy or rng.random() < 0.4
        if not happy:
            ticket.closable = False
            ticket.flag_reason = flag if fixed else flag_not_fixed
        phone = answer["phone"]
        callbacks.append(
            CallBack(
                ticket=ticket,
                due_at=ticket.resolved_at + CALLBACK_DUE,
                method=CallbackMethod.PHONE if phone else CallbackMethod.LINK,
                answered_at=answered,
                recorded_by=desk if phone else None,
                on_behalf=phone,
                correctable_until=answered + CORRECTION_WINDOW if phone else None,
                link_sent_at=None if phone else ticket.resolved_at + timedelta(minutes=15),
                fixed=fixed,
                rating_attitude=rng.choice([5, 5, 5, 4]) if happy else rng.choice([4, 3, 3, 2]),
                rating_speed=rng.choice([5, 5, 4, 4, 3]) if happy else rng.choice([3, 2, 2, 1]),
                rating_effect=rng.choice([5, 5, 4]) if happy else rng.choice([3, 2, 1]),
                satisfied=happy,
                complaint_raised=not happy and rng.random() < 0.1,
                comment="" if happy else rng.choice(UNHAPPY_COMMENTS),
            )
        )
    _close(tickets, now)
    Ticket.objects.bulk_create(tickets, batch_size=1000)
    for callback in callbacks:
        callback.ticket_id = callback.ticket.pk
    CallBack.objects.bulk_create(callbacks, batch_size=1000)
    # Back-dated: the ITSM tool pushed each ticket when it was resolved.
    pushed = Ticket.objects.filter(external_id__startswith=MARKER)
    pushed.update(received_at=F("resolved_at") + timedelta(minutes=2), updated_at=F("resolved_at"))
    CallBack.objects.filter(ticket__external_id__startswith=MARKER).update(
        created_at=F("due_at") - CALLBACK_DUE, updated_at=F("answered_at")
    )
    return len(tickets) + len(callbacks)
