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
    unknown = client.get(f"/kpis/{definition.pk}/?period=1999-H1").content.decode()
    assert 'data-testid="kpi-unknown-period"' in unknown
    assert 'data-testid="kpi-unknown-period"' not in earlier


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


# --- the dashboard's filters ------------------------------------------------------------------


def test_the_dashboard_shows_one_organisations_own_figures(client_as, results, django_assert_num_queries):
    definition, early, late = results
    client = client_as(Role.BR_MANAGER.value)
    organisation = late[1].organisation  # its one rating in H2 is a 1: 0 %
    url = f"/kpis/?organisation={organisation.pk}"
    client.get(url)
    with CaptureQueriesContext(connection) as first:
        page = client.get(url).content.decode()
    queries = len(first.captured_queries)  # read now: the next request empties the log
    card = page[page.index('data-kpi="complaint_result_satisfaction"') :]
    card = card[: card.index("</article>")]
    assert "0.0 %" in card and 'data-status="red"' in card
    assert organisation.name in page
    # A KPI not broken down by organisation says so (SLA attainment is, the call-backs within
    # 24 hours too; the complaint count by category is kept by organisation as well).
    definition.breakdowns = []
    definition.save()
    page = client.get(url).content.decode()
    card = page[page.index('data-kpi="complaint_result_satisfaction"') :]
    assert 'data-testid="kpi-not-broken-down"' in card[: card.index("</article>")]
    # Another organisation's page costs the same.
    with django_assert_num_queries(queries):
        client.get(f"/kpis/?organisation={late[0].organisation_id}")


def test_the_dashboard_shows_the_periods_holding_a_month(client_as, results):
    definition, early, late = results
    page = client_as(Role.BR_MANAGER.value).get("/kpis/?month=2026-03").content.decode()
    card = page[page.index('data-kpi="complaint_result_satisfaction"') :]
    card = card[: card.index("</article>")]
    # March is in H1: its value (one 5 of 5: 100 %), not H2's.
    headline = card[: card.index("</p>")]
    assert "100.0 %" in headline and "2026-H2" not in card
    before = client_as(Role.BR_MANAGER.value).get("/kpis/?month=2025-03").content.decode()
    card = before[before.index('data-kpi="complaint_result_satisfaction"') :]
    assert 'data-testid="kpi-no-value"' in card[: card.index("</article>")]


@pytest.mark.parametrize(
    "query",
    ["month=2026-13", "month=October", "organisation=999999", "service=999999"],
)
def test_a_bad_dashboard_filter_is_a_400_with_the_reason(client_as, results, query):
    response = client_as(Role.BR_MANAGER.value).get(f"/kpis/?{query}")
    assert response.status_code == 400
    assert "invalid-feedback" in response.content.decode() or "alert-danger" in response.content.decode()


def test_an_organisation_and_a_service_together_are_refused(client_as, results):
    from tests.sla.factories import ServiceFactory

    organisation = results[2][0].organisation
    service = ServiceFactory()
    response = client_as(Role.BR_MANAGER.value).get(f"/kpis/?organisation={organisation.pk}&service={service.pk}")
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()


def test_the_home_page_lists_the_kpis_off_target(client_as, results):
    from django.urls import reverse

    page = client_as(Role.BR_MANAGER.value).get(reverse("home")).content.decode()
    panel = page[page.index('data-panel="kpi.needing_attention"') :]
    panel = panel[: panel.index("</section>")]
    definition = results[0]
    assert definition.name in panel and f"/kpis/{definition.pk}/" in panel
    assert "2026-H2: 50.0 %" in panel


def test_the_drill_down_pages_in_constant_queries_with_the_records_columns(
    client_as, results, django_assert_num_queries
):
    definition, early, late = results
    running = KpiValue.objects.get(definition=definition, period_label="2026-H2", element_kind="overall")
    client = client_as(Role.BR_MANAGER.value)
    url = f"/kpis/{definition.pk}/values/{running.pk}/records/"
    client.get(url)
    with CaptureQueriesContext(connection) as first:
        page = client.get(url).content.decode()
    queries = len(first.captured_queries)
    # The complaint's columns: its reference links to it, its organisation is named.
    assert late[0].reference in page and late[0].organisation.name in page
    for month in (9, 10, 11):
        _rated(2, datetime(2026, month, 3, 10, tzinfo=SHANGHAI))
    with django_assert_num_queries(queries):
        page = client.get(url).content.decode()
    assert page.count("data-record=") == 5


def test_the_drill_down_needs_the_right_to_read_the_records(client_as, make_user):
    from tests.kpi.test_forecast import NOVEMBER, answered

    definition = KpiDefinition.objects.get(code="incident_satisfaction")
    answered(date(2026, 11, 3), satisfied=1, of=1)
    kpi_compute(definition, NOVEMBER)
    value = KpiValue.objects.get(definition=definition, period_start=NOVEMBER.start, element_kind="overall")
    url = f"/kpis/{definition.pk}/values/{value.pk}/records/"
    assert client_as(Role.BR_MANAGER.value).get(url).status_code == 200
    # A department head reads the KPIs but not the call-backs behind them.
    assert client_as(Role.DEPARTMENT_HEAD.value).get(url).status_code == 403


# --- recomputing from the KPI's page ------------------------------------------------------------


