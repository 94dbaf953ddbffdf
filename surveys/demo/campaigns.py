"""Demo questionnaire and survey campaigns for ``manage.py load_demo``.

Everything goes through the real services as the demo users ``satisfaction`` (plans) and
``brm`` (approves): a questionnaire, a running half-yearly campaign over every customer
with about two thirds of the contacts already answered (each through its own personal link,
as a customer would), and a key-customer campaign waiting for the BR manager's review.
Idempotent: a campaign is identified by its title; one that exists is left as it is.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from itsm.core.models import Organisation, User
from itsm.core.tokens import token_issue

from ..answers import AnswerInput
from ..choices import AudienceMode, CampaignKind, InvitationStatus, QuestionKind
from ..models import Campaign, Invitation, Questionnaire
from ..services.campaigns import campaign_create, campaign_transition
from ..services.invitations import SURVEY_PURPOSE, response_submit
from ..services.questionnaires import question_create, questionnaire_create, section_create

QUESTIONNAIRE = "2026 年下半年客户满意度调查问卷"
RUNNING = "2026 年下半年公司级客户满意度调查"
IN_REVIEW = "2027 年一季度重点客户满意度调查"

# Every text in Chinese and English, as (Chinese, English); one choice ("夜间值班") is left
# untranslated, so the builder shows what a missing translation looks like.
SECTIONS: list[tuple[tuple[str, str], list[tuple[str, tuple[str, str], dict[str, Any]]]]] = [
    (
        ("服务质量", "Quality of service"),
        [
            (
                QuestionKind.RATING,
                ("您对服务台响应速度的满意程度", "How satisfied are you with how fast the service desk responds?"),
                {"comment_below": 3, "target_ref": "服务台响应时间"},
            ),
            (
                QuestionKind.RATING,
                ("您对故障处理效果的满意程度", "How satisfied are you with how your faults were fixed?"),
                {"comment_below": 3, "target_ref": "事件解决时间"},
            ),
            (
                QuestionKind.RATING,
                ("您对工程师服务态度的满意程度", "How satisfied are you with our engineers' manner?"),
                {},
            ),
            (
                QuestionKind.YES_NO,
                ("上次报修的问题是否一次解决？", "Was your last reported problem solved the first time?"),
                {},
            ),
        ],
    ),
    (
        ("总体评价", "Overall"),
        [
            (
                QuestionKind.NPS,
                (
                    "您有多大可能向同事推荐我们的 IT 服务？",
                    "How likely are you to recommend our IT services to a colleague?",
                ),
                {},
            ),
            (
                QuestionKind.SINGLE,
                ("您最常用的报修方式", "How do you usually report a problem?"),
                {
                    "options": [
                        ("服务台电话", "Service desk phone"),
                        ("邮件", "E-mail"),
                        ("自助门户", "Self-service portal"),
                        ("微信", "WeChat"),
                    ]
                },
            ),
            (
                QuestionKind.MULTIPLE,
                ("您希望我们优先改进哪些方面？", "What should we improve first?"),
                {
                    "options": [
                        ("响应速度", "Response speed"),
                        ("解决效率", "Speed of resolution"),
                        ("沟通反馈", "Keeping you informed"),
                        ("知识库", "Knowledge base"),
                        ("夜间值班", ""),
                    ],
                    "required": False,
                },
            ),
            (QuestionKind.TEXT, ("其他意见和建议", "Any other comments or suggestions"), {"required": False}),
        ],
    ),
]
COMMENTS = ["夜间报修响应较慢", "希望处理进度能及时通知", "工程师到场时间需要提前告知"]
SUGGESTIONS = ["服务整体不错，继续保持。", "希望增加自助门户的常见问题解答。", "", "", ""]


def _questionnaire(owner: User) -> Questionnaire:
    existing = Questionnaire.objects.filter(title=QUESTIONNAIRE).order_by("-version").first()
    if existing is not None:
        return existing
    questionnaire = questionnaire_create(
        title=QUESTIONNAIRE,
        title_en="IT service satisfaction survey",
        introduction="感谢您使用我们的 IT 服务。本问卷约需 3 分钟，您的意见将直接用于服务改进。",
        introduction_en="Thank you for using our IT services. This survey takes about 3 minutes; "
        "your opinion goes straight into improving them.",
        thanks="感谢您的宝贵意见！我们将在调查结束后发布结果和改进计划。",
        thanks_en="Thank you for your opinion! We will publish the results and our improvement plan "
        "when the survey closes.",
        actor=owner,
    )
    for (title, title_en), questions in SECTIONS:
        section = section_create(questionnaire=questionnaire, title=title, title_en=title_en, actor=owner)
        for kind, (text, text_en), extra in questions:
            question_create(section=section, kind=kind, text=text, text_en=text_en, actor=owner, **extra)
    return questionnaire


def _answers(campaign: Campaign, chooser: random.Random) -> list[AnswerInput]:
    answers = []
    for question in campaign.questionnaire.questions.order_by("section__position", "position"):
        options = list(question.options.order_by("position").values_list("pk", flat=True))
        if question.kind == QuestionKind.RATING:
            value = chooser.choices([5, 4, 3, 2], weights=[45, 35, 14, 6])[0]
            comment = chooser.choice(COMMENTS) if question.comment_below and value < question.comment_below else ""
            answers.append(AnswerInput(question_id=question.pk, value=value, comment=comment))
        elif question.kind == QuestionKind.NPS:
            answers.append(AnswerInput(question_id=question.pk, value=chooser.choice([10, 9, 9, 8, 8, 7, 6, 5])))
        elif question.kind == QuestionKind.YES_NO:
            answers.append(AnswerInput(question_id=question.pk, value=chooser.choice([1, 1, 1, 0])))
        elif question.kind == QuestionKind.SINGLE:
            answers.append(AnswerInput(question_id=question.pk, option_ids=(chooser.choice(options),)))
        elif question.kind == QuestionKind.MULTIPLE:
            answers.append(AnswerInput(question_id=question.pk, option_ids=tuple(sorted(chooser.sample(options, 2)))))
        elif question.kind == QuestionKind.TEXT:
            text = chooser.choice(SUGGESTIONS)
            if text:
                answers.append(AnswerInput(question_id=question.pk, text=text))
    return answers


def _answer_some(campaign: Campaign) -> int:
    """About two thirds of the invited answer, each through a personal link of their own."""
    # A fixed seed: the same demo whatever the campaign's id (test databases reuse none).
    chooser = random.Random(2026)  # noqa: S311  (demo data)
    answered = 0
    invitations = Invitation.objects.filter(campaign=campaign).exclude(status=InvitationStatus.BOUNCED)
    for invitation in invitations.order_by("pk"):
        if chooser.random() > 0.66:
            continue
        raw = token_issue(purpose=SURVEY_PURPOSE, target=invitation, expires_at=campaign.closes_at)
        response_submit(raw_token=raw, answers=_answers(campaign, chooser))
        answered += 1
    return answered


def load(stdout) -> int:
    owner = User.objects.filter(username="satisfaction").first()
    reviewer = User.objects.filter(username="brm").first()
    if owner is None or reviewer is None:
        return 0
    created = 0
    now = timezone.now()
    customers = list(Organisation.objects.filter(kind="customer").order_by("pk"))
    with transaction.atomic():
        questionnaire = _questionnaire(owner)
        # The key-customer campaign is planned first: its audience check at submission must
        # not depend on who answers the running one.
        if not Campaign.objects.filter(title=IN_REVIEW).exists():
            campaign = campaign_create(
                actor=owner,
                kind=CampaignKind.KEY_CUSTOMERS,
                title=IN_REVIEW,
                objective="重点客户季度满意度跟踪",
                questionnaire=questionnaire,
                audience_mode=AudienceMode.KEY_CUSTOMERS,
                closes_at=now + timedelta(days=60),
                stakeholders=[reviewer],
            )
            campaign_transition(campaign=campaign, action="submit", actor=owner)
            created += 1
        if not Campaign.objects.filter(title=RUNNING).exists():
            campaign = campaign_create(
                actor=owner,
                kind=CampaignKind.HALF_YEARLY,
                title=RUNNING,
                domain="IT 运维服务",
                objective="了解客户对服务台、事件处理和工程师服务的满意度，找出改进重点。",
                scope="全部客户单位的业务联系人",
                audience_description="各客户单位在册联系人（90 天内已参加过调查的除外）",
                resources="客户满意度维护人 1 名，服务台协助电话提醒",
                method="邮件发送个人问卷链接，第 3、7 天提醒未答复者",
                schedule="11 月发放，12 月初关闭，12 月中旬发布结果",
                questionnaire=questionnaire,
                closes_at=now + timedelta(days=21),
                organisations=customers,
                stakeholders=[reviewer],
            )
            campaign_transition(campaign=campaign, action="submit", actor=owner)
            campaign_transition(
                campaign=campaign, action="approve", actor=reviewer, note="问卷与 SLA 指标一致，同意发放。"
            )
            campaign = campaign_transition(campaign=campaign, action="launch", actor=owner)
            answered = _answer_some(campaign)
            stdout.write(f"survey campaigns: running campaign with {answered} answers\n")
            created += 1
    return created
