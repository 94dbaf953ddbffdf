"""The itsm benchmark: generate data at scale, then measure pages, API and the calendar.

    .venv/bin/python bench/run.py                       # SQLite file bench/bench.sqlite3
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/itsm_bench .venv/bin/python bench/run.py --contacts 1000000
    # the SPEC's scale (§10), with issue 12's 300,000 call-backs:
    DATABASE_URL=... .venv/bin/python bench/run.py --contacts 1000000 --complaints 1000000 --answers 2000000 \
        --callbacks 300000

It migrates its own database (never the development one unless DATABASE_URL says so),
tops the data up to the requested size (re-runs reuse it; the survey data set is made again
when a larger one is asked for), and prints for each measured URL the SQL query count and the
median / p95 wall time over ``--repeat`` requests, then the calendar's throughput. Budgets (the
numbers in ``PAGES`` and ``SURVEY_PAGES``) are checked: the exit status is 1 when a page needs
more queries than its budget or is slower than its time budget, so the benchmark can gate a
change. Each later app adds its pages to ``PAGES`` (the survey pages, ``SURVEY_PAGES``, are
read as a satisfaction owner).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "itsm.settings.test")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{ROOT / 'bench' / 'bench.sqlite3'}")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.management.color import no_style  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

# (name, url, query budget, median time budget in ms)
PAGES = [
    ("organisation list", "/organisations/", 8, 250),
    ("contact list", "/contacts/", 8, 250),
    ("contact list, filtered", "/contacts/?q=contact1&is_vip=true", 8, 500),
    ("contact list, sorted, deep page", "/contacts/?sort=-email&page=200", 8, 500),
    ("organisation detail", "/organisations/{organisation}/", 10, 250),
    ("API contacts", "/api/v1/contacts/", 6, 250),
    ("API organisations", "/api/v1/organisations/", 8, 250),
    ("audit trail", "/audit/", 8, 500),
    ("complaint list", "/complaints/", 12, 300),
    ("complaint list, open major", "/complaints/?status=investigating&severity=major", 12, 500),
    ("complaint list, search", "/complaints/?q=TS-202601-00", 12, 800),
    ("complaints overdue", "/complaints/overdue/", 12, 500),
    ("complaints mine", "/complaints/mine/", 12, 300),
    ("complaint analysis", "/complaints/analysis/?month=2026-01", 14, 1500),
    ("complaint detail", "/complaints/{complaint}/", 20, 250),
    ("API complaints", "/api/v1/complaints/", 10, 300),
    # The type-ahead pickers' JSON (itsm/core/pickers.py): one query for at most 21 rows
    # (trigram-indexed search on PostgreSQL) after the session and the permissions.
    ("pick organisations", "/pick/organisations/?q=organisation+12&kind=customer", 6, 100),
    ("pick organisations, first rows", "/pick/organisations/?kind=customer&active=1", 6, 100),
    ("pick contacts, by name", "/pick/contacts/?q=Contact+4711&kind=customer&active=1", 6, 250),
    ("pick contacts, by phone", "/pick/contacts/?q=100+0000+4711&kind=customer&active=1", 6, 250),
    ("pick contacts, one organisation", "/pick/contacts/?organisation={organisation}&kind=customer&active=1", 6, 100),
    ("pick departments", "/pick/departments/?q=Dept+1", 6, 100),
    ("pick users", "/pick/users/?q=bench&role=service_desk&active=1", 6, 100),
    # Pages whose forms are pickers now: they cost what their own queries cost.
    ("complaint registration", "/complaints/new/", 12, 250),
    ("complaint list, by organisation", "/complaints/?organisation={organisation}", 12, 300),
    # KPIs read stored values only (issue 12): constant queries whatever the data size.
    ("KPI dashboard", "/kpis/", 10, 150),
    ("API KPIs", "/api/v1/kpis/", 10, 150),
]

# Survey pages, measured as a satisfaction owner. {largest} is the campaign with the most
# answers (22 % of --answers, ≥ 400,000 at the SPEC's 2,000,000), {recent} the running one;
# late pages are 90 % of the way through. Budgets follow the pages above: lists 12 queries /
# 300–500 ms, a detail page 20 / 250 ms, API pages 10 / 300 ms. The results page gets the
# complaint analysis page's 1,500 ms: like it, it aggregates a whole data set per request
# (every answer of the campaign grouped by question and value, by option, by organisation and
# by department, and every invitation by organisation and department).
SURVEY_PAGES = [
    ("campaign list", "/surveys/campaigns/", 12, 300),
    ("campaign detail, largest", "/surveys/campaigns/{largest}/", 20, 250),
    ("campaign invitations, largest", "/surveys/campaigns/{largest}/invitations/", 12, 500),
    ("campaign invitations, late page", "/surveys/campaigns/{largest}/invitations/?page={invitation_page}", 12, 500),
    ("campaign results, largest", "/surveys/campaigns/{largest}/results/", 24, 1500),
    ("campaign free text, largest", "/surveys/campaigns/{largest}/results/free-text/", 12, 500),
    ("questionnaire list", "/surveys/questionnaires/", 10, 250),
    ("API campaigns", "/api/v1/campaigns/", 12, 300),
    ("API invitations, largest", "/api/v1/invitations/?campaign={largest}", 10, 300),
    ("API invitations, late page", "/api/v1/invitations/?campaign={largest}&page={api_invitation_page}", 10, 500),
    ("API answers, largest", "/api/v1/answers/?campaign={largest}", 10, 300),
    ("API answers, largest, late cursor", "/api/v1/answers/?campaign={largest}&cursor={largest_cursor}", 10, 300),
    ("API answers, running", "/api/v1/answers/?campaign={recent}", 10, 300),
    ("API answers, running, late cursor", "/api/v1/answers/?campaign={recent}&cursor={recent_cursor}", 10, 300),
]


def generate(contacts: int, organisations: int) -> None:
    from itsm.core.models import Contact, Department, Organisation

    existing_orgs = Organisation.objects.count()
    Organisation.objects.bulk_create(
        [
            Organisation(name=f"Bench organisation {i}", code=f"bench-{i}", is_key_customer=i % 10 == 0)
            for i in range(existing_orgs, organisations)
        ],
        batch_size=2000,
    )
    orgs = list(Organisation.objects.values_list("pk", flat=True))
    if not Department.objects.exists():
        Department.objects.bulk_create(
            [Department(organisation_id=pk, name=f"Dept {j}") for pk in orgs for j in range(3)], batch_size=5000
        )
    existing = Contact.objects.count()
    batch = []
    for i in range(existing, contacts):
        batch.append(
            Contact(
                organisation_id=orgs[i % len(orgs)],
                name=f"Contact {i}",
                email=f"contact{i}@bench.example",
                phone=f"1{i:010d}",
                is_vip=i % 50 == 0,
            )
        )
        if len(batch) >= 5000:
            Contact.objects.bulk_create(batch)
            batch = []
    if batch:
        Contact.objects.bulk_create(batch)


def generate_complaints(count: int, user) -> None:
    """Bulk-insert complaints over two years, shaped like a real desk's history: the oldest
    closed or withdrawn, the newest ~2 % still open in every state, owners spread over a
    team of 20, a contact per ~10 complaints."""
    import random

    from complaints.choices import Category, Channel, ComplaintStatus, Severity
    from complaints.models import Complaint
    from itsm.core.models import Contact

    existing = Complaint.objects.count()
    if existing >= count:
        return
    rng = random.Random(existing)
    from django.contrib.auth.models import Group

    from itsm.core.models import User
    from itsm.core.roles import Role

    contacts = list(Contact.objects.values_list("pk", "organisation_id")[: max(5000, count // 10)])
    team = [user]
    for n in range(19):
        member, _ = User.objects.get_or_create(username=f"bench-desk-{n}")
        member.groups.add(Group.objects.get(name=Role.SERVICE_DESK))
        team.append(member)
    open_statuses = [s for s in ComplaintStatus.values if s not in ("resolved", "closed", "withdrawn")]
    open_from = int(count * 0.98)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    batch = []
    for i in range(existing, count):
        received = start + timedelta(days=680 * i / count)
        contact_pk, organisation_pk = contacts[i % len(contacts)]
        if i >= open_from:
            status = open_statuses[i % len(open_statuses)]
        else:
            status = ComplaintStatus.WITHDRAWN if i % 40 == 0 else ComplaintStatus.CLOSED
        owner = team[i % len(team)]
        accepted = status != ComplaintStatus.REGISTERED
        batch.append(
            Complaint(
                reference=f"TS-{received:%Y%m}-{i:07d}",
                title=f"Bench complaint {i}",
                description="generated",
                channel=Channel.values[i % len(Channel.values)],
                organisation_id=organisation_pk,
                contact_id=contact_pk,
                severity=Severity.MAJOR if i % 9 == 0 else Severity.NORMAL,
                category=Category.values[i % len(Category.values)] if accepted else "",
                status=status,
                # An escalated complaint is owned above the desk (database constraint).
                escalation_level=1 + i % 3 if status == ComplaintStatus.ESCALATED else 0,
                owner=owner,
                handler=owner,
                created_by=owner,
                received_at=received,
                response_due_at=received + timedelta(days=1),
                resolution_due_at=received + timedelta(days=14),
                responded_at=received + timedelta(hours=rng.randint(1, 40)) if accepted else None,
                reply_working_seconds=rng.randint(600, 100000) if accepted else None,
                result_satisfaction=rng.randint(1, 5) if status == ComplaintStatus.CLOSED else None,
            )
        )
        if len(batch) >= 5000:
            Complaint.objects.bulk_create(batch)
            batch = []
    if batch:
        Complaint.objects.bulk_create(batch)


# --- surveys ---------------------------------------------------------------------------------

BENCH_QUESTIONNAIRE = "Bench satisfaction questionnaire"
# (section, kind, text, extra): every kind — rating ×6, NPS, yes / no, single (4 choices),
# multiple (5 choices), free text ×2.
SURVEY_QUESTIONS = [
    (0, "rating", "Service desk response time", {"comment_below": 3}),
    (0, "rating", "Incident resolution", {}),
    (0, "rating", "Engineers' attitude", {}),
    (0, "rating", "Keeping you informed", {}),
    (0, "yes_no", "Was your last issue solved the first time?", {}),
    (1, "rating", "Change and release communication", {}),
    (1, "rating", "Overall satisfaction", {}),
    (1, "nps", "How likely are you to recommend our IT services?", {}),
    (1, "single", "Which channel do you use most?", {"options": ["Phone", "Email", "Portal", "WeChat"]}),
    (
        1,
        "multiple",
        "What should we improve first?",
        {"options": ["Response", "Resolution", "Feedback", "Knowledge base", "Night shift"], "required": False},
    ),
    (2, "text", "Anything else you would like to tell us?", {"required": False}),
    (2, "text", "What should we keep doing?", {"required": False}),
]
# (kind, title, status, share of the answers): oldest first, half-yearly company-wide surveys
# with key-customer and annual quality surveys in between; the last one is still running.
# The largest (the 2026 H1 company-wide survey, 22 %) is the one measured.
SURVEY_CAMPAIGNS = [
    ("half_yearly", "Bench 2022 H2 company-wide survey", "analysed", 0.06),
    ("key_customers", "Bench 2023 key customer survey", "analysed", 0.05),
    ("half_yearly", "Bench 2023 H2 company-wide survey", "analysed", 0.08),
    ("annual_quality", "Bench 2024 annual quality survey", "analysed", 0.08),
    ("half_yearly", "Bench 2024 H2 company-wide survey", "analysed", 0.11),
    ("key_customers", "Bench 2025 key customer survey", "analysed", 0.06),
    ("half_yearly", "Bench 2025 H2 company-wide survey", "analysed", 0.12),
    ("annual_quality", "Bench 2025 annual quality survey", "published", 0.10),
    ("half_yearly", "Bench 2026 H1 company-wide survey", "published", 0.22),
    ("half_yearly", "Bench 2026 H2 company-wide survey", "running", 0.12),
]
FREE_TEXTS = [
    "Night-time tickets take too long to be picked up.",
    "Please tell us when an engineer is on the way.",
    "The portal search never finds the article I need.",
    "Very happy with the desk, keep it up.",
    "Progress updates by mail would help.",
    "The WeChat channel is the fastest for us.",
]


def _insert_rows(model, fields: list[str], rows: list[tuple]) -> None:
    """Insert ``rows`` (values of ``fields``, ids included) without model instances: COPY on
    PostgreSQL, one ``executemany`` elsewhere."""
    if not rows:
        return
    opts = model._meta
    quote = connection.ops.quote_name
    columns = ", ".join(quote(opts.get_field(name).column) for name in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {quote(opts.db_table)} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            adapt = connection.ops.adapt_datetimefield_value
            placeholders = ", ".join(["%s"] * len(fields))
            cursor.executemany(
                # Names from the model's metadata, values as parameters.
                f"INSERT INTO {quote(opts.db_table)} ({columns}) VALUES ({placeholders})",  # noqa: S608
                [tuple(adapt(v) if isinstance(v, datetime) else v for v in row) for row in rows],
            )


def _next_id(model) -> int:
    from django.db.models import Max

    return (model.objects.aggregate(last=Max("pk"))["last"] or 0) + 1


def _bench_campaigns():
    from surveys.models import Campaign

    return Campaign.objects.filter(questionnaire__title=BENCH_QUESTIONNAIRE)


def _drop_survey_data() -> None:
    """Delete an earlier (smaller) bench survey data set: raw deletes, children first."""
    from itsm.core.audit import immutability_suspended
    from surveys.models import Answer, Campaign, Invitation, Questionnaire, SurveyResponse

    ids = list(_bench_campaigns().values_list("pk", flat=True))
    for model in (Answer, SurveyResponse, Invitation):
        model.objects.filter(campaign_id__in=ids)._raw_delete(model.objects.db)
    with immutability_suspended():
        for campaign in Campaign.objects.filter(pk__in=ids):
            campaign.improvement_items.all().delete()
            campaign.events.all()._raw_delete(Campaign.objects.db)
            campaign.delete()
    Questionnaire.objects.filter(title=BENCH_QUESTIONNAIRE).delete()


def _bench_questionnaire(owner, locked_at: datetime):
    from surveys.models import Question, Questionnaire, QuestionnaireSection, QuestionOption

    questionnaire = Questionnaire.objects.create(
        title=BENCH_QUESTIONNAIRE, introduction="Three minutes of your time.", created_by=owner, locked_at=locked_at
    )
    sections = [
        QuestionnaireSection.objects.create(questionnaire=questionnaire, position=n, title=title)
        for n, title in enumerate(["Service quality", "Overall", "In your words"])
    ]
    for position, (section, kind, text, extra) in enumerate(SURVEY_QUESTIONS):
        question = Question.objects.create(
            questionnaire=questionnaire,
            section=sections[section],
            position=position,
            kind=kind,
            text=text,
            required=extra.get("required", True),
            comment_below=extra.get("comment_below"),
        )
        QuestionOption.objects.bulk_create(
            [
                QuestionOption(question=question, position=n, label=label)
                for n, label in enumerate(extra.get("options", []))
            ]
        )
    return questionnaire


class _SurveyRows:
    """Rows of one campaign's invitations, responses and answers, with ids given here (so that
    responses can point at invitations and answers at responses before anything is inserted)."""

    INVITATION = [
        "id", "campaign", "contact", "organisation", "department", "email", "language", "status", "sent_at",
        "reminders_sent", "last_reminded_at", "answered_at", "bounced_at", "bounce_reason", "unsubscribed_at",
        "created_at",
    ]  # fmt: skip
    RESPONSE = ["id", "invitation", "campaign", "organisation", "department", "language", "submitted_at"]
    ANSWER = [
        "id",
        "response",
        "campaign",
        "question",
        "organisation",
        "department",
        "value",
        "option",
        "text",
        "comment",
    ]

    def __init__(self) -> None:
        from surveys.models import Answer, Invitation, SurveyResponse

        self.next_invitation = _next_id(Invitation)
        self.next_response = _next_id(SurveyResponse)
        self.next_answer = _next_id(Answer)
        self.invitations: list[tuple] = []
        self.responses: list[tuple] = []
        self.answers: list[tuple] = []

    def flush(self) -> None:
        from surveys.models import Answer, Invitation, SurveyResponse

        _insert_rows(Invitation, self.INVITATION, self.invitations)
        _insert_rows(SurveyResponse, self.RESPONSE, self.responses)
        _insert_rows(Answer, self.ANSWER, self.answers)
        self.invitations, self.responses, self.answers = [], [], []


def _answer_rows(rng, questions, mood: int) -> list[tuple]:
    """(question, value, option, text, comment) of one response; ~11 rows, free text rare."""
    rows = []
    for question, kind, options, comment_below in questions:
        if kind == "rating":
            value = rng.choices((5, 4, 3, 2, 1), weights=(44 + mood, 38, 16 - mood, 1.5, 0.5))[0]
            comment = rng.choice(FREE_TEXTS) if comment_below and value < comment_below else ""
            rows.append((question, value, None, "", comment))
        elif kind == "nps":
            rows.append(
                (question, rng.choices(range(11), weights=(1, 1, 1, 1, 2, 3, 5, 12, 22, 26, 26))[0], None, "", "")
            )
        elif kind == "yes_no":
            rows.append((question, 1 if rng.random() < 0.8 else 0, None, "", ""))
        elif kind == "single":
            rows.append((question, None, rng.choices(options, weights=(40, 25, 25, 10))[0], "", ""))
        elif kind == "multiple":
            picked = rng.choices((0, 1, 2, 3), weights=(10, 35, 35, 20))[0]
            rows.extend((question, None, option, "", "") for option in sorted(rng.sample(options, picked)))
        elif rng.random() < 0.01:  # free text: about one respondent in a hundred writes something
            rows.append((question, None, None, f"{rng.choice(FREE_TEXTS)} ({rng.randint(1, 9999)})", ""))
    return rows


def generate_surveys(answers: int, owner, reviewer) -> None:
    """Bulk-insert the survey data set: one questionnaire of twelve questions, ten campaigns
    over the bench contacts (half-yearly, key-customer and annual surveys, closed, published or
    analysed, the newest running), invitations (~60 % answered, ~2 % bounced, the rest sent and
    reminded twice), one response per answered invitation and ``answers`` Answer rows (~11 per
    response, the largest campaign 22 %), a few thousand free-text answers and comments, and
    improvement items on the closed campaigns. Invitations carry the contact's organisation
    and one of its departments (one in ten none), as captured at launch.

    Re-runs reuse the data when it is at least ``answers`` rows; a smaller set is replaced.
    """
    import json
    import random

    from django.db import transaction
    from django.utils import timezone

    from itsm.core.models import Contact, Department, Organisation
    from surveys.models import Answer, Campaign, CampaignEvent, ImprovementItem, Invitation, SurveyResponse

    campaigns = _bench_campaigns()
    if campaigns.exists():
        if Answer.objects.filter(campaign__in=campaigns).count() >= answers:
            return
        _drop_survey_data()

    rng = random.Random(answers)
    now = timezone.now().replace(microsecond=0)
    first_launch = now - timedelta(days=10 + 182 * (len(SURVEY_CAMPAIGNS) - 1))
    questionnaire = _bench_questionnaire(owner, first_launch - timedelta(days=14))
    questions = [
        (q.pk, q.kind, [o.pk for o in q.options.order_by("position")], q.comment_below)
        for q in questionnaire.questions.order_by("position")
    ]
    contacts = list(
        Contact.objects.exclude(email="").values_list("pk", "organisation_id", "email", "preferred_language")
    )
    departments: dict[int, list[int]] = {}
    for pk, organisation in Department.objects.order_by("pk").values_list("pk", "organisation_id"):
        departments.setdefault(organisation, []).append(pk)
    key_orgs = set(Organisation.objects.filter(is_key_customer=True).values_list("pk", flat=True))
    key_contacts = [c for c in contacts if c[1] in key_orgs]

    rows = _SurveyRows()
    ids: list[int] = []
    for n, (kind, title, status, share) in enumerate(SURVEY_CAMPAIGNS):
        running = status == "running"
        quota = int(answers * share)
        answer_rate = 0.45 if running else 0.6
        needed = int(quota / 10.5 / answer_rate * 1.25) + 10
        pool = key_contacts if kind == "key_customers" and len(key_contacts) > needed else contacts
        launched = first_launch + timedelta(days=182 * n)
        closes = launched + timedelta(days=21)
        closed = None if running else closes
        published = None if status in ("running", "closed") else closes + timedelta(days=10)
        analysed = closes + timedelta(days=30) if status == "analysed" else None
        campaign = Campaign.objects.create(
            kind=kind,
            title=title,
            domain="IT operations",
            objective="How satisfied are our customers with the desk, incidents and engineers?",
            questionnaire=questionnaire,
            owner=owner,
            status=status,
            audience_mode="key_customers" if pool is key_contacts else "sample",
            sample_percent=min(100, max(1, round(100 * needed / len(pool)))),
            closes_at=closes,
            analysis="Response times at night are the main complaint." if analysed else "",
            submitted_at=launched - timedelta(days=7),
            approved_by=reviewer,
            approved_at=launched - timedelta(days=5),
            launched_at=launched,
            closed_at=closed,
            published_at=published,
            analysed_at=analysed,
        )
        Campaign.objects.filter(pk=campaign.pk).update(created_at=launched - timedelta(days=10))
        campaign.stakeholders.set([reviewer])
        ids.append(campaign.pk)

        by_status: dict[str, int] = {}
        organisations: set[int] = set()
        made = 0
        chosen = rng.sample(range(len(pool)), min(len(pool), needed))
        with transaction.atomic():
            for index in chosen:
                if made >= quota:
                    break
                contact, organisation, email, language = pool[index]
                organisations.add(organisation)
                depts = departments.get(organisation)
                department = depts[contact % len(depts)] if depts and contact % 10 else None
                roll = rng.random()
                answered_at = bounced_at = unsubscribed_at = last_reminded = None
                reminders = 2
                if roll < answer_rate:
                    status_ = "answered"
                    answered_at = launched + timedelta(minutes=rng.randint(10, 60 * 24 * (10 if running else 20)))
                    reminders = (
                        0
                        if answered_at < launched + timedelta(days=3)
                        else 1
                        if answered_at < launched + timedelta(days=7)
                        else 2
                    )
                elif roll < answer_rate + 0.02:
                    status_, bounced_at, reminders = "bounced", launched + timedelta(hours=2), 0
                elif running and roll > 0.99:
                    status_, reminders = "pending", 0
                else:
                    status_ = "sent"
                    unsubscribed_at = launched + timedelta(days=4) if roll > 0.995 else None
                if reminders:
                    last_reminded = launched + timedelta(days=3 if reminders == 1 else 7)
                by_status[status_] = by_status.get(status_, 0) + 1
                invitation = rows.next_invitation
                rows.next_invitation += 1
                rows.invitations.append(
                    (
                        invitation, campaign.pk, contact, organisation, department, email, language, status_,
                        None if status_ == "pending" else launched, reminders, last_reminded, answered_at, bounced_at,
                        "550 mailbox unavailable" if bounced_at else "", unsubscribed_at, launched,
                    )
                )  # fmt: skip
                if status_ != "answered":
                    continue
                response = rows.next_response
                rows.next_response += 1
                rows.responses.append(
                    (response, invitation, campaign.pk, organisation, department, language, answered_at)
                )
                for question, value, option, text, comment in _answer_rows(rng, questions, mood=n % 4):
                    rows.answers.append(
                        (
                            rows.next_answer,
                            response,
                            campaign.pk,
                            question,
                            organisation,
                            department,
                            value,
                            option,
                            text,
                            comment,
                        )
                    )
                    rows.next_answer += 1
                    made += 1
                if len(rows.answers) >= 200_000:
                    rows.flush()
            rows.flush()
        if made < quota:
            print(f"  {title}: only {made} of {quota} answers (not enough contacts; raise --contacts)")
        campaign.organisations.set(sorted(organisations))

        events = [
            ("submit", "draft", "in_review", launched - timedelta(days=7), owner, {"audience": len(chosen)}),
            ("approve", "in_review", "approved", launched - timedelta(days=5), reviewer, {}),
            (
                "launch",
                "approved",
                "running",
                launched,
                owner,
                {"invited": sum(by_status.values()), "invalid_addresses": 0},
            ),
        ]
        if closed:
            events.append(("close", "running", "closed", closed, None, {"by_status": by_status}))
        if published:
            events.append(("publish", "closed", "published", published, owner, {"stakeholders": [reviewer.pk]}))
        if analysed:
            events.append(("analyse", "published", "analysed", analysed, owner, {}))
        next_event = _next_id(CampaignEvent)
        _insert_rows(
            CampaignEvent,
            [
                "id",
                "campaign",
                "action",
                "from_status",
                "to_status",
                "actor",
                "actor_label",
                "note",
                "data",
                "created_at",
            ],
            [
                (
                    next_event + i,
                    campaign.pk,
                    action,
                    from_,
                    to,
                    actor.pk if actor else None,
                    "" if actor else "system",
                    "",
                    json.dumps(data),
                    at,
                )
                for i, (action, from_, to, at, actor, data) in enumerate(events)
            ],
        )
        if not running:
            ImprovementItem.objects.bulk_create(
                [
                    ImprovementItem(
                        campaign=campaign,
                        question_id=questions[i % 7][0],
                        title=f"Improve {rng.choice(FREE_TEXTS)[:-1].lower()} ({n}.{i})",
                        priority=("high", "medium", "low")[i % 3],
                        status=("proposed", "accepted", "in_plan", "done", "rejected")[(n + i) % 5],
                        owner=reviewer,
                        created_by=owner,
                    )
                    for i in range(6)
                ]
            )
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(
            no_style(), [Invitation, SurveyResponse, Answer, CampaignEvent]
        ):
            cursor.execute(statement)


# --- KPIs (issue 12) -------------------------------------------------------------------------

# Measured as the process owner. {kpi} is the call-back satisfaction KPI (monthly, every
# breakdown), {kpi_period} one of its closed months; {kpi_count} the complaint count with its
# largest frozen value {largest_value} (a month's complaints, ≥ 100,000 records at the SPEC's
# scale when the bench holds --complaints 1,000,000 over 680 days… ~44,000 a month: the
# half-yearly reply time's overall value holds ~270,000), {late_page} 90 % of the way through.
KPI_PAGES = [
    ("KPI detail", "/kpis/{kpi}/", 14, 250),
    ("KPI detail, a closed period", "/kpis/{kpi}/?period={kpi_period}", 14, 250),
    ("KPI drill-down, largest value", "/kpis/{kpi_large}/values/{largest_value}/records/", 10, 250),
    ("KPI drill-down, late page", "/kpis/{kpi_large}/values/{largest_value}/records/?page={late_page}", 10, 250),
    ("API KPI values", "/api/v1/kpis/{kpi}/values/", 10, 300),
    ("API KPI value records", "/api/v1/kpis/{kpi_large}/values/{largest_value}/records/", 10, 300),
    ("KPI dashboard, one organisation", "/kpis/?organisation={organisation}", 10, 150),
    ("KPI dashboard, a month", "/kpis/?month=2026-03", 10, 150),
    # Scorecards are computed live for the period: one grouped query per figure (ten on the
    # technicians' card, fourteen on the organisations'), the KPIs with targets, the session.
    ("KPI scorecard, technicians", "/kpis/scorecards/technicians/?cycle=monthly&period=2026-10", 22, 500),
    ("KPI scorecard, organisations", "/kpis/scorecards/organisations/?cycle=monthly&period=2026-10", 28, 1500),
]
# (KPI code, period label): computing a period with every breakdown against the raw aggregate
# queries it issues, replayed through the driver; budget: KPI_COMPUTE_RATIO × raw.
KPI_COMPUTES = [
    ("complaint_reply_time", "2026-H1"),
    ("complaint_result_satisfaction", "2026-H1"),
    ("complaints_by_category", "2026-10"),
    ("incident_satisfaction", "2026-10"),
    ("callback_within_24h", "2026-10"),
]
KPI_COMPUTE_RATIO = 2.0


def generate_callbacks(count: int) -> None:
    """Bulk-insert resolved tickets and their call-backs over two years (COPY on PostgreSQL):
    the bench team as technicians, ~93 % answered (most within 24 hours), ~96 % satisfied,
    ratings mostly 4–5, the fault fixed in ~97 %."""
    import random

    from itsm.core.models import Contact, User
    from surveys.models import CallBack, Ticket

    existing = CallBack.objects.count()
    if existing >= count:
        return
    rng = random.Random(count)
    contacts = list(Contact.objects.values_list("pk", "organisation_id")[: max(5000, count // 10)])
    team = list(User.objects.filter(username__startswith="bench-desk-").values_list("pk", "username"))
    start = datetime(2025, 1, 1, tzinfo=UTC)
    now = datetime.now(UTC).replace(microsecond=0)
    span = (now - start).total_seconds()
    ticket_id, callback_id = _next_id(Ticket), _next_id(CallBack)
    tickets, callbacks = [], []

    def flush() -> None:
        _insert_rows(
            Ticket,
            [
                "id",
                "external_id",
                "ticket_ref",
                "organisation",
                "requester",
                "requester_name",
                "requester_email",
                "requester_phone",
                "technician",
                "technician_name",
                "technician_email",
                "resolved_at",
                "summary",
                "closable",
                "flag_reason",
                "received_at",
                "updated_at",
            ],
            tickets,
        )
        _insert_rows(
            CallBack,
            [
                "id",
                "ticket",
                "due_at",
                "method",
                "answered_at",
                "on_behalf",
                "fixed",
                "rating_attitude",
                "rating_speed",
                "rating_effect",
                "satisfied",
                "complaint_raised",
                "comment",
                "created_at",
                "updated_at",
            ],
            callbacks,
        )
        tickets.clear()
        callbacks.clear()

    for i in range(existing, count):
        resolved = start + timedelta(seconds=span * i / count)
        contact, organisation = contacts[i % len(contacts)]
        technician, name = team[i % len(team)]
        tickets.append(
            (
                ticket_id,
                f"bench-{ticket_id}",
                f"INC-{ticket_id:08d}",
                organisation,
                contact,
                f"Contact {contact}",
                "",
                "",
                technician,
                name,
                "",
                resolved,
                "Bench incident",
                True,
                "",
                resolved,
                resolved,
            )
        )
        answered = None
        if rng.random() < 0.93 and resolved < now - timedelta(days=2):
            answered = resolved + timedelta(hours=rng.choice((2, 5, 20, 23, 30, 50)))
        rating = (lambda: rng.choice((3, 4, 4, 5, 5, 5))) if answered else (lambda: None)
        callbacks.append(
            (
                callback_id,
                ticket_id,
                resolved + timedelta(hours=24),
                "phone" if answered else "",
                answered,
                bool(answered),
                (rng.random() < 0.97) if answered else None,
                rating(),
                rating(),
                rating(),
                (rng.random() < 0.96) if answered else None,
                False,
                "",
                resolved,
                resolved,
            )
        )
        ticket_id += 1
        callback_id += 1
        if len(callbacks) >= 20000:
            flush()
    flush()


# Continual improvement (issue 13), measured as the process owner over --improvements register
# items (half of them raised from complaints), a plan per 25 items with four actions each, and
# 60 review meetings. {item}, {plan}: the newest; {meeting_planned} compiles its inputs live,
# {meeting_held} reads the frozen ones; {tracking_page} is 90 % of the way through the sheet.
IMPROVEMENT_PAGES = [
    ("improvement register", "/improvement/items/", 12, 300),
    ("improvement register, overdue", "/improvement/items/?overdue=1", 12, 500),
    ("improvement register, by source", "/improvement/items/?source_kind=complaint&status=open", 12, 500),
    ("improvement item detail", "/improvement/items/{item}/", 20, 250),
    ("improvement plan list", "/improvement/plans/", 12, 300),
    ("improvement plan detail", "/improvement/plans/{plan}/", 24, 300),
    ("tracking sheet", "/improvement/tracking/", 12, 500),
    ("tracking sheet, late page", "/improvement/tracking/?page={tracking_page}", 12, 500),
    ("review meeting list", "/improvement/meetings/", 12, 300),
    ("review meeting, planned (live inputs)", "/improvement/meetings/{meeting_planned}/", 30, 1000),
    ("review meeting, held (frozen inputs)", "/improvement/meetings/{meeting_held}/", 20, 250),
    ("API improvement items", "/api/v1/improvement-items/", 10, 300),
    ("API improvement plans", "/api/v1/improvement-plans/", 12, 300),
    ("complaint detail with its plans", "/complaints/{item_complaint}/", 22, 250),
    ("pick improvement plans", "/pick/improvement_plans/?q=Bench&open=1", 6, 100),
]


def generate_improvements(count: int, user) -> None:
    """Bulk-insert ``count`` register items (half from complaints, the rest from SLA-less
    sources: the complaints again as stand-ins keep the generic relation real), a plan per 25
    items with four actions each (spread over every status), and 60 review meetings, one in
    ten planned. Idempotent by count."""
    import random

    from django.contrib.contenttypes.models import ContentType
    from django.utils import timezone

    from complaints.models import Complaint
    from improvement.choices import ActionStatus, ItemStatus, PlanStatus
    from improvement.models import ImprovementItem, ImprovementPlan, PlanAction, ReviewMeeting

    existing = ImprovementItem.objects.count()
    if existing >= count:
        return
    rng = random.Random(count)
    complaint_type = ContentType.objects.get_for_model(Complaint)
    complaints = list(Complaint.objects.order_by("-pk").values_list("pk", flat=True)[: count // 2 or 1])
    now = timezone.now()
    plans = count // 25
    plan_id = _next_id(ImprovementPlan)
    statuses = PlanStatus.values
    _insert_rows(
        ImprovementPlan,
        [
            "id",
            "reference",
            "title",
            "goal",
            "target_measure",
            "owner",
            "status",
            "round",
            "approved_terms",
            "outcome",
            "outcome_note",
            "legacy_ref",
            "baseline_measure",
            "change_request_ref",
            "created_at",
            "updated_at",
        ],
        [
            (
                plan_id + n,
                f"SIP-B-{n:06d}",
                f"Bench plan {n}",
                "generated",
                "90 %",
                user.pk,
                statuses[n % len(statuses)],
                1 + (n % 7 == 0),
                "{}",
                "",
                "",
                "",
                "",
                "",
                now - timedelta(days=n % 400),
                now,
            )
            for n in range(plans)
        ],
    )
    action_id = _next_id(PlanAction)
    actions = []
    for n in range(plans):
        for k in range(4):
            done = (n + k) % 3 == 0
            actions.append(
                (
                    action_id + n * 4 + k,
                    plan_id + n,
                    f"Bench action {n}-{k}",
                    "",
                    user.pk,
                    (now + timedelta(days=rng.randint(-60, 60))).date(),
                    ActionStatus.DONE if done else ActionStatus.OPEN,
                    "",
                    "",
                    "done" if done else "",
                    now if done else None,
                    1,
                    now,
                    now,
                )
            )
    _insert_rows(
        PlanAction,
        [
            "id",
            "plan",
            "title",
            "description",
            "owner",
            "due_on",
            "status",
            "evidence",
            "evidence_link",
            "evidence_note",
            "done_at",
            "round",
            "created_at",
            "updated_at",
        ],
        actions,
    )
    item_id = _next_id(ImprovementItem)
    rows = []
    for i in range(existing, count):
        planned = i % 3 == 0 and plans
        status = ItemStatus.PLANNED if planned else (ItemStatus.OPEN, ItemStatus.DONE, ItemStatus.SUGGESTED)[i % 3]
        rows.append(
            (
                item_id + i - existing,
                f"IMP-B-{i:07d}",
                f"Bench improvement item {i}",
                "",
                "medium",
                status,
                user.pk,
                plan_id + (i % plans) if planned else None,
                "complaint",
                complaint_type.pk,
                complaints[i % len(complaints)],
                (now + timedelta(days=rng.randint(-90, 60))).date(),
                "",
                now - timedelta(days=i % 500),
                now,
            )
        )
        if len(rows) >= 20000:
            _insert_rows(
                ImprovementItem,
                [
                    "id",
                    "reference",
                    "title",
                    "description",
                    "priority",
                    "status",
                    "owner",
                    "plan",
                    "source_kind",
                    "source_type",
                    "source_id",
                    "target_date",
                    "resolution",
                    "created_at",
                    "updated_at",
                ],
                rows,
            )
            rows = []
    _insert_rows(
        ImprovementItem,
        [
            "id",
            "reference",
            "title",
            "description",
            "priority",
            "status",
            "owner",
            "plan",
            "source_kind",
            "source_type",
            "source_id",
            "target_date",
            "resolution",
            "created_at",
            "updated_at",
        ],
        rows,
    )
    meeting_id = _next_id(ReviewMeeting)
    _insert_rows(
        ReviewMeeting,
        [
            "id",
            "reference",
            "kind",
            "title",
            "period_label",
            "period_start",
            "period_end",
            "scheduled_at",
            "location",
            "chair",
            "other_attendees",
            "agenda",
            "status",
            "inputs",
            "minutes",
            "created_at",
            "updated_at",
        ],
        [
            (
                meeting_id + n,
                f"RM-B-{n:04d}",
                "review",
                f"Bench meeting {n}",
                "2026-10",
                date(2026, 10, 1),
                date(2026, 10, 31),
                now - timedelta(days=30 * n),
                "",
                user.pk,
                "",
                "",
                "planned" if n % 10 == 0 else "held",
                "{}",
                "",
                now,
                now,
            )
            for n in range(60)
        ],
    )
    # The held meetings freeze what the live compile gives today.
    from improvement.selectors.meetings import meeting_inputs

    frozen = meeting_inputs(ReviewMeeting.objects.get(pk=meeting_id + 1))
    ReviewMeeting.objects.filter(status="held", reference__startswith="RM-B-").update(inputs=frozen)


def improvement_urls() -> dict[str, object]:
    from improvement.models import ImprovementItem, ImprovementPlan, ReviewMeeting

    item = ImprovementItem.objects.filter(source_kind="complaint").order_by("-pk").first()
    rows = ImprovementItem.objects.count()
    return {
        "item": item.pk,
        "item_complaint": item.source_id,
        "plan": ImprovementPlan.objects.order_by("-pk").values_list("pk", flat=True).first(),
        "meeting_planned": ReviewMeeting.objects.filter(status="planned").values_list("pk", flat=True).first(),
        "meeting_held": ReviewMeeting.objects.filter(status="held").values_list("pk", flat=True).first(),
        "tracking_page": max(1, rows // 25 * 9 // 10),
    }


def generate_kpi_history() -> tuple[int, int]:
    """Every active computed KPI's periods since January 2025: closed (frozen with their
    records) where the report has fallen due, computed where they still run — as the periodic
    check leaves them. Re-runs close nothing twice."""
    from django.utils import timezone

    from itsm.core.periods import period_of, report_due
    from kpi.models import MANUAL, KpiDefinition, KpiValue, KpiValueRecord
    from kpi.services import kpi_close, kpi_compute

    today = timezone.localdate()
    for definition in KpiDefinition.objects.filter(is_active=True).exclude(source=MANUAL):
        period = period_of(definition.cycle, date(2025, 1, 1))
        while period.start <= today:
            if report_due(period) <= today:
                kpi_close(definition, period)
            else:
                kpi_compute(definition, period)
            period = period.next()
    return KpiValue.objects.count(), KpiValueRecord.objects.count()


def kpi_urls() -> dict[str, object]:
    from django.db.models import Count

    from kpi.models import KpiDefinition, KpiValue

    kpi = KpiDefinition.objects.get(code="incident_satisfaction")
    closed = KpiValue.objects.filter(definition=kpi, closed=True, is_current=True, element_kind="overall")
    largest = (
        KpiValue.objects.filter(closed=True, is_current=True)
        .annotate(n=Count("records"))
        .order_by("-n")
        .values_list("pk", "definition_id", "n")
        .first()
    )
    print(f"kpis: largest frozen value {largest[0]} ({largest[2]} records)")
    return {
        "kpi": kpi.pk,
        "kpi_period": closed.order_by("-period_start").values_list("period_label", flat=True)[2],
        "largest_value": largest[0],
        "kpi_large": largest[1],
        "late_page": max(1, largest[2] // 50 * 9 // 10),
    }


def kpi_compute_ratios(repeat: int) -> list[str]:
    """For each of ``KPI_COMPUTES``: ``kpi_compute`` (every breakdown, the values stored) and
    the source's aggregate queries alone, replayed through the driver with their parameters,
    interleaved; prints both medians and the ratio. Returns the names over budget."""
    from itsm.core.periods import period_from_label
    from kpi.models import KpiDefinition
    from kpi.registry import source
    from kpi.services import kpi_compute

    over = []
    print(f"\n{'KPI computed, every breakdown':38} {'queries':>8} {'raw ms':>8} {'compute ms':>11} {'ratio':>6}")
    for code, label in KPI_COMPUTES:
        definition = KpiDefinition.objects.get(code=code)
        period = period_from_label(definition.cycle, label)
        kpi_source = source(definition.source)
        captured: list[tuple[str, object]] = []

        def record(execute, sql, params, many, context, captured=captured):
            captured.append((sql, params))
            return execute(sql, params, many, context)

        kinds = ["overall", *(k for k in definition.breakdowns if k in kpi_source.breakdowns)]
        with connection.execute_wrapper(record):
            for kind in kinds:
                kpi_source.compute(period, kind)
        raw = [(sql, params) for sql, params in captured if "core_calendar" not in sql]
        raw_times, compute_times = [], []
        for _ in range(max(3, repeat // 5)):
            began = time.perf_counter()
            with connection.cursor() as cursor:
                for sql, params in raw:
                    cursor.execute(sql, params)
                    cursor.fetchall()
            raw_times.append((time.perf_counter() - began) * 1000)
            began = time.perf_counter()
            kpi_compute(definition, period)
            compute_times.append((time.perf_counter() - began) * 1000)
        raw_ms, compute_ms = statistics.median(raw_times), statistics.median(compute_times)
        ratio = compute_ms / raw_ms if raw_ms else 0.0
        flag = ""
        if ratio > KPI_COMPUTE_RATIO:
            flag = f"  OVER BUDGET ({KPI_COMPUTE_RATIO}× raw)"
            over.append(f"compute {code}")
        name = f"{code} {label}"
        print(f"{name:38} {len(raw):>8} {raw_ms:>8.1f} {compute_ms:>11.1f} {ratio:>6.2f}{flag}")
    return over


def settle() -> None:
    """PostgreSQL: ``VACUUM ANALYZE`` the database. Bulk loads leave the planner without
    statistics and the visibility map empty (no index-only scans) until autovacuum comes
    round, and a scratch server may run without autovacuum; production tables are past that."""
    if connection.vendor != "postgresql":
        return
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    print(f"vacuum analyze ({time.perf_counter() - began:.1f} s)")


def measure(client: Client, url: str, repeat: int, time_budget: float) -> tuple[int, float, float, int]:
    start = time.perf_counter()
    client.get(url)  # warm caches
    if (time.perf_counter() - start) * 1000 > 10 * time_budget:
        repeat = min(repeat, 3)  # far over budget anyway: a few timings tell as much
    timings = []
    queries = 0
    status = 0
    for _ in range(repeat):
        reset_queries()
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - start) * 1000)
        queries = len(ctx.captured_queries)
        status = response.status_code
    timings.sort()
    p95 = timings[min(len(timings) - 1, int(len(timings) * 0.95))]
    return queries, statistics.median(timings), p95, status


def calendar_throughput() -> float:
    from itsm.core.calendar import add_working_time, default_calendar

    calendar = default_calendar()
    start = datetime(2026, 9, 28, 1, 0, tzinfo=UTC)
    n = 20000
    began = time.perf_counter()
    for i in range(n):
        add_working_time(start + timedelta(minutes=37 * i), timedelta(hours=4 + i % 40), calendar)
    return n / (time.perf_counter() - began)


def survey_urls() -> dict[str, object]:
    """The placeholders of ``SURVEY_PAGES``: the largest and the running campaign, a late page
    of the largest's invitations and a cursor 90 % of the way through each one's answers."""
    import base64

    from django.db.models import Count

    from surveys.models import Answer, Invitation

    sizes = (
        Answer.objects.filter(campaign__in=_bench_campaigns())
        .values_list("campaign_id")
        .annotate(n=Count("*"))
        .order_by("-n")
    )
    largest = _bench_campaigns().get(pk=sizes[0][0])
    recent = _bench_campaigns().filter(status="running").order_by("-pk").first() or largest
    invitations = Invitation.objects.filter(campaign=largest).count()
    urls: dict[str, object] = {
        "largest": largest.pk,
        "recent": recent.pk,
        "invitation_page": max(1, invitations // 50 * 9 // 10),
        "api_invitation_page": max(1, invitations // 50 * 9 // 10),
    }
    for key, campaign in (("largest", largest), ("recent", recent)):
        count = Answer.objects.filter(campaign=campaign).count()
        position = Answer.objects.filter(campaign=campaign).order_by("pk").values_list("pk", flat=True)[count * 9 // 10]
        # DRF's cursor: base64 of "p=<last id of the previous page>".
        urls[f"{key}_cursor"] = base64.urlsafe_b64encode(f"p={position}".encode()).decode()
        urls[f"{key}_answers"] = count
    print(
        f"surveys: largest campaign {largest.pk} ({invitations} invitations, {urls['largest_answers']} answers), "
        f"running campaign {recent.pk} ({urls['recent_answers']} answers)"
    )
    return urls


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--organisations", type=int, default=2_000)
    parser.add_argument("--complaints", type=int, default=100_000)
    parser.add_argument(
        "--answers", type=int, default=200_000, help="survey answers (0: no survey data or survey pages)"
    )
    parser.add_argument("--callbacks", type=int, default=30_000, help="resolved tickets with their call-backs")
    parser.add_argument("--improvements", type=int, default=50_000, help="improvement register items")
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()

    settings.ALLOWED_HOSTS = ["*"]
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    call_command("migrate", verbosity=0)
    began = time.perf_counter()
    generate(args.contacts, args.organisations)
    print(f"data: {args.contacts} contacts, {args.organisations} organisations ({time.perf_counter() - began:.1f} s)")

    from django.contrib.auth.models import Group

    from itsm.core.models import Organisation, User
    from itsm.core.roles import Role

    user, _ = User.objects.get_or_create(username="bench-owner")
    user.groups.add(Group.objects.get(name=Role.PROCESS_OWNER), Group.objects.get(name=Role.SERVICE_DESK))
    began = time.perf_counter()
    generate_complaints(args.complaints, user)
    print(f"data: {args.complaints} complaints ({time.perf_counter() - began:.1f} s)")
    from complaints.models import Complaint

    urls: dict[str, object] = {
        "complaint": Complaint.objects.order_by("-pk").first().pk,
        "organisation": Organisation.objects.order_by("-pk").first().pk,
    }
    client = Client()
    client.force_login(user)
    pages = [(client, page) for page in PAGES]

    if args.answers:
        surveyor, _ = User.objects.get_or_create(username="bench-satisfaction")
        surveyor.groups.add(Group.objects.get(name=Role.SATISFACTION_OWNER))
        reviewer, _ = User.objects.get_or_create(username="bench-brm")
        reviewer.groups.add(Group.objects.get(name=Role.BR_MANAGER))
        began = time.perf_counter()
        generate_surveys(args.answers, surveyor, reviewer)
        print(f"data: {args.answers} survey answers ({time.perf_counter() - began:.1f} s)")
        urls.update(survey_urls())
        survey_client = Client()
        survey_client.force_login(surveyor)
        pages += [(survey_client, page) for page in SURVEY_PAGES]

    if args.callbacks:
        began = time.perf_counter()
        generate_callbacks(args.callbacks)
        print(f"data: {args.callbacks} call-backs ({time.perf_counter() - began:.1f} s)")
    settle()
    began = time.perf_counter()
    values, records = generate_kpi_history()
    print(f"data: KPI history, {values} values, {records} records behind them ({time.perf_counter() - began:.1f} s)")
    settle()
    urls.update(kpi_urls())
    pages += [(client, page) for page in KPI_PAGES]
    began = time.perf_counter()
    generate_improvements(args.improvements, user)
    print(f"data: {args.improvements} improvement items ({time.perf_counter() - began:.1f} s)")
    settle()
    urls.update(improvement_urls())
    pages += [(client, page) for page in IMPROVEMENT_PAGES]
    failures = []
    print(f"\n{'page':38} {'status':>6} {'queries':>8} {'median ms':>10} {'p95 ms':>8}")
    for page_client, (name, url, query_budget, time_budget) in pages:
        queries, median, p95, status = measure(page_client, url.format(**urls), args.repeat, time_budget)
        flag = ""
        if status != 200 or queries > query_budget or median > time_budget:
            flag = f"  OVER BUDGET ({query_budget} queries, {time_budget} ms)"
            failures.append(name)
        print(f"{name:38} {status:>6} {queries:>8} {median:>10.1f} {p95:>8.1f}{flag}")
    failures += kpi_compute_ratios(args.repeat)
    print(f"\ncalendar: add_working_time {calendar_throughput():,.0f} calls/s")
    if failures:
        print(f"\nover budget: {', '.join(failures)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
