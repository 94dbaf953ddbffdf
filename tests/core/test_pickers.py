"""The type-ahead pickers (itsm.core.pickers): their JSON endpoints (who may ask, what they
answer, how many rows, how many queries), the widget (only the chosen option is drawn), the
fields and filters (a pk out of reach is a form error), and the browsable API's filter form."""

from __future__ import annotations

import re

import pytest
from django import forms
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from itsm.core import pickers
from itsm.core.models import Contact, Department, Organisation, User
from itsm.core.pickers import PickerField, PickerMultipleField, scope_pickers, search_term_ok
from itsm.core.roles import Role
from itsm.core.testing import (
    ALL_ROLES,
    ANONYMOUS,
    NO_ROLE,
    assert_constant_queries,
    role_may,
    user_with_role,
)
from tests.factories import ContactFactory, DepartmentFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db

CORE_PICKERS = [
    ("pick_organisations", Organisation),
    ("pick_departments", Department),
    ("pick_contacts", Contact),
    ("pick_users", User),
]


def may_pick(role: str, model) -> bool:
    if model is User:  # colleagues: anyone holding a role
        return role not in (NO_ROLE, ANONYMOUS)
    return role_may(role, ["view"], model)


def values(response) -> list[int]:
    return [row["value"] for row in response.json()["results"]]


def texts(response) -> list[str]:
    return [row["text"] for row in response.json()["results"]]


@pytest.fixture
def desk(client):
    client.force_login(user_with_role(Role.SERVICE_DESK))
    return client


# --- who may ask ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize(("url_name", "model"), CORE_PICKERS, ids=[name for name, _ in CORE_PICKERS])
def test_endpoint_access_per_role(client, role, url_name, model):
    url = reverse(url_name)
    if role == ANONYMOUS:
        response = client.get(url, {"q": "ab"})
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
        return
    client.force_login(user_with_role(role))
    response = client.get(url, {"q": "ab"})
    if may_pick(role, model):
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json"
        assert set(response.json()) >= {"results", "more"}
    else:
        assert response.status_code == 403
        assert "message" in response.json()


def test_endpoints_answer_get_only(desk):
    assert desk.post(reverse("pick_organisations"), {"q": "x"}).status_code == 405


# --- what they answer ----------------------------------------------------------------------


def test_organisations_by_name_or_code_kind_and_active(desk):
    bank = OrganisationFactory(name="Huaxin Bank", code="hx-bank")
    OrganisationFactory(name="Huaxin Supplies", code="hx-supplies", kind="supplier")
    closed = OrganisationFactory(name="Huaxin Closed", code="hx-closed", is_active=False)
    url = reverse("pick_organisations")

    assert set(values(desk.get(url, {"q": "huaxin"}))) == {
        bank.pk,
        closed.pk,
        Organisation.objects.get(code="hx-supplies").pk,
    }
    assert values(desk.get(url, {"q": "HX-BANK"})) == [bank.pk]  # by code, any case
    assert set(values(desk.get(url, {"q": "huaxin", "kind": "customer"}))) == {bank.pk, closed.pk}
    assert values(desk.get(url, {"q": "huaxin", "kind": "customer", "active": "1"})) == [bank.pk]
    # Without a kind the label says which kind; with one it need not.
    assert "Huaxin Bank (" in texts(desk.get(url, {"q": "hx-bank"}))[0]
    assert texts(desk.get(url, {"q": "hx-bank", "kind": "customer"})) == ["Huaxin Bank"]
    assert values(desk.get(url, {"q": "huaxin", "kind": "no-such-kind"}))  # an unknown kind is ignored


def test_results_are_capped_and_say_there_are_more(desk):
    OrganisationFactory.create_batch(pickers.LIMIT + 5)
    response = desk.get(reverse("pick_organisations"), {"q": "Organisation"})
    body = response.json()
    assert len(body["results"]) == pickers.LIMIT and body["more"] is True
    names = [row["text"] for row in body["results"]]
    assert names == sorted(names)  # in name order
    assert desk.get(reverse("pick_organisations"), {"q": names[-1]}).json()["more"] is False
    # An empty query lists the first rows (what the picker shows when it opens).
    assert len(values(desk.get(reverse("pick_organisations")))) == pickers.LIMIT


