"""Complaint lists, exports, the monthly analysis and the deadline targets pages."""

from __future__ import annotations

import csv
import io
import itertools
from datetime import datetime
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import time_machine
from django.db import connection
from django.http import FileResponse, StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from complaints.choices import Category, Channel, ComplaintStatus, EscalationLevel, Severity, TargetUnit
from complaints.models import Complaint, ComplaintTarget
from complaints.services import complaint_transition
from complaints.views.lists import export_columns
from itsm.core.roles import Role
from itsm.core.testing import (
    ALL_ROLES,
    ANONYMOUS,
    Resource,
    assert_constant_queries,
    assert_nothing_written,
    check_page_access,
    page_matrix,
    role_may,
    user_with_role,
)
from tests.complaints.factories import AT_BRM, PATHS, make_complaint, role_user
from tests.factories import ContactFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
S = ComplaintStatus
_clone_numbers = itertools.count(1)


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


@pytest.fixture
def client_en(client):
    """``client_en("auditor")`` → the test client signed in as a role member who reads English."""

    def login(role: str):
        user = user_with_role(role, preferred_language="en")
        client.force_login(user)
        client.user = user
        return client

    return login


def refs(response) -> list[str]:
    return [row.complaint.reference for row in response.context["rows"]]


def clone(complaint: Complaint, n: int, **changes) -> list[Complaint]:
    """``n`` copies of ``complaint`` in one INSERT (unique references, same everything else)."""
    original = Complaint.objects.get(pk=complaint.pk)
    copies = []
    for _ in range(n):
        copy = Complaint.from_db(
            "default",
            [f.attname for f in Complaint._meta.concrete_fields],
            [getattr(original, f.attname) for f in Complaint._meta.concrete_fields],
        )
        copy.pk = copy.id = None
        copy._state.adding = True
        copy.reference = f"TS-CLONE-{next(_clone_numbers):06d}"
        for name, value in changes.items():
            setattr(copy, name, value)
        copies.append(copy)
    return Complaint.objects.bulk_create(copies)


# --- access -----------------------------------------------------------------------------------

COMPLAINT_PAGES = [
    ("complaint_list", {}),
    ("complaint_mine", {}),
    ("complaint_overdue", {}),
    ("complaint_analysis", {}),
    ("complaint_export", {"fmt": "csv"}),
    ("complaint_export", {"fmt": "xlsx"}),
]


@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize(("url_name", "kwargs"), COMPLAINT_PAGES, ids=lambda v: v if isinstance(v, str) else "")
def test_complaint_pages_access(client, role, url_name, kwargs):
    make_complaint()
    url = reverse(url_name, kwargs=kwargs)
    if role == ANONYMOUS:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
        return
    client.force_login(user_with_role(role))
    allowed = role_may(role, ["view"], Complaint)
    assert allowed == (role != "no-role")  # every role reads complaints (roles.py)
    assert client.get(url).status_code == (200 if allowed else 403)


TARGETS = Resource(
    model=ComplaintTarget,
    factory=lambda: ComplaintTarget.objects.get(severity=Severity.NORMAL),
    pages={"list": "complaint_target_list", "edit": "complaint_target_edit"},
)


@pytest.mark.parametrize("case", page_matrix(TARGETS), ids=str)
def test_target_pages_access(client, case):
    check_page_access(client, case)
    if case.action == "edit":
        assert case.allowed == (case.role == Role.PROCESS_OWNER)


def test_export_unknown_format_is_404_and_refused_before_for_no_role(client_as):
    client = client_as("auditor")
    assert client.get(reverse("complaint_export", args=["pdf"])).status_code == 404
    assert client.get("/complaints/export.csv.exe").status_code == 404
    client = client_as(None)
    assert client.get(reverse("complaint_export", args=["pdf"])).status_code == 403


# --- list: columns, filters, search, sort, pagination --------------------------------------------


