"""The itsm benchmark: generate data at scale, then measure pages, API and the calendar.

    .venv/bin/python bench/run.py                       # SQLite file bench/bench.sqlite3
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/itsm_bench .venv/bin/python bench/run.py --contacts 1000000

It migrates its own database (never the development one unless DATABASE_URL says so),
tops the data up to the requested size (re-runs reuse it), and prints for each measured URL
the SQL query count and the median / p95 wall time over ``--repeat`` requests, then the
calendar's throughput. Budgets (``BUDGETS``) are checked: the exit status is 1 when a page
needs more queries than its budget or is slower than its time budget, so the benchmark can
gate a change. Each later app adds its pages to ``PAGES``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "itsm.settings.test")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{ROOT / 'bench' / 'bench.sqlite3'}")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

# (name, url, query budget, median time budget in ms)
PAGES = [
    ("organisation list", "/organisations/", 8, 250),
    ("contact list", "/contacts/", 8, 250),
    ("contact list, filtered", "/contacts/?q=contact1&is_vip=true", 8, 500),
    ("contact list, sorted, deep page", "/contacts/?sort=-email&page=200", 8, 500),
    ("organisation detail", None, 10, 250),
    ("API contacts", "/api/v1/contacts/", 6, 250),
    ("API organisations", "/api/v1/organisations/", 8, 250),
    ("audit trail", "/audit/", 8, 500),
    ("complaint list", "/complaints/", 12, 300),
    ("complaint list, open major", "/complaints/?status=investigating&severity=major", 12, 500),
    ("complaint list, search", "/complaints/?q=TS-202601-00", 12, 800),
    ("complaints overdue", "/complaints/overdue/", 12, 500),
    ("complaints mine", "/complaints/mine/", 12, 300),
    ("complaint analysis", "/complaints/analysis/?month=2026-01", 14, 1500),
    ("complaint detail", "complaint-detail", 20, 250),
    ("API complaints", "/api/v1/complaints/", 10, 300),
]


def generate(contacts: int, organisations: int) -> None:
    from itsm.core.models import Contact, Department, Organisation

    existing_orgs = Organisation.objects.count()
    Organisation.objects.bulk_create(
        [
            Organisation(name=f"Bench organisation {i}", code=f"bench-{i}", is_key_customer=i % 10 == 0)
            for i in range(existing_orgs, organisations)
        ],
        batch_size=2000,
    )
    orgs = list(Organisation.objects.values_list("pk", flat=True))
    if not Department.objects.exists():
        Department.objects.bulk_create(
            [Department(organisation_id=pk, name=f"Dept {j}") for pk in orgs for j in range(3)], batch_size=5000
        )
    existing = Contact.objects.count()
    batch = []
    for i in range(existing, contacts):
        batch.append(
            Contact(
                organisation_id=orgs[i % len(orgs)],
                name=f"Contact {i}",
                email=f"contact{i}@bench.example",
                phone=f"1{i:010d}",
                is_vip=i % 50 == 0,
            )
        )
        if len(batch) >= 5000:
            Contact.objects.bulk_create(batch)
            batch = []
    if batch:
        Contact.objects.bulk_create(batch)


def generate_complaints(count: int, user) -> None:
    """Bulk-insert complaints over two years, shaped like a real desk's history: the oldest
    closed or withdrawn, the newest ~2 % still open in every state, owners spread over a
    team of 20, a contact per ~10 complaints."""
    import random

    from complaints.choices import Category, Channel, ComplaintStatus, Severity
    from complaints.models import Complaint
    from itsm.core.models import Contact

    existing = Complaint.objects.count()
    if existing >= count:
        return
    rng = random.Random(existing)
    from django.contrib.auth.models import Group

    from itsm.core.models import User
    from itsm.core.roles import Role

    contacts = list(Contact.objects.values_list("pk", "organisation_id")[: max(5000, count // 10)])
    team = [user]
    for n in range(19):
        member, _ = User.objects.get_or_create(username=f"bench-desk-{n}")
        member.groups.add(Group.objects.get(name=Role.SERVICE_DESK))
        team.append(member)
    open_statuses = [s for s in ComplaintStatus.values if s not in ("resolved", "closed", "withdrawn")]
    open_from = int(count * 0.98)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    batch = []
    for i in range(existing, count):
        received = start + timedelta(days=680 * i / count)
        contact_pk, organisation_pk = contacts[i % len(contacts)]
        if i >= open_from:
            status = open_statuses[i % len(open_statuses)]
        else:
            status = ComplaintStatus.WITHDRAWN if i % 40 == 0 else ComplaintStatus.CLOSED
        owner = team[i % len(team)]
        accepted = status != ComplaintStatus.REGISTERED
        batch.append(
            Complaint(
                reference=f"TS-{received:%Y%m}-{i:07d}",
                title=f"Bench complaint {i}",
                description="generated",
                channel=Channel.values[i % len(Channel.values)],
                organisation_id=organisation_pk,
                contact_id=contact_pk,
                severity=Severity.MAJOR if i % 9 == 0 else Severity.NORMAL,
                category=Category.values[i % len(Category.values)] if accepted else "",
                status=status,
                owner=owner,
                handler=owner,
                created_by=owner,
                received_at=received,
                response_due_at=received + timedelta(days=1),
                resolution_due_at=received + timedelta(days=14),
                responded_at=received + timedelta(hours=rng.randint(1, 40)) if accepted else None,
                reply_working_seconds=rng.randint(600, 100000) if accepted else None,
                result_satisfaction=rng.randint(1, 5) if status == ComplaintStatus.CLOSED else None,
            )
        )
        if len(batch) >= 5000:
            Complaint.objects.bulk_create(batch)
            batch = []
    if batch:
        Complaint.objects.bulk_create(batch)


def measure(client: Client, url: str, repeat: int) -> tuple[int, float, float, int]:
    client.get(url)  # warm caches
    timings = []
    queries = 0
    status = 0
    for _ in range(repeat):
        reset_queries()
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - start) * 1000)
        queries = len(ctx.captured_queries)
        status = response.status_code
    timings.sort()
    p95 = timings[min(len(timings) - 1, int(len(timings) * 0.95))]
    return queries, statistics.median(timings), p95, status


def calendar_throughput() -> float:
    from itsm.core.calendar import add_working_time, default_calendar

    calendar = default_calendar()
    start = datetime(2026, 9, 28, 1, 0, tzinfo=UTC)
    n = 20000
    began = time.perf_counter()
    for i in range(n):
        add_working_time(start + timedelta(minutes=37 * i), timedelta(hours=4 + i % 40), calendar)
    return n / (time.perf_counter() - began)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--organisations", type=int, default=2_000)
    parser.add_argument("--complaints", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()

    settings.ALLOWED_HOSTS = ["*"]
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    call_command("migrate", verbosity=0)
    began = time.perf_counter()
    generate(args.contacts, args.organisations)
    print(f"data: {args.contacts} contacts, {args.organisations} organisations ({time.perf_counter() - began:.1f} s)")

    from django.contrib.auth.models import Group

    from itsm.core.models import Organisation, User
    from itsm.core.roles import Role

    user, _ = User.objects.get_or_create(username="bench-owner")
    user.groups.add(Group.objects.get(name=Role.PROCESS_OWNER), Group.objects.get(name=Role.SERVICE_DESK))
    began = time.perf_counter()
    generate_complaints(args.complaints, user)
    print(f"data: {args.complaints} complaints ({time.perf_counter() - began:.1f} s)")
    from complaints.models import Complaint

    busiest_complaint = Complaint.objects.order_by("-pk").first()
    client = Client()
    client.force_login(user)
    busiest = Organisation.objects.order_by("-pk").first()

    failures = []
    print(f"\n{'page':38} {'status':>6} {'queries':>8} {'median ms':>10} {'p95 ms':>8}")
    for name, url, query_budget, time_budget in PAGES:
        if url is None:
            url = f"/organisations/{busiest.pk}/"
        elif url == "complaint-detail":
            url = f"/complaints/{busiest_complaint.pk}/"
        queries, median, p95, status = measure(client, url, args.repeat)
        flag = ""
        if status != 200 or queries > query_budget or median > time_budget:
            flag = f"  OVER BUDGET ({query_budget} queries, {time_budget} ms)"
            failures.append(name)
        print(f"{name:38} {status:>6} {queries:>8} {median:>10.1f} {p95:>8.1f}{flag}")
    print(f"\ncalendar: add_working_time {calendar_throughput():,.0f} calls/s")
    if failures:
        print(f"\nover budget: {', '.join(failures)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
