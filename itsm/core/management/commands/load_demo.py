"""Load demo data: one login per role, organisations, departments, contacts, the calendar.

Idempotent: every row is looked up by its natural key first, so running it twice changes
nothing (passwords are set only when a user is first created).
"""

from importlib import import_module

from django.apps import apps
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from itsm.core.choices import Language, OrganisationKind
from itsm.core.models import Calendar, Contact, Department, Organisation, User
from itsm.core.roles import Role

KPI_APP = "kpi"
# Run after every other app's demo, in this order: the KPI history closes periods over the
# records of all the others; the improvement register then takes in what they found (red KPI
# periods, repeated SLA breaches) and its review meetings compile the KPI values.
LAST_APPS = (KPI_APP, "improvement")
DEMO_PASSWORD = "itsm-demo-2026"  # noqa: S105  (documented demo login, README)

USERS = [
    # username, role, full name (zh), email
    ("desk", Role.SERVICE_DESK, "王服务台", "desk@example.com"),
    ("satisfaction", Role.SATISFACTION_OWNER, "李满意", "satisfaction@example.com"),
    ("brm", Role.BR_MANAGER, "张关系", "brm@example.com"),
    ("head", Role.DEPARTMENT_HEAD, "赵部长", "head@example.com"),
    ("mrep", Role.MANAGEMENT_REP, "钱代表", "mrep@example.com"),
    ("owner", Role.PROCESS_OWNER, "孙流程", "owner@example.com"),
    ("slm", Role.SERVICE_LEVEL_MANAGER, "周服务级别", "slm@example.com"),
    ("quality", Role.QUALITY_MANAGER, "吴质量", "quality@example.com"),
    ("auditor", Role.AUDITOR, "郑审核", "auditor@example.com"),
]

# Departments the service desk visits every week (their reports go to the Monday meeting);
# 云城第一医院 / 信息科 has no report in the demo, so the meeting lists it as missing.
WEEKLY_VISITS = {
    ("hx-bank", "信息科技部"),
    ("dz-power", "调度中心"),
    ("mq-logistics", "IT 部"),
    ("yc-hospital", "信息科"),
}

ORGANISATIONS = [
    # code, name, kind, key customer, departments
    ("hx-bank", "华信银行", OrganisationKind.CUSTOMER, True, ["信息科技部", "运营管理部", "零售业务部"]),
    ("dz-power", "东州电力", OrganisationKind.CUSTOMER, True, ["调度中心", "信息中心"]),
    ("mq-logistics", "明强物流", OrganisationKind.CUSTOMER, False, ["IT 部", "仓储部"]),
    ("yc-hospital", "云城第一医院", OrganisationKind.CUSTOMER, False, ["信息科", "门诊部"]),
    ("ops-network", "网络运维组", OrganisationKind.INTERNAL_TEAM, False, []),
    ("ops-desktop", "桌面运维组", OrganisationKind.INTERNAL_TEAM, False, []),
    ("ops-dba", "数据库组", OrganisationKind.INTERNAL_TEAM, False, []),
    ("sup-telecom", "天联通信", OrganisationKind.SUPPLIER, False, []),
    ("sup-hardware", "恒达硬件服务", OrganisationKind.SUPPLIER, False, []),
]

