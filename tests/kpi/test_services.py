"""KPI values: the RAG rule, the complaints' sources against hand-computed figures, a period
frozen at close, a correction as a new revision, and the periodic check run twice.

Reply times cross the 2026 National Day holiday (1–7 October) of the default calendar
(working hours 09:00–18:00, Asia/Shanghai).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from complaints.models import Complaint
from complaints.services import complaint_transition
from itsm.core.periodic import run_check
from itsm.core.periods import Cycle, period_of
from itsm.core.roles import Role
from kpi.models import KpiDefinition, KpiValue, Status
from kpi.registry import source
from kpi.services import kpi_close, kpi_compute, kpi_revise, rag
from tests.complaints.factories import make_complaint, role_user

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
OCTOBER = period_of(Cycle.MONTHLY, date(2026, 10, 1))
H2 = period_of(Cycle.HALF_YEARLY, date(2026, 10, 1))


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


# --- RAG ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "target", "direction", "tolerance", "status"),
    [
        ("95", "95", "at_least", "3", Status.GREEN),  # exactly the target: met
        ("92", "95", "at_least", "3", Status.AMBER),  # at the tolerance's edge: amber
        ("91.9999", "95", "at_least", "3", Status.RED),  # beyond it: red
        ("2", "2", "at_most", "0.5", Status.GREEN),
        ("2.5", "2", "at_most", "0.5", Status.AMBER),
        ("2.5001", "2", "at_most", "0.5", Status.RED),
        ("1", "2", "at_most", "0", Status.GREEN),
        ("96", "95", "at_least", "0", Status.GREEN),
        ("94", "95", "at_least", "0", Status.RED),  # no tolerance: straight to red
    ],
)
def test_rag_by_direction_and_tolerance(value, target, direction, tolerance, status):
    assert rag(Decimal(value), Decimal(target), direction, Decimal(tolerance)) == status


def test_no_value_is_no_data_and_no_target_is_nothing_to_miss():
    assert rag(None, Decimal("95"), "at_least", Decimal("3")) == Status.NO_DATA
    assert rag(Decimal("3"), None, "at_most", Decimal("0")) == Status.GREEN


# --- the complaints' sources ----------------------------------------------------------------


def _received_and_accepted(received: datetime, accepted: datetime, **fields) -> Complaint:
    with time_machine.travel(received, tick=False):
        complaint = make_complaint(received_at=received, **fields)
    with time_machine.travel(accepted, tick=False):
        return complaint_transition(complaint=complaint, action="accept", actor=role_user(Role.SERVICE_DESK))


def test_reply_time_counts_working_time_only_across_the_national_day_holiday():
    # 30 Sept 17:00 → 8 Oct 10:00: one working hour each side of the holiday = 2 h.
    across = _received_and_accepted(local(2026, 9, 30, 17, 0), local(2026, 10, 8, 10, 0))
    # 9 Oct 09:00 → 9 Oct 13:30 = 4.5 h.
    same_day = _received_and_accepted(local(2026, 10, 9, 9, 0), local(2026, 10, 9, 13, 30))
    assert (across.reply_working_seconds, same_day.reply_working_seconds) == (7200, 16200)
    kpi = source("complaints.reply_time")
    september = kpi.compute(period_of(Cycle.MONTHLY, date(2026, 9, 1)), "overall")[0]
    assert (september.numerator, september.denominator) == (Decimal(7200), Decimal(1))
    assert kpi.value(september) == Decimal("0.2222")  # 2 working hours of a 9-hour day
    # The half-year holds both: (2 h + 4.5 h) / 2 = 3.25 h = 0.3611 working days.
    half_year = kpi.compute(H2, "overall")[0]
    assert (half_year.numerator, half_year.denominator) == (Decimal(23400), Decimal(2))
    assert kpi.value(half_year) == Decimal("0.3611")
    # November holds neither: no data.
    assert kpi.compute(period_of(Cycle.MONTHLY, date(2026, 11, 1)), "overall")[0].denominator == Decimal(0)


def test_result_satisfaction_counts_four_and_five_as_satisfied_per_organisation(django_assert_num_queries):
    rated = []
    for rating in (5, 4, 3):
        complaint = make_complaint()
        Complaint.objects.filter(pk=complaint.pk).update(
            result_satisfaction=rating, feedback_at=local(2026, 10, 15, 10, 0)
        )
        rated.append(complaint)
    # A rating given in November is another period's.
    late = make_complaint(contact=rated[0].contact)
    Complaint.objects.filter(pk=late.pk).update(result_satisfaction=1, feedback_at=local(2026, 11, 1, 0, 10))
    kpi = source("complaints.result_satisfaction")
    overall = kpi.compute(OCTOBER, "overall")[0]
    assert (overall.numerator, overall.denominator) == (Decimal(2), Decimal(3))
    assert kpi.value(overall) == Decimal("66.6667")
    # Two queries whatever the number of organisations: the default calendar (its zone) and one
    # grouped aggregate over the complaints.
    with django_assert_num_queries(2) as captured:
        per_organisation = kpi.compute(OCTOBER, "organisation")
    over_complaints = [q["sql"] for q in captured.captured_queries if "complaints_complaint" in q["sql"]]
    assert len(over_complaints) == 1 and "GROUP BY" in over_complaints[0]
    assert {key: (f.numerator, f.denominator) for key, f in per_organisation.items()} == {
        c.organisation_id: (Decimal(1 if c.pk != rated[2].pk else 0), Decimal(1)) for c in rated
    }
    ids = set(kpi.records(OCTOBER, "organisation", rated[0].organisation_id).values_list("pk", flat=True))
    assert ids == {rated[0].pk}


def test_a_period_without_records_is_no_data_not_zero():
    definition = KpiDefinition.objects.get(code="complaint_result_satisfaction")
    kpi_compute(definition, H2)
    value = KpiValue.objects.get(definition=definition, period_start=H2.start, element_kind="overall")
    assert (value.value, value.status, value.denominator) == (None, Status.NO_DATA, Decimal(0))


def test_complaints_by_category_counts_each_category_in_one_grouped_query():
    definition = KpiDefinition.objects.get(code="complaints_by_category")
    for category in ("attitude", "attitude", "sla_breach", "other"):
        make_complaint(received_at=local(2026, 10, 12, 10), category=category)
    withdrawn = make_complaint(received_at=local(2026, 10, 13, 10), category="attitude")
    Complaint.objects.filter(pk=withdrawn.pk).update(status="withdrawn")
    make_complaint(received_at=local(2026, 11, 2, 10), category="attitude")  # November's

    with CaptureQueriesContext(connection) as captured:
        figures = source("complaints.count").compute(OCTOBER, "category")
    [query] = [q["sql"] for q in captured.captured_queries if "complaints_complaint" in q["sql"]]
    assert "GROUP BY" in query and "CASE" in query
    # attitude is the first category, sla_breach the fourth, other the sixth.
    assert {key: f.numerator for key, f in figures.items()} == {1: 2, 4: 1, 6: 1}

    kpi_close(definition, OCTOBER)
    values = {
        v.element_label: v.value
        for v in KpiValue.objects.filter(definition=definition, period_start=OCTOBER.start, element_kind="category")
    }
    # Named in the product's language, frozen with the value.
    assert values == {"服务态度": Decimal(2), "违反SLA": Decimal(1), "其他": Decimal(1)}
    attitude = KpiValue.objects.get(
        definition=definition, period_start=OCTOBER.start, element_kind="category", element_id=1
    )
    assert attitude.records.count() == 2
    assert KpiValue.objects.get(definition=definition, period_start=OCTOBER.start, element_kind="overall").value == 4


# --- frozen at close, revised with a reason -------------------------------------------------


def _rate(complaint: Complaint, rating: int, when: datetime) -> None:
    Complaint.objects.filter(pk=complaint.pk).update(result_satisfaction=rating, feedback_at=when)


def test_a_closed_period_does_not_move_when_its_records_change_and_keeps_their_ids():
    definition = KpiDefinition.objects.get(code="complaint_result_satisfaction")
    happy, unhappy = make_complaint(), make_complaint()
    _rate(happy, 5, local(2026, 8, 3, 10, 0))
    _rate(unhappy, 2, local(2026, 9, 3, 10, 0))
    h2 = period_of(Cycle.HALF_YEARLY, date(2026, 8, 1))
    kpi_compute(definition, h2)
    running = KpiValue.objects.get(definition=definition, period_start=h2.start, element_kind="overall")
    assert (running.value, running.status, running.closed) == (Decimal("50.0000"), Status.RED, False)
    assert kpi_close(definition, h2) is True
    closed = KpiValue.objects.get(definition=definition, period_start=h2.start, element_kind="overall", is_current=True)
    assert closed.closed and set(closed.records.values_list("record_id", flat=True)) == {happy.pk, unhappy.pk}
    # The customer's answer is corrected afterwards: the closed figure stands.
    _rate(unhappy, 5, local(2026, 9, 3, 10, 0))
    assert kpi_compute(definition, h2) == 0 and kpi_close(definition, h2) is False
    closed.refresh_from_db()
    assert closed.value == Decimal("50.0000")


def test_closing_reads_each_breakdowns_records_in_one_query_whatever_the_number_of_elements():
    definition = KpiDefinition.objects.get(code="complaint_result_satisfaction")
    H1 = period_of(Cycle.HALF_YEARLY, date(2026, 3, 1))

    def rated(n: int) -> list[Complaint]:
        made = [make_complaint() for _ in range(n)]
        Complaint.objects.filter(pk__in=[c.pk for c in made]).update(
            result_satisfaction=5, feedback_at=local(2026, 3, 3, 10)
        )
        return made

    def queries_to_close(period) -> int:
        with CaptureQueriesContext(connection) as captured:
            kpi_close(definition, period)
        return len([q for q in captured.captured_queries if "complaints_complaint" in q["sql"]])

    rated(2)
    few = queries_to_close(H1)
    KpiValue.objects.filter(definition=definition).delete()
    definition.forecasts.all().delete()
    more = rated(4)
    assert queries_to_close(H1) == few
    # Each organisation's value keeps its own complaints.
    value = KpiValue.objects.get(
        definition=definition, period_start=H1.start, element_kind="organisation", element_id=more[0].organisation_id
    )
    assert set(value.records.values_list("record_id", flat=True)) == {
        c.pk for c in Complaint.objects.filter(organisation_id=more[0].organisation_id, feedback_at__isnull=False)
    }


def test_a_correction_of_a_closed_period_is_a_new_revision_with_a_reason(make_user):
    definition = KpiDefinition.objects.get(code="complaint_result_satisfaction")
    complaint = make_complaint()
    _rate(complaint, 2, local(2026, 8, 3, 10, 0))
    h2 = period_of(Cycle.HALF_YEARLY, date(2026, 8, 1))
    kpi_close(definition, h2)
    _rate(complaint, 5, local(2026, 8, 3, 10, 0))
    owner = make_user(Role.PROCESS_OWNER.value)
    with pytest.raises(ValidationError) as refused:
        kpi_revise(definition, h2, actor=owner, reason="  ")
    assert "reason" in refused.value.message_dict
    with pytest.raises(PermissionDenied):
        kpi_revise(definition, h2, actor=make_user(Role.AUDITOR.value), reason="mistyped rating")
    kpi_revise(definition, h2, actor=owner, reason="the rating was mistyped")
    rows = KpiValue.objects.filter(definition=definition, period_start=h2.start, element_kind="overall")
    assert sorted((v.revision, v.is_current, v.value, v.reason) for v in rows) == [
        (1, False, Decimal("0.0000"), ""),
        (2, True, Decimal("100.0000"), "the rating was mistyped"),
    ]
    assert rows.get(revision=2).computed_by == owner


def test_a_running_period_cannot_be_revised_it_is_recomputed():
    definition = KpiDefinition.objects.get(code="complaint_result_satisfaction")
    with pytest.raises(ValidationError) as refused:
        kpi_revise(definition, H2, actor=role_user(Role.PROCESS_OWNER), reason="why not")
    assert "period" in refused.value.message_dict


def test_the_periodic_check_twice_computes_the_same_and_freezes_once():
    complaint = make_complaint()
    _rate(complaint, 5, local(2026, 6, 3, 10, 0))
    # 16 January 2027: H2 2026's report fell due on the 15th; H1 2026 long before.
    with time_machine.travel(local(2027, 1, 16, 9, 0), tick=False):
        run_check("kpi.compute_values")
        first = set(KpiValue.objects.values_list("pk", "value", "closed", "revision"))
        run_check("kpi.compute_values")
        second = set(KpiValue.objects.values_list("pk", "value", "closed", "revision"))
    assert first == second
    h1 = KpiValue.objects.get(
        definition__code="complaint_result_satisfaction", period_label="2026-H1", element_kind="overall"
    )
    assert (h1.closed, h1.value, h1.status) == (True, Decimal("100.0000"), Status.GREEN)
    assert KpiValue.objects.filter(period_label="2027-H1", closed=False).exists()  # the running half-year


def test_a_finished_period_stays_open_until_its_report_falls_due(make_user):
    # 4 December: November's report is due on the 10th, so November is still computed, open.
    with time_machine.travel(local(2026, 12, 4, 9, 0), tick=False):
        run_check("kpi.compute_values")
    november = KpiValue.objects.get(definition__code="complaints_received", period_label="2026-11")
    assert not november.closed
    assert KpiValue.objects.get(definition__code="complaints_received", period_label="2026-10").closed
    # On the 10th it closes.
    with time_machine.travel(local(2026, 12, 10, 9, 0), tick=False):
        run_check("kpi.compute_values")
    november = KpiValue.objects.get(definition__code="complaints_received", period_label="2026-11", is_current=True)
    assert november.closed