def test_list_shows_columns_and_badges(client_as):
    contact = ContactFactory(name="陈静", phone="13800000001", organisation__name="华东电力")
    complaint = make_complaint(AT_BRM, contact=contact, severity=Severity.MAJOR, title="机房断电无人响应")
    page = client_as("service_desk").get(reverse("complaint_list")).content.decode()
    assert complaint.reference in page and reverse("complaint_detail", args=[complaint.pk]) in page
    for text in ("机房断电无人响应", "华东电力", "陈静", "13800000001", str(complaint.owner)):
        assert text in page
    assert f'text-bg-danger">{Severity.MAJOR.label}' in page
    assert f'text-bg-warning" data-status="escalated">{S.ESCALATED.label}' in page  # STATUS_COLOURS
    assert str(EscalationLevel.BR_MANAGER.label) in page
    assert reverse("complaint_export", args=["csv"]) in page and reverse("complaint_export", args=["xlsx"]) in page


def test_each_filter_narrows(client_as):
    client = client_as("br_manager")
    me = client.user
    org = OrganisationFactory()
    registered = make_complaint(channel=Channel.EMAIL)
    major = make_complaint(severity=Severity.MAJOR, contact=ContactFactory(organisation=org))
    billing = make_complaint(category=Category.CONTRACT_BILLING, handler=me)
    escalated = make_complaint(AT_BRM)
    closed = make_complaint(S.CLOSED)
    everyone = {c.reference for c in (registered, major, billing, escalated, closed)}

    def listed(**params) -> set[str]:
        response = client.get(reverse("complaint_list"), params)
        assert response.status_code == 200
        return set(refs(response))

    assert listed() == everyone
    assert listed(status=[S.REGISTERED]) == {registered.reference, major.reference, billing.reference}
    assert listed(status=[S.ESCALATED, S.CLOSED]) == {escalated.reference, closed.reference}
    assert listed(severity=Severity.MAJOR) == {major.reference}
    assert listed(category=Category.CONTRACT_BILLING) == {billing.reference}
    assert listed(channel=Channel.EMAIL) == {registered.reference}
    assert listed(organisation=org.pk) == {major.reference}
    # I handle "billing"; as the first BR manager I also own the escalated complaint.
    assert listed(owner=me.pk) == {billing.reference, escalated.reference}
    assert listed(escalation_level=EscalationLevel.BR_MANAGER) == {escalated.reference}
    assert listed(open="true") == everyone - {closed.reference}
    assert listed(open="false") == {closed.reference}
    assert listed(overdue="true") == set()
    assert listed(overdue="false") == everyone


def test_received_date_range_uses_local_dates(client_as):
    client = client_as("service_desk")
    with time_machine.travel(at(2026, 11, 18, 10, 0), tick=False):
        late_october = make_complaint(received_at=at(2026, 10, 31, 23, 30))  # 15:30 UTC
        early_november = make_complaint(received_at=at(2026, 11, 1, 0, 10))  # Oct 31 16:10 UTC
        today = make_complaint()
        url = reverse("complaint_list")
        october = refs(client.get(url, {"received_after": "2026-10-01", "received_before": "2026-10-31"}))
        november = refs(client.get(url, {"received_after": "2026-11-01"}))
        until_first = refs(client.get(url, {"received_before": "2026-11-01"}))
    assert october == [late_october.reference]
    assert november == [today.reference, early_november.reference]
    assert until_first == [early_november.reference, late_october.reference]


@pytest.mark.parametrize(
    ("query", "field"),
    [("TS-", "reference"), ("光纤", "title"), ("欧阳", "contact"), ("13912345678", "phone"), ("INC-4711", "ticket")],
)
def test_search(client_as, query, field):
    client = client_as("quality_manager")
    target = make_complaint(
        title="光纤中断三小时",
        contact=ContactFactory(name="欧阳明", phone="13912345678"),
        external_ticket_ref="INC-4711",
    )
    other = make_complaint(title="Slow reply", contact=ContactFactory(name="Li", phone="13700000000"))
    found = refs(client.get(reverse("complaint_list"), {"q": query}))
    if field == "reference":
        assert set(found) == {target.reference, other.reference}
        found = refs(client.get(reverse("complaint_list"), {"q": target.reference}))
    assert found == [target.reference]


