"""Tickets closed within 2 working days of resolution (reference 002 §二.7): the ticket feed
carries the close time, the deadline is worked out by the calendar at ingestion, and the KPI
counts closed-on-time over closed-or-overdue tickets in one grouped query.

Monday 2026-03-02 09:00 UTC is 17:00 in Shanghai, the last working hour of the day (09:00–18:00):
2 working days of 9 hours later is Wednesday 2026-03-04 17:00 local (09:00 UTC).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from itsm.core.periods import Cycle, period_of
from itsm.core.roles import Role
from kpi.models import KpiDefinition, KpiValue
from kpi.registry import OVERALL, source
from kpi.services import kpi_close
from surveys.models import Ticket
from tests.factories import ContactFactory
from tests.surveys.test_callbacks import RESOLVED, make_ticket, payload

pytestmark = pytest.mark.django_db

DUE = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)
MARCH = period_of(Cycle.MONTHLY, RESOLVED.date())


def test_ingestion_takes_the_close_time_and_works_out_the_deadline_by_the_calendar(api_as):
    response = api_as(Role.SERVICE_DESK).post(
        "/api/v1/tickets/", payload(closed_at=(RESOLVED + timedelta(hours=5)).isoformat()), format="json"
    )
    assert response.status_code == 201, response.json()
    ticket = Ticket.objects.get()
    assert ticket.close_due_at == DUE
    assert ticket.closed_at == RESOLVED + timedelta(hours=5)
    assert response.json()["close_due_at"] == "2026-03-04T17:00:00+08:00"
    # Sent again without a close time: the one known stays.
    assert api_as(Role.SERVICE_DESK).post("/api/v1/tickets/", payload(), format="json").status_code == 200
    assert Ticket.objects.get().closed_at == RESOLVED + timedelta(hours=5)


def test_a_close_before_the_resolution_is_refused_and_nothing_is_stored(api_as):
    response = api_as(Role.SERVICE_DESK).post(
        "/api/v1/tickets/", payload(closed_at=(RESOLVED - timedelta(hours=1)).isoformat()), format="json"
    )
    assert response.status_code == 400
    assert "closed_at" in str(response.json())
    assert not Ticket.objects.exists()


def test_the_kpi_counts_closed_on_time_over_closed_or_overdue():
    contact = ContactFactory(email="li@customer.example")
    on_time = make_ticket("A", closed_at=DUE)  # exactly at the deadline: on time
    late = make_ticket("B", closed_at=DUE + timedelta(minutes=1))
    overdue = make_ticket("C")  # never closed, its deadline long past
    make_ticket("D", requester_email="", resolved_at=datetime(2026, 4, 1, 2, 0, tzinfo=UTC), closed_at=None)  # April's
    before_the_feed = make_ticket("E", closed_at=DUE)
    Ticket.objects.filter(pk=before_the_feed.pk).update(close_due_at=None)  # ingested before close times came

    kpi = source("surveys.tickets_closed_in_2_working_days")
    figures = kpi.compute(MARCH, OVERALL)[0]
    assert (figures.numerator, figures.denominator) == (Decimal(1), Decimal(3))
    assert kpi.compute(MARCH, "organisation") == {contact.organisation_id: figures}
    assert set(kpi.records(MARCH, OVERALL, 0).values_list("pk", flat=True)) == {on_time.pk, late.pk, overdue.pk}


def test_a_ticket_still_open_before_its_deadline_is_neither_made_nor_missed():
    with time_machine.travel(datetime(2026, 3, 3, 2, 0, tzinfo=UTC)):  # Tuesday: before the deadline
        make_ticket("A")
        assert source("surveys.tickets_closed_in_2_working_days").compute(MARCH, OVERALL)[0].denominator == 0
    # Past it, still open: missed.
    assert source("surveys.tickets_closed_in_2_working_days").compute(MARCH, OVERALL)[0].denominator == 1


def test_the_kpi_is_active_and_closes_with_its_tickets():
    definition = KpiDefinition.objects.get(code="tickets_closed_in_2_working_days")
    assert definition.is_active and "service" not in definition.breakdowns
    make_ticket("A", closed_at=DUE)
    kpi_close(definition, MARCH)
    value = KpiValue.objects.get(definition=definition, period_start=MARCH.start, element_kind="overall")
    assert (value.value, value.status, value.records.count()) == (Decimal("100.0000"), "green", 1)
