"""Survey campaign pages: access per role, the plan form (create / edit) and what it refuses,
the detail page (plan, audience, history, action forms), delete, the list and the invitation
list — with constant query counts on the list, detail and invitation pages."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

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
from surveys.choices import AudienceMode, CampaignStatus, InvitationStatus
from surveys.filters import CampaignFilter
from surveys.models import Campaign, CampaignDepartmentRatio, CampaignEvent, Invitation
from surveys.services.campaigns import campaign_transition
from tests.complaints.factories import role_user
from tests.factories import ContactFactory, DepartmentFactory, OrganisationFactory, UserFactory
from tests.surveys.factories import CampaignFactory, InvitationFactory, QuestionFactory
from tests.surveys.test_campaign_workflow import audience, make_campaign

pytestmark = pytest.mark.django_db

S = CampaignStatus
SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Wednesday, 10:00 in Shanghai.
NOW = datetime(2026, 11, 4, 2, 0, tzinfo=UTC)
CAMPAIGNS = Resource.for_model(Campaign, CampaignFactory, pages=("list", "detail", "create", "edit", "history"))
READERS = [role for role in ALL_ROLES if role not in (ANONYMOUS, NO_ROLE) and role_may(role, ["view"], Campaign)]
NON_READERS = [role for role in ALL_ROLES if role not in READERS and role != ANONYMOUS]


@pytest.fixture(autouse=True)
def _english(client, settings):
    """The pages in English, so the texts checked here stay put whatever the catalogue says."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def html(response) -> str:
    return response.content.decode()


def login(client, role: str = Role.SATISFACTION_OWNER):
    client.force_login(role_user(role))
    return client


def field_error(page: str, field_id: str) -> str:
    """The error shown under the field with this id ('' when none)."""
    match = re.search(rf'id="{re.escape(field_id)}_error"[^>]*>([^<]*)<', page)
    return match.group(1) if match else ""


# --- access ------------------------------------------------------------------------------------


def test_the_matrix_covers_the_roles_of_the_spec():
    assert set(READERS) == {
        Role.SATISFACTION_OWNER,
        Role.QUALITY_MANAGER,
        Role.BR_MANAGER,
        Role.DEPARTMENT_HEAD,
        Role.MANAGEMENT_REP,
        Role.PROCESS_OWNER,
        Role.SERVICE_LEVEL_MANAGER,
        Role.AUDITOR,
    }
    assert set(NON_READERS) == {Role.SERVICE_DESK, NO_ROLE}


@pytest.mark.parametrize("case", page_matrix(CAMPAIGNS), ids=str)
def test_page_access(client, case):
    check_page_access(client, case)


@pytest.mark.parametrize("status", [S.DRAFT, S.RUNNING, S.ANALYSED])
@pytest.mark.parametrize("role", READERS)
def test_every_reading_role_sees_the_detail_page_in_each_stage(client, role, status):
    campaign = make_campaign(status)
    client.force_login(user_with_role(role))
    response = client.get(campaign.get_absolute_url())
    assert response.status_code == 200
    assert f'data-status="{status}"' in html(response)


@pytest.mark.parametrize("role", READERS)
def test_every_reading_role_sees_the_invitations(client, role):
    campaign = make_campaign(S.RUNNING)
    client.force_login(user_with_role(role))
    url = reverse("campaign_invitations", args=[campaign.pk])
    assert client.get(url).status_code == 200
    assert client.get(reverse("campaign_invitations", args=[campaign.pk + 1000])).status_code == 404


@pytest.mark.parametrize("role", NON_READERS)
def test_the_desk_and_users_without_a_role_see_no_campaign_page(client, role):
    campaign = make_campaign(S.RUNNING)
    client.force_login(user_with_role(role))
    for url in (
        reverse("campaign_list"),
        campaign.get_absolute_url(),
        reverse("campaign_invitations", args=[campaign.pk]),
        reverse("campaign_invitations", args=[campaign.pk + 1000]),  # no difference for a missing row
        reverse("campaign_edit", args=[campaign.pk]),
        reverse("campaign_delete", args=[campaign.pk]),
    ):
        assert client.get(url).status_code == 403, url
    with assert_nothing_written(Campaign, CampaignEvent):
        response = client.post(reverse("campaign_transition", args=[campaign.pk, "close"]))
    assert response.status_code == 403


