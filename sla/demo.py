"""Demo service catalogue and agreements for ``manage.py load_demo``.

Everything goes through the real services as the demo service level manager ``slm``:

* a catalogue of ten services in four categories — eight accepted under an RFC, one still
  proposed, one retired;
* three SLAs (华信银行, 东州电力, 明强物流) with the standard targets (the bank's also an
  availability target), three OLAs with the internal teams and two UCs with the suppliers,
  each with a generated signed PDF, negotiated and active, valid today;
* OLA / UC targets linked under the SLA targets: the bank's P1 resolution (2 h) rests on a
  telecom UC resolving P1 in 4 h (weakly supported); the logistics SLA's P1 response and every
  P3 / P4 promise have nothing under them (not underpinned); the rest is supported;
* twelve months of measurements of every SLA target (the months before the current one),
  mostly met with a few breaches, from a seeded random that depends only on the agreement,
  the target and the month;
* reviews: the power company's last one was held more than a year ago (overdue), the bank's
  six weeks ago; a drafted monthly report of last month for each SLA.

Idempotent: a service is identified by its code, an agreement by its title, a target by its
agreement, metric and priority; a measurement, link, review or report that exists is left as
it is, so a second run creates nothing (and a run in a later month only adds that month).
Nothing depends on the ids the database hands out.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from itsm.core.models import Calendar, Organisation, User

from .choices import AgreementKind, AgreementStatus, MeasurementSource, Metric, ReportStatus, ServiceStatus, TargetUnit
from .models import Agreement, AgreementReview, Measurement, Service, ServiceLevelTarget, SlaReport
from .services.agreements import agreement_create, agreement_transition, agreement_upload_document
from .services.catalogue import service_create, service_transition
from .services.measurements import measurement_bulk_record
from .services.reports import sla_report_draft
from .services.reviews import agreement_review_record
from .services.targets import target_create, targets_apply_standard
from .underpinning import LIVE_STATUSES, target_link_support

MANAGER = "slm"
SEED = "itsm-demo-sla-2026"
MONTHS_MEASURED = 12

# --- the catalogue -----------------------------------------------------------------------------

NETWORK = "网络与通信"
WORKPLACE = "终端与办公"
DATA = "数据与应用"
DESK = "服务台与支持"


@dataclass(frozen=True)
class DemoService:
    code: str
    name: str
    category: str
    description: str
    standards: str = ""
    business_hours: bool = False  # served on the default business calendar (else 24×7)
    status: str = ServiceStatus.ACCEPTED
    rfc_ref: str = ""
    retire_rfc: str = ""
    retire_note: str = ""


SERVICES = [
    DemoService(
        "service-desk",
        "服务台",
        DESK,
        "统一受理电话、邮件、自助门户和微信报修，负责事件登记、分派、跟踪和回访。",
        "接通率 ≥ 95%；首次解决率 ≥ 70%。",
        rfc_ref="RFC-2025-001",
    ),
    DemoService(
        "net-campus",
        "园区网络服务",
        NETWORK,
        "办公园区有线与无线网络的接入、运行监控和故障处理。",
        "核心网络可用性 ≥ 99.9%。",
        rfc_ref="RFC-2025-014",
    ),
    DemoService(
        "net-wan",
        "广域网专线服务",
        NETWORK,
        "总部与分支机构、数据中心之间的专线及其备份线路。",
        "专线月可用性 ≥ 99.5%。",
        rfc_ref="RFC-2025-015",
    ),
    DemoService(
        "desk-support",
        "桌面运维服务",
        WORKPLACE,
        "办公电脑、外设和常用软件的安装、维护与故障处理。",
        "P3 故障 5 个工作日内解决。",
        business_hours=True,
        rfc_ref="RFC-2025-008",
    ),
    DemoService(
        "office-mail",
        "企业邮件服务",
        WORKPLACE,
        "企业邮箱的开通、容量管理、反垃圾邮件与故障处理。",
        business_hours=True,
        rfc_ref="RFC-2025-009",
    ),
    DemoService(
        "cloud-desktop",
        "云桌面服务",
        WORKPLACE,
        "为营业网点和外包人员提供的云桌面（试点中）。",
        business_hours=True,
        status=ServiceStatus.PROPOSED,
    ),
    DemoService(
        "fax",
        "传真服务",
        WORKPLACE,
        "传真机与传真服务器的维护。",
        business_hours=True,
        status=ServiceStatus.RETIRED,
        rfc_ref="RFC-2024-052",
        retire_rfc="RFC-2025-030",
        retire_note="传真业务已由电子公文和邮件取代，2025 年起停止提供。",
    ),
    DemoService(
        "db-ops",
        "数据库运维服务",
        DATA,
        "生产数据库的监控、性能优化、补丁和故障处理。",
        "核心数据库月可用性 ≥ 99.95%。",
        rfc_ref="RFC-2025-017",
    ),
    DemoService(
        "backup",
        "数据备份与恢复服务",
        DATA,
        "业务数据的定期备份、异地保存和按需恢复。",
        "RPO ≤ 24 小时，RTO ≤ 4 小时。",
        rfc_ref="RFC-2025-018",
    ),
    DemoService(
        "app-hosting",
        "业务系统托管服务",
        DATA,
        "客户业务系统在数据中心的托管、监控与运行维护。",
        rfc_ref="RFC-2025-022",
    ),
]

# --- the agreements ----------------------------------------------------------------------------

# A target: (metric, priority, value, unit).
Target = tuple[str, str, str, str]
R, S = Metric.RESPONSE, Metric.RESOLUTION
MIN, H = TargetUnit.MINUTES, TargetUnit.HOURS


@dataclass(frozen=True)
class DemoAgreement:
    key: str  # how links and reviews name it here
    kind: str
    title: str
    counterparty: str  # organisation code (load_demo's ORGANISATIONS)
    services: tuple[str, ...]
    started_months_ago: int  # valid from the first day of the month that many months back
    years: int  # valid for that many years
    standard: bool = False  # the standard SLA targets
    business_hours: bool = False  # the standard targets count on the default business calendar
    targets: tuple[Target, ...] = ()
    sections: dict[str, str] = field(default_factory=dict)


def _sla_sections(customer: str, hours: str) -> dict[str, str]:
    return {
        "service_description": f"为{customer}提供本协议所列服务的日常运行维护、事件处理和服务请求受理。",
        "customer_duties": (
            "- 指定服务联系人并及时更新联系方式\n- 按约定渠道报修，提供必要的故障信息\n- 配合变更与维护窗口"
        ),
        "provider_duties": "- 按优先级响应和解决事件\n- 每月提交服务级别报告\n- 重大故障 30 分钟内通报",
        "service_hours": hours,
        "interruption_levels": (
            "| 优先级 | 响应 | 解决 |\n|---|---|---|\n| P1 | 30 分钟 | 2 小时 |\n| P2 | 4 小时 | 12 小时 |\n"
            "| P3 | 24 小时 | 5 个工作日 |\n| P4 | 5 个工作日 | 10 个工作日 |"
        ),
        "reporting": "每月前 5 个工作日提交上月服务级别报告；每年进行一次服务评审。",
    }


def _support_sections(party: str) -> dict[str, str]:
    return {
        "service_description": f"{party}为对客户承诺的服务级别提供支撑。",
        "provider_duties": "- 按约定时限响应和解决转派的事件\n- 参加月度服务会议，提供处理记录",
        "service_hours": "7×24 小时。",
        "reporting": "每月提交处理时效统计。",
    }


AGREEMENTS = [
    DemoAgreement(
        "hx-sla",
        AgreementKind.SLA,
        "华信银行 IT 运维服务级别协议",
        "hx-bank",
        ("service-desk", "net-campus", "net-wan", "desk-support", "office-mail", "db-ops"),
        started_months_ago=MONTHS_MEASURED,
        years=2,
        standard=True,
        targets=((Metric.AVAILABILITY, "", "99.9", TargetUnit.PERCENT),),
        sections=_sla_sections("华信银行", "7×24 小时，含法定节假日。"),
    ),
    DemoAgreement(
        "dz-sla",
        AgreementKind.SLA,
        "东州电力信息系统运维服务级别协议",
        "dz-power",
        ("service-desk", "net-wan", "db-ops", "backup", "app-hosting"),
        started_months_ago=2 * MONTHS_MEASURED,
        years=3,
        standard=True,
        sections=_sla_sections("东州电力", "7×24 小时；调度系统保电期间提供现场值守。"),
    ),
    DemoAgreement(
        "mq-sla",
        AgreementKind.SLA,
        "明强物流桌面与办公服务级别协议",
        "mq-logistics",
        ("service-desk", "desk-support", "office-mail"),
        started_months_ago=MONTHS_MEASURED,
        years=2,
        standard=True,
        business_hours=True,
        sections=_sla_sections("明强物流", "工作日 09:00–18:00（中国大陆工作日历），节假日电话值守。"),
    ),
    DemoAgreement(
        "network-ola",
        AgreementKind.OLA,
        "网络运维组运营级别协议",
        "ops-network",
        ("net-campus", "net-wan"),
        started_months_ago=MONTHS_MEASURED,
        years=2,
        targets=(
            (R, "P1", "15", MIN),
            (S, "P1", "1", H),
            (R, "P2", "1", H),
            (S, "P2", "8", H),
            (Metric.AVAILABILITY, "", "99.95", TargetUnit.PERCENT),
        ),
        sections=_support_sections("网络运维组"),
    ),
    DemoAgreement(
        "desktop-ola",
        AgreementKind.OLA,
        "桌面运维组运营级别协议",
        "ops-desktop",
        ("desk-support", "office-mail"),
        started_months_ago=MONTHS_MEASURED,
        years=2,
        targets=((R, "P1", "15", MIN), (S, "P1", "2", H), (R, "P2", "1", H), (S, "P2", "8", H)),
        sections=_support_sections("桌面运维组"),
    ),
    DemoAgreement(
        "dba-ola",
        AgreementKind.OLA,
        "数据库组运营级别协议",
        "ops-dba",
        ("db-ops", "backup"),
        started_months_ago=MONTHS_MEASURED,
        years=2,
        targets=((R, "P1", "10", MIN), (S, "P1", "1", H), (R, "P2", "30", MIN), (S, "P2", "6", H)),
        sections=_support_sections("数据库组"),
    ),
    DemoAgreement(
        "telecom-uc",
        AgreementKind.UC,
        "天联通信广域网专线维护合同",
        "sup-telecom",
        ("net-wan",),
        started_months_ago=MONTHS_MEASURED,
        years=2,
        targets=((R, "P1", "30", MIN), (S, "P1", "4", H), (R, "P2", "2", H), (S, "P2", "8", H)),
        sections=_support_sections("天联通信"),
    ),
    DemoAgreement(
        "hardware-uc",
        AgreementKind.UC,
        "恒达硬件服务器与终端维保合同",
        "sup-hardware",
        ("desk-support", "db-ops"),
        started_months_ago=MONTHS_MEASURED,
        years=2,
        targets=((R, "P1", "30", MIN), (S, "P1", "2", H), (R, "P2", "2", H), (S, "P2", "12", H)),
        sections=_support_sections("恒达硬件服务"),
    ),
]

# Which OLA / UC targets underpin which SLA targets: (SLA key, metric, priority) → [(key, metric, priority)].
# Left out on purpose: every P3 / P4 promise and the logistics SLA's P1 response (not underpinned).
# The bank's P1 resolution (2 h) rests on the telecom UC's 4 h: weakly supported.
AVAIL = Metric.AVAILABILITY
LINKS: list[tuple[tuple[str, str, str], list[tuple[str, str, str]]]] = [
    (("hx-sla", R, "P1"), [("network-ola", R, "P1"), ("telecom-uc", R, "P1")]),
    (("hx-sla", S, "P1"), [("network-ola", S, "P1"), ("telecom-uc", S, "P1")]),
    (("hx-sla", R, "P2"), [("network-ola", R, "P2")]),
    (("hx-sla", S, "P2"), [("network-ola", S, "P2"), ("telecom-uc", S, "P2")]),
    (("hx-sla", AVAIL, ""), [("network-ola", AVAIL, "")]),
    (("dz-sla", R, "P1"), [("dba-ola", R, "P1"), ("hardware-uc", R, "P1")]),
    (("dz-sla", S, "P1"), [("dba-ola", S, "P1"), ("hardware-uc", S, "P1")]),
    (("dz-sla", R, "P2"), [("dba-ola", R, "P2")]),
    (("dz-sla", S, "P2"), [("dba-ola", S, "P2"), ("hardware-uc", S, "P2")]),
    (("mq-sla", S, "P1"), [("desktop-ola", S, "P1"), ("hardware-uc", S, "P1")]),
    (("mq-sla", R, "P2"), [("desktop-ola", R, "P2")]),
    (("mq-sla", S, "P2"), [("desktop-ola", S, "P2")]),
]


@dataclass(frozen=True)
class DemoReview:
    agreement: str
    days_ago: int
    attendees: str
    minutes: str
    findings: str = ""
    decisions: str = ""
    improvement_items: str = ""


REVIEWS = [
    # Held more than a year ago: the next one is overdue.
    DemoReview(
        "dz-sla",
        400,
        "东州电力：杨磊、黄敏；我方：周服务级别、数据库组组长",
        "回顾上一年度服务级别达成情况，P1 事件均在时限内解决。",
        findings="夜间数据库告警的响应偶有延迟。",
        decisions="维持现有服务级别；数据库组增加夜间值班。",
        improvement_items="完善夜间告警升级流程",
    ),
    DemoReview(
        "hx-sla",
        45,
        "华信银行：陈建国、刘芳；我方：周服务级别、网络运维组组长",
        "年度服务评审：全年达成率 96%，两次专线中断导致 P1 解决超时。",
        findings="专线供应商的 P1 修复时限（4 小时）长于对银行承诺的 2 小时。",
        decisions="与天联通信重新谈判维护合同，增加备份线路。",
        improvement_items="专线双路由改造\n供应商合同修订",
    ),
]

BREACH_NOTES = ["专线中断，运营商修复超时", "硬件备件到货延迟", "夜间告警未及时升级", "变更回退耗时较长"]
SAMPLE_SIZES = {"P1": (1, 6), "P2": (6, 24), "P3": (30, 90), "P4": (10, 40), "": (28, 31)}


# --- helpers -----------------------------------------------------------------------------------


def _months_back(day: date, months: int) -> date:
    """The first day of the month ``months`` before ``day``'s month."""
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def _years_later(day: date, years: int) -> date:
    """The day before the same day ``years`` later (the last day of the validity)."""
    return date(day.year + years, day.month, day.day) - timedelta(days=1)


