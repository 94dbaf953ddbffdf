"""Satisfaction pages with type-ahead pickers: the campaign plan (organisations, department
shares, stakeholders), the campaign and invitation filters, weekly reports (department,
recorder, owners) hold only the chosen rows; a pk that does
not fit is a form error that writes nothing."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from itsm.core.roles import Role
from itsm.core.testing import (
    ALL_ROLES,
    ANONYMOUS,
    assert_constant_queries,
    assert_nothing_written,
    role_may,
    user_with_role,
)
from surveys.forms.campaigns import DepartmentShareFormSet, StakeholdersForm
from surveys.models import Campaign, Invitation, WeeklyReport, WeeklyReportItem
from tests.factories import DepartmentFactory, OrganisationFactory, UserFactory
from tests.surveys.factories import CampaignFactory, InvitationFactory

pytestmark = pytest.mark.django_db

MONDAY = date(2026, 11, 2)


def options(html: str, name: str) -> list[str]:
    select = re.search(rf'<select name="{name}".*?</select>', html, re.S)
    assert select is not None, name
    return re.findall(r'<option value="([^"]*)"', select.group(0))


def login(client, role: str = Role.SATISFACTION_OWNER):
    user = user_with_role(role)
    client.force_login(user)
    return user


# --- the invited organisations of one campaign ---------------------------------------------


@pytest.mark.parametrize("role", ALL_ROLES)
def test_campaign_organisations_access_per_role(client, role):
    url = reverse("pick_campaign-organisations")
    if role == ANONYMOUS:
        assert client.get(url).status_code == 302
        return
    client.force_login(user_with_role(role))
    allowed = all(role_may(role, ["view"], model) for model in (Campaign, Invitation)) and role_may(
        role, ["core.view_organisation"], Campaign
    )
    assert client.get(url, {"campaign": "1"}).status_code == (200 if allowed else 403)


def test_campaign_organisations_are_the_invited_ones(client):
    login(client)
    campaign = CampaignFactory()
    invited = InvitationFactory(campaign=campaign).organisation
    InvitationFactory()  # another campaign's
    OrganisationFactory()
    url = reverse("pick_campaign-organisations")
    assert [row["value"] for row in client.get(url, {"campaign": campaign.pk}).json()["results"]] == [invited.pk]
    assert client.get(url).json()["results"] == []  # no campaign, nothing
    assert (
        assert_constant_queries(
            client,
            f"{url}?campaign={campaign.pk}",
            lambda n: InvitationFactory.create_batch(n, campaign=campaign),
            few=3,
            many=25,
        )
        <= 6
    )


def test_the_invitation_filter_offers_the_campaigns_organisations(client):
    login(client)
    campaign = CampaignFactory()
    invitation = InvitationFactory(campaign=campaign)
    OrganisationFactory.create_batch(50)
    url = reverse("campaign_invitations", args=[campaign.pk])
    page = client.get(url, {"organisation": invitation.organisation_id}).content.decode()
    assert options(page, "organisation") == ["", str(invitation.organisation_id)]
    assert f'data-picker-url="/pick/campaign-organisations/?campaign={campaign.pk}"' in page
    stranger = OrganisationFactory()  # not invited: a filter error and no rows
    response = client.get(url, {"organisation": stranger.pk})
    assert response.status_code == 200 and "organisation" in response.context["filterset"].errors
    assert list(response.context["invitations"]) == []


def test_the_campaign_list_owner_filter_is_a_picker(client):
    login(client)
    campaign = CampaignFactory()
    UserFactory.create_batch(30)
    page = client.get(reverse("campaign_list"), {"owner": campaign.owner_id}).content.decode()
    assert options(page, "owner") == ["", str(campaign.owner_id)]


# --- the campaign plan ---------------------------------------------------------------------


def test_the_plan_holds_only_the_chosen_organisations_and_stakeholders(client):
    login(client)
    chosen = OrganisationFactory()
    stakeholder = UserFactory()
    campaign = CampaignFactory()
    campaign.organisations.add(chosen)
    campaign.stakeholders.add(stakeholder)
    url = reverse("campaign_edit", args=[campaign.pk])
    small = client.get(url).content.decode()
    OrganisationFactory.create_batch(100)
    DepartmentFactory.create_batch(60)
    UserFactory.create_batch(30)
    large = client.get(url).content.decode()
    assert options(large, "organisations") == [str(chosen.pk)]
    assert options(large, "stakeholders") == [str(stakeholder.pk)]
    assert options(large, "shares-0-department") == [""]
    assert large.count("<option") == small.count("<option")
    # The stakeholders' own form (once the plan is frozen) is a picker too.
    stakeholders = str(StakeholdersForm(campaign=campaign))
    assert options(stakeholders, "stakeholders-stakeholders") == [str(stakeholder.pk)]


def test_the_plan_refuses_an_organisation_that_is_not_an_active_customer(client):
    login(client)
    campaign = CampaignFactory()
    supplier = OrganisationFactory(kind="supplier")
    data = {
        "title": "T",
        "kind": campaign.kind,
        "questionnaire": campaign.questionnaire_id,
        "audience_mode": "all",
        "organisations": [supplier.pk],
        "sample_percent": "100",
        "reminder_days": "",
        "closes_at": "2026-11-30T18:00",
        "shares-TOTAL_FORMS": "1",
        "shares-INITIAL_FORMS": "0",
        "shares-0-department": "",
        "shares-0-percent": "",
    }
    with assert_nothing_written(Campaign):
        response = client.post(reverse("campaign_create"), data)
    assert response.status_code == 400
    assert "organisations" in response.context["form"].errors


def test_the_share_rows_draw_their_departments_in_one_query():
    departments = [DepartmentFactory() for _ in range(6)]
    supplier_department = DepartmentFactory(organisation=OrganisationFactory(kind="supplier"))
    initial = [{"department": department.pk, "percent": 10} for department in departments]
    shares = DepartmentShareFormSet(initial=initial)
    with CaptureQueriesContext(connection) as queries:
        html = str(shares.as_p())
    assert len(queries) == 1
    for index, department in enumerate(departments):
        assert options(html, f"shares-{index}-department") == ["", str(department.pk)]
    # A supplier's department is not a choice: a row error, not a 500.
    data = {
        "shares-TOTAL_FORMS": "1",
        "shares-INITIAL_FORMS": "0",
        "shares-0-department": str(supplier_department.pk),
        "shares-0-percent": "20",
    }
    bound = DepartmentShareFormSet(data)
    assert not bound.is_valid() and "department" in bound.forms[0].errors


# --- weekly reports --------------------------------------------------


def test_the_weekly_create_form_pickers_refuse_what_they_would_not_offer(client):
    login(client, Role.SERVICE_DESK)
    page = client.get(reverse("weekly_report_create")).content.decode()
    assert options(page, "department") == [""] and len(options(page, "recorder")) == 2  # "" and the user
    gone = UserFactory(is_active=False)
    with assert_nothing_written(WeeklyReport):
        response = client.post(
            reverse("weekly_report_create"),
            {"department": "999999", "week_start": MONDAY.isoformat(), "recorder": gone.pk},
        )
    assert response.status_code == 400
    assert {"department", "recorder"} <= set(response.context["form"].errors)


def test_the_weekly_page_draws_item_owners_without_a_query_each(client):
    user = login(client, Role.SERVICE_DESK)
    report = WeeklyReport.objects.create(
        department=DepartmentFactory(), week_start=MONDAY, recorder=user, recorded_at="2026-11-03T10:00+08:00"
    )
    url = reverse("weekly_report_detail", args=[report.pk])

    def items(n):
        for _ in range(n):
            WeeklyReportItem.objects.create(report=report, kind="new_problem", text="x", owner=UserFactory())

    assert_constant_queries(client, url, items, few=2, many=12)
    page = client.get(url).content.decode()
    item = report.items.first()
    assert options(page, f"item{item.pk}-owner") == ["", str(item.owner_id)]
    assert options(page, "new-owner") == [""]


def test_the_weekly_list_department_filter_is_a_picker(client):
    login(client, Role.SERVICE_DESK)
    department = DepartmentFactory()
    DepartmentFactory.create_batch(20)
    page = client.get(reverse("weekly_report_list"), {"department": department.pk}).content.decode()
    assert options(page, "department") == ["", str(department.pk)]
