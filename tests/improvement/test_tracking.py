"""The service problem and improvement action tracking sheet (服务问题和改进行动跟踪表, issue 13
item 5): one row per problem and action, its columns, the filters, the page's constant query
count, permissions, and the CSV / XLSX export of every row."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from improvement.choices import ActionStatus, Effectiveness, ItemStatus, PlanStatus
from improvement.selectors.tracking import parse_period, tracking_queryset, tracking_rows
from improvement.services.plans import (
    action_add,
    action_cancel,
    action_complete,
    effectiveness_review_record,
    plan_transition,
)
from itsm.core.periods import Cycle
from itsm.core.roles import Role
from itsm.core.testing import NO_ROLE, assert_constant_queries, user_with_role
from tests.complaints.factories import make_complaint, role_user
from tests.improvement.factories import make_item, make_plan

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
URL = "/improvement/tracking/"


def rows_for(user, **filters):
    from improvement.forms.tracking import TrackingFilterSet

    queryset = tracking_queryset(user)
    if filters:
        filterset = TrackingFilterSet(filters, queryset=queryset)
        assert filterset.is_valid(), filterset.errors
        queryset = filterset.qs
    return list(tracking_rows(queryset, user))


def keys(rows) -> set[tuple[str, str]]:
    """(item reference, action title or "") of each row."""
    return {(row.item.reference, row.action_title) for row in rows}


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


@pytest.fixture
def brm():
    return role_user(Role.BR_MANAGER)


@pytest.fixture
def sheet(brm):
    """An item in no plan, two items in one plan of two actions, and an item of a plan without
    actions yet."""
    loose = make_item(ItemStatus.OPEN, title="Loose item")
    plan = make_plan(PlanStatus.DRAFT, actions=2, title="Night rota")
    first = make_item(ItemStatus.PLANNED, plan=plan, title="First planned")
    second = make_item(ItemStatus.PLANNED, plan=plan, title="Second planned")
    empty = make_plan(PlanStatus.DRAFT, actions=0, title="Nothing planned yet")
    bare = make_item(ItemStatus.PLANNED, plan=empty, title="In an empty plan")
    return {"loose": loose, "plan": plan, "first": first, "second": second, "empty": empty, "bare": bare}


# --- the rows ------------------------------------------------------------------------------------


def test_one_row_per_problem_and_action(brm, sheet):
    s = sheet
    assert keys(rows_for(brm)) == {
        (s["loose"].reference, ""),
        (s["first"].reference, "Action 1"),
        (s["first"].reference, "Action 2"),
        (s["second"].reference, "Action 1"),
        (s["second"].reference, "Action 2"),
        (s["bare"].reference, ""),
    }


def test_newest_problem_first_then_its_actions_by_due_date(brm, sheet):
    rows = rows_for(brm)
    assert [row.item.reference for row in rows[:2]] == [sheet["bare"].reference, sheet["second"].reference]
    second = [row for row in rows if row.item == sheet["second"]]
    assert [row.action_title for row in second] == ["Action 1", "Action 2"]
    assert second[0].action_due_on < second[1].action_due_on


def test_the_columns_of_a_row(brm, sheet, make_user):
    slm = make_user(Role.SERVICE_LEVEL_MANAGER, first_name="Li", last_name="Wei")
    action = action_add(
        plan=sheet["plan"], actor=brm, title="Retrain the desk", owner=slm, due_on=timezone.localdate() + timedelta(3)
    )
    rows = {(row.item.pk, row.action_pk): row for row in rows_for(brm)}
    row = rows[(sheet["first"].pk, action.pk)]
    assert row.responsible == "Li Wei" and row.due == action.due_on
    assert row.measure == "Retrain the desk" and row.action_status_label == str(ActionStatus.OPEN.label)
    assert row.plan == sheet["plan"] and row.plan_status_label == str(PlanStatus.DRAFT.label)
    assert row.source.label and row.source.text and row.source.readable
    assert row.confirmed_solved is False and row.overdue is False
    loose = rows[(sheet["loose"].pk, None)]
    assert loose.responsible == str(sheet["loose"].owner) and loose.due == sheet["loose"].target_date
    assert loose.plan is None and loose.measure == ""
    bare = rows[(sheet["bare"].pk, None)]
    assert bare.measure == str(sheet["empty"]) and bare.stage_label


def test_confirmed_solved_needs_the_item_done_and_the_plan_found_effective(brm):
    closed = make_plan(PlanStatus.DRAFT)
    solved = make_item(ItemStatus.PLANNED, plan=closed, title="Solved by the plan")
    _close(closed, brm)
    by_owner = make_item(ItemStatus.DONE, title="Closed by its owner")
    running = make_plan(PlanStatus.DRAFT)
    waiting = make_item(ItemStatus.PLANNED, plan=running, title="Plan still running")
    rows = {row.item.pk: row for row in rows_for(brm)}
    assert rows[solved.pk].confirmed_solved is True
    assert rows[solved.pk].review_result == "effective" and rows[solved.pk].review_round == 1
    assert rows[by_owner.pk].confirmed_solved is True
    assert rows[waiting.pk].confirmed_solved is False


def _start(plan, brm):
    """A draft plan (with its items) through approval to in progress."""
    plan_transition(plan=plan, action="submit", actor=plan.owner)
    plan_transition(plan=plan, action="approve", actor=brm)
    plan_transition(plan=plan, action="start", actor=plan.owner)


def _close(plan, brm):
    _start(plan, brm)
    for action in plan.actions.all():
        action_complete(action=action, actor=action.owner, evidence_note="done")
    plan_transition(
        plan=plan, action="request_review", actor=plan.owner, review_due_on=timezone.localdate() + timedelta(days=1)
    )
    effectiveness_review_record(plan=plan, actor=brm, result=Effectiveness.EFFECTIVE, evidence_note="it worked")


def test_a_cancelled_action_and_a_done_one_stay_on_the_sheet(brm):
    plan = make_plan(PlanStatus.DRAFT, actions=2)
    item = make_item(ItemStatus.PLANNED, plan=plan, title="Worked on")
    _start(plan, brm)
    first, second = plan.actions.order_by("due_on")
    action_complete(action=first, actor=first.owner, evidence_note="done")
    action_cancel(action=second, actor=second.owner, reason="not needed")
    rows = [row for row in rows_for(brm) if row.item.pk == item.pk]
    assert {row.action_status for row in rows} == {ActionStatus.DONE, ActionStatus.CANCELLED}
    done = next(row for row in rows if row.action_status == ActionStatus.DONE)
    assert done.action_done_at is not None and done.action_done_on_time is True


# --- filters -------------------------------------------------------------------------------------


def test_filter_by_source_kind_and_item_status(brm, sheet):
    complaint = make_complaint()
    from_complaint = make_item(ItemStatus.OPEN, source=complaint, source_kind="complaint", title="From a complaint")
    assert keys(rows_for(brm, source_kind="complaint")) == {(from_complaint.reference, "")}
    assert {row.item.status for row in rows_for(brm, status=[ItemStatus.OPEN])} == {ItemStatus.OPEN}
    assert len(rows_for(brm, status=[ItemStatus.PLANNED])) == 5


def test_filter_by_action_status_and_search(brm, sheet):
    first = sheet["plan"].actions.order_by("due_on").first()
    # A draft's action cannot be done; cancelling it shows the filter on the action's column.
    action_cancel(action=first, actor=first.owner, reason="merged")
    cancelled = rows_for(brm, action_status=[ActionStatus.CANCELLED])
    assert keys(cancelled) == {(sheet["first"].reference, "Action 1"), (sheet["second"].reference, "Action 1")}
    assert keys(rows_for(brm, q="Loose")) == {(sheet["loose"].reference, "")}
    assert len(rows_for(brm, q="Action 2")) == 2


def test_filter_by_the_person_responsible(brm, sheet, make_user):
    slm = make_user(Role.SERVICE_LEVEL_MANAGER)
    action_add(plan=sheet["plan"], actor=brm, title="Theirs", owner=slm, due_on=timezone.localdate() + timedelta(5))
    loose = make_item(ItemStatus.OPEN, title="Owned by the SLM", owner=slm)
    assert keys(rows_for(slm, owner=slm.pk)) == {
        (sheet["first"].reference, "Theirs"),
        (sheet["second"].reference, "Theirs"),
        (loose.reference, ""),
    }
    # The BR manager owns the other actions and the items without actions.
    mine = keys(rows_for(brm, owner=brm.pk))
    assert (sheet["first"].reference, "Action 1") in mine and (sheet["loose"].reference, "") in mine
    assert (sheet["first"].reference, "Theirs") not in mine and (loose.reference, "") not in mine


def test_filter_overdue(brm, sheet):
    assert rows_for(brm, overdue="true") == []
    later = timezone.now() + timedelta(days=15)  # past Action 1 (14 days), before Action 2 (15 days: due today)
    with time_machine.travel(later, tick=False):
        overdue = rows_for(brm, overdue="true")
        assert keys(overdue) == {(sheet["first"].reference, "Action 1"), (sheet["second"].reference, "Action 1")}
        assert all(row.overdue for row in overdue)
        others = rows_for(brm, overdue="false")
        assert len(others) == 4 and not any(row.overdue for row in others)
    # Past every close-by date: the items without actions are overdue too.
    with time_machine.travel(timezone.now() + timedelta(days=120), tick=False):
        assert len(rows_for(brm, overdue="true")) == 6


def test_filter_by_period_raised_or_due(brm):
    with time_machine.travel(datetime(2026, 9, 21, 10, 0, tzinfo=SHANGHAI), tick=False):
        loose = make_item(ItemStatus.OPEN, title="Raised in September", target_date=date(2026, 12, 15))
        plan = make_plan(PlanStatus.DRAFT, actions=0)
        for title, due in (("October action", date(2026, 10, 15)), ("November action", date(2026, 11, 16))):
            action_add(plan=plan, actor=brm, title=title, owner=brm, due_on=due)
        planned = make_item(ItemStatus.PLANNED, plan=plan, title="Planned", target_date=date(2026, 12, 31))
    a, b = loose.reference, planned.reference
    # Raised in September: every row of both items.
    assert keys(rows_for(brm, period="2026-09")) == {(a, ""), (b, "October action"), (b, "November action")}
    # Due: an action row by its due date, an item without an action by its close-by date.
    assert keys(rows_for(brm, period="2026-10")) == {(b, "October action")}
    assert keys(rows_for(brm, period="2026-11")) == {(b, "November action")}
    assert keys(rows_for(brm, period="2026-12")) == {(a, "")}
    assert keys(rows_for(brm, period="2026-Q4")) == {(a, ""), (b, "October action"), (b, "November action")}
    assert len(rows_for(brm, period="2026-H2")) == 3
    assert rows_for(brm, period="2027-H1") == []


def test_raised_in_a_period_is_by_local_day(brm):
    # 00:30 on 1 November in Shanghai is still 31 October in UTC.
    with time_machine.travel(datetime(2026, 11, 1, 0, 30, tzinfo=SHANGHAI), tick=False):
        item = make_item(ItemStatus.OPEN, title="Just after midnight", target_date=date(2026, 12, 15))
    assert keys(rows_for(brm, period="2026-11")) == {(item.reference, "")}
    assert rows_for(brm, period="2026-10") == []


def test_a_period_label_names_a_month_quarter_or_half_year():
    assert parse_period("2026-10").cycle == Cycle.MONTHLY
    assert parse_period("2026-q4") == parse_period("2026-Q4")
    assert parse_period("2026-Q4").start == date(2026, 10, 1)
    assert parse_period("2026-H1").end == date(2026, 6, 30)
    for bad in ("2026", "2026-13", "2026-Q5", "soon"):
        with pytest.raises(ValidationError):
            parse_period(bad)


# --- the page ------------------------------------------------------------------------------------


def test_the_page_shows_every_column(client, make_user, sheet):
    reader = make_user(Role.BR_MANAGER, preferred_language="en")
    client.force_login(reader)
    response = client.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('data-testid="tracking-row"') == 6
    for heading in (
        "Problem",
        "Source",
        "Improvement measure",
        "Responsible",
        "Schedule and progress",
        "Corrective action status",
        "Confirmed solved",
    ):
        assert f'<th scope="col">{heading}</th>' in page, heading
    assert sheet["first"].reference in page and sheet["plan"].reference in page
    assert f'href="{sheet["plan"].get_absolute_url()}"' in page
    assert f'href="{sheet["first"].get_absolute_url()}"' in page
    assert "Not in a plan" in page and "No action yet" in page
    assert 'data-testid="export-csv"' in page and "export.xlsx" in page


def test_the_export_links_keep_the_filters(client, brm, sheet):
    client.force_login(brm)
    page = client.get(URL, {"q": "Loose", "page": "1"}).content.decode()
    assert f'{reverse("improvement_tracking_export", args=["csv"])}?q=Loose"' in page
    assert page.count('data-testid="tracking-row"') == 1


def test_bad_filters_answer_400_with_the_message_and_no_rows(client, brm, sheet):
    client.force_login(brm)
    response = client.get(URL, {"period": "next week"})
    assert response.status_code == 400
    assert 'data-testid="tracking-row"' not in response.content.decode()
    assert response.context["filterset"].errors["period"]
    response = client.get(URL, {"owner": "999999"})
    assert response.status_code == 400


def test_the_page_runs_a_constant_number_of_queries(client, brm):
    """1 row against many (items without actions and plans of two actions): the count does not grow."""
    client.force_login(brm)

    def make_rows(n: int) -> None:
        for index in range(n):
            if index % 2:
                plan = make_plan(PlanStatus.DRAFT, actions=2, title=f"Plan {index}")
                make_item(ItemStatus.PLANNED, plan=plan, title=f"Planned {index}")
            else:
                make_item(ItemStatus.OPEN, title=f"Open {index}")

    count = assert_constant_queries(client, URL, make_rows, few=1, many=9)
    print(f"tracking sheet: {count} queries")  # the note reports it
    assert count <= 15, count


def test_a_filtered_page_runs_a_constant_number_of_queries(client, brm):
    client.force_login(brm)
    url = f"{URL}?owner={brm.pk}&overdue=false&period={timezone.localdate():%Y-%m}&status=open&status=planned"

    def make_rows(n: int) -> None:
        for index in range(n):
            plan = make_plan(PlanStatus.DRAFT, actions=2, title=f"Plan {index}")
            make_item(ItemStatus.PLANNED, plan=plan, title=f"Planned {index}")
            make_item(ItemStatus.OPEN, title=f"Open {index}")

    assert_constant_queries(client, url, make_rows, few=1, many=6)


def test_sources_are_read_once_per_kind_not_per_row(brm):
    for index in range(5):
        make_item(ItemStatus.OPEN, title=f"Item {index}")
    items = list(tracking_queryset(brm))
    with CaptureQueriesContext(connection) as captured:
        rows = list(tracking_rows(items, brm))
    assert len(rows) == 5 and all(row.source.text for row in rows)
    assert len(captured) == 1, [q["sql"] for q in captured]  # the five measurements, at once


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.AUDITOR, 200),
        (Role.SERVICE_DESK, 200),
        (Role.DEPARTMENT_HEAD, 200),
        (NO_ROLE, 403),
    ],
)
def test_who_may_open_the_sheet_and_its_export(client, role, status):
    client.force_login(user_with_role(role))
    assert client.get(URL).status_code == status
    assert client.get(reverse("improvement_tracking_export", args=["csv"])).status_code == status


def test_signed_out_goes_to_the_login_page(client):
    for url in (URL, reverse("improvement_tracking_export", args=["csv"])):
        response = client.get(url)
        assert response.status_code == 302 and reverse("login") in response["Location"]


# --- the export ----------------------------------------------------------------------------------


def test_the_csv_holds_every_row_the_filters_select(client, brm, sheet):
    client.force_login(brm)
    response = client.get(reverse("improvement_tracking_export", args=["csv"]))
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Disposition"].startswith('attachment; filename="improvement-tracking-')
    rows = csv_rows(response)
    header, body = rows[0], rows[1:]
    assert len(header) == 26 and len(body) == 6
    references = [line[0] for line in body]
    assert references.count(sheet["first"].reference) == 2 and sheet["loose"].reference in references
    filtered = csv_rows(client.get(reverse("improvement_tracking_export", args=["csv"]), {"q": "Loose"}))
    assert len(filtered) == 2 and filtered[1][0] == sheet["loose"].reference


def test_the_csv_in_english_names_its_columns(client, make_user, sheet):
    client.force_login(make_user(Role.BR_MANAGER, preferred_language="en"))
    header = csv_rows(client.get(reverse("improvement_tracking_export", args=["csv"])))[0]
    assert header[:2] == ["Improvement item", "Problem"]
    assert {"Source", "Improvement measure", "Responsible", "Corrective action status", "Confirmed solved"} <= set(
        header
    )


def test_the_xlsx_opens_with_every_row(client, brm, sheet):
    client.force_login(brm)
    response = client.get(reverse("improvement_tracking_export", args=["xlsx"]))
    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    sheet_rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    assert len(sheet_rows) == 7
    due_column = 16
    assert any(isinstance(line[due_column], datetime) for line in sheet_rows[1:])  # dates stay dates


def test_the_export_is_not_capped_and_resolves_sources_a_chunk_at_a_time(brm):
    for index in range(7):
        make_item(ItemStatus.OPEN, title=f"Item {index}")
    queryset = tracking_queryset(brm)  # reads the user's permissions
    with CaptureQueriesContext(connection) as captured:
        rows = list(tracking_rows(queryset.iterator(chunk_size=3), brm, chunk_size=3))
    assert len(rows) == 7 and len({row.item.pk for row in rows}) == 7
    # The rows once, and the measurements once per chunk of 3 (3 chunks), never once per row.
    assert len(captured) == 1 + 3, [q["sql"] for q in captured]


def test_the_export_refuses_bad_filters_and_unknown_formats(client, brm):
    client.force_login(brm)
    response = client.get(reverse("improvement_tracking_export", args=["csv"]), {"period": "soon"})
    assert response.status_code == 400 and b"period" in response.content
    assert client.get(reverse("improvement_tracking_export", args=["pdf"])).status_code == 404


def test_the_sheet_is_read_only(client, brm, sheet):
    client.force_login(brm)
    assert client.post(URL).status_code == 405
    assert client.post(reverse("improvement_tracking_export", args=["csv"])).status_code == 405
