"""The audit trail as people read it (issue 9, items 1 and 2): every kind of entry renders,
labels instead of codes, names instead of ids, local times to the minute, translated
actions, long texts shortened, bookkeeping left out, CSV / XLSX export of the filtered trail.
"""

import csv
import io
import re
from datetime import UTC, date, datetime

import openpyxl
import pytest
import time_machine
from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from complaints.models import Complaint
from itsm.core import services
from itsm.core.history import present
from itsm.core.models import Organisation, User
from itsm.core.testing import assert_constant_queries
from surveys.services.weekly import weekly_item_add, weekly_report_create
from tests.complaints.factories import make_complaint, role_user
from tests.factories import ContactFactory, DepartmentFactory, OrganisationFactory

pytestmark = pytest.mark.django_db


def html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def changes_of(page: str) -> list[tuple[str, str, str]]:
    """(label, before, after) of every change row on an audit page, tags stripped."""
    rows = re.findall(
        r'<tr><th scope="row"[^>]*>(.*?)</th>\s*<td>(.*?)</td>\s*<td aria-hidden="true">→</td>\s*<td>(.*?)</td>',
        page,
        re.S,
    )

    def text(fragment: str) -> str:
        return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)).strip()

    return [(text(a), text(b), text(c)) for a, b, c in rows]


@pytest.fixture
def auditor(client_as):
    return client_as("auditor")


# --- item 1: every kind of entry renders ------------------------------------------------------


def test_a_weekly_report_entry_renders(auditor):
    """The crash: a create entry holding the key ``items`` broke ``changes.items`` in the
    template (Django's lookup found the key before the method)."""
    desk = role_user("service_desk")
    report = weekly_report_create(
        department=DepartmentFactory(), week_start=date(2026, 11, 23), recorder=desk, actor=desk
    )
    weekly_item_add(report=report, actor=desk, kind="new_problem", text="打印机卡纸", owner=desk)
    for url in (reverse("audit_list"), reverse("audit_list") + "?model=surveys.weeklyreport"):
        page = html(auditor.get(url))
        assert "打印机卡纸" in page or "周" in page


def test_old_entries_with_reverse_relations_and_an_items_key_still_render(auditor):
    """Entries written before reverse relations were left out hold keys like ``items`` and
    ``events`` with "app.Model.None": they render, and those keys are not shown."""
    from surveys.models import WeeklyReport

    department = DepartmentFactory(name="运维一部")
    report = WeeklyReport.objects.create(
        department=department,
        week_start=date(2026, 11, 23),
        recorder=role_user("service_desk"),
        recorded_at=datetime(2026, 11, 27, 8, 0, tzinfo=UTC),
    )
    LogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(WeeklyReport),
        object_pk=str(report.pk),
        object_id=report.pk,
        object_repr=str(report),
        action=LogEntry.Action.CREATE,
        changes={
            "department": ["None", str(department.pk)],
            "items": ["None", "surveys.WeeklyReportItem.None"],
            "recorded_at": ["None", "2026-11-27 08:00:00"],
            "user_confirmed": ["None", "False"],
            "id": ["None", str(report.pk)],
        },
    )
    page = html(auditor.get(reverse("audit_list") + "?model=surveys.weeklyreport"))
    rows = changes_of(page)
    assert any(after.endswith("运维一部") for _label, _before, after in rows), rows
    assert any(after == "2026-11-27 16:00" for _label, _before, after in rows)
    assert any(after == "否" for _label, _before, after in rows)
    assert not any("None" in after for _label, _before, after in rows)


def test_reverse_relations_and_bookkeeping_are_not_recorded_any_more():
    complaint = make_complaint("awaiting_feedback")  # the clock is paused there
    created = LogEntry.objects.get_for_object(complaint).filter(action=LogEntry.Action.CREATE).get()
    for key in ("events", "attachments", "id", "created_at", "updated_at", "paused_at", "response_warned_at"):
        assert key not in created.changes
    for entry in LogEntry.objects.get_for_object(complaint):
        assert "paused_at" not in entry.changes and "paused_seconds" not in entry.changes


def test_many_to_many_changes_read_as_added_and_removed(auditor):
    admin = User.objects.create_superuser("root", "root@example.com", "x")
    user = User.objects.create_user("newcomer")
    with set_actor(admin):
        user.groups.add(Group.objects.get(name="auditor"))
        user.groups.remove(Group.objects.get(name="auditor"))
    rows = changes_of(html(auditor.get(reverse("audit_list") + "?model=core.user")))
    labels = {row[0] for row in rows}
    assert "组" in labels or "Groups" in labels
    assert any("添加" in after and "auditor" in after for _label, _before, after in rows)
    assert any("移除" in before and "auditor" in before for _label, before, _after in rows)