def signed_pdf(number: str, title: str) -> bytes:
    """A minimal valid one-page PDF naming the agreement (ASCII only: the standard fonts)."""
    text = f"{number} - signed agreement (demo)".replace("(", "[").replace(")", "]")
    stream = f"BT /F1 14 Tf 72 760 Td ({text}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> "
        b"/Contents 4 0 R >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number_, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number_} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _target_key(target: ServiceLevelTarget) -> tuple[str, str]:
    return (target.metric, target.priority)


def _actual(target: ServiceLevelTarget, period: date, agreement_key: str) -> tuple[Decimal, int | None, str]:
    """The month's actual, sample size and note: the same for the same agreement, target and
    month whatever the day the demo is loaded (a seed of its own per row)."""
    chooser = random.Random(f"{SEED}:{agreement_key}:{target.metric}:{target.priority}:{period:%Y-%m}")  # noqa: S311
    low, high = SAMPLE_SIZES.get(target.priority, (5, 20))
    sample: int | None = chooser.randint(low, high)
    breach = chooser.random() < 0.07
    value = Decimal(target.value)
    if target.unit == TargetUnit.PERCENT:
        allowed = Decimal(100) - value  # the unavailability the target allows
        share = Decimal(str(chooser.uniform(1.2, 2.5) if breach else chooser.uniform(0.0, 0.8)))
        actual = (Decimal(100) - allowed * share).quantize(Decimal("0.01"))
        sample = None
    else:
        factor = chooser.uniform(1.08, 1.6) if breach else chooser.uniform(0.35, 0.92)
        actual = (value * Decimal(str(factor))).quantize(Decimal("0.01"))
    note = chooser.choice(BREACH_NOTES) if breach else ""
    return actual, sample, note


