"""The weekly visit report demo: two weeks for three departments, open items carried, idempotent."""

import io

import pytest
from django.core.management import call_command

from surveys.demo import weekly as demo_weekly
from surveys.models import WeeklyReport, WeeklyReportItem


@pytest.mark.django_db
def test_demo_weekly_reports_carry_over_and_load_once():
    call_command("load_demo", stdout=io.StringIO())
    assert WeeklyReport.objects.count() == 6
    assert WeeklyReport.objects.values("department").distinct().count() == 3
    carried = WeeklyReportItem.objects.filter(carried_from__isnull=False)
    assert carried.count() == 3  # the first week's unresolved items
    assert all(item.owner_id == item.carried_from.owner_id for item in carried.select_related("carried_from"))
    rows = WeeklyReportItem.objects.count()
    assert demo_weekly.load(io.StringIO()) == 0
    assert WeeklyReportItem.objects.count() == rows