def test_signed_out_visitors_are_sent_to_log_in(client):
    campaign = make_campaign(S.RUNNING)
    for url in (reverse("campaign_invitations", args=[campaign.pk]), reverse("campaign_delete", args=[campaign.pk])):
        response = client.get(url)
        assert response.status_code == 302 and reverse("login") in response["Location"]
    with assert_nothing_written(Campaign, CampaignEvent):
        response = client.post(reverse("campaign_transition", args=[campaign.pk, "close"]))
    assert response.status_code == 302


@pytest.mark.parametrize("name", ["campaign_detail", "campaign_edit", "campaign_delete", "campaign_invitations"])
def test_unknown_campaigns_are_not_found(client, name):
    login(client)
    assert client.get(reverse(name, args=[424242])).status_code == 404


# --- create ------------------------------------------------------------------------------------


def plan_data(questionnaire, organisations, **overrides) -> dict:
    data = {
        "title": "2026 H2 satisfaction survey",
        "kind": "half_yearly",
        "domain": "Desktop support",
        "objective": "Measure satisfaction with desktop support",
        "scope": "",
        "audience_description": "All users of the desktop service",
        "resources": "",
        "method": "Online questionnaire",
        "schedule": "",
        "questionnaire": str(questionnaire.pk),
        "audience_mode": AudienceMode.ALL,
        "organisations": [str(o.pk) for o in organisations],
        "sample_percent": "100",
        "repeat_interval_days": "90",
        "reminder_days": "3, 7",
        "closes_at": "2026-11-30T18:00",
        "stakeholders": [],
        "shares-TOTAL_FORMS": "3",
        "shares-INITIAL_FORMS": "0",
        "shares-MIN_NUM_FORMS": "0",
        "shares-MAX_NUM_FORMS": "1000",
    }
    for index in range(3):
        data[f"shares-{index}-department"] = ""
        data[f"shares-{index}-percent"] = ""
    data.update(overrides)
    return data


def test_the_create_form_offers_what_the_planner_needs(client):
    questionnaire = QuestionFactory().questionnaire
    customer = OrganisationFactory(name="Acme Corp")
    OrganisationFactory(name="Cable Supplier Ltd", kind="supplier")
    DepartmentFactory(organisation=customer, name="Finance")
    inactive = UserFactory(first_name="Gone", last_name="Away", is_active=False)
    login(client)
    page = html(client.get(reverse("campaign_create")))
    assert f">{questionnaire.title} v1</option>" in page
    assert 'name="shares-TOTAL_FORMS" value="3"' in page
    assert 'value="3, 7"' in page  # the default reminders
    assert 'type="datetime-local"' in page
    # Organisations, departments and stakeholders are type-ahead pickers: the page lists none
    # of them; their endpoints offer active customers, customers' departments, active staff.
    assert "Acme Corp" not in page and "Finance" not in page
    assert 'data-picker-url="/pick/organisations/?kind=customer&amp;active=1"' in page
    assert 'data-picker-url="/pick/departments/?kind=customer"' in page
    assert 'data-picker-url="/pick/users/?active=1"' in page

    def offered(url: str, q: str) -> list[str]:
        return [row["text"] for row in client.get(url + f"&q={q}").json()["results"]]

    assert offered("/pick/organisations/?kind=customer&active=1", "c") == ["Acme Corp"]  # not the supplier
    assert offered("/pick/departments/?kind=customer", "finance") == ["Acme Corp / Finance"]
    assert str(inactive) not in offered("/pick/users/?active=1", "gone")


def test_a_questionnaire_can_be_chosen_from_the_link(client):
    questionnaire = QuestionFactory().questionnaire
    login(client)
    page = html(client.get(reverse("campaign_create") + f"?questionnaire={questionnaire.pk}"))
    assert f'<option value="{questionnaire.pk}" selected>' in page


