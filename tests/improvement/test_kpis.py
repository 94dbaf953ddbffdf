"""The improvement module's KPI sources (issue 13 item 7) against hand-worked data: "SIP actions
on time %" and "improvement items closed within target", their records, breakdowns, the local
day of a late-evening completion, and the seeded definitions closing a period."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils.translation import gettext as _

from improvement.choices import ItemStatus
from improvement.services.items import item_transition
from improvement.services.plans import action_add, action_cancel, action_complete, plan_create, plan_transition
from itsm.core.exports import row_values
from itsm.core.periods import Cycle, period_of
from itsm.core.roles import Role
from kpi.models import KpiDefinition, KpiValue, KpiValueRecord
from kpi.registry import OVERALL, source
from kpi.services.values import kpi_close, kpi_compute
from tests.complaints.factories import role_user
from tests.factories import DepartmentFactory, OrganisationFactory
from tests.improvement.factories import make_item

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
OCTOBER = period_of(Cycle.MONTHLY, date(2026, 10, 1))
NOVEMBER = period_of(Cycle.MONTHLY, date(2026, 11, 1))
Q4 = period_of(Cycle.QUARTERLY, date(2026, 10, 1))


def at(month: int, day: int, hour: int = 10, minute: int = 0):
    return time_machine.travel(datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI), tick=False)


def figures(result) -> dict[int, tuple[Decimal, Decimal]]:
    return {key: (f.numerator, f.denominator) for key, f in result.items()}


def d(numerator: int, denominator: int) -> tuple[Decimal, Decimal]:
    return Decimal(numerator), Decimal(denominator)


def ids(queryset) -> set[int]:
    return set(queryset.values_list("pk", flat=True))


def running_plan(brm, title: str, actions: dict[str, date], **scope):
    """A plan in progress (made on 28 September) with ``actions`` (title → due date)."""
    with at(9, 28):
        plan = plan_create(actor=brm, title=title, goal="Better", target_measure="fewer calls", **scope)
        made = {
            name: action_add(plan=plan, actor=brm, title=name, owner=brm, due_on=due) for name, due in actions.items()
        }
        plan_transition(plan=plan, action="submit", actor=brm)
        plan_transition(plan=plan, action="approve", actor=brm)
        plan_transition(plan=plan, action="start", actor=brm)
    return plan, made


@pytest.fixture
def brm():
    return role_user(Role.BR_MANAGER)


@pytest.fixture
def actions(brm):
    x, y = OrganisationFactory(), OrganisationFactory()
    team = DepartmentFactory()
    _px, a = running_plan(
        brm,
        "X",
        {
            "on time": date(2026, 10, 12),
            "late by the local day": date(2026, 10, 12),
            "late": date(2026, 10, 14),
            "open overdue": date(2026, 10, 20),
            "cancelled": date(2026, 10, 22),
            "next month": date(2026, 11, 3),
        },
        organisations=[x],
        departments=[team],
    )
    _py, b = running_plan(
        brm,
        "Y",
        {"y on time": date(2026, 10, 15), "y not yet due": date(2026, 10, 30)},
        organisations=[x, y],
    )
    a.update(b)
    with at(10, 12, 23, 30):  # 15:30 UTC: still the 12th in Shanghai
        action_complete(action=a["on time"], actor=brm, evidence_note="done")
    with at(10, 13, 0, 30):  # 16:30 UTC on the 12th: already the 13th in Shanghai
        action_complete(action=a["late by the local day"], actor=brm, evidence_note="done")
    with at(10, 16):
        action_complete(action=a["late"], actor=brm, evidence_note="done")
    with at(10, 15, 9):
        action_complete(action=a["y on time"], actor=brm, evidence_note="done")
    with at(10, 21):
        action_cancel(action=a["cancelled"], actor=brm, reason="merged")
    return {"x": x, "y": y, "team": team, **a}


# --- SIP actions on time ------------------------------------------------------------------------


def test_actions_on_time_while_the_period_runs_leaves_out_what_is_not_due_yet(actions):
    kpi = source("improvement.actions_on_time")
    with at(10, 25):
        # on time, y on time | late by the local day, late, open overdue; not: cancelled,
        # next month, y not yet due (open, due the 30th).
        assert figures(kpi.compute(OCTOBER, OVERALL)) == {0: d(2, 5)}
        assert kpi.value(kpi.compute(OCTOBER, OVERALL)[0]) == Decimal("40.0000")


def test_actions_on_time_once_the_period_is_over(actions):
    a = actions
    kpi = source("improvement.actions_on_time")
    with at(11, 5):
        assert figures(kpi.compute(OCTOBER, OVERALL)) == {0: d(2, 6)}
        # Each organisation of the plan counts the action: x has both plans, y only plan Y.
        assert figures(kpi.compute(OCTOBER, "organisation")) == {a["x"].pk: d(2, 6), a["y"].pk: d(1, 2)}
        assert figures(kpi.compute(OCTOBER, "department")) == {a["team"].pk: d(1, 4)}
        # November: the action due on the 3rd, still open and past due.
        assert figures(kpi.compute(NOVEMBER, OVERALL)) == {0: d(0, 1)}
        assert figures(kpi.compute(Q4, OVERALL)) == {0: d(2, 7)}


def test_the_records_behind_the_actions_figure(actions):
    a = actions
    kpi = source("improvement.actions_on_time")
    with at(11, 5):
        behind = {a[name].pk for name in ("on time", "late by the local day", "late", "open overdue")}
        behind |= {a["y on time"].pk, a["y not yet due"].pk}
        assert ids(kpi.records(OCTOBER, OVERALL, 0)) == behind
        assert ids(kpi.records(OCTOBER, "organisation", a["y"].pk)) == {a["y on time"].pk, a["y not yet due"].pk}
        assert a["cancelled"].pk not in ids(kpi.records(OCTOBER, OVERALL, 0))
        columns = kpi.export_columns()
        rows = {action.title: row_values(action, columns) for action in kpi.records(OCTOBER, OVERALL, 0)}
    labels = [str(label) for label, _accessor in columns]
    on_time = labels.index(str(_("Done on time")))
    assert rows["on time"][labels.index(str(_("Improvement action")))] == "on time"
    assert rows["on time"][on_time] == str(_("Yes")) and rows["late by the local day"][on_time] == str(_("No"))
    assert rows["open overdue"][on_time] == str(_("No"))


def test_no_actions_due_is_no_data():
    kpi = source("improvement.actions_on_time")
    assert figures(kpi.compute(OCTOBER, OVERALL)) == {0: d(0, 0)}
    assert kpi.value(kpi.compute(OCTOBER, OVERALL)[0]) is None
    assert kpi.compute(OCTOBER, "organisation") == {}


@pytest.mark.parametrize("kind", [OVERALL, "organisation", "department"])
def test_each_compute_is_one_grouped_query(actions, kind, django_assert_max_num_queries):
    kpi = source("improvement.actions_on_time")
    with at(11, 5), django_assert_max_num_queries(2) as captured:  # the figures, and the calendar's zone
        kpi.compute(OCTOBER, kind)
    sql = captured.captured_queries[-1]["sql"]
    assert ("GROUP BY" in sql) is (kind != OVERALL)


# --- improvement items closed within target ------------------------------------------------------


@pytest.fixture
def items(brm):
    with at(9, 28):
        made = {
            name: make_item(ItemStatus.OPEN, title=name, target_date=target)
            for name, target in (
                ("in target", date(2026, 10, 20)),
                ("on the day, late evening", date(2026, 10, 20)),
                ("a day late by the local day", date(2026, 10, 20)),
                ("open overdue", date(2026, 10, 22)),
                ("not yet due", date(2026, 10, 30)),
                ("next month", date(2026, 11, 10)),
            )
        }
        made["dismissed"] = make_item(ItemStatus.DISMISSED, title="dismissed", target_date=date(2026, 10, 21))
        made["no target"] = make_item(ItemStatus.SUGGESTED, title="no target yet")
    with at(10, 19):
        item_transition(item=made["in target"], action="complete", actor=brm, resolution="fixed")
    with at(10, 20, 23, 30):
        item_transition(item=made["on the day, late evening"], action="complete", actor=brm, resolution="fixed")
    with at(10, 21, 0, 30):  # still the 20th in UTC
        item_transition(item=made["a day late by the local day"], action="complete", actor=brm, resolution="fixed")
    return made


def test_items_closed_within_target(items):
    kpi = source("improvement.items_closed_in_target")
    assert kpi.breakdowns == ()
    with at(10, 25):
        # in target, on the day | a day late, open overdue; not yet: not yet due; never: dismissed.
        assert figures(kpi.compute(OCTOBER, OVERALL)) == {0: d(2, 4)}
    with at(11, 5):
        assert figures(kpi.compute(OCTOBER, OVERALL)) == {0: d(2, 5)}
        assert kpi.value(kpi.compute(OCTOBER, OVERALL)[0]) == Decimal("40.0000")
        assert figures(kpi.compute(NOVEMBER, OVERALL)) == {0: d(0, 0)}  # the 10th is not past yet


def test_the_records_behind_the_items_figure(items):
    kpi = source("improvement.items_closed_in_target")
    with at(11, 5):
        names = ("in target", "on the day, late evening", "a day late by the local day", "open overdue", "not yet due")
        assert ids(kpi.records(OCTOBER, OVERALL, 0)) == {items[name].pk for name in names}
        columns = kpi.export_columns()
        rows = {item.title: row_values(item, columns) for item in kpi.records(OCTOBER, OVERALL, 0)}
    in_target = [str(label) for label, _accessor in columns].index(str(_("Closed within target")))
    assert rows["on the day, late evening"][in_target] == str(_("Yes"))
    assert rows["a day late by the local day"][in_target] == str(_("No"))


# --- the seeded definitions ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "key", "target", "breakdowns"),
    [
        ("sip_actions_on_time", "improvement.actions_on_time", Decimal("90"), ["organisation", "department"]),
        ("improvement_items_closed_in_target", "improvement.items_closed_in_target", Decimal("80"), []),
    ],
)
def test_the_definitions_are_seeded(code, key, target, breakdowns):
    definition = KpiDefinition.objects.get(code=code)
    assert definition.source == key and definition.unit == "percent" and definition.direction == "at_least"
    assert definition.cycle == Cycle.MONTHLY and definition.owner is None and definition.is_active
    assert definition.breakdowns == breakdowns and set(breakdowns) <= set(source(key).breakdowns)
    assert definition.name_zh and definition.name_en and definition.formula
    assert list(definition.targets.values_list("value", flat=True)) == [target]


def test_closing_october_freezes_the_figure_and_its_records(actions):
    definition = KpiDefinition.objects.get(code="sip_actions_on_time")
    with at(11, 12):
        assert kpi_close(definition, OCTOBER)
    overall = KpiValue.objects.get(definition=definition, period_start=OCTOBER.start, element_kind=OVERALL)
    assert overall.closed and (overall.numerator, overall.denominator) == d(2, 6)
    assert overall.value == Decimal("33.3333") and overall.status == "red"
    assert KpiValueRecord.objects.filter(value=overall).count() == 6
    by_organisation = KpiValue.objects.filter(
        definition=definition, period_start=OCTOBER.start, element_kind="organisation"
    )
    assert {v.element_id: v.denominator for v in by_organisation} == {actions["x"].pk: 6, actions["y"].pk: 2}


def test_computing_the_running_period(items):
    definition = KpiDefinition.objects.get(code="improvement_items_closed_in_target")
    with at(10, 25):
        assert kpi_compute(definition, OCTOBER) == 1
    value = KpiValue.objects.get(definition=definition, period_start=OCTOBER.start)
    assert value.value == Decimal("50.0000") and value.target == Decimal("80") and not value.closed
