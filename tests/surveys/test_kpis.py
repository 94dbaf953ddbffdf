"""The satisfaction KPI sources against hand-computed figures: incident handling satisfaction
and call-backs within 24 hours (call-backs), customer service satisfaction (rating answers) and
the survey response rate (invitations).

Periods are the default calendar's local days (Asia/Shanghai): 2026-10-31 23:30 is October's,
2026-11-01 00:10 is not — though both are 31 October in UTC.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import count
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from itsm.core.periods import Cycle, period_of
from kpi.registry import OVERALL, source
from surveys.choices import InvitationStatus, QuestionKind
from surveys.models import CallBack, Ticket
from tests.factories import ContactFactory, DepartmentFactory, OrganisationFactory
from tests.surveys.factories import (
    AnswerFactory,
    CampaignFactory,
    InvitationFactory,
    QuestionFactory,
    ResponseFactory,
    SectionFactory,
)

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
OCTOBER = period_of(Cycle.MONTHLY, date(2026, 10, 1))
AUGUST = period_of(Cycle.MONTHLY, date(2026, 8, 1))
H2 = period_of(Cycle.HALF_YEARLY, date(2026, 10, 1))
# The edges of October in the calendar's zone.
LAST_OF_OCTOBER = datetime(2026, 10, 31, 23, 30, tzinfo=SHANGHAI)
FIRST_OF_NOVEMBER = datetime(2026, 11, 1, 0, 10, tzinfo=SHANGHAI)

_numbers = count(1)


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def figures(result) -> dict[int, tuple[Decimal, Decimal]]:
    return {key: (f.numerator, f.denominator) for key, f in result.items()}


def d(numerator: int, denominator: int) -> tuple[Decimal, Decimal]:
    return Decimal(numerator), Decimal(denominator)


def ids(queryset) -> set[int]:
    return set(queryset.values_list("pk", flat=True))


def assert_one_aggregate(captured: CaptureQueriesContext, table: str, kind: str) -> None:
    """The compute read its records in one query (GROUP BY for a breakdown). The only other
    query allowed is the default calendar's, for the period's zone (``Period.bounds``)."""
    queries = [q["sql"] for q in captured.captured_queries]
    others = [sql for sql in queries if '"core_calendar"' not in sql]
    assert len(queries) - len(others) <= 1, queries
    assert len(others) == 1, queries
    assert table in others[0]
    assert ("GROUP BY" in others[0]) is (kind != OVERALL)


def compute_once(key: str, period, kind: str):
    with CaptureQueriesContext(connection) as captured:
        result = source(key).compute(period, kind)
    return result, captured


# --- call-backs ----------------------------------------------------------------------------


def make_callback(*, resolved_at, contact=None, technician=None, answered_at=None, satisfied=None, ratings=(5, 5, 5)):
    """A resolved ticket of ``contact`` handled by ``technician`` and its call-back (rows built
    directly: the ingestion and answer services are tested in test_callbacks)."""
    n = next(_numbers)
    ticket = Ticket.objects.create(
        external_id=f"kpi-{n}",
        ticket_ref=f"INC-{n:05d}",
        organisation=contact.organisation if contact is not None else None,
        requester=contact,
        requester_name=contact.name if contact is not None else "Walk-in",
        technician=technician,
        technician_name=technician.username if technician is not None else "Someone",
        resolved_at=resolved_at,
        summary="Printer jam",
    )
    answered = answered_at is not None
    return CallBack.objects.create(
        ticket=ticket,
        due_at=resolved_at + timedelta(hours=24),
        answered_at=answered_at,
        satisfied=satisfied if answered else None,
        fixed=True if answered else None,
        rating_attitude=ratings[0] if answered else None,
        rating_speed=ratings[1] if answered else None,
        rating_effect=ratings[2] if answered else None,
    )


@pytest.fixture
def people(make_user):
    a, b = OrganisationFactory(), OrganisationFactory()
    a1, a2 = DepartmentFactory(organisation=a), DepartmentFactory(organisation=a)
    b1 = DepartmentFactory(organisation=b)
    return {
        "a": a,
        "b": b,
        "a1": a1,
        "a2": a2,
        "b1": b1,
        "alice": ContactFactory(organisation=a, department=a1),
        "amy": ContactFactory(organisation=a, department=a2),
        "bob": ContactFactory(organisation=b, department=b1),
        "bill": ContactFactory(organisation=b, department=None),
        "t1": make_user(),
        "t2": make_user(),
    }


@pytest.fixture
def answered_callbacks(people):
    p = people
    return {
        # Satisfied overall although every rating is 3: the yes / no answer decides.
        "c1": make_callback(
            resolved_at=local(2026, 10, 14, 9, 0),
            contact=p["alice"],
            technician=p["t1"],
            answered_at=local(2026, 10, 15, 10, 0),
            satisfied=True,
            ratings=(3, 3, 3),
        ),
        # Not satisfied although every rating is 5; answered on October's last evening.
        "c2": make_callback(
            resolved_at=local(2026, 10, 31, 9, 0),
            contact=p["amy"],
            technician=p["t2"],
            answered_at=LAST_OF_OCTOBER,
            satisfied=False,
        ),
        "c3": make_callback(
            resolved_at=local(2026, 10, 19, 9, 0),
            contact=p["bob"],
            technician=p["t1"],
            answered_at=local(2026, 10, 20, 9, 0),
            satisfied=True,
        ),
        # No requester matched: no organisation or department, still in the overall figure.
        "c4": make_callback(
            resolved_at=local(2026, 10, 4, 9, 0),
            technician=p["t2"],
            answered_at=local(2026, 10, 5, 9, 0),
            satisfied=True,
        ),
        # Outside October: answered ten minutes into November (local), answered in September,
        # resolved in October but never answered.
        "november": make_callback(
            resolved_at=local(2026, 10, 31, 20, 0),
            contact=p["alice"],
            technician=p["t1"],
            answered_at=FIRST_OF_NOVEMBER,
            satisfied=True,
        ),
        "september": make_callback(
            resolved_at=local(2026, 9, 30, 9, 0),
            contact=p["bob"],
            technician=p["t1"],
            answered_at=local(2026, 9, 30, 23, 50),
            satisfied=True,
        ),
        "unanswered": make_callback(resolved_at=local(2026, 10, 10, 9, 0), contact=p["bob"], technician=p["t2"]),
    }


def test_callback_satisfaction_counts_the_satisfied_answers_of_the_period(people, answered_callbacks):
    p, c = people, answered_callbacks
    kpi = source("surveys.callback_satisfaction")
    assert kpi.breakdowns == ("organisation", "department", "technician")
    assert figures(kpi.compute(OCTOBER, OVERALL)) == {0: d(3, 4)}  # c1, c3, c4 of c1–c4
    assert kpi.value(kpi.compute(OCTOBER, OVERALL)[0]) == Decimal("75.0000")
    assert figures(kpi.compute(OCTOBER, "organisation")) == {p["a"].pk: d(1, 2), p["b"].pk: d(1, 1)}
    assert figures(kpi.compute(OCTOBER, "department")) == {
        p["a1"].pk: d(1, 1),
        p["a2"].pk: d(0, 1),
        p["b1"].pk: d(1, 1),
    }
    assert figures(kpi.compute(OCTOBER, "technician")) == {p["t1"].pk: d(2, 2), p["t2"].pk: d(1, 2)}

    assert ids(kpi.records(OCTOBER, OVERALL, 0)) == {c["c1"].pk, c["c2"].pk, c["c3"].pk, c["c4"].pk}
    assert ids(kpi.records(OCTOBER, "organisation", p["a"].pk)) == {c["c1"].pk, c["c2"].pk}
    assert ids(kpi.records(OCTOBER, "technician", p["t2"].pk)) == {c["c2"].pk, c["c4"].pk}
    assert ids(kpi.records(OCTOBER, "department", p["a2"].pk)) == {c["c2"].pk}
    # November holds the call-back answered at 00:10 on its first day.
    november = period_of(Cycle.MONTHLY, date(2026, 11, 1))
    assert ids(kpi.records(november, OVERALL, 0)) == {c["november"].pk}


# --- the technician's ratings, faults fixed, complaints at call-back (the scorecards) --------


@pytest.fixture
def rated_callbacks(answered_callbacks):
    c = answered_callbacks
    CallBack.objects.filter(pk=c["c3"].pk).update(
        rating_attitude=4, rating_speed=2, rating_effect=5, complaint_raised=True
    )
    CallBack.objects.filter(pk=c["c2"].pk).update(fixed=False)
    # A rating left out is no rating (the columns are nullable), not a 0.
    CallBack.objects.filter(pk=c["c4"].pk).update(rating_speed=None)
    return c


def test_the_average_ratings_of_the_technician_in_the_call_backs_of_the_period(people, rated_callbacks):
    p, c = people, rated_callbacks
    # October's answered call-backs: c1 (t1, a/a1) 3 3 3 · c2 (t2, a/a2) 5 5 5 · c3 (t1, b/b1) 4 2 5 ·
    # c4 (t2, no requester) 5 – 5. November's and September's answers are left out.
    attitude = source("surveys.callback_rating_attitude")
    assert (attitude.unit, attitude.scale, attitude.breakdowns) == (
        "rating",
        Decimal(1),
        ("organisation", "department", "technician"),
    )
    assert figures(attitude.compute(OCTOBER, OVERALL)) == {0: d(17, 4)}
    assert attitude.value(attitude.compute(OCTOBER, OVERALL)[0]) == Decimal("4.2500")
    assert figures(attitude.compute(OCTOBER, "technician")) == {p["t1"].pk: d(7, 2), p["t2"].pk: d(10, 2)}
    assert figures(attitude.compute(OCTOBER, "organisation")) == {p["a"].pk: d(8, 2), p["b"].pk: d(4, 1)}
    assert figures(attitude.compute(OCTOBER, "department")) == {
        p["a1"].pk: d(3, 1),
        p["a2"].pk: d(5, 1),
        p["b1"].pk: d(4, 1),
    }
    speed = source("surveys.callback_rating_speed")
    assert figures(speed.compute(OCTOBER, OVERALL)) == {0: d(10, 3)}  # c4 gave none
    assert speed.value(speed.compute(OCTOBER, OVERALL)[0]) == Decimal("3.3333")
    assert figures(speed.compute(OCTOBER, "technician")) == {p["t1"].pk: d(5, 2), p["t2"].pk: d(5, 1)}
    assert ids(speed.records(OCTOBER, OVERALL, 0)) == {c["c1"].pk, c["c2"].pk, c["c3"].pk}
    effect = source("surveys.callback_rating_effect")
    assert figures(effect.compute(OCTOBER, OVERALL)) == {0: d(18, 4)}
    assert figures(effect.compute(OCTOBER, "technician")) == {p["t1"].pk: d(8, 2), p["t2"].pk: d(10, 2)}
    assert ids(effect.records(OCTOBER, "technician", p["t2"].pk)) == {c["c2"].pk, c["c4"].pk}


def test_the_fixed_rate_is_the_share_of_answered_call_backs_saying_the_fault_was_fixed(people, rated_callbacks):
    p, c = people, rated_callbacks
    kpi = source("surveys.callback_fixed_rate")
    assert (kpi.unit, kpi.breakdowns) == ("percent", ("organisation", "department", "technician"))
    assert figures(kpi.compute(OCTOBER, OVERALL)) == {0: d(3, 4)}  # c2 not fixed
    assert kpi.value(kpi.compute(OCTOBER, OVERALL)[0]) == Decimal("75.0000")
    assert figures(kpi.compute(OCTOBER, "technician")) == {p["t1"].pk: d(2, 2), p["t2"].pk: d(1, 2)}
    assert figures(kpi.compute(OCTOBER, "organisation")) == {p["a"].pk: d(1, 2), p["b"].pk: d(1, 1)}
    assert ids(kpi.records(OCTOBER, "technician", p["t2"].pk)) == {c["c2"].pk, c["c4"].pk}


def test_complaints_at_call_back_count_the_call_backs_where_the_customer_complained(people, rated_callbacks):
    p, c = people, rated_callbacks
    kpi = source("surveys.callback_complaints")
    assert (kpi.unit, kpi.scale) == ("count", Decimal(1))
    assert figures(kpi.compute(OCTOBER, OVERALL)) == {0: d(1, 1)}
    assert figures(kpi.compute(OCTOBER, "technician")) == {p["t1"].pk: d(1, 1)}
    assert ids(kpi.records(OCTOBER, "technician", p["t1"].pk)) == {c["c3"].pk}
    # None is 0, not "no data".
    assert kpi.value(kpi.compute(AUGUST, OVERALL)[0]) == Decimal(0)


# --- call-backs within 24 hours ------------------------------------------------------------


@pytest.fixture
def resolved_callbacks(people):
    p = people
    return {
        # Exactly 24 hours: on time.
        "k1": make_callback(
            resolved_at=local(2026, 10, 10, 9, 0),
            contact=p["alice"],
            technician=p["t1"],
            answered_at=local(2026, 10, 11, 9, 0),
            satisfied=True,
        ),
        # One minute over, across a weekend night: wall-clock hours, so late.
        "k2": make_callback(
            resolved_at=local(2026, 10, 10, 9, 0),
            contact=p["amy"],
            technician=p["t1"],
            answered_at=local(2026, 10, 11, 9, 1),
            satisfied=True,
        ),
        # Resolved on October's last evening and never called back: missed.
        "k3": make_callback(resolved_at=LAST_OF_OCTOBER, contact=p["alice"], technician=p["t2"]),
        "k4": make_callback(
            resolved_at=local(2026, 10, 20, 9, 0),
            contact=p["bob"],
            technician=p["t2"],
            answered_at=local(2026, 10, 20, 15, 0),
            satisfied=False,
        ),
        # Outside October by the resolution: ten minutes into November, a minute before October.
        "november": make_callback(
            resolved_at=FIRST_OF_NOVEMBER,
            contact=p["alice"],
            technician=p["t1"],
            answered_at=local(2026, 11, 1, 9, 0),
            satisfied=True,
        ),
        "september": make_callback(
            resolved_at=local(2026, 9, 30, 23, 59),
            contact=p["bob"],
            technician=p["t2"],
            answered_at=local(2026, 10, 1, 9, 0),
            satisfied=True,
        ),
    }


@time_machine.travel(local(2026, 12, 3, 10, 0), tick=False)
def test_callback_within_24h_counts_the_tickets_resolved_in_the_period(people, resolved_callbacks):
    p, k = people, resolved_callbacks
    kpi = source("surveys.callback_within_24h")
    assert kpi.breakdowns == ("organisation", "department", "technician")
    assert figures(kpi.compute(OCTOBER, OVERALL)) == {0: d(2, 4)}  # k1, k4 of k1–k4
    assert figures(kpi.compute(OCTOBER, "organisation")) == {p["a"].pk: d(1, 3), p["b"].pk: d(1, 1)}
    assert figures(kpi.compute(OCTOBER, "department")) == {
        p["a1"].pk: d(1, 2),
        p["a2"].pk: d(0, 1),
        p["b1"].pk: d(1, 1),
    }
    assert figures(kpi.compute(OCTOBER, "technician")) == {p["t1"].pk: d(1, 2), p["t2"].pk: d(1, 2)}
    assert ids(kpi.records(OCTOBER, OVERALL, 0)) == {k["k1"].pk, k["k2"].pk, k["k3"].pk, k["k4"].pk}
    assert ids(kpi.records(OCTOBER, "technician", p["t2"].pk)) == {k["k3"].pk, k["k4"].pk}


def test_callback_within_24h_leaves_out_a_call_back_whose_24_hours_are_still_running(people, resolved_callbacks):
    kpi = source("surveys.callback_within_24h")
    k3 = resolved_callbacks["k3"]
    # 23 h 40 min after k3's resolution it is neither made nor missed yet.
    with time_machine.travel(local(2026, 11, 1, 23, 10), tick=False):
        assert figures(kpi.compute(OCTOBER, OVERALL)) == {0: d(2, 3)}
        assert k3.pk not in ids(kpi.records(OCTOBER, OVERALL, 0))
    # Once the 24 hours are over it is a miss.
    with time_machine.travel(local(2026, 11, 1, 23, 31), tick=False):
        assert figures(kpi.compute(OCTOBER, OVERALL)) == {0: d(2, 4)}
        assert k3.pk in ids(kpi.records(OCTOBER, OVERALL, 0))


# --- customer service satisfaction -----------------------------------------------------------


@pytest.fixture
def answers(people):
    p = people
    section = SectionFactory()
    q1 = QuestionFactory(section=section, kind=QuestionKind.RATING)
    q2 = QuestionFactory(section=section, kind=QuestionKind.RATING)
    optional = QuestionFactory(section=section, kind=QuestionKind.RATING, required=False)
    nps = QuestionFactory(section=section, kind=QuestionKind.NPS)
    text = QuestionFactory(section=section, kind=QuestionKind.TEXT)
    campaign = CampaignFactory(questionnaire=section.questionnaire, closes_at=local(2026, 11, 30, 18, 0))

    def respond(contact, submitted_at, values):
        invitation = InvitationFactory(campaign=campaign, contact=contact)
        response = ResponseFactory(invitation=invitation, submitted_at=submitted_at)
        return [
            AnswerFactory(response=response, question=question, value=value, text=text_value)
            for question, value, text_value in values
        ]

    r1 = respond(p["alice"], local(2026, 10, 15, 10, 0), [(q1, 5, ""), (q2, 4, ""), (nps, 10, ""), (text, None, "ok")])
    r2 = respond(p["amy"], LAST_OF_OCTOBER, [(q1, 3, ""), (q2, 4, "")])
    # An optional rating left blank is no answer.
    r3 = respond(p["bill"], local(2026, 10, 20, 10, 0), [(q1, 1, ""), (q2, 5, ""), (nps, 9, "")])
    blank = AnswerFactory(response=r3[0].response, question=optional, value=None)
    november = respond(p["bob"], FIRST_OF_NOVEMBER, [(q1, 5, ""), (q2, 5, "")])
    return {"r1": r1, "r2": r2, "r3": r3, "blank": blank, "november": november}


def test_campaign_satisfaction_counts_four_and_five_among_rating_answers(people, answers):
    p, a = people, answers
    kpi = source("surveys.campaign_satisfaction")
    assert kpi.breakdowns == ("organisation", "department")
    # Rating answers in October: 5, 4 | 3, 4 | 1, 5 → satisfied 5, 4, 4, 5 (the 3 is not).
    assert figures(kpi.compute(OCTOBER, OVERALL)) == {0: d(4, 6)}
    assert figures(kpi.compute(OCTOBER, "organisation")) == {p["a"].pk: d(3, 4), p["b"].pk: d(1, 2)}
    # Bill has no department: his answers count overall and for his organisation only.
    assert figures(kpi.compute(OCTOBER, "department")) == {p["a1"].pk: d(2, 2), p["a2"].pk: d(1, 2)}
    # The half-year holds November's response too.
    assert figures(kpi.compute(H2, OVERALL)) == {0: d(6, 8)}

    ratings = [answer.pk for answer in a["r1"][:2] + a["r2"] + a["r3"][:2]]
    assert ids(kpi.records(OCTOBER, OVERALL, 0)) == set(ratings)
    assert ids(kpi.records(OCTOBER, "organisation", p["a"].pk)) == {x.pk for x in a["r1"][:2] + a["r2"]}
    assert ids(kpi.records(OCTOBER, "department", p["a2"].pk)) == {x.pk for x in a["r2"]}


# --- survey response rate ------------------------------------------------------------------


@pytest.fixture
def invitations(people):
    p = people
    closes_last_evening = CampaignFactory(closes_at=LAST_OF_OCTOBER)
    closes_early = CampaignFactory(closes_at=local(2026, 10, 10, 18, 0))
    closes_november = CampaignFactory(closes_at=FIRST_OF_NOVEMBER)

    def invite(campaign, organisation, department, status):
        contact = ContactFactory(organisation=organisation, department=department)
        # Sent in September: the campaign's close date places an invitation, not its mail.
        sent = status != InvitationStatus.PENDING
        return InvitationFactory(
            campaign=campaign,
            contact=contact,
            status=status,
            sent_at=local(2026, 9, 20, 10, 0) if sent else None,
            answered_at=local(2026, 10, 2, 10, 0) if status == InvitationStatus.ANSWERED else None,
            bounced_at=local(2026, 9, 20, 10, 5) if status == InvitationStatus.BOUNCED else None,
        )

    A, S, B, P = (InvitationStatus.ANSWERED, InvitationStatus.SENT, InvitationStatus.BOUNCED, InvitationStatus.PENDING)
    return {
        "a1_answered": invite(closes_last_evening, p["a"], p["a1"], A),
        "a1_sent": invite(closes_last_evening, p["a"], p["a1"], S),
        "a1_bounced": invite(closes_last_evening, p["a"], p["a1"], B),
        "a1_pending": invite(closes_last_evening, p["a"], p["a1"], P),
        "b_answered_1": invite(closes_last_evening, p["b"], None, A),
        "b_answered_2": invite(closes_last_evening, p["b"], None, A),
        "a2_sent": invite(closes_early, p["a"], p["a2"], S),
        "b_bounced": invite(closes_early, p["b"], None, B),
        "november": invite(closes_november, p["a"], p["a1"], A),
    }


def test_response_rate_is_answered_over_delivered_without_bounced_invitations(people, invitations):
    p, i = people, invitations
    kpi = source("surveys.response_rate")
    assert kpi.breakdowns == ("organisation", "department")
    # Delivered in October's campaigns: a1 answered, a1 sent, b answered ×2, a2 sent; answered: 3.
    assert figures(kpi.compute(OCTOBER, OVERALL)) == {0: d(3, 5)}
    assert kpi.value(kpi.compute(OCTOBER, OVERALL)[0]) == Decimal("60.0000")
    assert figures(kpi.compute(OCTOBER, "organisation")) == {p["a"].pk: d(1, 3), p["b"].pk: d(2, 2)}
    assert figures(kpi.compute(OCTOBER, "department")) == {p["a1"].pk: d(1, 2), p["a2"].pk: d(0, 1)}
    assert figures(kpi.compute(H2, OVERALL)) == {0: d(4, 6)}

    delivered = {i[key].pk for key in ("a1_answered", "a1_sent", "b_answered_1", "b_answered_2", "a2_sent")}
    assert ids(kpi.records(OCTOBER, OVERALL, 0)) == delivered
    assert ids(kpi.records(OCTOBER, "organisation", p["b"].pk)) == {i["b_answered_1"].pk, i["b_answered_2"].pk}
    assert ids(kpi.records(OCTOBER, "department", p["a1"].pk)) == {i["a1_answered"].pk, i["a1_sent"].pk}


# --- every source --------------------------------------------------------------------------

SOURCES = {
    "surveys.callback_satisfaction": "surveys_callback",
    "surveys.callback_within_24h": "surveys_callback",
    "surveys.callback_rating_attitude": "surveys_callback",
    "surveys.callback_rating_speed": "surveys_callback",
    "surveys.callback_rating_effect": "surveys_callback",
    "surveys.callback_fixed_rate": "surveys_callback",
    "surveys.campaign_satisfaction": "surveys_answer",
    "surveys.response_rate": "surveys_invitation",
}


@pytest.mark.parametrize("key", SOURCES)
def test_no_records_is_denominator_zero(key):
    kpi = source(key)
    overall = kpi.compute(AUGUST, OVERALL)
    assert figures(overall) == {0: d(0, 0)}
    assert kpi.value(overall[0]) is None
    for kind in kpi.breakdowns:
        assert kpi.compute(AUGUST, kind) == {}
    assert not kpi.records(AUGUST, OVERALL, 0).exists()


# A count's value is the count itself: none is 0, not "no data".
COUNT_SOURCES = {"surveys.callback_complaints": "surveys_callback"}


def test_each_source_names_the_columns_its_records_export_with():
    with translation.override("en"):
        for key in {**SOURCES, **COUNT_SOURCES}:
            labels = [str(label) for label, _accessor in source(key).export_columns()]
            assert len(labels) > 3 and "Record" not in labels, key
        callback = [str(label) for label, _accessor in source("surveys.callback_satisfaction").export_columns()]
    assert {"Ticket", "Technician", "Answered at", "Service attitude", "Satisfied overall", "Fault fixed"} <= set(
        callback
    )


@pytest.mark.parametrize("key", {**SOURCES, **COUNT_SOURCES})
def test_each_compute_is_one_query_whatever_the_number_of_elements(
    key, answered_callbacks, resolved_callbacks, answers, invitations
):
    kpi = source(key)
    table = {**SOURCES, **COUNT_SOURCES}[key]
    # Every answered call-back also a complaint, so the count has elements too.
    CallBack.objects.filter(answered_at__isnull=False).update(complaint_raised=True)
    for kind in (OVERALL, *kpi.breakdowns):
        # No element at all (August) and several (the half-year): the same single query.
        for period, elements in ((AUGUST, 0), (H2, 2)):
            result, captured = compute_once(key, period, kind)
            assert len(result) >= (1 if kind == OVERALL else elements)
            assert_one_aggregate(captured, table, kind)