def test_create_makes_a_draft_with_its_audience_shares_and_stakeholders(client):
    questionnaire = QuestionFactory().questionnaire
    organisation = OrganisationFactory()
    finance = DepartmentFactory(organisation=organisation)
    sales = DepartmentFactory(organisation=organisation)
    stakeholder = UserFactory()
    planner = role_user(Role.QUALITY_MANAGER)
    client.force_login(planner)
    data = plan_data(
        questionnaire,
        [organisation],
        audience_mode=AudienceMode.SAMPLE,
        sample_percent="40",
        reminder_days="7，3",  # a full-width comma, as typed with a Chinese input method
        stakeholders=[str(stakeholder.pk)],
        **{
            "shares-0-department": str(finance.pk),
            "shares-0-percent": "30",
            "shares-2-department": str(sales.pk),
            "shares-2-percent": "0",
        },
    )
    with time_machine.travel(NOW, tick=False):
        response = client.post(reverse("campaign_create"), data)
    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response["Location"] == campaign.get_absolute_url()
    assert campaign.status == S.DRAFT
    assert campaign.owner == planner
    assert (campaign.title, campaign.domain, campaign.audience_mode, campaign.sample_percent) == (
        "2026 H2 satisfaction survey",
        "Desktop support",
        AudienceMode.SAMPLE,
        40,
    )
    assert campaign.reminder_days == [3, 7]
    # Typed in local time (Asia/Shanghai).
    assert campaign.closes_at == datetime(2026, 11, 30, 18, 0, tzinfo=SHANGHAI)
    assert list(campaign.organisations.all()) == [organisation]
    assert dict(campaign.department_ratios.values_list("department_id", "percent")) == {finance.pk: 30, sales.pk: 0}
    assert list(campaign.stakeholders.all()) == [stakeholder]
    assert campaign.events.count() == 0


BAD_PLANS = [
    ("title", {"title": ""}, "id_title", "This field is required."),
    ("reminders-text", {"reminder_days": "3, next week"}, "id_reminder_days", "is not a whole number of days"),
    ("reminders-range", {"reminder_days": "0, 400"}, "id_reminder_days", "between 1 and 365"),
    ("reminders-twice", {"reminder_days": "3, 3"}, "id_reminder_days", "a different day"),
    ("reminders-many", {"reminder_days": "1,2,3,4,5,6"}, "id_reminder_days", "At most 5 reminders"),
    ("close-date", {"closes_at": "next Friday"}, "id_closes_at", "Enter a date and time"),
    ("close-past", {"closes_at": "2026-11-01T09:00"}, "id_closes_at", "The close date must be in the future."),
    ("sample", {"sample_percent": "0"}, "id_sample_percent", "greater than or equal to 1"),
    ("organisations", {"organisations": []}, "id_organisations", "Choose at least one organisation"),
    ("questionnaire", {"questionnaire": "999999"}, "id_questionnaire", "Select a valid choice"),
    ("share-range", {"shares-0-DEPT": "x", "shares-0-percent": "130"}, "id_shares-0-percent", "from 0 to 100"),
    ("share-no-percent", {"shares-0-DEPT": "x"}, "id_shares-0-percent", "Give this department"),
    ("share-no-department", {"shares-1-percent": "20"}, "id_shares-1-department", "Choose the department"),
    (
        "share-twice",
        {"shares-0-DEPT": "x", "shares-1-DEPT": "x", "shares-0-percent": "5", "shares-1-percent": "9"},
        "id_shares-1-department",
        "has a share already",
    ),
    (
        "share-elsewhere",
        {"shares-0-OTHER": "x", "shares-0-percent": "5"},
        "id_shares-0-department",
        "is not surveyed by this campaign",
    ),
]


@pytest.mark.parametrize(
    ("overrides", "field_id", "message"), [case[1:] for case in BAD_PLANS], ids=[c[0] for c in BAD_PLANS]
)
def test_a_bad_plan_is_refused_next_to_its_field_and_writes_nothing(client, overrides, field_id, message):
    questionnaire = QuestionFactory().questionnaire
    organisation = OrganisationFactory()
    department = DepartmentFactory(organisation=organisation)
    elsewhere = DepartmentFactory()  # another customer's department, not surveyed
    data = plan_data(questionnaire, [organisation])
    for name, value in overrides.items():
        if name.endswith("-DEPT"):
            data[name.replace("-DEPT", "-department")] = str(department.pk)
        elif name.endswith("-OTHER"):
            data[name.replace("-OTHER", "-department")] = str(elsewhere.pk)
        else:
            data[name] = value
    login(client)
    with time_machine.travel(NOW, tick=False), assert_nothing_written(Campaign, CampaignDepartmentRatio):
        response = client.post(reverse("campaign_create"), data)
    assert response.status_code == 400
    page = html(response)
    assert message in field_error(page, field_id), page[:300]
    assert 'data-testid="form-errors"' in page
    # What was typed is kept.
    assert 'value="2026 H2 satisfaction survey"' in page or overrides.get("title") == ""


