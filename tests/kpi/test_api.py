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


# --- writes: a manual KPI's values, a definition's changes (the process owner only) ----------

NOVEMBER = datetime(2026, 11, 20, 10, tzinfo=SHANGHAI)


@pytest.fixture
def manual():
    from kpi.models import MANUAL

    definition = KpiDefinition.objects.create(
        code="capacity_utilisation",
        name_zh="容量利用率",
        name_en="Capacity utilisation",
        unit="percent",
        direction="at_most",
        cycle="monthly",
        amber_tolerance=Decimal("5"),
        source=MANUAL,
        breakdowns=["organisation"],
    )
    KpiTarget.objects.create(definition=definition, value=Decimal("80"), valid_from=date(2026, 1, 1))
    return definition


def test_the_process_owner_enters_a_manual_value_and_others_may_not(api_as, manual):
    import time_machine

    url = f"/api/v1/kpis/{manual.pk}/values/"
    body = {"period": "2026-10", "element_kind": "overall", "numerator": "84", "denominator": "100"}
    with time_machine.travel(NOVEMBER, tick=False):
        for role in (Role.BR_MANAGER.value, Role.AUDITOR.value, Role.SERVICE_DESK.value):
            assert api_as(role).post(url, body, format="json").status_code == 403, role
        assert not KpiValue.objects.filter(definition=manual).exists()
        owner = api_as(Role.PROCESS_OWNER.value)
        response = owner.post(url, body, format="json")
    assert response.status_code == 201
    stored = response.json()
    assert (stored["value"], stored["target"], stored["status"], stored["closed"]) == (
        "84.0000",
        "80.0000",
        "amber",
        False,
    )
    assert stored["computed_by"] == owner.user.pk
    # Everyone who reads KPIs reads it.
    values = api_as(Role.AUDITOR.value).get(url, {"period": "2026-10"}).json()["results"]
    assert [v["id"] for v in values] == [stored["id"]]


def test_a_manual_value_refused_is_a_400_and_nothing_is_stored(api_as, manual):
    import time_machine

    url = f"/api/v1/kpis/{manual.pk}/values/"
    owner = api_as(Role.PROCESS_OWNER.value)
    with time_machine.travel(NOVEMBER, tick=False):
        for body, field in (
            ({"period": "2026-Q3", "value": "5"}, "period"),
            ({"period": "2027-01", "value": "5"}, "period"),
            ({"period": "2026-10"}, "value"),
            ({"period": "2026-10", "element_kind": "service", "element_id": 1, "value": "5"}, "element_kind"),
            ({"period": "2026-10", "element_kind": "organisation", "element_id": 999999, "value": "5"}, "element_id"),
            ({"period": "2026-10", "value": "5", "colour": "red"}, "colour"),
        ):
            response = owner.post(url, body, format="json")
            assert response.status_code == 400 and field in response.json()["errors"], body
    assert not KpiValue.objects.filter(definition=manual).exists()


def test_a_computed_kpi_takes_no_value_through_the_api(api_as):
    definition = KpiDefinition.objects.get(code="complaint_reply_time")
    response = api_as(Role.PROCESS_OWNER.value).post(
        f"/api/v1/kpis/{definition.pk}/values/", {"period": "2026-H2", "value": "1"}, format="json"
    )
    assert response.status_code == 400 and "source" in response.json()["errors"]
    assert not KpiValue.objects.filter(definition=definition).exists()


def test_a_closed_manual_value_is_corrected_through_the_api_only_with_a_reason(api_as, manual):
    import time_machine

    from kpi.services import kpi_close_manual

    url = f"/api/v1/kpis/{manual.pk}/values/"
    owner = api_as(Role.PROCESS_OWNER.value)
    with time_machine.travel(NOVEMBER, tick=False):
        owner.post(url, {"period": "2026-10", "value": "70"}, format="json")
        kpi_close_manual(manual, period_of(Cycle.MONTHLY, date(2026, 10, 1)))
        refused = owner.post(url, {"period": "2026-10", "value": "90"}, format="json")
        assert refused.status_code == 400 and "reason" in refused.json()["errors"]
        corrected = owner.post(url, {"period": "2026-10", "value": "90", "reason": "Recounted"}, format="json")
    assert corrected.status_code == 201
    assert (corrected.json()["revision"], corrected.json()["status"], corrected.json()["reason"]) == (
        2,
        "red",
        "Recounted",
    )
    all_revisions = owner.get(url, {"revisions": "all"}).json()["results"]
    assert [(v["revision"], v["is_current"]) for v in all_revisions] == [(2, True), (1, False)]