@pytest.mark.parametrize(
    ("url_name", "make_rows"),
    [
        ("pick_organisations", lambda n: OrganisationFactory.create_batch(n)),
        ("pick_departments", lambda n: DepartmentFactory.create_batch(n)),
        ("pick_contacts", lambda n: ContactFactory.create_batch(n, name="Chen Someone")),
        ("pick_users", lambda n: [user_with_role(Role.SERVICE_DESK, first_name="Chen") for _ in range(n)]),
    ],
)
def test_endpoints_run_a_constant_number_of_queries(desk, url_name, make_rows):
    url = reverse(url_name) + ("?q=chen" if url_name in ("pick_contacts", "pick_users") else "")
    count = assert_constant_queries(desk, url, make_rows, few=3, many=30)
    assert count <= 6, count


def test_contacts_by_name_phone_email_and_organisation(desk):
    organisation = OrganisationFactory(name="Huaxin Bank")
    chen = ContactFactory(organisation=organisation, name="Chen Jianguo", phone="13800000001")
    liu = ContactFactory(organisation=organisation, name="Liu Fang", phone="13800000002", email="liu@hx.example")
    elsewhere = ContactFactory(name="Chen Other", phone="13700000003")
    supplier = ContactFactory(name="Chen Supplier", organisation=OrganisationFactory(kind="supplier"))
    gone = ContactFactory(name="Chen Gone", organisation=organisation, is_active=False)
    url = reverse("pick_contacts")
    customers = {"kind": "customer", "active": "1"}

    assert set(values(desk.get(url, {"q": "chen", **customers}))) == {chen.pk, elsewhere.pk}
    assert set(values(desk.get(url, {"q": "chen"}))) == {chen.pk, elsewhere.pk, supplier.pk, gone.pk}
    assert values(desk.get(url, {"q": "138 0000 0001", **customers})) == [chen.pk]  # as read out
    assert values(desk.get(url, {"q": "138-0000-0001", **customers})) == [chen.pk]
    assert values(desk.get(url, {"q": "liu@hx", **customers})) == [liu.pk]
    within = {"q": "chen", "organisation": organisation.pk, **customers}
    assert values(desk.get(url, within)) == [chen.pk]
    # No query: the organisation's contacts; without an organisation, a hint and nothing.
    assert values(desk.get(url, {"organisation": organisation.pk, **customers})) == [chen.pk, liu.pk]
    body = desk.get(url, customers).json()
    assert body["results"] == [] and body["hint"]
    row = desk.get(url, {"q": "Jianguo"}).json()["results"][0]
    assert row["organisation"] == organisation.pk and row["organisation_text"] == "Huaxin Bank"
    assert row["text"] == "Chen Jianguo · 13800000001 · " + chen.email + " · Huaxin Bank"
    # Within one organisation the label leaves the organisation out.
    assert texts(desk.get(url, {"q": "Jianguo", "organisation": organisation.pk})) == [
        "Chen Jianguo · 13800000001 · " + chen.email
    ]


def test_one_chinese_character_is_a_search_one_latin_letter_is_not(desk):
    """The contact search's own placeholder suggests the surname 陈: one CJK character is a
    real search; a single Latin letter or digit still needs a second one."""
    chen = ContactFactory(name="陈建国", phone="13800000001")
    ContactFactory(name="刘芳", phone="13800000002")
    url = reverse("pick_contacts")
    assert values(desk.get(url, {"q": "陈"})) == [chen.pk]
    for short in ("c", "1", " c "):
        body = desk.get(url, {"q": short}).json()
        assert body["results"] == [] and body["hint"], short
    assert values(desk.get(url, {"q": "陈建"})) == [chen.pk]


@pytest.mark.parametrize(
    ("term", "ok"),
    [
        ("陈", True),
        ("陈建国", True),
        ("李", True),
        ("さ", True),
        ("김", True),
        ("c", False),
        ("1", False),
        ("", False),
        ("  ", False),
        ("ch", True),
        ("13", True),
        (" 陈 ", True),
        ("c陈", True),
        ("Ｃ", False),
    ],
)
def test_search_term_ok(term, ok):
    assert search_term_ok(term) is ok