def test_json_field_changes_render_readably(auditor):
    from sla.models import SlaReport
    from tests.sla.factories import AgreementFactory

    agreement = AgreementFactory()
    with set_actor(role_user("service_level_manager")):
        SlaReport.objects.create(agreement=agreement, period=date(2026, 10, 1), figures={"备注": "按时", "ok": True})
    page = html(auditor.get(reverse("audit_list") + "?model=sla.slareport"))
    assert '"备注": "按时"' in page.replace("&quot;", '"')


def test_deleted_records_render_with_their_last_values(auditor):
    owner = role_user("process_owner")
    org = services.organisation_create(actor=owner, name="将删除的客户", code="gone")
    services.organisation_delete(organisation=org, actor=owner)
    page = html(auditor.get(reverse("audit_list") + "?model=core.organisation&action=2"))
    assert "删除" in page and "将删除的客户" in page
    assert 'href="/organisations/' not in page.split("<tbody>", 1)[1]  # no link to a record that is gone


# --- item 2: readable --------------------------------------------------------------------------


@time_machine.travel(datetime(2026, 11, 20, 1, 30, tzinfo=UTC), tick=False)
def test_complaint_history_reads_as_labels_names_and_local_minutes(client_as):
    complaint = make_complaint("investigating")
    auditor = client_as("auditor")
    page = html(auditor.get(reverse("complaint_history", args=[complaint.pk])))
    rows = changes_of(page)
    assert ("状态", "已受理", "调查诊断中") in rows
    desk = role_user("service_desk")
    assert any(label == "当前负责人" and after == str(desk) for label, _before, after in rows)
    # 01:30 UTC is 09:30 in Asia/Shanghai, shown to the minute.
    assert "2026-11-20 09:30" in page and "2026-11-20 09:30:00" not in page
    assert any(label == "响应时间" and after == "2026-11-20 09:30" for label, _before, after in rows)
    for action in ("创建", "修改"):
        assert f">{action}<" in page
    for internal in ("paused_at", "reply_working_seconds", "response_warn_at", "events", "attachments"):
        assert internal not in page


def test_booleans_read_yes_and_no_and_related_records_by_name(auditor):
    owner = role_user("process_owner")
    org = services.organisation_create(actor=owner, name="华信银行", code="hx")
    services.organisation_update(organisation=org, actor=owner, is_key_customer=True)
    contact = services.contact_create(actor=owner, organisation=org, name="陈建国")
    rows = changes_of(html(auditor.get(reverse("audit_list"))))
    assert ("重点客户", "否", "是") in rows
    assert any(label == "组织" and after == "华信银行" for label, _before, after in rows), rows
    assert str(org.pk) not in [after for _label, _before, after in rows]
    assert contact.name in html(auditor.get(reverse("contact_history", args=[contact.pk])))


def test_a_related_record_that_is_gone_is_named_as_such(auditor):
    owner = role_user("process_owner")
    org = OrganisationFactory()
    contact = services.contact_create(
        actor=owner, organisation=org, name="刘芳", department=DepartmentFactory(organisation=org)
    )
    department_pk = contact.department_id
    services.contact_update(contact=contact, actor=owner, department=None)
    from itsm.core.models import Department

    Department.objects.filter(pk=department_pk).delete()
    rows = changes_of(html(auditor.get(reverse("contact_history", args=[contact.pk]))))
    assert any(f"#{department_pk}" in before for label, before, _after in rows if label == "部门")


def test_long_texts_are_shortened_with_the_full_text_on_demand(auditor):
    owner = role_user("process_owner")
    notes = "很长的备注。" * 60
    services.organisation_create(actor=owner, name="长文本客户", code="long", notes=notes)
    page = html(auditor.get(reverse("audit_list")))
    assert "<details" in page and notes in page.replace("<br>", "")
    summary = re.search(r"<summary>(.*?)<span", page, re.S).group(1)
    assert len(summary.strip()) <= 121 and summary.strip().endswith("…")