# --- loading -----------------------------------------------------------------------------------


def _load_services(actor: User, calendar: Calendar | None) -> tuple[dict[str, Service], int]:
    services: dict[str, Service] = {}
    created = 0
    for spec in SERVICES:
        service = Service.objects.filter(code=spec.code).first()
        if service is None:
            service = service_create(
                actor=actor,
                code=spec.code,
                name=spec.name,
                category=spec.category,
                description=spec.description,
                standards=spec.standards,
                owner=actor,
                contact_interface="服务台 400-800-1234，servicedesk@example.com",
                calendar=calendar if spec.business_hours else None,
            )
            if spec.status in (ServiceStatus.ACCEPTED, ServiceStatus.RETIRED):
                service = service_transition(service=service, action="accept", actor=actor, rfc_ref=spec.rfc_ref)
            if spec.status == ServiceStatus.RETIRED:
                service = service_transition(
                    service=service, action="retire", actor=actor, rfc_ref=spec.retire_rfc, note=spec.retire_note
                )
            created += 1
        services[spec.code] = service
    return services, created


def _load_agreement(
    spec: DemoAgreement, actor: User, services: dict[str, Service], calendar: Calendar | None, today: date
) -> tuple[Agreement, int]:
    """The agreement of ``spec``: found by its title, or drafted, given its targets and
    signed document, negotiated and activated; (agreement, rows created)."""
    agreement = Agreement.objects.filter(kind=spec.kind, title=spec.title).first()
    if agreement is not None:
        return agreement, 0
    valid_from = _months_back(today, spec.started_months_ago)
    agreement = agreement_create(
        actor=actor,
        kind=spec.kind,
        title=spec.title,
        counterparty=Organisation.objects.get(code=spec.counterparty),
        services=[services[code] for code in spec.services],
        valid_from=valid_from,
        valid_to=_years_later(valid_from, spec.years),
        **spec.sections,  # type: ignore[arg-type]  # the sections are text
    )
    created = 1
    if spec.standard:
        created += len(
            targets_apply_standard(agreement=agreement, actor=actor, calendar=calendar if spec.business_hours else None)
        )
    for metric, priority, value, unit in spec.targets:
        target_create(
            agreement=agreement, actor=actor, metric=metric, priority=priority, value=Decimal(value), unit=unit
        )
        created += 1
    signed_on = min(valid_from - timedelta(days=10), today)
    upload = SimpleUploadedFile(
        f"{agreement.number}-signed.pdf", signed_pdf(agreement.number, spec.title), content_type="application/pdf"
    )
    agreement_upload_document(agreement=agreement, actor=actor, upload=upload, signed_on=signed_on)
    agreement_transition(agreement=agreement, action="negotiate", actor=actor)
    agreement = agreement_transition(agreement=agreement, action="activate", actor=actor, note="双方已签署。")
    return agreement, created


