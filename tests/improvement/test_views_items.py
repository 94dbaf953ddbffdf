"""The register's pages: the list (filters, tabs, sources resolved in constant queries), raising
an item from a source (pre-filled, 404 / 403 / 400), an item's page with its moves, the edit
form; permissions per role and query counts that do not grow with the rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from improvement.choices import ItemStatus, PlanStatus
from improvement.models import ImprovementItem, ImprovementItemEvent
from improvement.services.items import item_transition, item_update
from itsm.core.roles import Role
from itsm.core.testing import (
    ALL_ROLES,
    Resource,
    assert_constant_queries,
    assert_nothing_written,
    check_page_access,
    page_matrix,
)
from surveys.choices import CampaignStatus
from tests.complaints.factories import make_complaint, role_user
from tests.improvement.factories import make_item, make_plan
from tests.sla.factories import MeasurementFactory
from tests.surveys.factories import CampaignFactory, QuestionFactory

pytestmark = pytest.mark.django_db

ITEMS = Resource(
    model=ImprovementItem,
    factory=lambda: make_item(),
    pages={
        "list": "improvement_item_list",
        "detail": "improvement_item_detail",
        "edit": "improvement_item_edit",
        "history": "improvement_item_history",
    },
)


@pytest.fixture(autouse=True)
def _english(client):
    client.cookies["django_language"] = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def brm(client):
    user = role_user(Role.BR_MANAGER)
    client.force_login(user)
    return user


def _create_url(kind: str, pk, part=None) -> str:
    url = f"{reverse('improvement_item_create')}?source={kind}&id={pk}"
    return f"{url}&part={part}" if part is not None else url


def _post(**fields) -> dict:
    return {"title": "Night calls wait too long", "description": "", "priority": "high", **fields}


# --- permissions ------------------------------------------------------------------------------


@pytest.mark.parametrize("case", page_matrix(ITEMS), ids=str)
def test_page_access(client, case):
    check_page_access(client, case)


@pytest.mark.parametrize("role", [r for r in ALL_ROLES if r not in ("anonymous",)])
def test_the_create_page_needs_the_add_permission(client, make_user, role):
    measurement = MeasurementFactory(met=False)
    user = make_user(None if role == "no-role" else role)
    client.force_login(user)
    may_add = user.has_perm("improvement.add_improvementitem")
    may_read = user.has_perm("sla.view_measurement")
    url = _create_url("sla_measurement", measurement.pk)
    if may_add and may_read:
        assert client.get(url).status_code == 200
        assert client.post(url, _post()).status_code == 302
        assert ImprovementItem.objects.count() == 1
    else:
        with assert_nothing_written(ImprovementItem):
            assert (client.get(url).status_code, client.post(url, _post()).status_code) == (403, 403)


def test_signed_out_the_create_page_asks_to_sign_in(client):
    measurement = MeasurementFactory(met=False)
    response = client.get(_create_url("sla_measurement", measurement.pk))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_a_role_that_may_not_read_the_source_is_refused(client, make_user):
    desk = make_user(Role.SERVICE_DESK)  # raises items, but reads no SLA measurements
    assert desk.has_perm("improvement.add_improvementitem")
    client.force_login(desk)
    measurement = MeasurementFactory(met=False)
    with assert_nothing_written(ImprovementItem):
        assert client.get(_create_url("sla_measurement", measurement.pk)).status_code == 403
        assert client.post(_create_url("sla_measurement", measurement.pk), _post()).status_code == 403


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?source=nonsense&id=1",
        "?source=sla_measurement",
        "?source=sla_measurement&id=abc",
        "?source=sla_measurement&id=999999",
    ],
    ids=["nothing", "unknown-kind", "no-id", "bad-id", "missing-record"],
)
def test_an_unknown_kind_or_missing_source_is_a_404(client, brm, query):
    with assert_nothing_written(ImprovementItem):
        assert client.get(reverse("improvement_item_create") + query).status_code == 404
        assert client.post(reverse("improvement_item_create") + query, _post()).status_code == 404


def test_a_part_of_a_kind_without_parts_or_a_missing_part_is_a_404(client, brm):
    measurement = MeasurementFactory(met=False)
    campaign = CampaignFactory()
    assert client.get(_create_url("sla_measurement", measurement.pk, part=1)).status_code == 404
    assert client.get(_create_url("survey_question", campaign.pk, part=999999)).status_code == 404


# --- raising an item --------------------------------------------------------------------------


def test_the_create_page_is_prefilled_from_the_source_and_says_where_it_comes_from(client, brm):
    measurement = MeasurementFactory(met=False, actual="3.5")
    make_item(source=measurement, title="Raised before")
    response = client.get(_create_url("sla_measurement", measurement.pk))
    assert response.status_code == 200
    form = response.context["form"]
    agreement = measurement.target.agreement
    assert form.initial["title"].startswith(f"{agreement.number}:")
    assert form.initial["priority"] == "high"
    assert "3.5" in form.initial["description"]
    assert form.initial["owner"] == brm.pk
    page = response.content.decode()
    assert "SLA measurement" in page and agreement.number in page
    assert "Raised before" in page  # already raised from this source


def test_raising_an_item_writes_it_with_its_source_and_opens_it(client, brm):
    measurement = MeasurementFactory(met=False)
    response = client.post(_create_url("sla_measurement", measurement.pk), _post(status="done"))
    item = ImprovementItem.objects.get()
    assert response.status_code == 302 and response["Location"] == item.get_absolute_url()
    assert (item.source_kind, item.source, item.owner) == ("sla_measurement", measurement, brm)
    assert item.status == ItemStatus.OPEN  # a posted status is ignored
    assert item.target_date is not None
    assert item.events.get().action == "created"


def test_an_item_raised_into_an_open_plan_is_planned(client, brm):
    plan = make_plan(PlanStatus.DRAFT)
    complaint = make_complaint()
    response = client.post(_create_url("complaint", complaint.pk), _post(plan=plan.pk))
    assert response.status_code == 302
    item = ImprovementItem.objects.get()
    assert (item.status, item.plan) == (ItemStatus.PLANNED, plan)


def test_a_survey_question_is_a_part_of_the_campaign(client, brm):
    campaign = CampaignFactory(title="2026 H1 survey", status=CampaignStatus.CLOSED)
    question = QuestionFactory(questionnaire=campaign.questionnaire, section__questionnaire=campaign.questionnaire)
    response = client.get(_create_url("survey_question", campaign.pk, part=question.pk))
    assert response.status_code == 200
    assert question.text in response.context["form"].initial["title"]
    client.post(_create_url("survey_question", campaign.pk, part=question.pk), _post())
    item = ImprovementItem.objects.get()
    assert (item.source, item.source_part_id) == (campaign, question.pk)


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"title": "  "}, "title"), ({"priority": "urgent"}, "priority"), ({"owner": "999999"}, "owner")],
    ids=["blank-title", "bad-priority", "unknown-owner"],
)
def test_bad_input_is_a_400_and_nothing_is_written(client, brm, fields, field):
    measurement = MeasurementFactory(met=False)
    with assert_nothing_written(ImprovementItem, ImprovementItemEvent):
        response = client.post(_create_url("sla_measurement", measurement.pk), _post(**fields))
    assert response.status_code == 400
    assert response.context["form"].errors[field]


def test_a_closed_plan_cannot_be_joined(client, brm):
    plan = make_plan(PlanStatus.REJECTED)
    measurement = MeasurementFactory(met=False)
    with assert_nothing_written(ImprovementItem):
        response = client.post(_create_url("sla_measurement", measurement.pk), _post(plan=plan.pk))
    assert response.status_code == 400 and "plan" in response.context["form"].errors


def test_the_create_page_runs_constant_queries(client, brm):
    measurement = MeasurementFactory(met=False)
    url = _create_url("sla_measurement", measurement.pk)
    assert_constant_queries(client, url, lambda n: [make_item(source=measurement) for _ in range(n)], few=1, many=8)


# --- the list ---------------------------------------------------------------------------------


def test_the_list_shows_each_item_with_its_source_linked(client, brm):
    measurement = MeasurementFactory(met=False)
    item = make_item(source=measurement, title="Slow nights")
    complaint = make_complaint(title="Router outage")
    other = make_item(source=complaint, source_kind="complaint", title="From the complaint")
    response = client.get(reverse("improvement_item_list"))
    assert response.status_code == 200
    page = response.content.decode()
    assert item.reference in page and other.reference in page
    assert complaint.get_absolute_url() in page and "Router outage" in page
    assert measurement.target.agreement.number in page
    rows = {row["item"].pk: row["source"] for row in response.context["rows"]}
    assert rows[other.pk].url == complaint.get_absolute_url() and rows[other.pk].label == "Complaint"


def test_a_reader_who_may_not_read_the_source_sees_its_kind_only(client, make_user):
    measurement = MeasurementFactory(met=False)
    make_item(source=measurement)
    client.force_login(make_user(Role.SERVICE_DESK))
    response = client.get(reverse("improvement_item_list"))
    source = response.context["rows"][0]["source"]
    assert (source.label, source.text, source.url, source.readable) == ("SLA measurement", "", "", False)
    assert measurement.target.agreement.number not in response.content.decode()


def test_a_source_that_is_gone_says_so(client, brm):
    item = make_item()
    item.source.delete()  # a measurement re-imported: the register keeps the item
    response = client.get(reverse("improvement_item_list"))
    assert response.context["rows"][0]["source"].missing
    assert "no longer exists" in response.content.decode()


def test_the_list_filters_by_kind_status_priority_overdue_and_text(client, brm):
    complaint = make_complaint()
    from_complaint = make_item(source=complaint, source_kind="complaint", title="Apologise faster")
    high = make_item(priority="high", title="Night rota")
    suggested = make_item(ItemStatus.SUGGESTED, title="Suggested by intake")
    late = make_item(title="Late one")
    item_update(item=late, actor=brm, target_date=timezone.localdate() - timedelta(days=1))
    url = reverse("improvement_item_list")

    def listed(query: str) -> set[int]:
        response = client.get(f"{url}?{query}")
        assert response.status_code == 200
        return {row["item"].pk for row in response.context["rows"]}

    assert listed("source_kind=complaint") == {from_complaint.pk}
    assert listed(f"source_kind=complaint&source_id={complaint.pk}") == {from_complaint.pk}
    assert listed("status=suggested") == {suggested.pk}
    assert listed("priority=high") == {high.pk}
    assert listed("overdue=true") == {late.pk}
    assert listed("q=rota") == {high.pk}
    assert listed(f"q={high.reference}") == {high.pk}
    assert listed(f"owner={brm.pk}") >= {high.pk, late.pk}
    # A filter typed wrong shows its error and no rows, never everything.
    response = client.get(f"{url}?status=nonsense")
    assert response.context["rows"] == [] and response.context["filter_form"].errors


def test_the_suggested_tab_is_easy_to_find(client, brm):
    make_item(ItemStatus.SUGGESTED, title="One")
    make_item(ItemStatus.SUGGESTED, title="Two")
    make_item()
    response = client.get(reverse("improvement_item_list"))
    assert response.context["suggested_count"] == 2
    tabs = {tab["key"]: tab for tab in response.context["tabs"]}
    assert tabs["all"]["active"] and tabs["suggested"]["query"] == "status=suggested"
    assert "2 suggestions await acceptance" in response.content.decode()
    response = client.get(reverse("improvement_item_list") + "?status=suggested")
    assert {tab["key"] for tab in response.context["tabs"] if tab["active"]} == {"suggested"}


def test_an_overdue_item_shows_its_close_by_date_in_red(client, brm):
    late = make_item()
    item_update(item=late, actor=brm, target_date=timezone.localdate() - timedelta(days=3))
    make_item()
    response = client.get(reverse("improvement_item_list"))
    overdue = {row["item"].pk: row["overdue"] for row in response.context["rows"]}
    assert overdue[late.pk] and list(overdue.values()).count(True) == 1
    assert 'data-testid="overdue"' in response.content.decode()


def test_the_list_sorts_by_priority_most_urgent_first(client, brm):
    low, high, medium = make_item(priority="low"), make_item(priority="high"), make_item(priority="medium")
    response = client.get(reverse("improvement_item_list") + "?sort=priority_rank")
    assert [row["item"].pk for row in response.context["rows"]] == [high.pk, medium.pk, low.pk]


def test_the_list_runs_constant_queries_whatever_the_rows_and_kinds(client, brm):
    complaint = make_complaint()
    campaign = CampaignFactory(status=CampaignStatus.CLOSED)
    question = QuestionFactory(questionnaire=campaign.questionnaire, section__questionnaire=campaign.questionnaire)

    def rows(n: int) -> None:
        for _ in range(n):
            make_item()  # a new SLA measurement each
            make_item(source=complaint, source_kind="complaint")
            make_item(source=campaign, source_kind="survey_question", source_part=question)
        make_plan(PlanStatus.DRAFT)

    count = assert_constant_queries(client, reverse("improvement_item_list"), rows, few=1, many=12)
    assert count <= 20


# --- one item ---------------------------------------------------------------------------------


def test_the_item_page_shows_its_fields_source_plan_history_and_moves(client, brm):
    plan = make_plan(PlanStatus.DRAFT, title="Night cover")
    item = make_item(ItemStatus.PLANNED, plan=plan)
    response = client.get(item.get_absolute_url())
    assert response.status_code == 200
    page = response.content.decode()
    assert item.reference in page and plan.reference in page and "Night cover" in page
    assert item.source.target.agreement.number in page
    assert 'data-testid="timeline"' in page
    actions = {form.transition.action for form in response.context["action_forms"]}
    assert actions == {"unplan", "complete"}
    assert 'data-testid="edit-link"' in page


def test_a_suggestion_offers_accept_and_dismiss_with_the_original_it_may_duplicate(client, brm):
    item = make_item(ItemStatus.SUGGESTED)
    response = client.get(item.get_absolute_url())
    forms = {form.transition.action: form for form in response.context["action_forms"]}
    assert set(forms) == {"accept", "dismiss"}
    assert "duplicate_of" in forms["dismiss"].fields
    assert not forms["dismiss"].fields["duplicate_of"].queryset.filter(pk=item.pk).exists()
    assert "Suggested by the system" in response.content.decode()


def test_an_open_item_offers_the_open_plans_to_join(client, brm):
    item = make_item()
    open_plan, closed_plan = make_plan(PlanStatus.DRAFT), make_plan(PlanStatus.REJECTED)
    response = client.get(item.get_absolute_url())
    forms = {form.transition.action: form for form in response.context["action_forms"]}
    plans = forms["plan"].fields["plan"].queryset
    assert plans.filter(pk=open_plan.pk).exists() and not plans.filter(pk=closed_plan.pk).exists()


def test_the_item_page_shows_its_duplicates_and_runs_constant_queries(client, brm):
    item = make_item()

    def duplicates(n: int) -> None:
        for _ in range(n):
            copy = make_item(title="The same again")
            item_transition(item=copy, action="dismiss", actor=brm, note="the same", duplicate_of=item)
        # More history on the item itself.
        item_transition(item=item, action="complete", actor=brm, resolution="fixed")
        item_transition(item=item, action="reopen", actor=brm, note="back")

    assert_constant_queries(client, item.get_absolute_url(), duplicates, few=1, many=8)
    response = client.get(item.get_absolute_url())
    assert len(response.context["duplicates"]) == 8
    assert 'data-testid="duplicates"' in response.content.decode()


def test_a_reader_sees_the_item_without_moves_or_edit(client, make_user):
    item = make_item()
    client.force_login(make_user(Role.AUDITOR))
    response = client.get(item.get_absolute_url())
    assert response.status_code == 200
    assert response.context["action_forms"] == [] and not response.context["may_edit"]


# --- moves ------------------------------------------------------------------------------------


def _move(item, action: str) -> str:
    return reverse("improvement_item_transition", args=[item.pk, action])


def test_accepting_a_suggestion_opens_it(client, brm):
    item = make_item(ItemStatus.SUGGESTED)
    response = client.post(_move(item, "accept"), {})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == ItemStatus.OPEN and item.target_date is not None


def test_dismissing_needs_a_reason_and_writes_nothing_without_one(client, brm):
    item = make_item(ItemStatus.SUGGESTED)
    with assert_nothing_written(ImprovementItemEvent):
        response = client.post(_move(item, "dismiss"), {"dismiss-note": ""})
    assert response.status_code == 400
    item.refresh_from_db()
    assert item.status == ItemStatus.SUGGESTED


def test_dismissing_as_a_duplicate_names_the_original(client, brm):
    original, copy = make_item(title="Original"), make_item(title="Copy")
    response = client.post(
        _move(copy, "dismiss"), {"dismiss-note": "same problem", "dismiss-duplicate_of": original.pk}
    )
    assert response.status_code == 302
    copy.refresh_from_db()
    assert (copy.status, copy.duplicate_of) == (ItemStatus.DISMISSED, original)
    page = client.get(original.get_absolute_url()).content.decode()
    assert copy.reference in page


def test_an_item_cannot_duplicate_itself(client, brm):
    item = make_item()
    with assert_nothing_written(ImprovementItemEvent):
        response = client.post(_move(item, "dismiss"), {"dismiss-note": "x", "dismiss-duplicate_of": item.pk})
    assert response.status_code == 400


def test_an_item_joins_a_plan_through_its_move(client, brm):
    item, plan = make_item(), make_plan(PlanStatus.DRAFT)
    assert client.post(_move(item, "plan"), {"plan-plan": plan.pk}).status_code == 302
    item.refresh_from_db()
    assert (item.status, item.plan) == (ItemStatus.PLANNED, plan)


def test_a_move_the_table_has_no_arrow_for_is_a_400_and_an_unknown_one_a_404(client, brm):
    item = make_item(ItemStatus.DONE)
    with assert_nothing_written(ImprovementItemEvent):
        assert client.post(_move(item, "accept"), {}).status_code == 400
        assert client.post(_move(item, "explode"), {}).status_code == 404


def test_a_role_that_may_not_change_items_cannot_move_them(client, make_user):
    item = make_item(ItemStatus.SUGGESTED)
    client.force_login(make_user(Role.AUDITOR))
    with assert_nothing_written(ImprovementItemEvent):
        assert client.post(_move(item, "accept"), {}).status_code == 403


# --- edit -------------------------------------------------------------------------------------


def test_editing_changes_the_fields_but_never_the_status(client, brm):
    item = make_item()
    url = reverse("improvement_item_edit", args=[item.pk])
    assert client.get(url).status_code == 200
    new_date = (timezone.localdate() + timedelta(days=40)).isoformat()
    response = client.post(
        url,
        {
            "title": "Renamed",
            "description": "more",
            "priority": "low",
            "owner": brm.pk,
            "target_date": new_date,
            "status": "done",
        },
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.title, item.priority, item.target_date.isoformat(), item.status) == (
        "Renamed",
        "low",
        new_date,
        ItemStatus.OPEN,
    )


def test_editing_with_bad_input_is_a_400_and_nothing_is_written(client, brm):
    item = make_item(title="Kept")
    with assert_nothing_written(ImprovementItem):
        response = client.post(reverse("improvement_item_edit", args=[item.pk]), {"title": "", "priority": "high"})
    assert response.status_code == 400 and response.context["form"].errors["title"]
    item.refresh_from_db()
    assert item.title == "Kept"


def test_a_done_item_is_reopened_before_it_is_edited(client, brm):
    item = make_item(ItemStatus.DONE)
    response = client.get(reverse("improvement_item_edit", args=[item.pk]))
    assert response.status_code == 302 and response["Location"] == item.get_absolute_url()


def test_the_edit_page_runs_constant_queries(client, brm):
    item = make_item()
    url = reverse("improvement_item_edit", args=[item.pk])
    with CaptureQueriesContext(connection) as first:
        client.get(url)
    for _ in range(5):
        make_item()
    with CaptureQueriesContext(connection) as second:
        client.get(url)
    assert len(first) == len(second)


def test_the_item_forms_have_no_status_field():
    from improvement.forms.items import ItemCreateForm, ItemEditForm

    assert "status" not in ItemCreateForm.base_fields and "status" not in ItemEditForm.base_fields


def test_a_source_that_takes_no_item_yet_says_why_and_refuses_with_a_400(client, brm):
    campaign = CampaignFactory(status=CampaignStatus.RUNNING)
    url = _create_url("survey_campaign", campaign.pk)
    response = client.get(url)
    assert response.status_code == 200 and response.context["refusal"]
    assert 'data-testid="refusal"' in response.content.decode()
    with assert_nothing_written(ImprovementItem):
        response = client.post(url, _post())
    assert response.status_code == 400 and response.context["form"].non_field_errors()