def test_users_by_name_and_role(desk):
    agent = user_with_role(Role.SERVICE_DESK, first_name="Wang", last_name="Lei")
    head = user_with_role(Role.DEPARTMENT_HEAD, first_name="Wang", last_name="Wu")
    retired = user_with_role(Role.SERVICE_DESK, first_name="Wang", last_name="Old", is_active=False)
    url = reverse("pick_users")
    assert set(values(desk.get(url, {"q": "wang"}))) == {agent.pk, head.pk, retired.pk}
    assert set(values(desk.get(url, {"q": "wang", "active": "1"}))) == {agent.pk, head.pk}
    assert values(desk.get(url, {"q": "wang", "role": Role.SERVICE_DESK.value, "active": "1"})) == [agent.pk]
    assert values(desk.get(url, {"q": "wang lei"})) == [agent.pk]  # every word matches some field
    assert texts(desk.get(url, {"q": "wang lei"})) == [str(agent)]


def test_departments_within_an_organisation(desk):
    finance = DepartmentFactory(name="Finance", organisation=OrganisationFactory(name="Bank"))
    other = DepartmentFactory(name="Finance", organisation=OrganisationFactory(name="Hospital"))
    url = reverse("pick_departments")
    assert set(values(desk.get(url, {"q": "finance"}))) == {finance.pk, other.pk}
    assert texts(desk.get(url, {"q": "finance"})) == ["Bank / Finance", "Hospital / Finance"]
    assert texts(desk.get(url, {"q": "fin", "organisation": finance.organisation_id})) == ["Finance"]
    assert values(desk.get(url, {"q": "hospital"})) == [other.pk]  # by the organisation's name too


# --- the widget, the fields, the filters ---------------------------------------------------


class _Form(forms.Form):
    organisation = PickerField(pickers.organisations, {"kind": "customer"}, required=False)
    contacts = PickerMultipleField(pickers.contacts, required=False)


def _options(html: str, name: str) -> list[str]:
    select = re.search(rf'<select name="{name}".*?</select>', html, re.S)
    assert select is not None, html
    return re.findall(r'<option value="([^"]*)"', select.group(0))


def test_the_widget_draws_only_the_chosen_options_in_one_query():
    OrganisationFactory.create_batch(30)
    chosen = OrganisationFactory(name="Chosen")
    a, b = ContactFactory(), ContactFactory()
    form = _Form(initial={"organisation": chosen.pk, "contacts": [a.pk, b.pk]})
    with CaptureQueriesContext(connection) as queries:
        html = str(form)
    assert len(queries) == 2  # one per picker, whatever the number of rows
    assert _options(html, "organisation") == ["", str(chosen.pk)]
    assert sorted(_options(html, "contacts")) == sorted([str(a.pk), str(b.pk)])
    assert f'data-picker-url="{reverse("pick_organisations")}?kind=customer"' in html
    assert 'data-picker-placeholder="' in html and 'data-picker-empty="' in html


def test_the_widget_draws_nothing_for_a_pk_it_would_not_accept():
    supplier = OrganisationFactory(kind="supplier")
    html = str(_Form({"organisation": str(supplier.pk), "contacts": ["x", "999999"]}))
    assert _options(html, "organisation") == [""]
    assert _options(html, "contacts") == []


def test_a_pk_that_does_not_fit_is_a_form_error():
    supplier = OrganisationFactory(kind="supplier")
    for data in ({"organisation": supplier.pk}, {"organisation": "999999"}, {"organisation": "abc"}):
        form = _Form(data)
        assert not form.is_valid() and "organisation" in form.errors, data
    form = _Form({"contacts": ["999999"]})
    assert not form.is_valid() and "contacts" in form.errors


def test_a_pk_out_of_the_users_reach_is_a_form_error():
    organisation = OrganisationFactory()
    allowed = scope_pickers(_Form({"organisation": organisation.pk}), user_with_role(Role.SERVICE_DESK))
    assert allowed.is_valid(), allowed.errors
    refused = scope_pickers(_Form({"organisation": organisation.pk}), user_with_role(NO_ROLE))
    assert not refused.is_valid() and "organisation" in refused.errors


# --- pages: the contact list's filters -----------------------------------------------------


