"""Weekly reports under concurrency (PostgreSQL): one report per week, items carried once."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from itsm.core.roles import Role
from itsm.core.testing import user_with_role
from surveys.choices import WeeklyItemKind
from surveys.models import WeeklyReport, WeeklyReportItem
from surveys.services import weekly as services
from tests.factories import DepartmentFactory

MONDAY = date(2026, 11, 2)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks under concurrency: PostgreSQL only")
def test_concurrent_creates_make_one_report_and_carry_each_item_once(transactional_db):
    desk = user_with_role(Role.SERVICE_DESK)
    department = DepartmentFactory()
    first = services.weekly_report_create(department=department, week_start=MONDAY, recorder=desk, actor=desk)
    for text in ("a", "b", "c"):
        services.weekly_item_add(report=first, kind=WeeklyItemKind.NEW_PROBLEM, text=text, actor=desk)
    count = 4
    start = threading.Barrier(count)
    outcomes: list[str] = []
    lock = threading.Lock()

    def work() -> None:
        try:
            start.wait(timeout=10)
            services.weekly_report_create(
                department=department, week_start=date(2026, 11, 9), recorder=desk, actor=desk
            )
            result = "created"
        except ValidationError:
            result = "refused"
        except Exception as exc:
            result = repr(exc)
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=work) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["created"] + ["refused"] * (count - 1)
    second = WeeklyReport.objects.get(department=department, week_start=date(2026, 11, 9))
    assert second.items.count() == 3
    assert WeeklyReportItem.objects.filter(carried_from__isnull=False).count() == 3
