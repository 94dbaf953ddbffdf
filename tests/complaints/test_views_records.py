"""Pages of one complaint: registration, detail (deadlines, timeline, actions), edit,
attachments, history — access per role, what they write, and what they refuse."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from complaints.choices import Category, ComplaintStatus, EscalationLevel, Severity
from complaints.models import Complaint, ComplaintAttachment, ComplaintEvent
from complaints.workflow import TRANSITIONS
from itsm.core.models import Contact, Organisation
from itsm.core.roles import Role
from itsm.core.testing import (
    ALL_ROLES,
    ANONYMOUS,
    NO_ROLE,
    Resource,
    assert_constant_queries,
    assert_nothing_written,
    check_page_access,
    page_matrix,
    role_may,
    user_with_role,
)
from sla.choices import ServiceStatus
from tests.complaints.factories import AT_BRM, AT_HEAD, make_complaint, role_user
from tests.factories import ContactFactory, OrganisationFactory, UserFactory
from tests.sla.factories import ServiceFactory

pytestmark = pytest.mark.django_db

S = ComplaintStatus
SHANGHAI = ZoneInfo("Asia/Shanghai")
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
COMPLAINTS = Resource.for_model(Complaint, make_complaint, pages=("detail", "create", "edit", "history"))


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _english(client, settings):
    """The pages in English (chosen with the switcher), so the texts checked here stay put
    whatever the Chinese catalogue says."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def html(response) -> str:
    return response.content.decode()


def desk_client(client):
    client.force_login(role_user(Role.SERVICE_DESK))
    return client


def contact_options(page: str) -> set[str]:
    """The values of the contact select's options."""
    select = re.search(r'<select name="contact".*?</select>', page, re.S)
    assert select is not None
    return set(re.findall(r'<option value="([^"]*)"', select.group(0)))