def test_invalid_filters_show_errors_and_no_rows(client_as):
    make_complaint()
    response = client_as("service_desk").get(
        reverse("complaint_list"), {"severity": "catastrophic", "received_after": "not-a-date"}
    )
    assert response.status_code == 200
    assert refs(response) == []
    errors = response.context["filterset"].form.errors
    assert "severity" in errors and "received_after" in errors
    assert 'class="invalid-feedback d-block"' in response.content.decode()


def test_sort_and_unknown_sort_ignored(client_as):
    client = client_as("service_desk")
    with time_machine.travel(at(2026, 11, 18, 10, 0), tick=False):
        first = make_complaint(received_at=at(2026, 11, 16, 9, 0))
        second = make_complaint(severity=Severity.MAJOR, received_at=at(2026, 11, 17, 9, 0))
        third = make_complaint(received_at=at(2026, 11, 18, 9, 0))
        url = reverse("complaint_list")
        assert refs(client.get(url)) == [third.reference, second.reference, first.reference]  # newest first
        assert refs(client.get(url, {"sort": "reference"})) == [first.reference, second.reference, third.reference]
        assert refs(client.get(url, {"sort": "-reference"})) == [third.reference, second.reference, first.reference]
        assert refs(client.get(url, {"sort": "received_at"})) == [first.reference, second.reference, third.reference]
        assert refs(client.get(url, {"sort": "severity"}))[0] == second.reference  # "major" < "normal"
        by_due = refs(client.get(url, {"sort": "resolution_due_at"}))
        assert by_due[0] == second.reference  # major: 5 working days, the others 10
        assert refs(client.get(url, {"sort": "description"})) == [third.reference, second.reference, first.reference]
        assert refs(client.get(url, {"sort": "-contact__email"})) == [
            third.reference,
            second.reference,
            first.reference,
        ]


def test_pagination_25_a_page_keeps_filters(client_as):
    client = client_as("service_desk")
    seed = make_complaint(severity=Severity.MAJOR)
    clone(seed, 29)
    make_complaint()  # a normal one, filtered out
    first = client.get(reverse("complaint_list"), {"severity": "major"})
    assert len(first.context["rows"]) == 25 and first.context["paginator"].count == 30
    assert "severity=major&amp;page=2" in first.content.decode()
    second = client.get(reverse("complaint_list"), {"severity": "major", "page": 2})
    assert len(second.context["rows"]) == 5


def test_time_left_in_working_hours(client_as):
    client = client_as("service_desk")
    # Wed 2026-09-30 10:00: a major complaint is due to be accepted 4 working hours later (14:00).
    with time_machine.travel(at(2026, 9, 30, 10, 0), tick=False):
        major = make_complaint(severity=Severity.MAJOR)
    with time_machine.travel(at(2026, 9, 30, 12, 30), tick=False):
        (row,) = client.get(reverse("complaint_list")).context["rows"]
        assert row.deadline == "response" and row.hours_left == 1.5 and not row.response_overdue
    # The National Day holiday (Oct 1-7) does not count: at Oct 8 10:00 it is 5 working hours late.
    with time_machine.travel(at(2026, 10, 8, 10, 0), tick=False):
        response = client.get(reverse("complaint_list"))
        (row,) = response.context["rows"]
        assert row.complaint == major and row.response_overdue and row.hours_left == -5.0
        assert "5.0" in response.content.decode() and 'data-testid="overdue"' in response.content.decode()


# --- presets: mine and overdue ---------------------------------------------------------------


