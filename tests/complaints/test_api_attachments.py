"""A complaint's attachments through the API: /api/v1/complaints/{id}/attachments/ (issue 11,
item 4): the list, an upload with the page's checks (a refused file is a 400 on ``file`` and
nothing is written), the download, and the page's permissions."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from complaints.choices import ComplaintStatus
from complaints.models import ComplaintAttachment, ComplaintEvent
from complaints.services import attachment_add
from itsm.core.roles import Role
from itsm.core.testing import assert_constant_queries, assert_nothing_written
from tests.complaints.factories import make_complaint, role_user

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
DESK, AUDITOR = Role.SERVICE_DESK.value, Role.AUDITOR.value


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def url(complaint, attachment=None) -> str:
    base = f"/api/v1/complaints/{complaint.pk}/attachments/"
    return f"{base}{attachment.pk}/" if attachment is not None else base


def upload(name: str = "report.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def attached(complaint, name: str = "report.pdf", content: bytes = PDF) -> ComplaintAttachment:
    return attachment_add(complaint=complaint, actor=role_user(Role.SERVICE_DESK), upload=upload(name, content))


def stored_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def test_the_list_gives_each_file_with_its_download_url(api_as):
    complaint = make_complaint()
    first, second = attached(complaint, "report.pdf"), attached(complaint, "notes.txt", "现场记录".encode())
    attached(make_complaint(), "other.pdf")  # another complaint's file is not listed
    client = api_as(AUDITOR)
    response = client.get(url(complaint))
    assert response.status_code == 200, response.content
    rows = response.json()["results"]
    assert [row["id"] for row in rows] == [first.pk, second.pk]
    row = rows[0]
    assert set(row) == {
        "id",
        "file_name",
        "size",
        "content_type",
        "uploaded_by",
        "uploaded_by_name",
        "uploaded_at",
        "download_url",
    }
    assert (row["file_name"], row["size"], row["content_type"]) == ("report.pdf", len(PDF), "application/pdf")
    assert row["uploaded_by"] == role_user(Role.SERVICE_DESK).pk and row["uploaded_by_name"]
    assert row["download_url"] == f"http://testserver{url(complaint, first)}"
    assert rows[1]["content_type"] == "text/plain"


def test_the_list_runs_a_constant_number_of_queries(api_as):
    complaint = make_complaint()
    client = api_as(AUDITOR)

    def add(n: int) -> None:
        for _number in range(n):
            attached(complaint)

    assert_constant_queries(client, url(complaint), add, few=2, many=20)


def test_an_upload_is_checked_stored_and_on_the_timeline(api_as):
    complaint = make_complaint(ComplaintStatus.INVESTIGATING)
    client = api_as(DESK)
    response = client.post(url(complaint), {"file": upload("报告.pdf")}, format="multipart")
    assert response.status_code == 201, response.content
    body = response.json()
    attachment = complaint.attachments.get()
    assert (body["id"], body["file_name"], body["content_type"]) == (attachment.pk, "报告.pdf", "application/pdf")
    assert attachment.uploaded_by == client.user and attachment.size == len(PDF)
    event = complaint.events.latest("pk")
    assert (event.action, event.actor, event.note) == ("attach", client.user, "报告.pdf")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("setup.exe", b"MZ\x90\x00\x03", ("not accepted", "不支持此类文件")),
        ("invoice.pdf", b"MZ\x90\x00 an executable in disguise", ("does not match its type", "文件内容与文件类型不符")),
        ("big.pdf", PDF + b"0" * 2048, ("larger than", "超过")),
    ],
    ids=["wrong-type", "content-not-its-type", "too-big"],
)
def test_a_refused_file_is_a_400_on_file_and_nothing_is_written(api_as, settings, name, content, message):
    settings.UPLOAD_MAX_BYTES = 1024
    complaint = make_complaint()
    client = api_as(DESK)
    with assert_nothing_written(ComplaintAttachment, ComplaintEvent):
        response = client.post(url(complaint), {"file": upload(name, content)}, format="multipart")
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert list(errors) == ["file"]
    assert any(words in errors["file"][0] for words in message), errors  # the page's message, in either language
    assert stored_files(settings) == []


def test_an_upload_without_a_file_or_with_other_keys_is_a_400(api_as):
    complaint = make_complaint()
    client = api_as(DESK)
    with assert_nothing_written(ComplaintAttachment, ComplaintEvent):
        assert client.post(url(complaint), {}, format="multipart").json()["errors"].keys() == {"file"}
        response = client.post(url(complaint), {"file": upload(), "size": "1"}, format="multipart")
    assert response.status_code == 400 and "size" in response.json()["errors"]


def test_a_role_that_may_not_change_complaints_may_read_but_not_upload(api_as):
    complaint = make_complaint()
    attachment = attached(complaint)
    client = api_as(AUDITOR)
    with assert_nothing_written(ComplaintAttachment, ComplaintEvent):
        response = client.post(url(complaint), {"file": upload()}, format="multipart")
    assert response.status_code == 403 and response.json()["message"]
    assert client.get(url(complaint)).status_code == 200
    assert client.get(url(complaint, attachment)).status_code == 200


def test_without_the_complaint_permission_nothing_is_given(api_as, api_client):
    complaint = make_complaint()
    attachment = attached(complaint)
    for path in (url(complaint), url(complaint, attachment)):
        assert api_client.get(path).status_code == 401  # no credentials
    client = api_as(None)  # signed in, no role
    for path in (url(complaint), url(complaint, attachment)):
        assert client.get(path).status_code == 403
    assert client.post(url(complaint), {"file": upload()}, format="multipart").status_code == 403


def test_an_unknown_complaint_or_another_complaints_file_is_a_404(api_as):
    complaint, other = make_complaint(), make_complaint()
    others_file = attached(other)
    client = api_as(DESK)
    missing = f"/api/v1/complaints/{other.pk + 1000}/attachments/"
    assert client.get(missing).status_code == 404
    with assert_nothing_written(ComplaintAttachment, ComplaintEvent):
        assert client.post(missing, {"file": upload()}, format="multipart").status_code == 404
    response = client.get(url(complaint, others_file))  # the file exists, under another complaint
    assert response.status_code == 404 and response.json()["message"]
    assert client.get(f"{url(complaint)}999999/").status_code == 404


def test_the_download_gives_the_file_as_recorded(api_as):
    complaint = make_complaint()
    attachment = attached(complaint, "现场照片说明.txt", "设备已更换。".encode())
    client = api_as(AUDITOR)
    response = client.get(url(complaint, attachment), HTTP_ACCEPT="application/pdf")  # any Accept: the file
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == "设备已更换。".encode()
    assert response["Content-Type"] == "text/plain"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff" and response["Cache-Control"] == "private, no-store"


def test_the_download_is_the_pages_download(api_as, client):
    complaint = make_complaint()
    attachment = attached(complaint)
    api = api_as(AUDITOR)
    client.force_login(api.user)
    page = client.get(reverse("complaint_attachment_download", args=[complaint.pk, attachment.pk]))
    response = api.get(url(complaint, attachment))
    assert b"".join(response.streaming_content) == b"".join(page.streaming_content) == PDF
    for header in ("Content-Type", "Content-Disposition", "X-Content-Type-Options", "Cache-Control"):
        assert response[header] == page[header], header


def test_a_download_whose_file_is_gone_is_a_404(api_as):
    complaint = make_complaint()
    attachment = attached(complaint)
    attachment.file.delete(save=False)
    response = api_as(AUDITOR).get(url(complaint, attachment))
    assert response.status_code == 404
    assert response.json()["message"]