def upload(name: str, content: bytes = PDF, content_type: str = "application/pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def action_url(complaint, action: str) -> str:
    return reverse("complaint_action", args=[complaint.pk, action])


def snapshot(complaint) -> tuple:
    complaint.refresh_from_db()
    return (complaint.status, complaint.escalation_level, complaint.owner_id, complaint.events.count())


# --- access ------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", page_matrix(COMPLAINTS), ids=str)
def test_page_access(client, case):
    check_page_access(client, case)


def _may_work(role: str) -> bool:
    return role_may(role, ["view", "change"], Complaint)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_action_access_per_role(client, role):
    """``accept`` as a representative action: the desk and BR managers may; every other role is
    refused (403) and nothing changes; signed out → the login page."""
    complaint = make_complaint()
    before = snapshot(complaint)
    url = action_url(complaint, "accept")
    if role == ANONYMOUS:
        response = client.post(url, {})
        assert response.status_code == 302 and reverse("login") in response["Location"]
        assert snapshot(complaint) == before
        return
    client.force_login(user_with_role(role))
    response = client.post(url, {})
    if role in (Role.SERVICE_DESK, Role.BR_MANAGER):
        assert response.status_code == 302
        assert snapshot(complaint)[0] == S.ACCEPTED
    else:
        assert response.status_code == 403
        assert snapshot(complaint) == before
        # refused before the row is looked up when the role may not work complaints at all
        missing = reverse("complaint_action", args=[complaint.pk + 1000, "accept"])
        assert client.post(missing, {}).status_code == (404 if _may_work(role) else 403)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_attachment_upload_access_per_role(client, role):
    complaint = make_complaint()
    url = reverse("complaint_attachment_add", args=[complaint.pk])
    if role == ANONYMOUS:
        with assert_nothing_written(ComplaintAttachment):
            response = client.post(url, {"file": upload("a.pdf")})
        assert response.status_code == 302 and reverse("login") in response["Location"]
        return
    client.force_login(user_with_role(role))
    allowed = _may_work(role) and role_may(role, ["add"], ComplaintAttachment)
    if allowed:
        response = client.post(url, {"file": upload("a.pdf")})
        assert response.status_code == 302
        assert complaint.attachments.get().original_name == "a.pdf"
        assert client.post(reverse("complaint_attachment_add", args=[complaint.pk + 1000]), {}).status_code == 404
    else:
        with assert_nothing_written(ComplaintAttachment):
            assert client.post(url, {"file": upload("a.pdf")}).status_code == 403


@pytest.mark.parametrize("role", ALL_ROLES)
def test_attachment_download_access_per_role(client, role):
    complaint = make_complaint()
    client.force_login(role_user(Role.SERVICE_DESK))
    client.post(reverse("complaint_attachment_add", args=[complaint.pk]), {"file": upload("report.pdf")})
    client.logout()
    attachment = complaint.attachments.get()
    url = reverse("complaint_attachment_download", args=[complaint.pk, attachment.pk])
    if role == ANONYMOUS:
        response = client.get(url)
        assert response.status_code == 302 and reverse("login") in response["Location"]
        return
    client.force_login(user_with_role(role))
    response = client.get(url)
    if role_may(role, ["view"], Complaint):
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PDF
        assert response["Content-Type"] == "application/pdf"
        assert (
            response["Content-Disposition"].startswith("attachment;")
            and "report.pdf" in response["Content-Disposition"]
        )
        assert response["X-Content-Type-Options"] == "nosniff"
        # an attachment reached through another complaint's address is not found
        other = make_complaint()
        assert client.get(reverse("complaint_attachment_download", args=[other.pk, attachment.pk])).status_code == 404
    else:
        assert response.status_code == 403


def test_attachments_are_not_served_from_media_url(client, settings):
    complaint = make_complaint()
    desk_client(client).post(reverse("complaint_attachment_add", args=[complaint.pk]), {"file": upload("x.pdf")})
    attachment = complaint.attachments.get()
    assert client.get(settings.MEDIA_URL + attachment.file.name).status_code == 404


def test_history_shows_the_audit_trail_to_auditors(client):
    complaint = make_complaint(S.ACCEPTED)
    client.force_login(user_with_role(Role.AUDITOR))
    response = client.get(reverse("complaint_history", args=[complaint.pk]))
    assert response.status_code == 200
    assert complaint.reference in html(response)
    assert len(response.context["entries"]) >= 2  # registration and the accept
    client.force_login(role_user(Role.SERVICE_DESK))
    assert client.get(reverse("complaint_history", args=[complaint.pk])).status_code == 403


# --- registration ------------------------------------------------------------------------------


def registration(contact=None, **overrides) -> dict:
    data = {
        "channel": "phone",
        "organisation": contact.organisation_id if contact else "",
        "contact": contact.pk if contact else "",
        "new_contact_language": "zh-hans",
        "title": "VPN down for the whole branch",
        "description": "Since 9:00 nobody in the branch can connect.",
        "severity": Severity.NORMAL,
        "category": "",
        "related_service": ServiceFactory(name="VPN", status=ServiceStatus.ACCEPTED).pk,
        "external_ticket_ref": "INC-4711",
        "handler": "",
        "received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
    }
    data.update(overrides)
    return data


def test_register_with_an_existing_contact(client):
    contact = ContactFactory()
    desk = role_user(Role.SERVICE_DESK)
    client.force_login(desk)
    response = client.post(reverse("complaint_create"), registration(contact), follow=True)
    complaint = Complaint.objects.get()
    assert response.redirect_chain[-1][0] == complaint.get_absolute_url()
    assert complaint.contact == contact and complaint.organisation == contact.organisation
    assert complaint.status == S.REGISTERED and complaint.owner == desk and complaint.channel == "phone"
    assert complaint.external_ticket_ref == "INC-4711" and complaint.related_service.name == "VPN"
    assert re.fullmatch(r"TS-\d{6}-0001", complaint.reference)
    assert complaint.reference in html(response)  # the success message names the reference
    assert [str(m) for m in response.context["messages"]] == [f"Complaint {complaint.reference} was registered."]


def test_register_takes_the_organisation_from_the_contact(client):
    contact = ContactFactory()
    desk_client(client).post(reverse("complaint_create"), registration(contact, organisation=""))
    assert Complaint.objects.get().organisation == contact.organisation


def test_register_with_a_new_contact_inline(client):
    organisation = OrganisationFactory()
    data = registration(
        organisation=organisation.pk,
        new_contact_name="Grace Lin",
        new_contact_phone="138 0000 0099",
        new_contact_email="grace@bank.example",
        new_contact_language="en",
        handler=role_user(Role.SERVICE_DESK).pk,
    )
    response = desk_client(client).post(reverse("complaint_create"), data)
    assert response.status_code == 302
    contact = Contact.objects.get(name="Grace Lin")
    assert (contact.organisation, contact.phone, contact.email, contact.preferred_language) == (
        organisation,
        "138 0000 0099",
        "grace@bank.example",
        "en",
    )
    assert Complaint.objects.get().contact == contact


def test_register_with_an_attachment(client):
    contact = ContactFactory()
    response = desk_client(client).post(
        reverse("complaint_create"), {**registration(contact), "attachment": upload("screenshot.pdf")}
    )
    assert response.status_code == 302
    complaint = Complaint.objects.get()
    assert complaint.attachments.get().original_name == "screenshot.pdf"
    assert set(complaint.events.values_list("action", flat=True)) == {"register", "attach"}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": ""}, "title"),
        ({"description": ""}, "description"),
        ({"severity": "catastrophic"}, "severity"),
        ({"received_at": "2999-01-01T09:00"}, "received_at"),
        ({"received_at": "yesterday"}, "received_at"),
        ({"channel": "pigeon"}, "channel"),
        ({"new_contact_email": "not-an-email"}, "new_contact_email"),
        ({"new_contact_phone": "", "new_contact_email": ""}, "new_contact_phone"),
        ({"organisation": ""}, "organisation"),
        (
            {"attachment": SimpleUploadedFile("tool.exe", b"MZ\x90\x00", content_type="application/x-msdownload")},
            "attachment",
        ),
        ({"attachment": SimpleUploadedFile("fake.pdf", b"MZ\x90\x00 not a pdf")}, "attachment"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_bad_registration_writes_nothing_and_shows_the_error_at_the_field(client, overrides, field):
    organisation = OrganisationFactory()
    data = registration(
        **{
            "organisation": organisation.pk,
            "new_contact_name": "New Person",
            "new_contact_phone": "139123",
            **overrides,
        }
    )
    client = desk_client(client)
    with assert_nothing_written(Complaint, Contact, ComplaintAttachment, ComplaintEvent):
        response = client.post(reverse("complaint_create"), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors, response.context["form"].errors
    assert f'id="id_{field}_error"' in html(response)


def test_contact_problems_are_shown_at_the_contact(client):
    contact, stranger = ContactFactory(), ContactFactory()
    client = desk_client(client)
    cases = [
        registration(),  # neither chosen nor new
        registration(contact, organisation=stranger.organisation_id),  # another organisation's contact
        registration(contact, new_contact_name="Someone", new_contact_phone="139"),  # both
    ]
    with assert_nothing_written(Complaint, Contact):
        for data, field in zip(cases, ["contact", "contact", "new_contact_name"], strict=True):
            response = client.post(reverse("complaint_create"), data)
            assert response.status_code == 200 and field in response.context["form"].errors


def test_a_failure_after_the_contact_was_created_rolls_it_back(client, monkeypatch):
    """Contact, complaint and file are one transaction: a late failure leaves none of them."""

    def refuse(**kwargs):
        raise ValidationError({"file": "The storage refused the file."})

    monkeypatch.setattr("complaints.views.records.attachment_add", refuse)
    organisation = OrganisationFactory()
    data = registration(
        organisation=organisation.pk,
        new_contact_name="Rolled Back",
        new_contact_phone="13900000000",
        attachment=upload("ok.pdf"),
    )
    client = desk_client(client)
    with assert_nothing_written(Complaint, Contact, ComplaintEvent, ComplaintAttachment):
        response = client.post(reverse("complaint_create"), data)
    assert response.status_code == 200
    assert response.context["form"].errors["attachment"] == ["The storage refused the file."]
    # the month's number was given back: the next registration is number 1
    client.post(reverse("complaint_create"), registration(ContactFactory()))
    assert Complaint.objects.get().reference.endswith("-0001")


def test_registration_form_prefills_from_the_query_string(client):
    contact = ContactFactory()
    query = {"external_ticket_ref": "INC-9", "contact": contact.pk, "title": "From a call-back", "channel": "email"}
    response = desk_client(client).get(reverse("complaint_create"), query)
    form = response.context["form"]
    assert form["external_ticket_ref"].value() == "INC-9"
    assert form["title"].value() == "From a call-back" and form["channel"].value() == "email"
    assert str(form["organisation"].value()) == str(contact.organisation_id)  # taken from the contact
    page = html(response)
    select = re.search(r'<select name="contact".*?</select>', page, re.S)
    assert select is not None
    chosen = re.search(rf'<option value="{contact.pk}"[^>]*>', select.group(0))
    assert chosen is not None and " selected" in chosen.group(0)
    assert f'data-organisation="{contact.organisation_id}"' in chosen.group(0)  # for the page script
    assert 'name="status"' not in page


def test_registration_form_defaults(client):
    response = desk_client(client).get(reverse("complaint_create"))
    form = response.context["form"]
    assert form["channel"].value() == "phone" and form["severity"].value() == Severity.NORMAL
    received = timezone.make_aware(form["received_at"].value())  # shown in local time
    assert abs(received - timezone.now()) < timedelta(minutes=2)
    # the handler choices are service-desk members only
    brm = role_user(Role.BR_MANAGER)
    assert brm not in form.fields["handler"].queryset
    assert role_user(Role.SERVICE_DESK) in form.fields["handler"].queryset


def test_contact_search_by_name_and_phone(client):
    """The registration's contact picker asks /pick/contacts/ for active contacts of customer
    organisations, within the organisation chosen on the page."""
    organisation = OrganisationFactory()
    chen = ContactFactory(organisation=organisation, name="Chen Jianguo", phone="13800000001")
    ContactFactory(organisation=organisation, name="Liu Fang", phone="13800000002")
    elsewhere = ContactFactory(name="Chen Other", phone="13700000003")
    supplier = ContactFactory(name="Chen Supplier", organisation=OrganisationFactory(kind="supplier"))
    client = desk_client(client)
    page = html(client.get(reverse("complaint_create")))
    select = re.search(r'<select name="contact"[^>]*>', page)
    assert select is not None
    url = re.search(r'data-picker-url="([^"]+)"', select.group(0)).group(1).replace("&amp;", "&")
    assert url.startswith(reverse("pick_contacts") + "?")
    assert "kind=customer" in url and "active=1" in url
    assert 'data-picker-depends="{&quot;organisation&quot;: &quot;id_organisation&quot;}"' in select.group(0)

    path, fixed = url.split("?", 1)

    def found(**query) -> list[int]:
        return [row["value"] for row in client.get(f"{path}?{fixed}&{urlencode(query)}").json()["results"]]

    assert set(found(q="chen")) == {chen.pk, elsewhere.pk}  # not the supplier's: complaints come from customers
    assert supplier.pk not in found(q="supplier")
    assert found(q="138 0000 0001") == [chen.pk]  # as read out on the phone
    assert found(q="chen", organisation=organisation.pk) == [chen.pk]
    assert len(found(organisation=organisation.pk)) == 2  # no query: the organisation's contacts
    assert found(q="c") == [] and found(q="nobody-here") == []  # too short; no match


def test_contact_search_takes_one_chinese_character(client):
    """The placeholder says "e.g. 138 0000 0001 or 陈": the one-character surname finds 陈建国,
    with JavaScript (the picker) and without (the look-up)."""
    chen = ContactFactory(name="陈建国")
    other = ContactFactory(name="刘芳")
    client = desk_client(client)
    rows = client.get(reverse("pick_contacts"), {"q": "陈", "kind": "customer", "active": "1"}).json()["results"]
    assert [row["value"] for row in rows] == [chen.pk]
    response = client.post(reverse("complaint_create"), registration(contact_q="陈", lookup="1"))
    options = contact_options(html(response))
    assert str(chen.pk) in options and str(other.pk) not in options
    response = client.post(reverse("complaint_create"), registration(contact_q="c", lookup="1"))
    assert contact_options(html(response)) == {""}  # one Latin letter is still too short


def test_contact_lookup_without_javascript(client):
    """The "Find" button re-renders the form with the matches in the select; nothing is saved."""
    chen = ContactFactory(name="Chen Jianguo")
    other = ContactFactory(name="Somebody Else")
    data = registration(contact_q="Jianguo", lookup="1", title="kept")
    client = desk_client(client)
    with assert_nothing_written(Complaint, Contact):
        response = client.post(reverse("complaint_create"), data)
    assert response.status_code == 200
    options = contact_options(html(response))
    assert str(chen.pk) in options and str(other.pk) not in options
    assert response.context["form"]["title"].value() == "kept" and not response.context["form"].errors


def test_the_contact_select_lists_only_the_chosen_organisation(client):
    organisation = OrganisationFactory()
    mine = ContactFactory(organisation=organisation)
    theirs = ContactFactory()
    options = contact_options(
        html(desk_client(client).get(reverse("complaint_create"), {"organisation": organisation.pk}))
    )
    assert str(mine.pk) in options and str(theirs.pk) not in options
    options = contact_options(html(client.get(reverse("complaint_create"))))
    assert options == {""}  # nothing chosen: no list of every contact


# --- detail ------------------------------------------------------------------------------------


def test_detail_shows_header_deadlines_fields_and_timeline(client):
    contact = ContactFactory(name="Grace Lin", phone="13800000003")
    moment = datetime(2026, 3, 10, 10, 0, tzinfo=SHANGHAI)  # a Tuesday, 10:00
    with time_machine.travel(moment, tick=False):
        complaint = make_complaint(AT_BRM, contact=contact, severity=Severity.MAJOR)
        response = desk_client(client).get(complaint.get_absolute_url())
    page = html(response)
    assert complaint.reference in page and complaint.title in page
    assert 'data-status="escalated"' in page and 'data-level="1"' in page
    assert str(complaint.owner) in page and "Grace Lin" in page and "13800000003" in page
    deadlines = {d["key"]: d for d in response.context["deadlines"]}
    assert deadlines["response"]["left"] == "on time"
    # major: 5 working days to resolve, received at 10:00 → 45 working hours left
    assert deadlines["resolution"]["left"] == "5 working days left" and not deadlines["resolution"]["overdue"]
    timeline = response.context["timeline"]
    assert [row["action"] for row in timeline] == ["register", "accept", "investigate", "escalate"]
    escalation = timeline[-1]
    assert escalation["from"] == "Investigating" and escalation["to"] == "Escalated"
    assert escalation["event"].note == "needs the BR manager"
    assert any("BR manager" in detail for detail in escalation["details"])
    assert any(str(complaint.owner) in detail for detail in escalation["details"])


def test_detail_highlights_overdue_and_paused_deadlines(client):
    moment = datetime(2026, 3, 10, 10, 0, tzinfo=SHANGHAI)
    with time_machine.travel(moment, tick=False):
        registered = make_complaint()
        waiting = make_complaint(S.AWAITING_FEEDBACK)
    with time_machine.travel(moment + timedelta(days=3), tick=False):
        client = desk_client(client)
        response = client.get(registered.get_absolute_url())
        response_deadline = response.context["deadlines"][0]
        assert response_deadline["overdue"] and response_deadline["left"].startswith("overdue by")
        assert "bg-danger-subtle" in html(response)
        resolution = client.get(waiting.get_absolute_url()).context["deadlines"][1]
        assert resolution.get("paused") and "paused while waiting on the customer" in resolution["left"]


def test_detail_offers_only_the_actions_the_user_may_take_now(client):
    complaint = make_complaint()
    client.force_login(role_user(Role.SERVICE_DESK))
    page = html(client.get(complaint.get_absolute_url()))
    offered = set(re.findall(r'<form method="post" action="[^"]*/actions/(\w+)/"', page))
    assert offered == {"accept", "withdraw"}
    client.force_login(user_with_role(Role.AUDITOR))
    page = html(client.get(complaint.get_absolute_url()))
    assert "/actions/" not in page and 'data-testid="no-actions"' in page
    assert 'action="' + reverse("complaint_attachment_add", args=[complaint.pk]) not in page


def test_detail_shows_the_customer_feedback(client):
    complaint = make_complaint(S.RESOLVED)
    Complaint.objects.filter(pk=complaint.pk).update(
        result_satisfaction=4, result_settled=True, feedback_comment="Quick work", feedback_at=timezone.now()
    )
    response = desk_client(client).get(complaint.get_absolute_url())
    page = html(response)
    assert 'data-testid="customer-feedback"' in page and "4/5" in page and "Quick work" in page


def _add_rows(complaint, count: int) -> None:
    """``count`` timeline rows by different people (users, customer, system) and as many files."""
    desk = role_user(Role.SERVICE_DESK)
    brm = role_user(Role.BR_MANAGER)
    for index in range(count):
        actor = UserFactory() if index % 3 == 0 else None
        ComplaintEvent.objects.create(
            complaint=complaint,
            action=["escalate", "customer_feedback", "auto_escalate", "edit"][index % 4],
            from_status=S.INVESTIGATING,
            to_status=S.ESCALATED,
            actor=actor,
            actor_label="" if actor else ["customer", "system"][index % 2],
            note=f"note {index}",
            data={
                "escalation_level": [0, 1],
                "owner": brm.pk,
                "satisfaction": 4,
                "settled": True,
                "fields": ["title", "severity"],
            },
        )
        ComplaintAttachment.objects.create(
            complaint=complaint,
            file=f"complaints/{complaint.pk}/file{index}.pdf",
            original_name=f"file{index}.pdf",
            content_type="application/pdf",
            size=100 + index,
            uploaded_by=UserFactory() if index % 2 else desk,
        )


def test_detail_page_runs_a_constant_number_of_queries(client, capsys):
    complaint = make_complaint(S.INVESTIGATING)
    desk_client(client)
    count = assert_constant_queries(
        client, complaint.get_absolute_url(), lambda n: _add_rows(complaint, n), few=3, many=60
    )
    with capsys.disabled():
        print(f"\ncomplaint detail page: {count} queries with 60 events and 60 attachments")
    assert count <= 25


# --- workflow actions through the page -----------------------------------------------------------

# (start state, action, role, form data) — one allowed representative per action.
ACTIONS = [
    (S.REGISTERED, "accept", Role.SERVICE_DESK, {}),
    (S.ACCEPTED, "investigate", Role.SERVICE_DESK, {}),
    (S.INVESTIGATING, "escalate", Role.SERVICE_DESK, {"note": "Customer asks for a manager"}),
    (AT_BRM, "escalate_mrep", Role.BR_MANAGER, {"note": "The customer's board asks for our management"}),
    (AT_BRM, "remedy", Role.BR_MANAGER, {"diagnosis": "Old firmware", "remedial_actions": "Replaced the firewall"}),
    (
        S.AWAITING_FEEDBACK,
        "customer_satisfied",
        Role.SERVICE_DESK,
        {"category": Category.RESOLUTION_QUALITY, "root_cause": "Old firmware"},
    ),
    (S.AWAITING_FEEDBACK, "customer_unsatisfied", Role.BR_MANAGER, {"note": "Still drops every hour"}),
    (S.ANALYSIS, "plan_improvement", Role.BR_MANAGER, {"new_plan_title": "Faster night answers"}),
    (S.ANALYSIS, "resolve", Role.BR_MANAGER, {"result": "Firmware upgraded on all branches"}),
    (S.RESOLVED, "reopen", Role.SERVICE_DESK, {"note": "Customer called: not fixed"}),
    (S.INVESTIGATING, "withdraw", Role.SERVICE_DESK, {"note": "Customer withdrew"}),
    (
        AT_HEAD,
        "remedy",
        Role.DEPARTMENT_HEAD,
        {"diagnosis": "A failing core switch", "remedial_actions": "On-site engineer for a week"},
    ),
]


@pytest.mark.parametrize(("start", "action", "role", "data"), ACTIONS, ids=lambda v: v if isinstance(v, str) else "")
def test_each_action_through_its_form(client, start, action, role, data):
    complaint = make_complaint(start)
    client.force_login(role_user(role))
    page = html(client.get(complaint.get_absolute_url()))
    assert f'data-action="{action}"' in page  # offered
    response = client.post(action_url(complaint, action), {f"{action}-{k}": v for k, v in data.items()})
    assert response.status_code == 302, html(response)[:3000]
    complaint.refresh_from_db()
    assert complaint.status == TRANSITIONS[action].target
    event = complaint.events.latest("pk")
    source = S.ESCALATED if start in (AT_BRM, AT_HEAD) else start
    assert (event.action, event.from_status, event.to_status) == (action, source, complaint.status)
    for name, value in data.items():
        if name == "new_plan_title":  # no field of the complaint: the plan of its register item
            assert [item.plan.title for item in complaint.improvement_items.all()] == [value]
            continue
        assert (event.note if name == "note" else getattr(complaint, name)) == value


def test_close_after_the_customer_confirmed(client):
    complaint = make_complaint(S.RESOLVED)
    client = desk_client(client)
    response = client.post(action_url(complaint, "close"), {})
    assert response.status_code == 400  # the customer's link is still open
    assert "has not confirmed the result yet" in html(response)
    Complaint.objects.filter(pk=complaint.pk).update(result_satisfaction=5, result_settled=True)
    assert client.post(action_url(complaint, "close"), {}).status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == S.CLOSED and complaint.closed_at is not None


def test_escalation_offers_owners_of_the_target_role_only(client):
    complaint = make_complaint(S.INVESTIGATING)
    second_brm = user_with_role(Role.BR_MANAGER, first_name="Second")
    client = desk_client(client)
    form = next(f for f in client.get(complaint.get_absolute_url()).context["action_forms"] if f.prefix == "escalate")
    owners = set(form.fields["owner"].queryset)
    assert second_brm in owners and role_user(Role.SERVICE_DESK) not in owners
    # a user outside the role is refused at the field, nothing changes
    before = snapshot(complaint)
    response = client.post(
        action_url(complaint, "escalate"), {"escalate-note": "why", "escalate-owner": role_user(Role.SERVICE_DESK).pk}
    )
    assert response.status_code == 400 and snapshot(complaint) == before
    # the chosen BR manager becomes the owner
    client.post(action_url(complaint, "escalate"), {"escalate-note": "why", "escalate-owner": second_brm.pk})
    complaint.refresh_from_db()
    assert complaint.owner == second_brm and complaint.escalation_level == EscalationLevel.BR_MANAGER


def test_unsatisfied_customer_escalates_to_a_department_head(client):
    complaint = make_complaint(S.AWAITING_FEEDBACK)
    client = desk_client(client)
    form = next(
        f
        for f in client.get(complaint.get_absolute_url()).context["action_forms"]
        if f.prefix == "customer_unsatisfied"
    )
    assert role_user(Role.DEPARTMENT_HEAD) in form.fields["owner"].queryset
    assert role_user(Role.BR_MANAGER) not in form.fields["owner"].queryset


@pytest.mark.parametrize(
    ("start", "action", "role"),
    [
        (S.REGISTERED, "accept", Role.DEPARTMENT_HEAD),  # may work escalations, not accept
        (S.REGISTERED, "accept", Role.AUDITOR),  # reads only
        (S.ANALYSIS, "plan_improvement", Role.SERVICE_DESK),  # BR managers only
        (S.RESOLVED, "close", Role.MANAGEMENT_REP),
        (S.INVESTIGATING, "withdraw", Role.QUALITY_MANAGER),
    ],
)
def test_an_action_for_another_role_is_refused(client, start, action, role):
    complaint = make_complaint(start)
    before = snapshot(complaint)
    client.force_login(user_with_role(role))
    assert client.post(action_url(complaint, action), {f"{action}-note": "x"}).status_code == 403
    assert snapshot(complaint) == before


@pytest.mark.parametrize(
    ("start", "action", "data"),
    [
        (S.INVESTIGATING, "accept", {}),
        (S.REGISTERED, "resolve", {"resolve-result": "done"}),
        (S.CLOSED, "withdraw", {"withdraw-note": "too late"}),
        (S.REGISTERED, "escalate", {"escalate-note": "skip the queue"}),
    ],
)
def test_an_action_from_the_wrong_state_is_refused_with_400(client, start, action, data):
    complaint = make_complaint(start)
    before = snapshot(complaint)
    response = desk_client(client).post(action_url(complaint, action), data)
    assert response.status_code == 400
    page = html(response)
    assert f'data-action-error="{action}"' in page
    assert "is not possible while the complaint is" in page
    assert snapshot(complaint) == before


def test_a_missing_required_input_is_shown_at_the_actions_form(client):
    complaint = make_complaint(S.AWAITING_FEEDBACK)
    before = snapshot(complaint)
    response = desk_client(client).post(
        action_url(complaint, "customer_satisfied"), {"customer_satisfied-category": Category.OTHER}
    )
    assert response.status_code == 400
    form = next(f for f in response.context["action_forms"] if f.prefix == "customer_satisfied")
    assert "root_cause" in form.errors
    assert 'id="id_customer_satisfied-root_cause_error"' in html(response)
    assert snapshot(complaint) == before


def test_unknown_action_is_404_and_get_is_not_allowed(client):
    complaint = make_complaint()
    client = desk_client(client)
    assert client.post(action_url(complaint, "teleport"), {}).status_code == 404
    assert client.get(action_url(complaint, "accept")).status_code == 405
    assert client.post(reverse("complaint_action", args=[complaint.pk + 1000, "accept"]), {}).status_code == 404


# --- edit --------------------------------------------------------------------------------------


def edit_data(complaint, **overrides) -> dict:
    data = {
        "title": complaint.title,
        "description": complaint.description,
        "channel": complaint.channel,
        "related_service": complaint.related_service_id or "",
        "external_ticket_ref": complaint.external_ticket_ref,
        "severity": complaint.severity,
        "category": complaint.category,
        "root_cause": complaint.root_cause,
        "handler": complaint.handler_id or "",
    }
    data.update(overrides)
    return data


def test_edit_changes_the_details_and_never_the_status(client):
    complaint = make_complaint(S.INVESTIGATING)
    client = desk_client(client)
    response = client.get(reverse("complaint_edit", args=[complaint.pk]))
    assert "status" not in response.context["form"].fields
    assert 'name="status"' not in html(response)
    data = edit_data(complaint, title="Renamed", severity=Severity.MAJOR, status=S.CLOSED, escalation_level=3)
    response = client.post(reverse("complaint_edit", args=[complaint.pk]), data)
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.title == "Renamed" and complaint.severity == Severity.MAJOR
    assert complaint.status == S.INVESTIGATING and complaint.escalation_level == EscalationLevel.DESK
    assert complaint.events.latest("pk").data == {"fields": ["title", "severity"]}


def test_edit_shows_errors_and_refuses_finished_complaints(client):
    complaint = make_complaint(S.INVESTIGATING)
    client = desk_client(client)
    response = client.post(reverse("complaint_edit", args=[complaint.pk]), edit_data(complaint, title=""))
    assert response.status_code == 200 and "title" in response.context["form"].errors
    closed = make_complaint(S.CLOSED)
    with assert_nothing_written(Complaint, ComplaintEvent):
        response = client.post(reverse("complaint_edit", args=[closed.pk]), edit_data(closed, title="Changed"))
    assert response.status_code == 200
    assert "reopen it first" in " ".join(response.context["form"].non_field_errors())


# --- attachments -------------------------------------------------------------------------------


def test_an_accepted_file_is_attached_and_listed(client):
    complaint = make_complaint()
    client = desk_client(client)
    response = client.post(reverse("complaint_attachment_add", args=[complaint.pk]), {"file": upload("log.pdf")})
    assert response.status_code == 302 and response["Location"].endswith("#attachments")
    attachment = complaint.attachments.get()
    assert (attachment.original_name, attachment.content_type, attachment.size) == (
        "log.pdf",
        "application/pdf",
        len(PDF),
    )
    page = html(client.get(complaint.get_absolute_url()))
    assert reverse("complaint_attachment_download", args=[complaint.pk, attachment.pk]) in page
    assert complaint.events.latest("pk").action == "attach"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("big.pdf", PDF + b"0" * 2048, "larger than"),
        ("setup.exe", b"MZ\x90\x00\x03", "not accepted"),
        ("invoice.pdf", b"MZ\x90\x00 an executable in disguise", "does not match its type"),
        ("empty.pdf", b"", ""),
    ],
)
def test_a_refused_file_is_explained_and_nothing_saved(client, settings, name, content, message):
    settings.UPLOAD_MAX_BYTES = 1024
    complaint = make_complaint()
    client = desk_client(client)
    with assert_nothing_written(ComplaintAttachment, ComplaintEvent):
        response = client.post(
            reverse("complaint_attachment_add", args=[complaint.pk]), {"file": upload(name, content)}
        )
    assert response.status_code == 400
    errors = response.context["attachment_form"].errors["file"]
    assert errors and message in errors[0]
    assert "id_file_error" in html(response)


def test_an_upload_without_a_file_is_a_400(client):
    complaint = make_complaint()
    response = desk_client(client).post(reverse("complaint_attachment_add", args=[complaint.pk]), {})
    assert response.status_code == 400 and "file" in response.context["attachment_form"].errors


def test_a_download_whose_file_is_gone_is_404(client):
    complaint = make_complaint()
    client = desk_client(client)
    client.post(reverse("complaint_attachment_add", args=[complaint.pk]), {"file": upload("gone.pdf")})
    attachment = complaint.attachments.get()
    attachment.file.delete(save=False)
    url = reverse("complaint_attachment_download", args=[complaint.pk, attachment.pk])
    assert client.get(url).status_code == 404


def test_no_role_user_sees_nothing(client):
    complaint = make_complaint()
    client.force_login(user_with_role(NO_ROLE))
    assert client.get(complaint.get_absolute_url()).status_code == 403
    assert Organisation.objects.exists()  # the complaint's rows exist: refused, not missing


# --- admin -------------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, make_user):
    client.force_login(make_user(None, is_staff=True, is_superuser=True))
    return client


def _admin_form(response) -> dict:
    """The change form's data as the browser would post it (fields and inline management forms)."""
    data: dict = {}
    for name, value in response.context["adminform"].form.initial.items():
        data[name] = "" if value is None else getattr(value, "pk", value)
    for formset in response.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name in management.fields:
            data[f"{management.prefix}-{name}"] = management[name].value() if name != "MAX_NUM_FORMS" else 1000
        for index, form in enumerate(formset.formset.forms):
            data[f"{formset.formset.prefix}-{index}-id"] = form.instance.pk
            data[f"{formset.formset.prefix}-{index}-complaint"] = form.instance.complaint_id
    return data


def test_admin_shows_complaints_read_mostly(admin_client):
    complaint = make_complaint(S.INVESTIGATING)
    change = reverse("admin:complaints_complaint_change", args=[complaint.pk])
    response = admin_client.get(change)
    assert response.status_code == 200
    page = html(response)
    assert 'name="status"' not in page and 'name="escalation_level"' not in page and 'name="owner"' not in page
    assert 'name="title"' in page and "Investigating" in page
    assert "Start investigation" in page or "investigate" in page  # the timeline inline
    assert admin_client.get(reverse("admin:complaints_complaint_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:complaints_complaint_add")).status_code == 403
    assert admin_client.get(reverse("admin:complaints_complaint_delete", args=[complaint.pk])).status_code == 403


def test_admin_edits_go_through_the_service_and_never_move_the_status(admin_client):
    complaint = make_complaint(S.INVESTIGATING)
    change = reverse("admin:complaints_complaint_change", args=[complaint.pk])
    data = _admin_form(admin_client.get(change))
    data.update(title="Corrected in the admin", status=S.CLOSED, escalation_level=3, reference="TS-000000-9999")
    response = admin_client.post(change, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    stored = Complaint.objects.get(pk=complaint.pk)
    assert stored.title == "Corrected in the admin"
    assert (stored.status, stored.escalation_level, stored.reference) == (
        S.INVESTIGATING,
        EscalationLevel.DESK,
        complaint.reference,
    )
    edit = stored.events.latest("pk")
    assert edit.action == "edit" and edit.data == {"fields": ["title"]}


def test_admin_cannot_edit_a_finished_complaint(admin_client):
    complaint = make_complaint(S.CLOSED)
    page = html(admin_client.get(reverse("admin:complaints_complaint_change", args=[complaint.pk])))
    assert 'name="title"' not in page


def test_admin_target_change_recomputes_open_complaints(admin_client, django_capture_on_commit_callbacks):
    from complaints.models import ComplaintTarget

    moment = datetime(2026, 3, 10, 10, 0, tzinfo=SHANGHAI)
    with time_machine.travel(moment, tick=False):
        complaint = make_complaint(S.INVESTIGATING)
        target = ComplaintTarget.objects.get(severity=Severity.NORMAL)
        change = reverse("admin:complaints_complainttarget_change", args=[target.pk])
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(
                change,
                {
                    "severity": target.severity,
                    "response_value": target.response_value,
                    "response_unit": target.response_unit,
                    "resolution_value": 20,
                    "resolution_unit": "working_days",
                    "warning_percent": target.warning_percent,
                    "calendar": "",
                },
            )
    assert response.status_code == 302
    before = complaint.resolution_due_at
    complaint.refresh_from_db()
    assert complaint.resolution_due_at > before


# --- the related service is a service of the catalogue -------------------------------------------


def test_registration_offers_the_services_in_use_and_refuses_another(client):
    accepted = ServiceFactory(code="desk-support", name="桌面运维服务", status=ServiceStatus.ACCEPTED)
    proposed = ServiceFactory(code="cloud-desktop", name="云桌面服务")
    retired = ServiceFactory(code="fax", name="传真服务", status=ServiceStatus.RETIRED)
    client = desk_client(client)
    page = html(client.get(reverse("complaint_create")))
    assert reverse("pick_complaint_services") in page  # a type-ahead, not every service
    offered = client.get(reverse("pick_complaint_services"), {"q": ""}).json()["results"]
    assert [row["value"] for row in offered] == [accepted.pk]
    assert client.get(reverse("pick_complaint_services"), {"q": "桌面"}).json()["results"][0]["text"] == (
        "desk-support · 桌面运维服务"
    )
    contact = ContactFactory()
    for service in (proposed, retired):
        response = client.post(reverse("complaint_create"), registration(contact, related_service=service.pk))
        assert response.status_code == 200 and "related_service" in response.context["form"].errors
    assert not Complaint.objects.exists()


def test_the_detail_page_links_the_service_and_shows_the_text_as_recorded(client):
    service = ServiceFactory(code="net-wan", name="广域网专线服务", status=ServiceStatus.ACCEPTED)
    linked = make_complaint(related_service=service)
    recorded = make_complaint(related_service_text="远程接入")
    both = make_complaint(related_service=service, related_service_text="专线接入")
    client = desk_client(client)
    page = html(client.get(linked.get_absolute_url()))
    assert f'<a href="{service.get_absolute_url()}">net-wan · 广域网专线服务</a>' in page
    assert 'data-testid="related-service-text"' not in page
    page = html(client.get(recorded.get_absolute_url()))
    assert "as recorded: 远程接入" in page and service.get_absolute_url() not in page
    page = html(client.get(both.get_absolute_url()))
    assert service.get_absolute_url() in page and "as recorded: 专线接入" in page


def test_the_edit_form_keeps_a_service_retired_since_and_offers_the_ones_in_use(client):
    service = ServiceFactory(status=ServiceStatus.ACCEPTED)
    complaint = make_complaint(S.INVESTIGATING, related_service=service)
    type(service).objects.filter(pk=service.pk).update(status=ServiceStatus.RETIRED)  # retired since
    client = desk_client(client)
    url = reverse("complaint_edit", args=[complaint.pk])
    assert client.post(url, edit_data(complaint, title="Renamed")).status_code == 302
    complaint.refresh_from_db()
    assert (complaint.title, complaint.related_service) == ("Renamed", service)
    other_retired = ServiceFactory(status=ServiceStatus.RETIRED)
    response = client.post(url, edit_data(complaint, related_service=other_retired.pk))
    assert response.status_code == 200 and "related_service" in response.context["form"].errors
    in_use = ServiceFactory(status=ServiceStatus.ACCEPTED)
    assert client.post(url, edit_data(complaint, related_service=in_use.pk)).status_code == 302
    complaint.refresh_from_db()
    assert complaint.related_service == in_use


# --- the diagnosis result ends the investigation ------------------------------------------------


def test_the_remedy_form_asks_for_the_diagnosis_and_the_page_shows_it(client):
    complaint = make_complaint(S.INVESTIGATING)
    client = desk_client(client)
    page = html(client.get(complaint.get_absolute_url()))
    assert 'name="remedy-diagnosis"' in page and "Diagnosis result" in page
    refused = client.post(action_url(complaint, "remedy"), {"remedy-remedial_actions": "Replaced the router"})
    assert refused.status_code == 400
    [form] = [form for form in refused.context["action_forms"] if form.transition.action == "remedy"]
    assert list(form.errors) == ["diagnosis"]
    assert Complaint.objects.get(pk=complaint.pk).status == S.INVESTIGATING
    data = {"remedy-diagnosis": "A faulty router at the branch", "remedy-remedial_actions": "Replaced the router"}
    assert client.post(action_url(complaint, "remedy"), data).status_code == 302
    complaint.refresh_from_db()
    assert (complaint.status, complaint.diagnosis) == (S.AWAITING_FEEDBACK, "A faulty router at the branch")
    page = html(client.get(complaint.get_absolute_url()))
    assert '<dd class="col-sm-9" data-testid="diagnosis">A faulty router at the branch</dd>' in page