def test_my_complaints_are_mine_and_open_by_default(client_as):
    client = client_as("service_desk")
    me = client.user
    mine_open = make_complaint(actor=me)
    mine_closed = make_complaint(S.WITHDRAWN, actor=me)
    someone_elses = make_complaint(actor=user_with_role("service_desk"))
    url = reverse("complaint_mine")
    response = client.get(url)
    assert refs(response) == [mine_open.reference]
    # Asking for all (the "Any" choice) or for finished ones; the owner cannot be changed.
    assert set(refs(client.get(url, {"open": ""}))) == {mine_open.reference, mine_closed.reference}
    assert refs(client.get(url, {"open": "false"})) == [mine_closed.reference]
    assert refs(client.get(url, {"owner": someone_elses.owner_id})) == [mine_open.reference]
    assert 'name="owner"' not in response.content.decode()
    # The export carries the preset.
    assert f"owner={me.pk}" in response.context["export_querystring"]


def test_overdue_view_lists_open_complaints_past_a_deadline(client_as):
    client = client_as("br_manager")
    # Registered Wed 2026-09-30 10:00; a normal complaint must be accepted within one working day:
    # the National Day holiday (Oct 1-7) pushes that to Thu Oct 8 10:00.
    with time_machine.travel(at(2026, 9, 30, 10, 0), tick=False):
        not_accepted = make_complaint()
        accepted = make_complaint(S.INVESTIGATING)
        waiting = make_complaint(S.AWAITING_FEEDBACK)
    assert not_accepted.response_due_at == at(2026, 10, 8, 10, 0)
    url = reverse("complaint_overdue")
    with time_machine.travel(at(2026, 10, 7, 17, 0), tick=False):
        assert refs(client.get(url)) == []
    with time_machine.travel(at(2026, 10, 8, 11, 0), tick=False):
        response = client.get(url)
        assert refs(response) == [not_accepted.reference]
        assert 'name="overdue"' not in response.content.decode()
        assert "overdue=true" in response.context["export_querystring"]
    # Ten working days after Sep 30 10:00 (Oct 10 is a make-up working Saturday) the investigation
    # is past its resolution deadline too; the complaint waiting on the customer is paused.
    assert accepted.resolution_due_at == at(2026, 10, 20, 10, 0)
    with time_machine.travel(at(2026, 10, 20, 11, 0), tick=False):
        response = client.get(url)
        assert set(refs(response)) == {not_accepted.reference, accepted.reference}
        assert waiting.reference not in refs(response)
        # Other filters still apply within the preset.
        assert refs(client.get(url, {"status": [S.INVESTIGATING]})) == [accepted.reference]


def test_headings_name_the_view(client_en):
    client = client_en("service_desk")
    for url_name, heading in [
        ("complaint_list", "All complaints"),
        ("complaint_mine", "My complaints"),
        ("complaint_overdue", "Overdue complaints"),
    ]:
        page = client.get(reverse(url_name)).content.decode()
        assert f'<h1 class="h3 mb-0" data-testid="list-heading">{heading}</h1>' in page


# --- query counts ----------------------------------------------------------------------------


def _seed_complaints(n: int) -> None:
    """``n`` more complaints: a few through the workflow, the rest cloned, with varied rows."""
    seeds = list(Complaint.objects.order_by("pk")[:4])
    if not seeds:
        with time_machine.travel(at(2026, 9, 30, 10, 0), tick=False):
            seeds = [
                make_complaint(),
                make_complaint(S.INVESTIGATING, severity=Severity.MAJOR),
                make_complaint(S.AWAITING_FEEDBACK),
                make_complaint(S.CLOSED),
            ]
        n -= len(seeds)
    owners = [UserFactory() for _ in range(3)]
    contacts = [ContactFactory() for _ in range(3)]
    for index in range(max(n, 0)):
        contact = contacts[index % 3]
        clone(
            seeds[index % len(seeds)],
            1,
            owner=owners[index % 3],
            handler=owners[(index + 1) % 3],
            contact=contact,
            organisation=contact.organisation,
        )