def test_the_process_owner_patches_a_definition_and_the_rules_hold(api_as):
    definition = KpiDefinition.objects.get(code="sla_attainment")
    url = f"/api/v1/kpis/{definition.pk}/"
    assert api_as(Role.AUDITOR.value).patch(url, {"name_en": "x"}, format="json").status_code == 403
    assert api_as(Role.BR_MANAGER.value).patch(url, {"name_en": "x"}, format="json").status_code == 403
    owner = api_as(Role.PROCESS_OWNER.value)
    changed = owner.patch(url, {"name_en": "Service level attainment", "amber_tolerance": "2"}, format="json")
    assert changed.status_code == 200
    assert (changed.json()["name_en"], changed.json()["amber_tolerance"]) == ("Service level attainment", "2.0000")
    for body, field in (
        ({"breakdowns": ["technician"]}, "breakdowns"),  # SLA measurements are not by technician
        ({"unit": "hours"}, "unit"),
        ({"source": "nowhere"}, "source"),
        ({"current": None}, "current"),
    ):
        response = owner.patch(url, body, format="json")
        assert response.status_code == 400 and field in response.json()["errors"], body
    definition.refresh_from_db()
    assert (definition.breakdowns, definition.unit, definition.amber_tolerance) == (
        ["organisation", "service"],
        "percent",
        Decimal("2"),
    )
    assert owner.put(url, {"name_en": "x"}, format="json").status_code == 405
    assert owner.delete(url).status_code == 405
    # An inactive KPI is reached by a write too.
    inactive = KpiDefinition.objects.get(code="tickets_closed_in_2_working_days")
    assert owner.patch(f"/api/v1/kpis/{inactive.pk}/", {"sort_order": 99}, format="json").status_code == 200


# --- forecasts and recomputation ---------------------------------------------------------------


def test_a_kpi_carries_its_running_forecast(api_as):
    import time_machine

    from itsm.core.periodic import run_check
    from tests.kpi.test_forecast import FORECAST_DAY, _falling_november

    _falling_november()
    with time_machine.travel(datetime(2026, 11, 24, 3, 0, tzinfo=SHANGHAI)):
        run_check("kpi.compute_values")
        body = api_as(Role.BR_MANAGER.value).get("/api/v1/kpis/").json()
    forecast = {row["code"]: row for row in body["results"]}["incident_satisfaction"]["forecast"]
    assert forecast["period_label"] == "2026-11" and forecast["made_on"] == FORECAST_DAY.isoformat()
    assert forecast["heading_for_miss"] is True and forecast["projected"] == "94.7619"


def test_the_process_owner_recomputes_a_closed_period_only_with_a_reason(api_as, results):
    definition, complaints = results
    client = api_as(Role.PROCESS_OWNER.value)
    url = f"/api/v1/kpis/{definition.pk}/recompute/"
    before = KpiValue.objects.count()
    refused = client.post(url, {"period": "2026-H2"}, format="json")
    assert refused.status_code == 400 and "reason" in refused.json()["errors"]
    assert KpiValue.objects.count() == before
    Complaint.objects.filter(pk=complaints[2].pk).update(result_satisfaction=5)
    response = client.post(url, {"period": "2026-H2", "reason": "A rating was keyed wrongly."}, format="json")
    assert response.status_code == 200
    overall = next(row for row in response.json() if row["element_kind"] == "overall")
    assert (overall["revision"], overall["value"], overall["reason"]) == (2, "100.0000", "A rating was keyed wrongly.")


def test_recomputing_refuses_nonsense_and_other_roles(api_as, results):
    definition, _complaints = results
    url = f"/api/v1/kpis/{definition.pk}/recompute/"
    assert api_as(Role.BR_MANAGER.value).post(url, {}, format="json").status_code == 403
    assert api_as(Role.AUDITOR.value).post(url, {}, format="json").status_code == 403
    client = api_as(Role.PROCESS_OWNER.value)
    assert client.post(url, {"period": "2026-13"}, format="json").status_code == 400
    assert client.post(url, {"period": "2099-H1"}, format="json").status_code == 400
    assert client.post(url, {"colour": "red"}, format="json").status_code == 400
    # The running period by default.
    running = client.post(f"/api/v1/kpis/{KpiDefinition.objects.get(code='incident_satisfaction').pk}/recompute/", {})
    assert running.status_code == 200