def test_the_key_customer_audience_needs_no_organisation(client):
    questionnaire = QuestionFactory().questionnaire
    login(client)
    data = plan_data(questionnaire, [], audience_mode=AudienceMode.KEY_CUSTOMERS)
    with time_machine.travel(NOW, tick=False):
        response = client.post(reverse("campaign_create"), data)
    assert response.status_code == 302
    assert Campaign.objects.get().audience_mode == AudienceMode.KEY_CUSTOMERS


def test_create_needs_the_add_permission(client):
    questionnaire = QuestionFactory().questionnaire
    organisation = OrganisationFactory()
    login(client, Role.BR_MANAGER)
    with assert_nothing_written(Campaign, CampaignDepartmentRatio):
        response = client.post(reverse("campaign_create"), plan_data(questionnaire, [organisation]))
    assert response.status_code == 403


def test_a_form_cannot_set_the_status(client):
    questionnaire = QuestionFactory().questionnaire
    organisation = OrganisationFactory()
    login(client)
    with time_machine.travel(NOW, tick=False):
        client.post(reverse("campaign_create"), plan_data(questionnaire, [organisation], status="running"))
    assert Campaign.objects.get().status == S.DRAFT


# --- edit --------------------------------------------------------------------------------------


def edit_data(campaign: Campaign, **overrides) -> dict:
    data = plan_data(
        campaign.questionnaire,
        list(campaign.organisations.all()),
        title=campaign.title,
        kind=campaign.kind,
        audience_mode=campaign.audience_mode,
        sample_percent=str(campaign.sample_percent),
        closes_at=timezone.localtime(campaign.closes_at).strftime("%Y-%m-%dT%H:%M"),
        part="plan",
    )
    ratios = list(campaign.department_ratios.values_list("department_id", "percent"))
    data["shares-INITIAL_FORMS"] = str(len(ratios))
    data["shares-TOTAL_FORMS"] = str(len(ratios) + 3)
    for index, (department, percent) in enumerate(ratios):
        data[f"shares-{index}-department"] = str(department)
        data[f"shares-{index}-percent"] = str(percent)
    for index in range(len(ratios), len(ratios) + 3):
        data[f"shares-{index}-department"] = ""
        data[f"shares-{index}-percent"] = ""
    data.update(overrides)
    return data


def test_a_draft_plan_is_edited_and_its_shares_replaced(client):
    organisation = audience(2)
    first, second = DepartmentFactory(organisation=organisation), DepartmentFactory(organisation=organisation)
    campaign = make_campaign(S.DRAFT, organisations=[organisation], audience_mode=AudienceMode.SAMPLE)
    CampaignDepartmentRatio.objects.create(campaign=campaign, department=first, percent=20)
    login(client)
    page = html(client.get(reverse("campaign_edit", args=[campaign.pk])))
    assert 'name="shares-TOTAL_FORMS" value="4"' in page
    assert f'<option value="{first.pk}" selected>' in page
    data = edit_data(
        campaign,
        title="Renamed",
        reminder_days="5",
        **{"shares-0-department": str(second.pk), "shares-0-percent": "60"},
    )
    response = client.post(reverse("campaign_edit", args=[campaign.pk]), data)
    assert response.status_code == 302, html(response)[:3000]
    campaign.refresh_from_db()
    assert (campaign.title, campaign.reminder_days) == ("Renamed", [5])
    assert dict(campaign.department_ratios.values_list("department_id", "percent")) == {second.pk: 60}


def test_a_failed_edit_changes_nothing(client):
    campaign = make_campaign(S.DRAFT)
    login(client)
    data = edit_data(campaign, title="Renamed", reminder_days="soon")
    with assert_nothing_written(Campaign, CampaignDepartmentRatio):
        response = client.post(reverse("campaign_edit", args=[campaign.pk]), data)
    assert response.status_code == 400
    assert "is not a whole number of days" in field_error(html(response), "id_reminder_days")
    assert Campaign.objects.get(pk=campaign.pk).title == "Half-yearly satisfaction survey"
    assert '<h1 class="h3 mb-3">Edit Half-yearly satisfaction survey</h1>' in html(response)