@pytest.mark.parametrize("url_name", ["complaint_list", "complaint_overdue", "complaint_mine"])
def test_list_query_count_constant_from_10_to_500(client_as, url_name):
    client = client_as("process_owner")
    with time_machine.travel(at(2026, 10, 20, 10, 0), tick=False):
        count = assert_constant_queries(client, reverse(url_name), _seed_complaints, few=10, many=500)
    assert count <= 15, count


def test_list_query_count_with_filters_and_sort(client_as):
    client = client_as("auditor")
    url = reverse("complaint_list") + "?status=registered&status=investigating&q=TS-&sort=-resolution_due_at&page=2"
    with time_machine.travel(at(2026, 10, 20, 10, 0), tick=False):
        assert_constant_queries(client, url, _seed_complaints, few=60, many=500)


def test_analysis_query_count_constant_from_10_to_500(client_as):
    client = client_as("management_rep")

    def make_rows(n: int) -> None:
        _seed_complaints(n)
        # Spread the clones over organisations and categories so every breakdown has rows.
        for index, pk in enumerate(
            Complaint.objects.filter(reference__startswith="TS-CLONE").values_list("pk", flat=True)
        ):
            Complaint.objects.filter(pk=pk).update(category=list(Category.values)[index % 6])

    with time_machine.travel(at(2026, 10, 20, 10, 0), tick=False):
        assert_constant_queries(client, reverse("complaint_analysis") + "?month=2026-09", make_rows, few=10, many=500)


# --- export ----------------------------------------------------------------------------------


def _content(response) -> bytes:
    return b"".join(response.streaming_content)


def _csv_rows(response) -> list[list[str]]:
    text = _content(response).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def _headers(response) -> list[str]:
    with translation.override(response["Content-Language"]):
        return [str(label) for label, _accessor in export_columns()]