def _targets(agreement: Agreement) -> dict[tuple[str, str], ServiceLevelTarget]:
    return {_target_key(t): t for t in agreement.targets.filter(name="").select_related("agreement", "calendar")}


def _load_links(agreements: dict[str, Agreement], actor: User) -> int:
    created = 0
    for (sla_key, metric, priority), supports in LINKS:
        sla_target = _targets(agreements[sla_key]).get((metric, priority))
        if sla_target is None or sla_target.agreement.status != AgreementStatus.ACTIVE:
            continue
        linked = set(sla_target.supported_by.values_list("pk", flat=True))
        wanted: list[ServiceLevelTarget] = []
        for key, support_metric, support_priority in supports:
            supporting = _targets(agreements[key]).get((support_metric, support_priority))
            if supporting is None or supporting.pk in linked:
                continue
            if supporting.agreement.status in LIVE_STATUSES:
                wanted.append(supporting)
        if wanted:
            created += len(target_link_support(sla_target=sla_target, supporting=wanted, actor=actor))
    return created


def _load_measurements(key: str, agreement: Agreement, actor: User, today: date) -> int:
    """The twelve months before the current one, for each target; months already measured,
    or closed by an approved report, are left alone."""
    periods = [_months_back(today, months) for months in range(MONTHS_MEASURED, 0, -1)]
    targets = list(agreement.targets.order_by("priority", "metric", "pk"))
    done = set(
        Measurement.objects.filter(target__agreement=agreement, period__in=periods).values_list("target_id", "period")
    )
    closed = set(
        SlaReport.objects.filter(agreement=agreement, period__in=periods)
        .exclude(status=ReportStatus.DRAFT)
        .values_list("period", flat=True)
    )
    rows = []
    for period in periods:
        if period in closed or (agreement.valid_from and period < agreement.valid_from.replace(day=1)):
            continue
        for target in targets:
            if (target.pk, period) in done:
                continue
            actual, sample, note = _actual(target, period, key)
            rows.append({"target": target, "period": period, "actual": actual, "sample_size": sample, "note": note})
    if not rows:
        return 0
    return measurement_bulk_record(rows=rows, source=MeasurementSource.API, actor=actor).count("created")