def test_the_trail_reads_in_english_too(client_as):
    owner = role_user("process_owner")
    org = services.organisation_create(actor=owner, name="Acme", code="acme")
    services.organisation_update(organisation=org, actor=owner, is_key_customer=True)
    auditor = client_as("auditor")
    auditor.post(reverse("set_language"), {"language": "en"})
    page = html(auditor.get(reverse("audit_list")))
    assert ("Key customer", "No", "Yes") in changes_of(page)
    assert ">Created<" in page and ">Changed<" in page


def test_a_change_without_a_signed_in_actor_is_the_systems():
    org = OrganisationFactory()  # saved outside any request or set_actor: the system
    [view] = present(LogEntry.objects.get_for_object(org).select_related("actor", "content_type"))
    assert view.actor == "系统" and view.action == "创建" and view.record_type == "组织"


# --- filters and export --------------------------------------------------------------------------


def _trail():
    owner = role_user("process_owner")
    desk = role_user("service_desk")
    org = services.organisation_create(actor=owner, name="导出客户", code="exp")
    services.organisation_update(organisation=org, actor=desk, name="导出客户二")
    services.contact_create(actor=desk, organisation=org, name="=HYPERLINK(1)")
    return owner, desk, org


def test_filters_by_kind_who_action_and_date(auditor):
    owner, desk, org = _trail()
    url = reverse("audit_list")
    page = html(auditor.get(url, {"model": "core.organisation", "action": "1"}))
    assert "导出客户二" in page and "=HYPERLINK(1)" not in page
    page = html(auditor.get(url, {"actor": owner.pk}))
    assert "导出客户" in page and "=HYPERLINK(1)" not in page
    page = html(auditor.get(url, {"since": "2999-01-01"}))
    assert "导出客户" not in page
    page = html(auditor.get(url, {"object_pk": org.pk, "model": "core.organisation"}))
    assert re.search(r'data-testid="result-count">\s*2\b', page)


def test_a_bad_filter_shows_its_error_and_no_entries(auditor):
    _trail()
    page = html(auditor.get(reverse("audit_list"), {"since": "not-a-date"}))
    assert "invalid-feedback" in page and "导出客户" not in page
    assert auditor.get(reverse("audit_list"), {"model": "nope.nothing"}).status_code == 200


def test_csv_export_has_a_row_per_changed_field_in_the_filter(auditor):
    _trail()
    response = auditor.get(reverse("audit_list"), {"model": "core.organisation", "format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    assert header == ["时间", "操作人", "记录类型", "记录", "记录编号", "操作", "字段", "变更前", "变更后"]
    assert ["名称", "导出客户", "导出客户二"] in [row[6:9] for row in body]
    assert all(row[2] == "组织" for row in body)
    assert not any("HYPERLINK" in cell for row in body for cell in row)


def test_xlsx_export_and_formula_text_is_never_a_formula(auditor):
    _trail()
    response = auditor.get(reverse("audit_list"), {"format": "xlsx"})
    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    values = [cell.value for row in workbook.active.iter_rows() for cell in row]
    assert "导出客户二" in values
    hyperlink = [cell for row in workbook.active.iter_rows() for cell in row if cell.value == "=HYPERLINK(1)"]
    assert hyperlink and all(cell.data_type == "s" for cell in hyperlink)


def test_export_needs_the_audit_permission(client_as):
    _trail()
    assert client_as("service_desk").get(reverse("audit_list"), {"format": "csv"}).status_code == 403
    assert client_as("auditor").get(reverse("audit_list"), {"format": "pdf"}).status_code == 404


def test_audit_page_queries_stay_constant_over_mixed_entries(auditor):
    owner = role_user("process_owner")
    desk = role_user("service_desk")

    def mixed(n):
        for i in range(n):
            org = services.organisation_create(
                actor=owner, name=f"客户{i}-{Organisation.objects.count()}", code=f"c{Organisation.objects.count()}"
            )
            contact = services.contact_create(
                actor=desk, organisation=org, name=f"联系人{i}", department=DepartmentFactory(organisation=org)
            )
            services.contact_update(contact=contact, actor=owner, is_vip=True)
        make_complaint("investigating", contact=ContactFactory())

    assert_constant_queries(auditor, reverse("audit_list"), mixed, few=2, many=12)


def test_complaints_in_history_link_to_their_page(auditor):
    complaint = make_complaint()
    page = html(auditor.get(reverse("audit_list") + "?model=complaints.complaint"))
    assert f'href="{complaint.get_absolute_url()}"' in page
    assert Complaint.objects.count() == 1