@pytest.mark.parametrize("status", [S.IN_REVIEW, S.APPROVED, S.RUNNING])
def test_after_submission_only_stakeholders_and_the_close_date_change(client, status):
    campaign = make_campaign(status)
    login(client)
    page = html(client.get(reverse("campaign_edit", args=[campaign.pk])))
    assert "The plan can only be changed while the campaign is a draft" in page
    assert 'data-testid="plan-form"' not in page
    assert 'data-testid="stakeholders-form"' in page and 'data-testid="close-form"' in page

    with assert_nothing_written(Campaign, CampaignDepartmentRatio, CampaignEvent):
        response = client.post(reverse("campaign_edit", args=[campaign.pk]), edit_data(campaign, title="Renamed"))
    assert response.status_code == 400
    assert "This can no longer be changed" in html(response)

    newcomer = UserFactory()
    response = client.post(
        reverse("campaign_edit", args=[campaign.pk]),
        {"part": "stakeholders", "stakeholders-stakeholders": [str(newcomer.pk)]},
    )
    assert response.status_code == 302
    assert list(campaign.stakeholders.all()) == [newcomer]

    later = timezone.localtime(campaign.closes_at + timedelta(days=3)).replace(second=0, microsecond=0)
    response = client.post(
        reverse("campaign_edit", args=[campaign.pk]),
        {"part": "close", "close-closes_at": later.strftime("%Y-%m-%dT%H:%M")},
    )
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.closes_at == later
    event = campaign.events.order_by("pk").last()
    assert event.action == "set_close"
    detail = html(client.get(campaign.get_absolute_url()))
    assert "Close date moved" in detail and later.strftime("%Y-%m-%d %H:%M") in detail


def test_the_close_date_cannot_move_into_the_past(client):
    campaign = make_campaign(S.RUNNING)
    login(client)
    with assert_nothing_written(Campaign, CampaignEvent):
        response = client.post(
            reverse("campaign_edit", args=[campaign.pk]), {"part": "close", "close-closes_at": "2020-01-01T10:00"}
        )
    assert response.status_code == 400
    assert "The close date must be in the future." in field_error(html(response), "id_close-closes_at")


@pytest.mark.parametrize("status", [S.CLOSED, S.PUBLISHED, S.ANALYSED])
def test_a_closed_campaign_keeps_its_date(client, status):
    campaign = make_campaign(status)
    login(client)
    detail = html(client.get(campaign.get_absolute_url()))
    assert ('data-testid="edit-link"' in detail) == (status == S.CLOSED)
    page = html(client.get(reverse("campaign_edit", args=[campaign.pk])))
    assert 'data-testid="close-form"' not in page
    assert ('data-testid="stakeholders-form"' in page) == (status == S.CLOSED)
    with assert_nothing_written(Campaign, CampaignEvent):
        response = client.post(
            reverse("campaign_edit", args=[campaign.pk]), {"part": "close", "close-closes_at": "2030-01-01T10:00"}
        )
    assert response.status_code == 400


# --- detail ------------------------------------------------------------------------------------


def test_the_detail_page_previews_the_audience_before_launch(client):
    organisation = OrganisationFactory(name="Acme Corp")
    finance = DepartmentFactory(organisation=organisation, name="Finance")
    for _ in range(4):
        ContactFactory(organisation=organisation, department=finance)
    ContactFactory(organisation=organisation, department=finance, email="")
    ContactFactory(organisation=organisation, department=finance, unsubscribed=True)
    recent = ContactFactory(organisation=organisation, department=finance)
    InvitationFactory(contact=recent, status=InvitationStatus.ANSWERED, answered_at=timezone.now() - timedelta(days=5))
    campaign = make_campaign(
        S.APPROVED, organisations=[organisation], audience_mode=AudienceMode.SAMPLE, sample_percent=50
    )
    login(client)
    page = html(client.get(campaign.get_absolute_url()))
    counts = dict(re.findall(r'data-count="(\w+)">([^<]*)<', page))
    assert counts == {
        "contacts": "7",
        "no_email": "1",
        "unsubscribed": "1",
        "recently_answered": "1",
        "eligible": "4",
        "not_sampled": "2",
        "invited": "2",
        "coverage": "29 %",
    }
    assert "answered a survey within 90 days" in page
    assert 'data-department="Finance"' in page and 'data-invited="2"' in page
    # The questionnaire and its preview are linked.
    assert reverse("questionnaire_detail", args=[campaign.questionnaire_id]) in page
    assert reverse("questionnaire_preview", args=[campaign.questionnaire_id]) in page