def test_export_csv_streams_every_filtered_row_with_chinese_intact(client_as):
    client = client_as("auditor")
    with time_machine.travel(at(2026, 11, 21, 10, 0), tick=False):
        major = make_complaint(
            severity=Severity.MAJOR,
            title="网络中断，客户非常不满",
            contact=ContactFactory(name="王芳", organisation__name="上海分公司"),
            received_at=at(2026, 11, 20, 8, 5),
        )
        make_complaint(title="普通投诉")
        response = client.get(reverse("complaint_export", args=["csv"]), {"severity": "major"})
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse) and not isinstance(response, FileResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="complaints-20261121.csv"'
    rows = _csv_rows(response)
    assert rows[0] == _headers(response)
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    columns = rows[0]
    assert rows[1][0] == major.reference
    assert "网络中断，客户非常不满" in rows[1] and "王芳" in rows[1] and "上海分公司" in rows[1]
    with translation.override(response["Content-Language"]):
        assert row[columns[2]] == str(S.REGISTERED.label) and row[columns[3]] == str(Severity.MAJOR.label)
    assert row[columns[14]] == "2026-11-20 08:05:00"  # received, local time


def test_export_gives_the_related_service_by_name_or_as_recorded(client_as):
    from sla.choices import ServiceStatus
    from tests.sla.factories import ServiceFactory

    client = client_as("service_desk")
    service = ServiceFactory(name="广域网专线服务", status=ServiceStatus.ACCEPTED)
    linked, recorded = make_complaint(related_service=service), make_complaint(related_service_text="远程接入")
    rows = {row[0]: row for row in _csv_rows(client.get(reverse("complaint_export", args=["csv"])))[1:]}
    assert rows[linked.reference][10] == "广域网专线服务"
    assert rows[recorded.reference][10] == "远程接入"


def test_export_xlsx_is_a_streamed_file_with_typed_cells(client_as):
    client = client_as("service_desk")
    with time_machine.travel(at(2026, 11, 21, 10, 0), tick=False):
        complaint = make_complaint(S.ACCEPTED, title='=HYPERLINK("http://x")投诉', received_at=at(2026, 11, 20, 9, 0))
        make_complaint(S.CLOSED)
        response = client.get(reverse("complaint_export", args=["xlsx"]), {"open": "true"})
    assert response.status_code == 200 and isinstance(response, FileResponse)
    assert response["Content-Disposition"] == 'attachment; filename="complaints-20261121.xlsx"'
    sheet = openpyxl.load_workbook(io.BytesIO(_content(response))).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == _headers(response) and len(rows) == 2
    assert rows[1][0] == complaint.reference
    assert rows[1][1] == '=HYPERLINK("http://x")投诉'  # text, not a formula
    assert sheet.cell(row=2, column=2).data_type == "s"
    assert rows[1][14] == datetime(2026, 11, 20, 9, 0)  # naive local time
    assert rows[1][17] == 1  # received Fri 09:00, accepted Sat 10:00: one working day (9 h)


def test_export_csv_neutralises_formulas(client_as):
    client = client_as("service_desk")
    make_complaint(title="=1+2")
    rows = _csv_rows(client.get(reverse("complaint_export", args=["csv"])))
    assert rows[1][1] == "'=1+2"


def test_export_has_no_row_cap_and_reads_in_chunks(client_as):
    client = client_as("service_desk")
    clone(make_complaint(), 2499)
    with CaptureQueriesContext(connection) as queries:
        rows = _csv_rows(client.get(reverse("complaint_export", args=["csv"])))
    assert len(rows) == 1 + 2500
    assert len({row[0] for row in rows[1:]}) == 2500
    selects = [q["sql"] for q in queries.captured_queries if 'FROM "complaints_complaint"' in q["sql"]]
    assert len(selects) <= 3  # one query per chunk of 2000 (SQLite) or a server-side cursor


def test_export_invalid_filters_are_a_400(client_as):
    response = client_as("service_desk").get(reverse("complaint_export", args=["csv"]), {"severity": "x"})
    assert response.status_code == 400


def test_export_labels_follow_the_language(client_en):
    make_complaint(AT_BRM)
    rows = _csv_rows(client_en("auditor").get(reverse("complaint_export", args=["csv"])))
    assert rows[0][:4] == ["Reference", "Title", "Status", "Severity"]
    assert rows[1][2:4] == ["Escalated", "Normal"]
    assert rows[1][11] == "BR manager"  # escalation level


# --- monthly analysis ------------------------------------------------------------------------


def _accept(complaint: Complaint, moment: datetime) -> Complaint:
    with time_machine.travel(moment, tick=False):
        return complaint_transition(complaint=complaint, action="accept", actor=role_user(Role.SERVICE_DESK))


def _register(moment: datetime, **fields) -> Complaint:
    with time_machine.travel(moment, tick=False):
        return make_complaint(**fields)


def test_analysis_numbers_by_hand(client_en):
    east, west = OrganisationFactory(name="华东客户"), OrganisationFactory(name="西部客户")
    # Reply times (registered → accepted, 09:00-18:00 working days of 9 hours):
    a = _register(at(2026, 10, 12, 9, 0), contact=ContactFactory(organisation=east), category=Category.ATTITUDE)
    a = _accept(a, at(2026, 10, 12, 18, 0))  # 9 h = 1 working day
    b = _register(at(2026, 10, 13, 9, 0), contact=ContactFactory(organisation=east), category=Category.ATTITUDE)
    b = _accept(b, at(2026, 10, 15, 9, 0))  # 18 h = 2 working days
    c = _register(
        at(2026, 10, 14, 9, 0),
        contact=ContactFactory(organisation=west),
        severity=Severity.MAJOR,
        category=Category.SLA_BREACH,
    )
    c = _accept(c, at(2026, 10, 14, 13, 30))  # 4.5 h = 0.5 working day
    # Received on the last evening of October (local time): counted, never accepted.
    d = _register(at(2026, 10, 31, 23, 30), contact=ContactFactory(organisation=west))
    # Just after midnight on November 1st local time (still October in UTC): not counted.
    _register(at(2026, 11, 1, 0, 10), contact=ContactFactory(organisation=west), category=Category.ATTITUDE)
    # a goes on to resolved through the workflow; c is reopened once; ratings 5 (a) and 3 (b).
    with time_machine.travel(at(2026, 10, 16, 10, 0), tick=False):
        for action, role, inputs in PATHS[S.RESOLVED][1:]:
            a = complaint_transition(complaint=a, action=action, actor=role_user(role), **inputs)
    Complaint.objects.filter(pk=a.pk).update(result_satisfaction=5)
    Complaint.objects.filter(pk=b.pk).update(result_satisfaction=3)
    Complaint.objects.filter(pk=c.pk).update(reopen_count=1)

    client = client_en("quality_manager")
    with time_machine.travel(at(2026, 11, 18, 10, 0), tick=False):
        response = client.get(reverse("complaint_analysis"), {"month": "2026-10"})
    context = response.context
    assert context["total"] == 4
    assert context["replied"] == 3
    assert context["average_reply_days"] == pytest.approx((1 + 2 + 0.5) / 3, abs=0.005)  # 1.17
    assert context["resolved"] == 1
    assert context["reopened"] == 1
    assert (context["rated"], context["satisfied"], context["satisfaction_percent"]) == (2, 1, 50.0)
    breakdowns = {b["testid"]: b["rows"] for b in context["breakdowns"]}
    # a's category became "response speed" when the customer was satisfied (factory inputs).
    by_category = {row["label"]: row["count"] for row in breakdowns["by-category"]}
    assert by_category == {"Service attitude": 1, "Response speed": 1, "SLA breach": 1, "Not categorised": 1}
    by_severity = {row["label"]: row["count"] for row in breakdowns["by-severity"]}
    assert by_severity == {"Normal": 3, "Major": 1}
    by_organisation = [(row["label"], row["count"], row["width"]) for row in breakdowns["by-organisation"]]
    assert sorted(by_organisation) == [("华东客户", 2, 100), ("西部客户", 2, 100)]
    page = response.content.decode()
    assert "1.17" in page and "50.0 %" in page
    # Drill-down links open the list filtered the same way, and it shows those rows.
    sla_row = next(row for row in breakdowns["by-category"] if row["count"] and "sla_breach" in row["url"])
    assert sla_row["url"] in page.replace("&amp;", "&")
    assert refs(client.get(sla_row["url"])) == [c.reference]
    assert set(refs(client.get(context["total_url"]))) == {a.reference, b.reference, c.reference, d.reference}
    assert refs(client.get(context["resolved_url"])) == [a.reference]
    east_row = next(row for row in breakdowns["by-organisation"] if row["label"] == "华东客户")
    assert set(refs(client.get(east_row["url"]))) == {a.reference, b.reference}


def test_analysis_defaults_to_this_month_with_prev_next_links(client_as):
    client = client_as("auditor")
    with time_machine.travel(at(2026, 1, 15, 10, 0), tick=False):
        response = client.get(reverse("complaint_analysis"))
        assert response.context["month"].isoformat() == "2026-01-01"
        page = response.content.decode()
        assert "?month=2025-12" in page and "?month=2026-02" in page
        assert response.context["total"] == 0 and response.context["average_reply_days"] is None
        december = client.get(reverse("complaint_analysis"), {"month": "2026-12"})
        assert "?month=2027-01" in december.content.decode()
        bad = client.get(reverse("complaint_analysis"), {"month": "2026-13"})
        assert bad.status_code == 200 and bad.context["month"].isoformat() == "2026-01-01"
        assert client.get(reverse("complaint_analysis"), {"month": "garbage"}).status_code == 200


# --- deadline targets ------------------------------------------------------------------------


def test_target_list_shows_each_severity(client_as):
    response = client_as("service_desk").get(reverse("complaint_target_list"))
    page = response.content.decode()
    assert [t.severity for t in response.context["object_list"]] == [Severity.MAJOR, Severity.NORMAL]
    assert f'data-severity="{Severity.MAJOR}"' in page and f'data-severity="{Severity.NORMAL}"' in page
    assert str(TargetUnit.WORKING_HOURS.label) in page and "75 %" in page
    assert reverse("complaint_target_edit", args=[ComplaintTarget.objects.get(severity="normal").pk]) not in page
    owner_page = client_as("process_owner").get(reverse("complaint_target_list")).content.decode()
    assert reverse("complaint_target_edit", args=[ComplaintTarget.objects.get(severity="normal").pk]) in owner_page


def _target_form(target: ComplaintTarget, **changes) -> dict:
    data = {
        "response_value": target.response_value,
        "response_unit": target.response_unit,
        "resolution_value": target.resolution_value,
        "resolution_unit": target.resolution_unit,
        "warning_percent": target.warning_percent,
        "calendar": target.calendar_id or "",
    }
    data.update(changes)
    return data


def test_process_owner_edits_a_target_and_open_due_dates_move(client_as, django_capture_on_commit_callbacks):
    with time_machine.travel(at(2026, 10, 12, 10, 0), tick=False):
        open_complaint = make_complaint()
        finished = make_complaint(S.WITHDRAWN)
    assert open_complaint.response_due_at == at(2026, 10, 13, 10, 0)
    assert open_complaint.resolution_due_at == at(2026, 10, 26, 10, 0)
    target = ComplaintTarget.objects.get(severity=Severity.NORMAL)
    client = client_as("process_owner")
    url = reverse("complaint_target_edit", args=[target.pk])
    assert client.get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(url, _target_form(target, response_value=2, resolution_value=12))
    assert response.status_code == 302 and response["Location"] == reverse("complaint_target_list")
    assert len(callbacks) == 1
    target.refresh_from_db()
    assert (target.response_value, target.resolution_value) == (2, 12)
    open_complaint.refresh_from_db()
    assert open_complaint.response_due_at == at(2026, 10, 14, 10, 0)
    assert open_complaint.resolution_due_at == at(2026, 10, 28, 10, 0)
    before = finished.resolution_due_at
    finished.refresh_from_db()
    assert finished.resolution_due_at == before  # only open complaints are recomputed


@pytest.mark.parametrize("role", ["service_desk", "br_manager", "auditor", "department_head"])
def test_others_may_not_edit_targets(client_as, role):
    target = ComplaintTarget.objects.get(severity=Severity.MAJOR)
    client = client_as(role)
    url = reverse("complaint_target_edit", args=[target.pk])
    assert client.get(url).status_code == 403
    with assert_nothing_written(ComplaintTarget):
        assert client.post(url, _target_form(target, response_value=1)).status_code == 403
    target.refresh_from_db()
    assert target.response_value == 4


def test_invalid_target_shows_field_error_and_changes_nothing(client_as, django_capture_on_commit_callbacks):
    target = ComplaintTarget.objects.get(severity=Severity.NORMAL)
    client = client_as("process_owner")
    url = reverse("complaint_target_edit", args=[target.pk])
    with django_capture_on_commit_callbacks(execute=True) as callbacks, assert_nothing_written(ComplaintTarget):
        response = client.post(url, _target_form(target, response_value=11))  # 11 days > 10 days
    assert response.status_code == 200 and not callbacks
    assert "response_value" in response.context["form"].errors
    assert 'id="id_response_value_error"' in response.content.decode()
    with assert_nothing_written(ComplaintTarget):
        response = client.post(url, _target_form(target, warning_percent=100, response_value=""))
    assert {"warning_percent", "response_value"} <= set(response.context["form"].errors)
    target.refresh_from_db()
    assert (target.response_value, target.warning_percent) == (1, 75)
    assert client.get(reverse("complaint_target_edit", args=[target.pk + 1000])).status_code == 404