def _load_reviews(agreements: dict[str, Agreement], actor: User, today: date) -> int:
    created = 0
    for spec in REVIEWS:
        agreement = agreements[spec.agreement]
        if agreement.status != AgreementStatus.ACTIVE or AgreementReview.objects.filter(agreement=agreement).exists():
            continue
        agreement_review_record(
            agreement=agreement,
            held_on=today - timedelta(days=spec.days_ago),
            attendees=spec.attendees,
            minutes=spec.minutes,
            findings=spec.findings,
            decisions=spec.decisions,
            improvement_items=spec.improvement_items,
            actor=actor,
        )
        created += 1
    return created


def load(stdout) -> int:
    actor = User.objects.filter(username=MANAGER).first()
    if actor is None:
        return 0
    today = timezone.localdate()
    calendar = Calendar.objects.filter(is_default=True).first()
    created = 0
    with transaction.atomic():
        services, count = _load_services(actor, calendar)
        created += count
        agreements: dict[str, Agreement] = {}
        for spec in AGREEMENTS:
            agreements[spec.key], count = _load_agreement(spec, actor, services, calendar, today)
            created += count
        created += _load_links(agreements, actor)
        measured = 0
        for spec in AGREEMENTS:
            if spec.kind == AgreementKind.SLA and agreements[spec.key].status == AgreementStatus.ACTIVE:
                measured += _load_measurements(spec.key, agreements[spec.key], actor, today)
        created += measured
        created += _load_reviews(agreements, actor, today)
        last_month = _months_back(today, 1)
        for spec in AGREEMENTS:
            agreement = agreements[spec.key]
            if (
                spec.kind == AgreementKind.SLA
                and agreement.status == AgreementStatus.ACTIVE
                and not SlaReport.objects.filter(agreement=agreement, period=last_month).exists()
            ):
                sla_report_draft(agreement=agreement, period=last_month, actor=actor)
                created += 1
    if created:
        stdout.write(f"service catalogue and agreements: {created} rows ({measured} measurements)\n")
    return created