def test_the_detail_page_counts_the_invitations_after_launch(client):
    campaign = make_campaign(S.RUNNING, contacts=6)
    invitations = list(campaign.invitations.order_by("pk"))
    now = timezone.now()
    Invitation.objects.filter(pk__in=[i.pk for i in invitations[:4]]).update(
        status=InvitationStatus.SENT, sent_at=now, reminders_sent=1
    )
    Invitation.objects.filter(pk=invitations[0].pk).update(status=InvitationStatus.ANSWERED, answered_at=now)
    Invitation.objects.filter(pk=invitations[1].pk).update(unsubscribed_at=now)
    Invitation.objects.filter(pk=invitations[4].pk).update(status=InvitationStatus.BOUNCED, bounce_reason="550")
    login(client, Role.AUDITOR)
    page = html(client.get(campaign.get_absolute_url()))
    counts = dict(re.findall(r'data-count="(\w+)">([^<]*)<', page))
    assert counts == {
        "total": "6",
        "pending": "1",
        "sent": "3",
        "answered": "1",
        "bounced": "1",
        "unsubscribed": "1",
        "reminders": "4",
        "rate": "25 %",
    }
    assert "1 of 4 delivered" in page
    assert reverse("campaign_results", args=[campaign.pk]) in page
    assert reverse("campaign_invitations", args=[campaign.pk]) in page
    assert "Left out at launch: 0 without email" in page


def test_the_history_shows_who_did_what_when_in_local_time(client):
    with time_machine.travel(NOW, tick=False):
        campaign = make_campaign(S.IN_REVIEW)
        reviewer = role_user(Role.BR_MANAGER)
        campaign_transition(campaign=campaign, action="return", actor=reviewer, note="Shorten the questionnaire")
    login(client, Role.AUDITOR)
    page = html(client.get(campaign.get_absolute_url()))
    timeline = page[page.index('data-testid="timeline"') :]
    assert 'data-action="submit"' in timeline and 'data-action="return"' in timeline
    assert "2026-11-04 10:00" in timeline  # 02:00 UTC shown in Asia/Shanghai
    assert str(reviewer) in timeline and "Shorten the questionnaire" in timeline
    assert "In review → Draft" in timeline
    assert "audience: 3 contacts" in timeline


def test_the_system_close_is_shown_as_the_system(client):
    campaign = make_campaign(S.RUNNING)
    campaign_transition(campaign=campaign, action="close", actor=None)
    login(client)
    page = html(client.get(campaign.get_absolute_url()))
    assert '<span class="fst-italic">system</span>' in page


ACTION_FORMS = [
    (S.DRAFT, Role.SATISFACTION_OWNER, ["submit"]),
    (S.DRAFT, Role.BR_MANAGER, []),
    (S.IN_REVIEW, Role.BR_MANAGER, ["approve", "return"]),
    (S.IN_REVIEW, Role.QUALITY_MANAGER, []),
    (S.APPROVED, Role.QUALITY_MANAGER, ["launch"]),
    (S.RUNNING, Role.SATISFACTION_OWNER, ["close"]),
    (S.CLOSED, Role.SATISFACTION_OWNER, ["publish"]),
    (S.PUBLISHED, Role.SATISFACTION_OWNER, ["analyse"]),
    (S.PUBLISHED, Role.AUDITOR, []),
    (S.ANALYSED, Role.SATISFACTION_OWNER, []),
]


@pytest.mark.parametrize(("status", "role", "actions"), ACTION_FORMS, ids=[f"{s}-{r}" for s, r, _ in ACTION_FORMS])
def test_the_detail_page_offers_one_form_per_allowed_action(client, status, role, actions):
    campaign = make_campaign(status)
    login(client, role)
    page = html(client.get(campaign.get_absolute_url()))
    shown = re.findall(r'<form method="post" action="[^"]*/actions/(\w+)/"', page)
    assert shown == actions
    if "return" in actions:
        assert 'name="return-note"' in page and "What must change" in page
    if "analyse" in actions:
        assert 'name="analyse-analysis"' in page
    if not actions:
        assert 'data-testid="no-actions"' in page


def test_a_refused_action_shows_every_reason_on_the_page(client):
    organisation = audience(0)
    campaign = make_campaign(S.DRAFT, organisations=[organisation], questionnaire=QuestionFactory().questionnaire)
    campaign.questionnaire.questions.all().delete()
    login(client)
    with assert_nothing_written(Campaign, CampaignEvent):
        response = client.post(reverse("campaign_transition", args=[campaign.pk, "submit"]), {"submit-note": ""})
    assert response.status_code == 400
    page = html(response)
    assert 'data-action-error="submit"' in page
    assert "Questionnaire: " in page and "Audience: Nobody would be invited" in page