def test_the_contact_list_filters_do_not_grow_with_the_organisations(desk):
    chosen = OrganisationFactory(name="Chosen bank")
    department = DepartmentFactory(organisation=chosen, name="Chosen department")
    OrganisationFactory.create_batch(300)
    page = desk.get(reverse("contact_list"), {"organisation": chosen.pk, "department": department.pk})
    html = page.content.decode()
    assert page.status_code == 200
    assert _options(html, "organisation") == ["", str(chosen.pk)]
    assert _options(html, "department") == ["", str(department.pk)]
    assert html.count("<option") < 20  # the yes / no and language filters, nothing per row
    empty = desk.get(reverse("contact_list")).content.decode()
    assert _options(empty, "organisation") == [""] and _options(empty, "department") == [""]
    assert 'data-picker-depends="{&quot;organisation&quot;: &quot;id_organisation&quot;}"' in empty


def test_the_contact_list_refuses_a_department_of_another_organisation(desk):
    mine = DepartmentFactory()
    theirs = DepartmentFactory()
    response = desk.get(reverse("contact_list"), {"organisation": mine.organisation_id, "department": theirs.pk})
    assert response.status_code == 200
    assert list(response.context["object_list"]) == [] and "department" in response.context["filterset"].errors


def test_the_contact_list_refuses_an_organisation_out_of_reach(client):
    """A pk the user may not see is a filter error (no rows), not a 500 nor "everything"."""
    ContactFactory.create_batch(2)
    response = client.get(reverse("contact_list"), {"organisation": "999999"})
    assert response.status_code == 302  # signed out: the login page
    client.force_login(user_with_role(Role.AUDITOR))
    response = client.get(reverse("contact_list"), {"organisation": "999999"})
    assert response.status_code == 200 and list(response.context["object_list"]) == []


def test_base_page_loads_the_picker_assets(desk):
    html = desk.get(reverse("contact_list")).content.decode()
    assert "vendor/tom-select-2.6.2/tom-select.complete.min.js" in html
    assert "vendor/tom-select-2.6.2/tom-select.bootstrap5.min.css" in html
    assert "js/pickers.js" in html


# --- the browsable API ---------------------------------------------------------------------


def test_the_browsable_apis_filter_form_lists_no_rows(client):
    OrganisationFactory.create_batch(50)
    DepartmentFactory.create_batch(5)
    client.force_login(user_with_role(Role.PROCESS_OWNER))
    response = client.get("/api/v1/contacts/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    html = response.content.decode()
    filters = html[html.index('id="filtersModal"') :]
    filters = filters[: filters.index("</form>")]
    assert 'name="organisation"' in filters and 'name="department"' in filters
    assert not re.search(r'<select[^>]*name="(organisation|department)"', filters)
    assert "<option" not in filters.split('name="organisation"')[1].split("</p>")[0]


def test_users_picker_needs_a_role_not_staff_status(client):
    client.force_login(UserFactory(is_staff=True))  # admin-site access, but no role
    assert client.get(reverse("pick_users")).status_code == 403


# --- pages: the contact and department forms ----------------------------------------------


def test_the_contact_form_holds_only_the_chosen_organisation_and_department(client):
    client.force_login(user_with_role(Role.PROCESS_OWNER))
    contact = ContactFactory(department=DepartmentFactory())
    contact.department.organisation = contact.organisation
    contact.department.save()
    OrganisationFactory.create_batch(100)
    DepartmentFactory.create_batch(30)
    page = client.get(reverse("contact_edit", args=[contact.pk])).content.decode()
    assert _options(page, "organisation") == ["", str(contact.organisation_id)]
    assert _options(page, "department") == ["", str(contact.department_id)]
    assert _options(client.get(reverse("department_create")).content.decode(), "organisation") == [""]
    # An inactive organisation is not offered, nor accepted.
    closed = OrganisationFactory(is_active=False)
    data = {"organisation": closed.pk, "name": "Wang", "phone": "139", "preferred_language": "zh-hans"}
    response = client.post(reverse("contact_create"), data)
    assert response.status_code == 200 and "organisation" in response.context["form"].errors
    assert not Contact.objects.filter(name="Wang").exists()


def test_the_contact_list_search_takes_one_chinese_character(desk):
    chen = ContactFactory(name="陈静")
    ContactFactory(name="刘芳")
    response = desk.get(reverse("contact_list"), {"q": "陈"})
    assert [contact.pk for contact in response.context["object_list"]] == [chen.pk]