CONTACTS = [
    # org code, department, name, email, phone, vip, language
    ("hx-bank", "信息科技部", "陈建国", "chen.jianguo@hx-bank.example", "13800000001", True, Language.ZH_HANS),
    ("hx-bank", "运营管理部", "刘芳", "liu.fang@hx-bank.example", "13800000002", False, Language.ZH_HANS),
    ("hx-bank", "零售业务部", "Grace Lin", "grace.lin@hx-bank.example", "13800000003", False, Language.EN),
    ("dz-power", "调度中心", "杨磊", "yang.lei@dz-power.example", "13800000004", True, Language.ZH_HANS),
    ("dz-power", "信息中心", "黄敏", "huang.min@dz-power.example", "13800000005", False, Language.ZH_HANS),
    ("mq-logistics", "IT 部", "徐强", "xu.qiang@mq-logistics.example", "13800000006", False, Language.ZH_HANS),
    ("mq-logistics", "仓储部", "马丽", "ma.li@mq-logistics.example", "13800000007", False, Language.ZH_HANS),
    ("yc-hospital", "信息科", "朱伟", "zhu.wei@yc-hospital.example", "13800000008", True, Language.ZH_HANS),
    ("yc-hospital", "门诊部", "David Wong", "david.wong@yc-hospital.example", "13800000009", False, Language.EN),
    ("sup-telecom", None, "胡涛", "hu.tao@tianlian.example", "13800000010", False, Language.ZH_HANS),
    ("sup-hardware", None, "林静", "lin.jing@hengda.example", "13800000011", False, Language.ZH_HANS),
]


class Command(BaseCommand):
    help = "Load demo data (idempotent): a login per role, organisations, contacts, the calendar."

    @transaction.atomic
    def handle(self, *args, **options):
        created = 0
        calendar, new = Calendar.objects.get_or_create(is_default=True, defaults={"name": "中国大陆工作日历"})
        created += new
        # Around the clock (24×7) is "no calendar" on services and targets: no second calendar
        # of that name, which read as two different 24×7 clocks.
        for username, role, full_name, email in USERS:
            user, new = User.objects.get_or_create(
                username=username,
                defaults={"first_name": full_name, "email": email, "preferred_language": Language.ZH_HANS},
            )
            if new:
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
                created += 1
            group = Group.objects.get(name=role.value)
            if not user.groups.filter(pk=group.pk).exists():
                user.groups.add(group)
        admin, new = User.objects.get_or_create(
            username="admin",
            defaults={"first_name": "管理员", "email": "admin@example.com", "is_staff": True, "is_superuser": True},
        )
        if new:
            admin.set_password(DEMO_PASSWORD)
            admin.save(update_fields=["password"])
            created += 1
        organisations = {}
        for code, name, kind, key_customer, departments in ORGANISATIONS:
            organisation, new = Organisation.objects.get_or_create(
                code=code, defaults={"name": name, "kind": kind, "is_key_customer": key_customer}
            )
            created += new
            organisations[code] = organisation
            for department_name in departments:
                _department, new = Department.objects.get_or_create(
                    organisation=organisation,
                    name=department_name,
                    defaults={"weekly_visits": (code, department_name) in WEEKLY_VISITS},
                )
                created += new
        for code, department_name, name, email, phone, vip, language in CONTACTS:
            organisation = organisations[code]
            department = (
                Department.objects.get(organisation=organisation, name=department_name) if department_name else None
            )
            _contact, new = Contact.objects.get_or_create(
                organisation=organisation,
                email=email,
                defaults={
                    "department": department,
                    "name": name,
                    "phone": phone,
                    "is_vip": vip,
                    "preferred_language": language,
                },
            )
            created += new
        # Each app adds its own demo records in its demo module or package (a function load(stdout) -> rows created).
        # The KPIs' and the improvement register's come last (``LAST_APPS``).
        for app_config in apps.get_app_configs():
            if app_config.name.startswith(("django.", "rest_framework", "drf_", "auditlog", "axes", "knox")):
                continue
            if app_config.name in LAST_APPS:
                continue
            try:
                demo = import_module(f"{app_config.name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{app_config.name}.demo":
                    raise
                continue
            created += demo.load(self.stdout)
        for name in LAST_APPS:
            if apps.is_installed(name):
                created += import_module(f"{name}.demo").load(self.stdout)
        self.stdout.write(self.style.SUCCESS(f"Demo data loaded: {created} rows created."))
        if created:
            self.stdout.write(f"Logins ({DEMO_PASSWORD}): " + ", ".join(u[0] for u in USERS) + ", admin (superuser)")
