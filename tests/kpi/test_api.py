"""The KPI API: definitions with their latest value, values with filters, targets, records."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from complaints.models import Complaint
from itsm.core.periods import Cycle, period_of
from itsm.core.roles import Role
from kpi.models import KpiDefinition, KpiTarget, KpiValue
from kpi.services import kpi_close, kpi_compute
from tests.complaints.factories import make_complaint

pytestmark = pytest.mark.django_db

H2 = period_of(Cycle.HALF_YEARLY, date(2026, 8, 1))
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _rated(rating: int, month: int = 8):
    complaint = make_complaint()
    Complaint.objects.filter(pk=complaint.pk).update(
        result_satisfaction=rating, feedback_at=datetime(2026, month, 3, 10, tzinfo=SHANGHAI)
    )
    return complaint


@pytest.fixture
def results():
    definition = KpiDefinition.objects.get(code="complaint_result_satisfaction")
    complaints = [_rated(5), _rated(4), _rated(1)]
    kpi_close(definition, H2)
    return definition, complaints


def test_the_list_gives_each_kpi_its_latest_value_in_constant_queries(api_as, results, django_assert_max_num_queries):
    client = api_as(Role.BR_MANAGER.value)
    with django_assert_max_num_queries(8):
        body = client.get("/api/v1/kpis/").json()
    by_code = {row["code"]: row for row in body["results"]}
    assert len(by_code) == KpiDefinition.objects.filter(is_active=True).count()
    current = by_code["complaint_result_satisfaction"]["current"]
    assert (current["period_label"], current["value"], current["status"], current["closed"]) == (
        "2026-H2",
        "66.6667",
        "red",
        True,
    )
    assert by_code["incident_satisfaction"]["current"] is None


def test_values_filter_by_period_element_and_status_and_refuse_nonsense(api_as, results):
    definition, complaints = results
    client = api_as(Role.AUDITOR.value)
    url = f"/api/v1/kpis/{definition.pk}/values/"
    overall = client.get(url, {"period": "2026-H2", "element_kind": "overall"}).json()["results"]
    assert [(v["numerator"], v["denominator"]) for v in overall] == [("2.0000", "3.0000")]
    organisation = complaints[0].organisation_id
    one = client.get(url, {"element_kind": "organisation", "element_id": organisation}).json()["results"]
    assert [v["value"] for v in one] == ["100.0000"]
    assert {v["status"] for v in client.get(url, {"status": "red"}).json()["results"]} == {"red"}
    for params in ({"element_id": "x"}, {"element_kind": "planet"}, {"status": "purple"}):
        response = client.get(url, params)
        assert response.status_code == 400 and set(response.json()["errors"]) == set(params)


def test_the_records_behind_a_closed_value_are_the_frozen_ids(api_as, results):
    definition, complaints = results
    value = KpiValue.objects.get(definition=definition, element_kind="overall", is_current=True)
    Complaint.objects.filter(pk=complaints[2].pk).update(feedback_at=datetime(2026, 12, 31, 23, tzinfo=SHANGHAI))
    body = api_as(Role.BR_MANAGER.value).get(f"/api/v1/kpis/{definition.pk}/values/{value.pk}/records/").json()
    assert [row["id"] for row in body["results"]] == sorted(c.pk for c in complaints)
    assert body["results"][0]["url"] == complaints[0].get_absolute_url()
    assert body["results"][0]["model"] == "complaints.complaint"


def test_the_records_behind_a_running_value_are_live(api_as):
    definition = KpiDefinition.objects.get(code="complaint_result_satisfaction")
    first = _rated(5)
    kpi_compute(definition, H2)
    value = KpiValue.objects.get(definition=definition, element_kind="overall")
    second = _rated(2)
    body = api_as(Role.BR_MANAGER.value).get(f"/api/v1/kpis/{definition.pk}/values/{value.pk}/records/").json()
    assert [row["id"] for row in body["results"]] == [first.pk, second.pk]


def test_targets_are_added_by_the_process_owner_only_and_never_overlap(api_as):
    definition = KpiDefinition.objects.get(code="complaint_reply_time")
    url = f"/api/v1/kpis/{definition.pk}/targets/"
    assert api_as(Role.SERVICE_DESK.value).post(url, {"value": "1.5", "valid_from": "2027-01-01"}).status_code == 403
    owner = api_as(Role.PROCESS_OWNER.value)
    overlapping = owner.post(url, {"value": "1.5", "valid_from": "2026-06-01"}, format="json")
    assert overlapping.status_code == 400 and "valid_from" in overlapping.json()["errors"]
    KpiTarget.objects.filter(definition=definition).update(valid_to=date(2026, 12, 31))
    added = owner.post(url, {"value": "1.5", "valid_from": "2027-01-01"}, format="json")
    assert added.status_code == 201 and Decimal(added.json()["value"]) == Decimal("1.5")
    assert [t["valid_from"] for t in owner.get(url).json()] == ["2026-01-01", "2027-01-01"]
    assert (
        owner.post(url, {"value": "1", "valid_from": "2028-01-01", "colour": "red"}, format="json").status_code == 400
    )


def test_without_a_role_the_kpis_are_refused_and_an_unknown_one_is_404(api_as):
    assert api_as(None).get("/api/v1/kpis/").status_code == 403
    assert api_as(Role.AUDITOR.value).get("/api/v1/kpis/999999/").status_code == 404
