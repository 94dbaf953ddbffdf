"""``manage.py load_demo``: the service catalogue and agreements demo — ten services, SLAs,
OLAs and UCs in force, one SLA promise weakly underpinned and several not underpinned at all,
twelve months of measurements, one review overdue, last month's reports drafted — the same
whatever ids the database hands out, and loaded once."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone, translation

from itsm.core.choices import OrganisationKind
from sla import demo
from sla.choices import AgreementKind, AgreementStatus, Metric, ReportStatus, ServiceStatus
from sla.models import (
    Agreement,
    AgreementEvent,
    AgreementReview,
    AgreementVersion,
    Measurement,
    Service,
    ServiceEvent,
    ServiceLevelTarget,
    SlaReport,
)
from sla.selectors import review_overdue
from sla.underpinning import UnderpinningStatus, agreement_underpinning_summary, underpinning_report

pytestmark = pytest.mark.django_db

COUNTED = (
    Service,
    ServiceEvent,
    Agreement,
    AgreementEvent,
    AgreementVersion,
    ServiceLevelTarget,
    Measurement,
    AgreementReview,
    SlaReport,
)
NOVEMBER = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # a Friday, 10:00 in Shanghai
JANUARY = datetime(2026, 1, 15, 2, 0, tzinfo=UTC)  # the twelve months measured span two years
SLA_TARGETS = 8 + 1 + 8 + 8  # the standard targets of each SLA, the bank's availability
SUPPORT_TARGETS = 5 + 4 + 4 + 4 + 4


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _counts() -> dict[str, int]:
    counts = {model.__name__: model._default_manager.count() for model in COUNTED}
    counts["links"] = ServiceLevelTarget.supported_by.through.objects.count()
    return counts


def _load(django_capture_on_commit_callbacks) -> str:
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo", stdout=out)
    return out.getvalue()


def _agreement(title: str) -> Agreement:
    return Agreement.objects.get(title=title)


def _months_before(today: date, count: int) -> list[date]:
    months = []
    year, month = today.year, today.month
    for _ in range(count):
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        months.append(date(year, month, 1))
    return sorted(months)


@pytest.mark.parametrize("now", [NOVEMBER, JANUARY], ids=["november", "january"])
def test_load_demo_builds_the_catalogue_and_agreements_and_twice_creates_nothing(
    django_capture_on_commit_callbacks, now
):
    with time_machine.travel(now, tick=False):
        _load(django_capture_on_commit_callbacks)
        first = _counts()
        out = _load(django_capture_on_commit_callbacks)
        assert _counts() == first
        assert "0 rows created" in out
        assert demo.load(io.StringIO()) == 0
        _check(timezone.localdate(), first)


def _check(today: date, counts: dict[str, int]) -> None:
    # The catalogue: ten services in four categories; accepted ones carry their RFC.
    assert counts["Service"] == len(demo.SERVICES) == 10
    assert Service.objects.values("category").distinct().count() == 4
    statuses = list(Service.objects.values_list("status", flat=True))
    assert statuses.count(ServiceStatus.ACCEPTED) == 8
    assert statuses.count(ServiceStatus.PROPOSED) == 1
    assert statuses.count(ServiceStatus.RETIRED) == 1
    assert not Service.objects.exclude(status=ServiceStatus.PROPOSED).filter(rfc_ref="").exists()
    assert not Agreement.objects.filter(services__status=ServiceStatus.RETIRED).exists()

    # Agreements: SLAs with customers, OLAs with internal teams, UCs with suppliers; all in
    # force today, with a signed PDF and version 1 frozen.
    kinds = {kind: Agreement.objects.filter(kind=kind).count() for kind in AgreementKind.values}
    assert kinds == {AgreementKind.SLA: 3, AgreementKind.OLA: 3, AgreementKind.UC: 2}
    expected_party = {
        AgreementKind.SLA: OrganisationKind.CUSTOMER,
        AgreementKind.OLA: OrganisationKind.INTERNAL_TEAM,
        AgreementKind.UC: OrganisationKind.SUPPLIER,
    }
    for agreement in Agreement.objects.select_related("counterparty"):
        assert agreement.status == AgreementStatus.ACTIVE
        assert agreement.counterparty.kind == expected_party[AgreementKind(agreement.kind)]
        assert agreement.valid_from <= today <= agreement.valid_to
        assert agreement.number.startswith(f"{agreement.kind.upper()}-{today.year}-")
        with agreement.signed_document.open("rb") as document:
            content = document.read()
        assert content.startswith(b"%PDF-") and content.rstrip().endswith(b"%%EOF")
        assert agreement.versions.filter(version=1).exists()
        assert agreement.services.exists()
    assert counts["ServiceLevelTarget"] == SLA_TARGETS + SUPPORT_TARGETS
    assert ServiceLevelTarget.objects.filter(agreement__kind=AgreementKind.SLA).count() == SLA_TARGETS

    # Underpinning: the bank's P1 resolution (2 h) rests on the telecom UC's 4 h; every P3 /
    # P4 promise and the logistics SLA's P1 response have nothing under them.
    bank = _agreement("华信银行 IT 运维服务级别协议")
    power = _agreement("东州电力信息系统运维服务级别协议")
    logistics = _agreement("明强物流桌面与办公服务级别协议")
    telecom = _agreement("天联通信广域网专线维护合同")
    rows = underpinning_report()
    assert len(rows) == SLA_TARGETS
    weak = [row for row in rows if row.status == UnderpinningStatus.WEAK]
    assert [(row.target.agreement, row.target.metric, row.target.priority) for row in weak] == [
        (bank, Metric.RESOLUTION, "P1")
    ]
    assert weak[0].weakest == telecom.targets.get(metric=Metric.RESOLUTION, priority="P1")
    with translation.override("en"):
        gap = underpinning_report(agreement=bank)
        [bank_p1] = [row for row in gap if row.status == UnderpinningStatus.WEAK]
        assert bank_p1.gap == f"{telecom.number} resolves P1 in 4 h; {bank.number} promises 2 h."
    missing = [row for row in rows if row.status == UnderpinningStatus.MISSING]
    assert len(missing) == 3 * 4 + 1
    assert all(not row.comparisons for row in missing)  # no link at all
    assert (logistics, Metric.RESPONSE, "P1") in {
        (row.target.agreement, row.target.metric, row.target.priority) for row in missing
    }
    assert {row.target.priority for row in missing} == {"P1", "P3", "P4"}
    assert agreement_underpinning_summary(bank) == {"missing": 4, "weak": 1}
    assert agreement_underpinning_summary(power) == {"missing": 4, "weak": 0}
    assert counts["links"] == 19

    # Twelve months of measurements of every SLA target (the months before this one): mostly
    # met, a few breaches.
    months = _months_before(today, 12)
    assert counts["Measurement"] == SLA_TARGETS * 12
    assert sorted(set(Measurement.objects.values_list("period", flat=True))) == months
    assert not Measurement.objects.exclude(target__agreement__kind=AgreementKind.SLA).exists()
    breaches = Measurement.objects.filter(met=False).count()
    assert 3 <= breaches <= counts["Measurement"] * 0.15
    assert Measurement.objects.filter(met=False).exclude(note="").count() == breaches

    # Reviews: the power company's is overdue (last held more than a year ago), the bank's not.
    assert review_overdue(power, today)
    assert (today - power.last_review_on).days > 365
    assert power.reviews.count() == 1
    assert not review_overdue(bank, today)
    assert not review_overdue(logistics, today)

    # Last month's report of each SLA, drafted.
    reports = SlaReport.objects.filter(period=months[-1])
    assert reports.count() == counts["SlaReport"] == 3
    assert set(reports.values_list("status", flat=True)) == {ReportStatus.DRAFT}
    assert reports.get(agreement=bank).figures["counts"]["targets"] == 9


@pytest.mark.parametrize("burnt", [0, 9])
def test_demo_is_the_same_whatever_ids_the_database_hands_out(django_capture_on_commit_callbacks, burnt, settings):
    """Live-server tests empty tables without resetting their ids: the figures must not care."""
    from itsm.core.models import Organisation

    customer = Organisation.objects.create(code="burn", name="Burn", kind=OrganisationKind.CUSTOMER)
    for index in range(burnt):  # use up ids, as earlier tests on the same database do
        Service.objects.create(code=f"burn-{index}", name="Burn", category="Burn").delete()
        agreement = Agreement.objects.create(
            kind=AgreementKind.SLA, number=f"X-{index}", title="x", counterparty=customer
        )
        ServiceLevelTarget.objects.create(
            agreement=agreement, metric=Metric.RESOLUTION, priority="P1", value=Decimal(1), unit="hours"
        ).delete()
        agreement.delete()
    with time_machine.travel(NOVEMBER, tick=False):
        _load(django_capture_on_commit_callbacks)
    measured = sorted(
        (m.target.agreement.title, m.target.metric, m.target.priority, m.period.isoformat(), str(m.actual), m.met)
        for m in Measurement.objects.select_related("target__agreement")
    )
    assert len(measured) == SLA_TARGETS * 12
    # Fixed figures: the seeds depend on the agreement, the target and the month, never on an id.
    assert sum(1 for row in measured if not row[-1]) == EXPECTED_BREACHES
    assert measured[0] == EXPECTED_FIRST
    assert sum(Decimal(row[4]) for row in measured) == EXPECTED_TOTAL


# Loaded on 20 November 2026: 20 breaches in 300 months of targets.
EXPECTED_BREACHES = 20
EXPECTED_FIRST = ("东州电力信息系统运维服务级别协议", "resolution", "P1", "2025-11-01", "1.72", True)
EXPECTED_TOTAL = Decimal("3515.99")
