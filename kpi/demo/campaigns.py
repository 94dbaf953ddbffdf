"""Eighteen months of survey campaigns (customer service satisfaction, survey response rate).

Each half-year a key-customer survey in its first weeks (Jan–Feb, Jul–Aug: the contacts it asks
answered the company-wide one a month before, so it waits 30 days rather than 90) and a
company-wide survey in its last month (the running half-year's is the demo's own running
campaign); all on one questionnaire of eight ratings, planned, approved, launched, closed,
published and analysed. Every key customer answers, all but one of the others (an old address
bounces now and then); 97–99 % of the ratings are 4 or 5.
Invitations, responses and answers inserted in bulk, back-dated, the timeline rows as the
workflow writes them.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time, timedelta
from typing import Any, cast

from itsm.core.periods import Cycle, Period, period_of
from surveys.choices import AudienceMode, CampaignKind, CampaignStatus, InvitationStatus, QuestionKind
from surveys.models import Answer, Campaign, CampaignEvent, Invitation, Questionnaire, SurveyResponse
from surveys.services.campaigns import SYSTEM
from surveys.services.questionnaires import question_create, questionnaire_create, questionnaire_lock, section_create

from .common import History, insert_rows, pick_exactly

QUESTIONNAIRE = "客户满意度调查问卷（2025 年版）"
# (section title, [(kind, (question), extra inputs of question_create)]), in Chinese and English.
SECTIONS: list[tuple[tuple[str, str], list[tuple[str, tuple[str, str], dict[str, Any]]]]] = [
    (
        ("服务质量", "Quality of service"),
        [
            (QuestionKind.RATING, ("服务台响应速度", "How fast the service desk responds"), {"comment_below": 3}),
            (QuestionKind.RATING, ("故障处理效果", "How well your faults were fixed"), {"comment_below": 3}),
            (QuestionKind.RATING, ("工程师服务态度", "Our engineers' manner"), {}),
            (QuestionKind.RATING, ("处理进度的沟通与反馈", "Keeping you informed of progress"), {}),
            (QuestionKind.RATING, ("现场支持的及时性", "How soon an engineer is on site"), {}),
            (QuestionKind.RATING, ("变更与维护的事先通知", "Notice of changes and maintenance"), {}),
            (QuestionKind.RATING, ("自助门户与知识库", "The self-service portal and knowledge base"), {}),
            (QuestionKind.YES_NO, ("上次报修的问题是否一次解决？", "Was your last problem solved the first time?"), {}),
        ],
    ),
    (
        ("总体评价", "Overall"),
        [
            (QuestionKind.RATING, ("对 IT 服务的总体满意度", "Overall satisfaction with our IT services"), {}),
            (QuestionKind.NPS, ("您有多大可能向同事推荐我们的 IT 服务？", "How likely are you to recommend us?"), {}),
            (
                QuestionKind.SINGLE,
                ("您最常用的报修方式", "How do you usually report a problem?"),
                {"options": [("服务台电话", "Phone"), ("邮件", "E-mail"), ("自助门户", "Portal"), ("微信", "WeChat")]},
            ),
            (QuestionKind.TEXT, ("其他意见和建议", "Any other comments"), {"required": False}),
        ],
    ),
]
LOW_COMMENTS = ["夜间报修响应较慢", "问题反复出现，希望根治", "工程师到场前没有提前告知"]
SUGGESTIONS = ["整体满意，继续保持。", "希望自助门户能查到处理进度。", "建议增加节假日值班人员。"]
APPROVED = "问卷与 SLA 指标一致，同意发放。"
ANALYSIS = "总体满意度保持在目标以上；低分集中在夜间响应和进度反馈，已列入改进计划。"


def _questionnaire(history: History, locked_at: datetime) -> Questionnaire:
    owner = history.users["satisfaction"]
    questionnaire = questionnaire_create(
        title=QUESTIONNAIRE,
        title_en="IT service satisfaction survey (2025)",
        introduction="感谢您使用我们的 IT 服务。本问卷约需 3 分钟。",
        introduction_en="Thank you for using our IT services. This survey takes about 3 minutes.",
        thanks="感谢您的宝贵意见！",
        thanks_en="Thank you for your opinion!",
        actor=owner,
    )
    for (title, title_en), questions in SECTIONS:
        section = section_create(questionnaire=questionnaire, title=title, title_en=title_en, actor=owner)
        for kind, (text, text_en), extra in questions:
            question_create(section=section, kind=kind, text=text, text_en=text_en, actor=owner, **extra)
    questionnaire_lock(questionnaire=questionnaire)
    Questionnaire.objects.filter(pk=questionnaire.pk).update(locked_at=locked_at)
    return questionnaire


def _schedule(history: History) -> list[dict[str, Any]]:
    """The campaigns of the history, oldest first: (kind, title, launched, closes)."""
    plans: list[dict[str, Any]] = []
    half = period_of(Cycle.HALF_YEARLY, history.start)
    running = period_of(Cycle.HALF_YEARLY, history.today)
    while half.start <= running.start:
        first = half.start.month == 1
        key_launch = history.at(half.start + timedelta(days=24), time(9, 30))
        plans.append(
            {
                "kind": CampaignKind.KEY_CUSTOMERS,
                "title": f"{half.start.year} 年{'一' if first else '三'}季度重点客户满意度调查",
                "launched": key_launch,
                "closes": history.at(key_launch.date() + timedelta(days=21), time(18)),
                "half": half,
            }
        )
        if half.start < running.start:
            wide_launch = history.at(half.end - timedelta(days=29), time(9, 30))
            plans.append(
                {
                    "kind": CampaignKind.HALF_YEARLY,
                    "title": f"{half.start.year} 年{'上' if first else '下'}半年公司级客户满意度调查",
                    "launched": wide_launch,
                    "closes": history.at(half.end - timedelta(days=8), time(18)),
                    "half": half,
                }
            )
        half = half.next()
    return [
        plan
        for plan in plans
        if plan["launched"].date() >= history.start and plan["closes"] < history.now - timedelta(days=1)
    ]


def _status(history: History, closes: datetime) -> tuple[str, datetime | None, datetime | None]:
    published = history.at(closes.date() + timedelta(days=7), time(10))
    analysed = history.at(closes.date() + timedelta(days=21), time(15))
    if analysed < history.now:
        return CampaignStatus.ANALYSED, published, analysed
    if published < history.now:
        return CampaignStatus.PUBLISHED, published, None
    return CampaignStatus.CLOSED, None, None


def _campaign(history: History, plan: dict, questionnaire: Questionnaire) -> Campaign:
    owner, reviewer = history.users["satisfaction"], history.users["brm"]
    launched, closes = plan["launched"], plan["closes"]
    status, published, analysed = _status(history, closes)
    key = plan["kind"] == CampaignKind.KEY_CUSTOMERS
    half: Period = plan["half"]
    return Campaign(
        kind=plan["kind"],
        title=plan["title"],
        domain="IT 运维服务",
        objective="重点客户对服务台、事件处理和工程师服务的满意度跟踪"
        if key
        else "了解客户对服务台、事件处理和工程师服务的满意度，找出改进重点。",
        scope="重点客户单位的业务联系人" if key else "全部客户单位的业务联系人",
        audience_description="重点客户在册联系人" if key else "各客户单位在册联系人（90 天内已参加过调查的除外）",
        method="邮件发送个人问卷链接，第 3、7 天提醒未答复者",
        schedule=f"{launched:%m} 月发放，{closes:%m} 月关闭，关闭后一周发布结果（{half.label}）",
        questionnaire=questionnaire,
        owner=owner,
        status=status,
        audience_mode=AudienceMode.KEY_CUSTOMERS if key else AudienceMode.ALL,
        repeat_interval_days=30 if key else 90,
        closes_at=closes,
        analysis=ANALYSIS if analysed else "",
        submitted_at=launched - timedelta(days=7),
        approved_by=reviewer,
        approved_at=launched - timedelta(days=5),
        launched_at=launched,
        closed_at=closes,
        published_at=published,
        analysed_at=analysed,
    )


def _answers(history: History, questions: list, response: SurveyResponse, low: set[int], counter: list[int]) -> list:
    """The answers of one response; ``low``: the indexes (over the campaign's ratings) rated 2 or 3."""
    rng, rows = history.rng, []
    for question, options in questions:
        answer = Answer(
            response=response,
            campaign_id=response.campaign_id,
            question=question,
            organisation_id=response.organisation_id,
            department_id=response.department_id,
        )
        if question.kind == QuestionKind.RATING:
            unhappy = counter[0] in low
            counter[0] += 1
            answer.value = rng.choice([3, 3, 2]) if unhappy else rng.choices([5, 4], weights=[62, 38])[0]
            if question.comment_below and answer.value < question.comment_below:
                answer.comment = rng.choice(LOW_COMMENTS)
        elif question.kind == QuestionKind.NPS:
            answer.value = rng.choice([10, 10, 9, 9, 9, 8, 8, 7, 6])
        elif question.kind == QuestionKind.YES_NO:
            answer.value = 1 if rng.random() < 0.85 else 0
        elif question.kind == QuestionKind.SINGLE:
            answer.option_id = rng.choices(options, weights=[45, 25, 20, 10])[0]
        elif rng.random() < 0.25:
            answer.text = rng.choice(SUGGESTIONS)
        else:
            continue
        rows.append(answer)
    return rows


def _invitations(history: History, campaign: Campaign, plan: dict[str, Any], audience: list) -> list[Invitation]:
    """One invitation per contact: at a company-wide survey one never answers and an old
    address may bounce; most answer in the first days, the reminders on days 3 and 7 bring
    the rest."""
    rng = history.rng
    launched: datetime = plan["launched"]
    closes: datetime = plan["closes"]
    key = plan["kind"] == CampaignKind.KEY_CUSTOMERS
    order = list(range(len(audience)))
    rng.shuffle(order)
    silent = set() if key else {order[0]}
    bounced = {order[-1]} if not key and rng.random() < 0.5 else set()
    span = (closes - launched).total_seconds() / 60
    invitations = []
    for index, contact in enumerate(audience):
        invitation = Invitation(
            campaign=campaign,
            contact=contact,
            organisation_id=contact.organisation_id,
            department_id=contact.department_id,
            email=contact.email,
            language=contact.preferred_language,
            status=InvitationStatus.SENT,
            sent_at=launched,
        )
        if index in bounced:
            invitation.status = InvitationStatus.BOUNCED
            invitation.bounced_at = launched + timedelta(hours=2)
            invitation.bounce_reason = "550 mailbox unavailable"
        elif index in silent:
            invitation.reminders_sent, invitation.last_reminded_at = 2, launched + timedelta(days=7)
        else:
            at = launched + timedelta(minutes=int(span * 0.9 * rng.random() ** 2) + 10)
            invitation.status, invitation.answered_at = InvitationStatus.ANSWERED, at
            reminders = sum(at >= launched + timedelta(days=day) for day in (3, 7))
            invitation.reminders_sent = reminders
            if reminders:
                invitation.last_reminded_at = launched + timedelta(days=(3, 7)[reminders - 1])
        invitations.append(invitation)
    Invitation.objects.bulk_create(invitations)
    Invitation.objects.filter(campaign=campaign).update(created_at=launched)
    return invitations


def _events(history: History, campaign: Campaign, invitations: list[Invitation]) -> int:
    """The campaign's timeline, as the workflow writes it."""
    owner, reviewer = history.users["satisfaction"], history.users["brm"]
    launched = campaign.launched_at
    invited = {"invited": len(invitations), "invalid_addresses": 0, "no_email": 0, "unsubscribed": 0}
    events = [
        ("submit", "draft", "in_review", campaign.submitted_at, owner, "",
         {"audience": len(invitations), "questionnaire": campaign.questionnaire_id}),
        ("approve", "in_review", "approved", campaign.approved_at, reviewer, APPROVED, {}),
        ("launch", "approved", "running", launched, owner, "", {**invited, "recently_answered": 0, "not_sampled": 0}),
        ("close", "running", "closed", campaign.closed_at, None, "",
         {"by_status": dict(Counter(invitation.status for invitation in invitations))}),
    ]  # fmt: skip
    if campaign.published_at:
        stakeholders = {"stakeholders": [reviewer.pk]}
        events.append(("publish", "closed", "published", campaign.published_at, owner, "", stakeholders))
    if campaign.analysed_at:
        events.append(("analyse", "published", "analysed", campaign.analysed_at, owner, "", {}))
    insert_rows(
        CampaignEvent,
        [
            {
                "campaign": campaign.pk,
                "action": action,
                "from_status": before,
                "to_status": after,
                "actor": actor.pk if actor else None,
                "actor_label": "" if actor else SYSTEM,
                "note": note,
                "data": data,
                "created_at": at,
            }
            for action, before, after, at, actor, note, data in events
        ],
    )
    return len(events)


def load_campaigns(history: History) -> int:
    """Insert the history's campaigns with their invitations, responses and answers; returns
    the rows created."""
    plans = _schedule(history)
    if not plans:
        return 0
    rng = history.rng
    questionnaire = _questionnaire(history, plans[0]["launched"] - timedelta(days=7))
    questions = [
        (question, list(question.options.order_by("position").values_list("pk", flat=True)))
        for question in questionnaire.questions.order_by("section__position", "position")
    ]
    ratings = sum(1 for question, _options in questions if question.kind == QuestionKind.RATING)
    created = 0
    for plan in plans:
        key = plan["kind"] == CampaignKind.KEY_CUSTOMERS
        audience = [c for c in history.contacts if c.organisation.is_key_customer or not key]
        campaign = _campaign(history, plan, questionnaire)
        Campaign.objects.bulk_create([campaign])
        Campaign.objects.filter(pk=campaign.pk).update(
            created_at=plan["launched"] - timedelta(days=10), updated_at=plan["closes"]
        )
        campaign.organisations.set(sorted({c.organisation_id for c in audience}))
        campaign.stakeholders.set([history.users["brm"]])
        invitations = _invitations(history, campaign, plan, audience)
        responses = [
            SurveyResponse(
                invitation=invitation,
                campaign=campaign,
                organisation_id=invitation.organisation_id,
                department_id=invitation.department_id,
                language=invitation.language,
                submitted_at=cast(datetime, invitation.answered_at),
            )
            for invitation in invitations
            if invitation.status == InvitationStatus.ANSWERED
        ]
        SurveyResponse.objects.bulk_create(responses)
        low_share = rng.uniform(0.005, 0.015) if key else rng.uniform(0.01, 0.025)
        low = pick_exactly(rng, list(range(len(responses) * ratings)), low_share)
        counter = [0]
        answers = [row for response in responses for row in _answers(history, questions, response, low, counter)]
        Answer.objects.bulk_create(answers, batch_size=1000)
        created += 1 + len(invitations) + len(responses) + len(answers) + _events(history, campaign, invitations)
    return created