# --- delete ------------------------------------------------------------------------------------


def test_a_fresh_draft_can_be_deleted(client):
    campaign = make_campaign(S.DRAFT)
    login(client)
    page = html(client.get(campaign.get_absolute_url()))
    assert 'data-testid="delete-link"' in page
    assert client.get(reverse("campaign_delete", args=[campaign.pk])).status_code == 200
    response = client.post(reverse("campaign_delete", args=[campaign.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("campaign_list")
    assert not Campaign.objects.filter(pk=campaign.pk).exists()


def test_a_draft_once_submitted_cannot_be_deleted(client):
    campaign = make_campaign(S.IN_REVIEW)
    campaign_transition(campaign=campaign, action="return", actor=role_user(Role.BR_MANAGER), note="again")
    login(client)
    assert 'data-testid="delete-link"' not in html(client.get(campaign.get_absolute_url()))
    with assert_nothing_written(Campaign, CampaignEvent):
        response = client.post(reverse("campaign_delete", args=[campaign.pk]))
    assert response.status_code == 400
    assert "Only a draft that was never submitted can be deleted." in html(response)


def test_deleting_needs_the_delete_permission(client):
    campaign = make_campaign(S.DRAFT)
    login(client, Role.BR_MANAGER)
    with assert_nothing_written(Campaign):
        assert client.post(reverse("campaign_delete", args=[campaign.pk])).status_code == 403


# --- list --------------------------------------------------------------------------------------


def test_the_list_shows_the_live_response_rate(client):
    running = make_campaign(S.RUNNING, contacts=4, title="Running survey")
    ids = list(running.invitations.order_by("pk").values_list("pk", flat=True))
    Invitation.objects.filter(pk__in=ids[:3]).update(status=InvitationStatus.SENT, sent_at=timezone.now())
    Invitation.objects.filter(pk=ids[0]).update(status=InvitationStatus.ANSWERED, answered_at=timezone.now())
    draft = make_campaign(S.DRAFT, title="Draft survey")
    login(client, Role.DEPARTMENT_HEAD)
    page = html(client.get(reverse("campaign_list")))
    row = page[page.index(f'data-campaign="{running.pk}"') :]
    row = row[: row.index("</tr>")]
    cells = dict(re.findall(r'data-testid="(invited|answered|rate)">([^<]*)<', row))
    assert cells == {"invited": "4", "answered": "1", "rate": "33 %"}
    draft_row = page[page.index(f'data-campaign="{draft.pk}"') :]
    assert re.search(r'data-testid="rate">—<', draft_row[: draft_row.index("</tr>")])


def test_the_list_filters_and_searches(client):
    owner = role_user(Role.SATISFACTION_OWNER)
    other_owner = UserFactory()
    a = CampaignFactory(title="Desktop survey", owner=owner, kind="project")
    b = CampaignFactory(title="Network survey", owner=other_owner)
    c = make_campaign(S.RUNNING, title="Desktop follow-up")
    Campaign.objects.filter(pk=b.pk).update(closes_at=datetime(2027, 1, 10, 20, 0, tzinfo=UTC))  # 11 Jan local
    login(client)

    def listed(query: str) -> set[int]:
        response = client.get(reverse("campaign_list") + query)
        assert response.status_code == 200
        return {int(pk) for pk in re.findall(r'data-campaign="(\d+)"', html(response))}

    assert listed("") == {a.pk, b.pk, c.pk}
    assert listed("?q=desktop") == {a.pk, c.pk}
    assert listed("?status=running") == {c.pk}
    assert listed("?status=draft&status=running") == {a.pk, b.pk, c.pk}
    assert listed("?kind=project") == {a.pk}
    assert listed(f"?owner={other_owner.pk}") == {b.pk}
    assert listed(f"?questionnaire={c.questionnaire_id}") == {c.pk}
    assert listed("?closes_after=2027-01-11") == {b.pk}
    assert listed("?closes_before=2027-01-10") == {a.pk, c.pk}
    assert listed("?status=nonsense") == set()  # a filter typed wrong shows nothing, with its error


def test_the_filter_has_the_fields_the_api_uses():
    assert set(CampaignFilter.base_filters) == {
        "q",
        "status",
        "kind",
        "owner",
        "questionnaire",
        "closes_after",
        "closes_before",
    }


def test_the_list_paginates(client):
    for _ in range(27):
        CampaignFactory()
    login(client)
    first = html(client.get(reverse("campaign_list")))
    assert len(re.findall(r'data-campaign="', first)) == 25
    assert "Page 1 of 2" in first
    assert len(re.findall(r'data-campaign="', html(client.get(reverse("campaign_list") + "?page=2")))) == 2


# --- invitations -------------------------------------------------------------------------------


def test_the_invitation_list_shows_each_invitation_and_filters(client):
    acme = audience(2, name="Acme Corp")
    globex = audience(1, name="Globex")
    campaign = make_campaign(S.RUNNING, organisations=[acme, globex])
    bounced = campaign.invitations.filter(organisation=globex).get()
    Invitation.objects.filter(pk=bounced.pk).update(status=InvitationStatus.BOUNCED, bounce_reason="550 no such user")
    login(client, Role.BR_MANAGER)
    url = reverse("campaign_invitations", args=[campaign.pk])
    page = html(client.get(url))
    assert len(re.findall(r'data-invitation="', page)) == 3
    assert "550 no such user" in page and bounced.contact.name in page and "Acme Corp" in page
    assert len(re.findall(r'data-invitation="', html(client.get(url + "?status=bounced")))) == 1
    assert len(re.findall(r'data-invitation="', html(client.get(url + f"?organisation={acme.pk}")))) == 2
    assert len(re.findall(r'data-invitation="', html(client.get(url + "?status=answered")))) == 0
    # Only the organisations this campaign invited are offered.
    other = OrganisationFactory(name="Not invited Ltd")
    assert "Not invited Ltd" not in page
    assert client.get(url + f"?organisation={other.pk}").status_code == 200


def test_the_invitation_list_before_launch_says_why_it_is_empty(client):
    campaign = make_campaign(S.DRAFT)
    login(client)
    assert "they are created when the campaign is launched" in html(
        client.get(reverse("campaign_invitations", args=[campaign.pk]))
    )


# --- constant queries --------------------------------------------------------------------------


def test_the_list_runs_a_constant_number_of_queries(client):
    login(client)

    def make_rows(n: int) -> None:
        for _ in range(n):
            invitation = InvitationFactory(status=InvitationStatus.ANSWERED, answered_at=timezone.now())
            InvitationFactory(campaign=invitation.campaign)

    assert_constant_queries(client, reverse("campaign_list"), make_rows, few=3, many=20)


def test_the_detail_page_runs_a_constant_number_of_queries_before_launch(client):
    campaign = make_campaign(S.DRAFT, contacts=1)
    organisation = campaign.organisations.get()
    login(client)

    def make_rows(n: int) -> None:
        for _ in range(n):
            department = DepartmentFactory(organisation=organisation)
            ContactFactory(organisation=organisation, department=department)
            InvitationFactory(contact=ContactFactory(organisation=organisation), answered_at=timezone.now())
        CampaignDepartmentRatio.objects.get_or_create(campaign=campaign, department=department, percent=50)

    assert_constant_queries(client, campaign.get_absolute_url(), make_rows, few=3, many=20)


def test_the_detail_page_runs_a_constant_number_of_queries_after_launch(client):
    campaign = make_campaign(S.RUNNING, contacts=1)
    login(client)

    def make_rows(n: int) -> None:
        for _ in range(n):
            InvitationFactory(campaign=campaign, status=InvitationStatus.SENT, sent_at=timezone.now())
            CampaignEvent.objects.create(
                campaign=campaign, action="set_close", actor=UserFactory(), data={"from": "", "to": ""}
            )
        campaign.stakeholders.add(UserFactory())
        campaign.organisations.add(OrganisationFactory())

    assert_constant_queries(client, campaign.get_absolute_url(), make_rows, few=3, many=20)


def test_the_invitation_list_runs_a_constant_number_of_queries(client):
    campaign = make_campaign(S.RUNNING, contacts=1)
    login(client, Role.AUDITOR)

    def make_rows(n: int) -> None:
        for _ in range(n):
            InvitationFactory(campaign=campaign, department=DepartmentFactory())

    assert_constant_queries(client, reverse("campaign_invitations", args=[campaign.pk]), make_rows, few=3, many=40)
