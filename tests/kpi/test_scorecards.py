"""Scorecards: per technician, department and customer organisation, computed live from the
registry for a chosen period, against hand-computed figures; constant queries whatever the
number of technicians; sort; export; the drill-down; permissions; a bad period.

October 2026 (Asia/Shanghai), answered call-backs:

=====  ==========  =====  ==================  =========  =====  =========
cb     technician  who    attitude/speed/eff  satisfied  fixed  complained
=====  ==========  =====  ==================  =========  =====  =========
cb1    t1          alice  5 / 4 / 5           yes        yes    no
cb2    t1          bob    3 / 2 / 4           no         no     yes
cb3    t2          alice  4 / 4 / 4           yes        yes    no
=====  ==========  =====  ==================  =========  =====  =========

(cb4, t2's, answered on 2 November, is November's.) Complaints received in October: one of
alice's handled by t3 (who has no call-back), one of bob's handled by t1. Alice is organisation
A, department A1; bob is B, B1. The incident handling satisfaction KPI (≥ 95 %, amber within
3) gives the satisfaction figure its status.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import count
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from complaints.models import Complaint
from itsm.core.periods import Cycle, period_of
from itsm.core.roles import Role
from kpi.scorecards import figure_text, parse_period, scorecard
from surveys.models import CallBack, Ticket
from tests.complaints.factories import make_complaint
from tests.factories import ContactFactory, DepartmentFactory, OrganisationFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
OCTOBER = period_of(Cycle.MONTHLY, date(2026, 10, 1))
URL = "/kpis/scorecards/technicians/?cycle=monthly&period=2026-10"
_numbers = count(1)


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def callback(technician, contact, answered_at, ratings, *, satisfied=True, fixed=True, complained=False):
    n = next(_numbers)
    ticket = Ticket.objects.create(
        external_id=f"sc-{n}",
        ticket_ref=f"INC-SC-{n:04d}",
        organisation=contact.organisation,
        requester=contact,
        requester_name=contact.name,
        technician=technician,
        technician_name=str(technician),
        resolved_at=answered_at - timedelta(hours=3),
        summary="VPN down",
    )
    return CallBack.objects.create(
        ticket=ticket,
        due_at=ticket.resolved_at + timedelta(hours=24),
        answered_at=answered_at,
        satisfied=satisfied,
        fixed=fixed,
        complaint_raised=complained,
        rating_attitude=ratings[0],
        rating_speed=ratings[1],
        rating_effect=ratings[2],
    )


def complaint(contact, handler, received_at) -> Complaint:
    with time_machine.travel(received_at, tick=False):
        made = make_complaint(contact=contact, received_at=received_at)
    Complaint.objects.filter(pk=made.pk).update(handler=handler)
    return made


@pytest.fixture
def data(make_user):
    a, b = OrganisationFactory(name="A Corp"), OrganisationFactory(name="B Corp")
    a1, b1 = DepartmentFactory(organisation=a, name="Finance"), DepartmentFactory(organisation=b, name="Sales")
    alice = ContactFactory(organisation=a, department=a1)
    bob = ContactFactory(organisation=b, department=b1)
    t1 = make_user(first_name="Tom", last_name="One")
    t2 = make_user(first_name="Tina", last_name="Two")
    t3 = make_user(first_name="Ted", last_name="Three")
    cbs = {
        "cb1": callback(t1, alice, local(2026, 10, 5, 10, 0), (5, 4, 5)),
        "cb2": callback(t1, bob, local(2026, 10, 10, 10, 0), (3, 2, 4), satisfied=False, fixed=False, complained=True),
        "cb3": callback(t2, alice, local(2026, 10, 20, 10, 0), (4, 4, 4)),
        "cb4": callback(t2, bob, local(2026, 11, 2, 10, 0), (1, 1, 1), satisfied=False),
    }
    complaints = {
        "alice": complaint(alice, t3, local(2026, 10, 12, 10, 0)),
        "bob": complaint(bob, t1, local(2026, 10, 15, 10, 0)),
    }
    return {"a": a, "b": b, "a1": a1, "b1": b1, "t1": t1, "t2": t2, "t3": t3, **cbs, "complaints": complaints}


def texts(row) -> dict[str, str]:
    return {cell.figure.key: cell.text for cell in row.cells}


def test_the_technicians_scorecard_against_hand_computed_figures(data):
    card = scorecard("technician", OCTOBER)
    rows = {row.element_id: row for row in card.rows}
    # t3 has no call-back but handled a complaint: a row, with no data for the ratings.
    assert set(rows) == {data["t1"].pk, data["t2"].pk, data["t3"].pk}
    assert texts(rows[data["t1"].pk]) == {
        "callbacks": "2",
        "attitude": "4.0 / 5",
        "speed": "3.0 / 5",
        "effect": "4.5 / 5",
        "satisfied": "50.0 %",
        "fixed": "50.0 %",
        "callback_complaints": "1",
        "complaints": "1",
    }
    assert texts(rows[data["t2"].pk]) == {
        "callbacks": "1",
        "attitude": "4.0 / 5",
        "speed": "4.0 / 5",
        "effect": "4.0 / 5",
        "satisfied": "100.0 %",
        "fixed": "100.0 %",
        "callback_complaints": "0",
        "complaints": "0",
    }
    assert texts(rows[data["t3"].pk]) == {
        "callbacks": "0",
        "attitude": "—",
        "speed": "—",
        "effect": "—",
        "satisfied": "—",
        "fixed": "—",
        "callback_complaints": "0",
        "complaints": "1",
    }
    assert rows[data["t1"].pk].cell("effect").value == Decimal("4.5000")
    # The satisfaction figure carries the incident handling satisfaction KPI's status.
    satisfied = {pk: row.cell("satisfied") for pk, row in rows.items()}
    assert {pk: cell.status for pk, cell in satisfied.items()} == {
        data["t1"].pk: "red",
        data["t2"].pk: "green",
        data["t3"].pk: "no_data",
    }
    assert satisfied[data["t1"].pk].target == Decimal("95")
    assert card.kpis["satisfied"].code == "incident_satisfaction"
    # No KPI with a target measures the ratings or the counts.
    assert rows[data["t1"].pk].cell("attitude").status is None
    assert rows[data["t1"].pk].cell("complaints").status is None
    assert rows[data["t1"].pk].label == "Tom One"


def test_the_organisations_and_departments_scorecards(data):
    card = scorecard("organisation", OCTOBER)
    rows = {row.element_id: texts(row) for row in card.rows}
    assert set(rows) == {data["a"].pk, data["b"].pk}
    a, b = rows[data["a"].pk], rows[data["b"].pk]
    assert (a["callbacks"], a["attitude"], a["speed"], a["effect"], a["satisfied"], a["fixed"]) == (
        "2",
        "4.5 / 5",
        "4.0 / 5",
        "4.5 / 5",
        "100.0 %",
        "100.0 %",
    )
    assert (a["callback_complaints"], a["complaints"], a["result_satisfaction"], a["sla"]) == ("0", "1", "—", "—")
    assert (b["callbacks"], b["attitude"], b["speed"], b["satisfied"], b["callback_complaints"], b["complaints"]) == (
        "1",
        "3.0 / 5",
        "2.0 / 5",
        "0.0 %",
        "1",
        "1",
    )
    departments = scorecard("department", OCTOBER)
    assert {row.element_id: row.label for row in departments.rows} == {
        data["a1"].pk: "A Corp · Finance",
        data["b1"].pk: "B Corp · Sales",
    }
    assert texts(departments.rows[0])["attitude"] == "4.5 / 5"
    # A longer period holds November's call-back too.
    quarter = scorecard("technician", period_of(Cycle.QUARTERLY, date(2026, 10, 1)))
    t2 = next(row for row in quarter.rows if row.element_id == data["t2"].pk)
    assert texts(t2)["callbacks"] == "2" and texts(t2)["attitude"] == "2.5 / 5"


def test_the_page_shows_the_figures_with_their_status_in_words_and_links_to_the_records(client_as, data):
    client = client_as(Role.BR_MANAGER.value)
    client.cookies["django_language"] = "en"
    page = client.get(URL).content.decode()
    row = page[page.index(f'data-element="technician-{data["t1"].pk}"') :]
    row = row[: row.index("</tr>")]
    assert "Tom One" in row and "4.5 / 5" in row and "50.0 %" in row
    assert 'data-status="red"' in row and "✗" in row and "off target" in row and "≥ 95.0 %" in row
    assert (
        f"/kpis/scorecards/records/?source=surveys.callback_rating_attitude&amp;cycle=monthly&amp;period=2026-10"
        f"&amp;kind=technician&amp;id={data['t1'].pk}"
    ) in row
    # t3's empty figures link nowhere.
    t3 = page[page.index(f'data-element="technician-{data["t3"].pk}"') :]
    t3 = t3[: t3.index("</tr>")]
    assert "source=surveys.callback_rating_attitude" not in t3 and "source=complaints.count" in t3
    assert 'data-testid="scorecard-period">2026-10<' in page


def test_the_default_period_is_the_last_finished_month(client_as, data):
    client = client_as(Role.BR_MANAGER.value)
    with time_machine.travel(local(2026, 11, 3, 10, 0), tick=False):
        page = client.get("/kpis/scorecards/technicians/").content.decode()
    assert 'data-testid="scorecard-period">2026-10<' in page and f"technician-{data['t1'].pk}" in page
    assert parse_period("half_yearly", "", date(2026, 11, 3)).label == "2026-H1"
    assert parse_period("yearly", "2026", date(2026, 11, 3)).label == "2026"


def test_the_index_leads_to_the_technicians_scorecard(client_as):
    response = client_as(Role.AUDITOR.value).get("/kpis/scorecards/?period=2026-10")
    assert response.status_code == 302 and response["Location"] == "/kpis/scorecards/technicians/?period=2026-10"


def _more_technicians(make_user, data, how_many: int) -> None:
    alice = Ticket.objects.get(pk=data["cb1"].ticket_id).requester
    for n in range(how_many):
        technician = make_user(first_name="Extra", last_name=str(n))
        callback(technician, alice, local(2026, 10, 21, 9, n), (4, 4, 4))
        complaint(alice, technician, local(2026, 10, 22, 10, n))


@pytest.mark.parametrize("kinds", ["technicians", "departments", "organisations"])
def test_the_page_runs_the_same_queries_for_2_and_for_5_technicians(client_as, data, make_user, kinds):
    # Only t1 and t2 have call-backs at first (t3 a complaint only).
    client = client_as(Role.BR_MANAGER.value)
    url = f"/kpis/scorecards/{kinds}/?cycle=monthly&period=2026-10"
    client.get(url)  # warm the session and the caches
    with CaptureQueriesContext(connection) as first:
        assert client.get(url).status_code == 200
    _more_technicians(make_user, data, 3)
    OrganisationFactory()  # an organisation with nothing in October: no row, no query
    with CaptureQueriesContext(connection) as second:
        page = client.get(url).content.decode()
    assert len(second.captured_queries) == len(first.captured_queries), [q["sql"] for q in second.captured_queries]
    if kinds == "technicians":
        assert page.count('data-element="technician-') == 6


def test_sorting_by_any_column_puts_no_data_last_either_way(client_as, data):
    t1, t2, t3 = data["t1"].pk, data["t2"].pk, data["t3"].pk
    assert [row.element_id for row in scorecard("technician", OCTOBER, sort="speed").rows] == [t1, t2, t3]
    assert [row.element_id for row in scorecard("technician", OCTOBER, sort="-speed").rows] == [t2, t1, t3]
    assert [row.element_id for row in scorecard("technician", OCTOBER, sort="-complaints").rows][2] == t2
    by_name = scorecard("technician", OCTOBER, sort="name")
    assert [row.label for row in by_name.rows] == ["Ted Three", "Tina Two", "Tom One"]
    assert scorecard("technician", OCTOBER, sort="nonsense").sort == "name"  # an unknown column: by name

    client = client_as(Role.BR_MANAGER.value)
    page = client.get(f"{URL}&sort=-speed").content.decode()
    assert page.index(f"technician-{t2}") < page.index(f"technician-{t1}") < page.index(f"technician-{t3}")
    # The header offers the reverse order of the sorted column.
    assert "sort=speed" in page and "▼" in page


def test_the_export_holds_the_scorecard_as_shown(client_as, data):
    client = client_as(Role.BR_MANAGER.value)
    client.cookies["django_language"] = "en"
    response = client.get(f"{URL}&sort=-speed&format=csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "scorecard-technicians-2026-10-" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    header = rows[0]
    assert header[:3] == ["Technician", "Call-backs", "Service attitude"]
    assert "Satisfied: status" in header
    body = [dict(zip(header, row, strict=True)) for row in rows[1:]]
    assert [row["Technician"] for row in body] == ["Tina Two", "Tom One", "Ted Three"]
    tom = body[1]
    assert (tom["Call-backs"], tom["Service attitude"], tom["Service speed"], tom["Service effect"]) == (
        "2",
        "4.00",
        "3.00",
        "4.50",
    )
    assert (tom["Satisfied"], tom["Faults fixed"], tom["Satisfied: status"], tom["Complaints handled"]) == (
        "50.0",
        "50.0",
        "off target",
        "1",
    )
    assert body[2]["Service attitude"] == "" and body[2]["Satisfied: status"] == "no data"
    xlsx = client.get(f"{URL}&format=xlsx")
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    assert client.get(f"{URL}&format=pdf").status_code == 404


def test_a_bad_period_is_a_400_that_says_how_to_write_one(client_as, data):
    client = client_as(Role.BR_MANAGER.value)
    client.cookies["django_language"] = "en"
    response = client.get("/kpis/scorecards/technicians/?cycle=monthly&period=2026-13")
    assert response.status_code == 400
    page = response.content.decode()
    assert "“2026-13” is not a monthly period: write it as 2026-10." in page
    assert 'data-testid="scorecard"' not in page
    response = client.get("/kpis/scorecards/organisations/?cycle=quarterly&period=2026-H2")
    assert response.status_code == 400 and "write it as 2026-Q3" in response.content.decode()
    response = client.get("/kpis/scorecards/technicians/?cycle=weekly&period=2026-W40")
    assert response.status_code == 400 and "is not a cycle" in response.content.decode()
    assert client.get("/kpis/scorecards/services/").status_code == 404


def test_the_records_behind_a_figure_are_listed_and_exported(client_as, data, django_assert_max_num_queries):
    client = client_as(Role.SERVICE_DESK.value)
    client.cookies["django_language"] = "en"
    base = "/kpis/scorecards/records/?source=surveys.callback_rating_attitude&cycle=monthly&period=2026-10"
    url = f"{base}&kind=technician&id={data['t1'].pk}"
    client.get(url)
    with CaptureQueriesContext(connection) as first:
        page = client.get(url).content.decode()
    assert f'data-record="{data["cb1"].pk}"' in page and f'data-record="{data["cb2"].pk}"' in page
    assert f'data-record="{data["cb3"].pk}"' not in page
    assert "INC-SC-" in page and "Tom One" in page and "2 records" in page
    # More records: the same queries (one page of rows joined to what the columns read).
    _more_technicians(lambda **f: data["t1"], data, 4)
    with CaptureQueriesContext(connection) as second:
        page = client.get(url).content.decode()
    assert len(second.captured_queries) == len(first.captured_queries)
    assert "6 records" in page

    response = client.get(f"{url}&format=csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:2] == ["Ticket", "Organisation"] and len(rows) == 7
    overall = client.get(f"{base}&kind=overall").content.decode()
    assert f'data-record="{data["cb3"].pk}"' in overall


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("source=nope&period=2026-10", "is not one"),
        ("source=surveys.callback_rating_attitude&period=2026-10&kind=service&id=1", "is not a breakdown"),
        ("source=surveys.callback_rating_attitude&period=2026-10&kind=technician&id=x", "is not an element id"),
        ("source=surveys.callback_rating_attitude&period=2026-10&kind=technician", "an element id is missing"),
        ("source=surveys.callback_rating_attitude&period=10-2026&kind=technician&id=1", "is not a monthly period"),
    ],
)
def test_a_bad_drill_down_is_a_400_with_a_message(client_as, query, message):
    client = client_as(Role.AUDITOR.value)
    client.cookies["django_language"] = "en"
    response = client.get(f"/kpis/scorecards/records/?{query}")
    assert response.status_code == 400 and message in response.content.decode()


def test_who_may_see_the_scorecards(client_as, data):
    urls = [
        URL,
        "/kpis/scorecards/organisations/?period=2026-10",
        "/kpis/scorecards/departments/?period=2026-10",
        f"/kpis/scorecards/records/?source=surveys.callback_satisfaction&period=2026-10&kind=technician&id={data['t1'].pk}",
        f"{URL}&format=csv",
        "/kpis/scorecards/",
    ]
    nobody = client_as(None)
    for url in urls:
        assert nobody.get(url).status_code == 403, url
    for role in (Role.SERVICE_DESK, Role.AUDITOR, Role.PROCESS_OWNER, Role.DEPARTMENT_HEAD):
        client = client_as(role.value)
        for url in (*urls[:3], urls[4]):
            assert client.get(url).status_code == 200, (role, url)
        # The call-backs behind a figure: for the roles that read call-backs.
        expected = 403 if role == Role.DEPARTMENT_HEAD else 200
        assert client.get(urls[3]).status_code == expected, role
    head = client.get(URL).content.decode()
    assert "/kpis/scorecards/records/?source=surveys.callback" not in head
    assert "/kpis/scorecards/records/?source=complaints.count" in head


def test_the_service_desk_reads_the_figures_but_not_the_survey_answers_behind_them(client_as, data):
    # The role reads KPIs, call-backs and complaints, not survey answers or SLA measurements.
    client = client_as(Role.SERVICE_DESK.value)
    page = client.get("/kpis/scorecards/organisations/?period=2026-10").content.decode()
    assert "source=surveys.callback_rating_attitude" in page
    answers = (
        "/kpis/scorecards/records/?source=surveys.campaign_satisfaction&period=2026-10"
        f"&kind=organisation&id={data['a'].pk}"
    )
    assert client.get(answers).status_code == 403
    assert client_as(Role.SATISFACTION_OWNER.value).get(answers).status_code == 200


def test_the_nav_offers_the_scorecards_to_a_kpi_reader(client_as):
    page = client_as(Role.SERVICE_DESK.value).get("/kpis/").content.decode()
    assert 'data-nav="kpi_scorecards"' in page


def test_figure_text():
    assert figure_text(Decimal("4.25"), "rating") == "4.3 / 5"  # half up, as a reader rounds
    assert figure_text(Decimal("3.3333"), "rating") == "3.3 / 5"
    assert figure_text(Decimal("94.95"), "percent") == "95.0 %"
    assert figure_text(None, "percent") == "—"
    assert figure_text(Decimal("12"), "count") == "12"