def test_a_process_owner_corrects_a_closed_period_with_a_reason_from_the_page(client_as, results):
    definition, early, late = results
    client = client_as(Role.PROCESS_OWNER.value)
    page = client.get(f"/kpis/{definition.pk}/?period=2026-H1").content.decode()
    assert 'data-testid="kpi-revise"' in page
    url = f"/kpis/{definition.pk}/periods/2026-H1/revise/"
    before = KpiValue.objects.filter(definition=definition).count()

    refused = client.post(url, {"reason": "  "})
    assert refused.status_code == 400 and 'data-testid="kpi-revise"' in refused.content.decode()
    assert KpiValue.objects.filter(definition=definition).count() == before

    Complaint.objects.filter(pk=early[0].pk).update(result_satisfaction=2)
    response = client.post(url, {"reason": "A rating entered against the wrong complaint was corrected."})
    assert response.status_code == 302
    current = KpiValue.objects.get(
        definition=definition, period_label="2026-H1", element_kind="overall", is_current=True
    )
    assert (current.revision, current.value, current.computed_by) == (2, 0, client.user)
    assert (
        KpiValue.objects.get(definition=definition, period_label="2026-H1", element_kind="overall", revision=1).value
        == 100
    )


def test_a_running_period_is_recomputed_not_revised(client_as, results):
    definition = results[0]
    client = client_as(Role.PROCESS_OWNER.value)
    response = client.post(f"/kpis/{definition.pk}/periods/2026-H2/revise/", {"reason": "Why not"})
    assert response.status_code == 400 and 'data-testid="kpi-error"' in response.content.decode()
    assert client.post(f"/kpis/{definition.pk}/periods/2026-X9/revise/", {"reason": "x"}).status_code == 400
    assert client.post(f"/kpis/{definition.pk}/recompute/").status_code == 302
    assert client.get(f"/kpis/{definition.pk}/recompute/").status_code == 405


@pytest.mark.parametrize("role", [Role.BR_MANAGER, Role.AUDITOR, Role.SERVICE_DESK, Role.DEPARTMENT_HEAD])
def test_only_a_process_owner_recomputes(client_as, results, role):
    definition = results[0]
    client = client_as(role.value)
    assert 'data-testid="kpi-recompute"' not in client.get(f"/kpis/{definition.pk}/?period=2026-H1").content.decode()
    assert client.post(f"/kpis/{definition.pk}/recompute/").status_code == 403
    assert client.post(f"/kpis/{definition.pk}/periods/2026-H1/revise/", {"reason": "x"}).status_code == 403
    assert not KpiValue.objects.filter(definition=definition, revision=2).exists()


def test_the_breakdown_sorts_by_value_either_way_and_refuses_nothing(client_as, results):
    definition, early, late = results
    client = client_as(Role.BR_MANAGER.value)
    url = f"/kpis/{definition.pk}/?period=2026-H2&sort="
    page = client.get(url + "-value").content.decode()
    organisations = [f'data-element="organisation-{c.organisation_id}"' for c in late]  # 100 %, 0 %
    assert page.index(organisations[0]) < page.index(organisations[1])
    page = client.get(url + "value").content.decode()
    assert page.index(organisations[1]) < page.index(organisations[0])
    assert 'aria-sort="ascending"' in page
    assert client.get(url + "nonsense").status_code == 200  # an unknown order: by element


def test_a_count_without_a_target_says_no_target_not_on_target(client_as):
    definition = KpiDefinition.objects.get(code="complaints_received")
    make_complaint(received_at=datetime(2026, 10, 12, 10, tzinfo=SHANGHAI))
    kpi_compute(definition, period_of(Cycle.MONTHLY, date(2026, 10, 1)))
    page = client_as(Role.BR_MANAGER.value).get("/kpis/?month=2026-10").content.decode()
    card = page[page.index('data-kpi="complaints_received"') :]
    card = card[: card.index("</article>")]
    assert 'data-status="no_target"' in card and 'data-status="green"' not in card


def test_pages_link_the_records_only_for_a_reader_allowed_to_see_them(client_as):
    from tests.kpi.test_forecast import NOVEMBER, answered

    definition = KpiDefinition.objects.get(code="incident_satisfaction")
    answered(date(2026, 10, 13), satisfied=1, of=1)
    answered(date(2026, 11, 3), satisfied=1, of=1)
    kpi_compute(definition, NOVEMBER.previous())  # two periods: the card draws its trend
    kpi_compute(definition, NOVEMBER)
    value = KpiValue.objects.get(definition=definition, period_start=NOVEMBER.start, element_kind="overall")
    records = f"/kpis/{definition.pk}/values/{value.pk}/records/"
    for role, linked in ((Role.BR_MANAGER, True), (Role.DEPARTMENT_HEAD, False)):
        client = client_as(role.value)
        for url in ("/kpis/", f"/kpis/{definition.pk}/"):
            assert (records in client.get(url).content.decode()) is linked, (role, url)


def test_the_breakdown_shows_a_page_at_a_time(client_as, results, monkeypatch):
    from kpi.views import dashboard

    monkeypatch.setattr(dashboard, "BREAKDOWN_PAGE", 1)
    definition = results[0]
    client = client_as(Role.BR_MANAGER.value)
    first = client.get(f"/kpis/{definition.pk}/?period=2026-H2&sort=-value").content.decode()
    second = client.get(f"/kpis/{definition.pk}/?period=2026-H2&sort=-value&page=2").content.decode()
    assert first.count("<tr data-element=") == second.count("<tr data-element=") == 1
    assert "period=2026-H2&amp;sort=-value&amp;page=2" in first  # the next page keeps the order
    element = second[second.index("<tr data-element=") :][:60]
    assert element not in first
