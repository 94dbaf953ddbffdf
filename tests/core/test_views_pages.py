"""Pages of the core app: access per role, navigation, lists, forms, calendar, login, language."""

import re

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from itsm.core import services
from itsm.core.models import Calendar, CalendarOverride, Contact, Organisation
from itsm.core.navigation import NAVIGATION
from itsm.core.roles import Role
from itsm.core.testing import (
    ALL_ROLES,
    ANONYMOUS,
    NO_ROLE,
    Resource,
    assert_constant_queries,
    assert_nothing_written,
    check_page_access,
    granted_permissions,
    page_matrix,
    role_may,
    user_with_role,
)
from tests.factories import (
    CalendarFactory,
    CalendarOverrideFactory,
    ContactFactory,
    DepartmentFactory,
    OrganisationFactory,
)

pytestmark = pytest.mark.django_db

ORGANISATIONS = Resource.for_model(Organisation, OrganisationFactory)
CONTACTS = Resource.for_model(Contact, ContactFactory)
CALENDARS = Resource.for_model(Calendar, CalendarFactory)
ROLES = [role.value for role in Role]


def html(response) -> str:
    return response.content.decode()


def listed(response) -> list:
    return list(response.context["object_list"])


# --- access ----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", page_matrix(ORGANISATIONS, CONTACTS, CALENDARS), ids=str)
def test_page_access(client, case):
    check_page_access(client, case)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_audit_list_access(client, role):
    url = reverse("audit_list")
    if role == ANONYMOUS:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
        return
    client.force_login(user_with_role(role))
    allowed = role_may(role, ["auditlog.view_logentry"], LogEntry)
    assert allowed == (role in (Role.AUDITOR, Role.PROCESS_OWNER))
    assert client.get(url).status_code == (200 if allowed else 403)


def test_audit_list_shows_entries_with_actor_and_filters_by_model(client_as):
    client = client_as("auditor")
    actor = user_with_role("service_desk", first_name="Mei")
    services.organisation_create(actor=actor, name="Audited Org", code="audited")
    calendar = CalendarFactory(name="Audited Calendar")

    page = html(client.get(reverse("audit_list")))
    assert "Audited Org" in page and "Mei" in page and calendar.name in page

    page = html(client.get(reverse("audit_list"), {"model": "core.organisation"}))
    assert "Audited Org" in page and calendar.name not in page


def test_history_page_shows_the_change_and_who_made_it(client_as):
    actor = user_with_role("br_manager", first_name="Lin")
    org = services.organisation_create(actor=actor, name="Old Name", code="hist")
    services.organisation_update(organisation=org, actor=actor, name="New Name")
    page = html(client_as("auditor").get(reverse("organisation_history", args=[org.pk])))
    assert "Old Name" in page and "New Name" in page and "Lin" in page


# --- home and navigation ---------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_home_shows_the_roles_own_section(client_as, role):
    page = html(client_as(role).get(reverse("home")))
    assert re.findall(r'data-role="([^"]+)"', page) == [role]


def test_home_without_a_role_says_so_and_anonymous_goes_to_login(client, client_as):
    assert client.get(reverse("home"))["Location"].startswith(reverse("login"))
    page = html(client_as(None).get(reverse("home")))
    assert "data-role" not in page and "alert-warning" in page


def test_home_of_a_user_with_two_roles_has_both_sections(client, make_user):
    from django.contrib.auth.models import Group

    user = make_user("service_desk")
    user.groups.add(Group.objects.get(name="auditor"))
    client.force_login(user)
    assert re.findall(r'data-role="([^"]+)"', html(client.get(reverse("home")))) == ["service_desk", "auditor"]


@pytest.mark.parametrize("role", [*ROLES, NO_ROLE])
def test_navigation_shows_only_permitted_entries(client, role):
    client.force_login(user_with_role(role))
    page = html(client.get(reverse("home")))
    shown = set(re.findall(r'data-nav="([^"]+)"', page))
    granted = granted_permissions(role)
    expected = {item.url_name for item in NAVIGATION if item.permission is None or item.permission in granted}
    assert shown == expected
    # Every home link is one this role may follow.
    home_links = re.findall(r'<a href="([^"]+)" data-home-link>', page)
    assert bool(home_links) == (role != NO_ROLE)
    for href in home_links:
        assert client.get(href).status_code == 200, href


def test_navigation_spot_checks(client_as):
    assert 'data-nav="audit_list"' not in html(client_as("service_desk").get(reverse("home")))
    assert 'data-nav="audit_list"' in html(client_as("auditor").get(reverse("home")))


@pytest.mark.parametrize("resource", [ORGANISATIONS, CONTACTS, CALENDARS], ids=lambda r: r.name)
@pytest.mark.parametrize("role", ROLES)
def test_buttons_follow_permissions(client, resource, role):
    obj = resource.factory()
    client.force_login(user_with_role(role))
    list_page = html(client.get(resource.page_url("list")))
    detail_page = html(client.get(resource.page_url("detail", obj.pk)))
    assert (f'href="{resource.page_url("create")}"' in list_page) == role_may(role, ["add"], resource.model)
    assert (f'href="{resource.page_url("edit", obj.pk)}"' in detail_page) == role_may(role, ["change"], resource.model)
    assert ('href="history/"' in detail_page) == (role in (Role.AUDITOR, Role.PROCESS_OWNER))


def test_auditor_sees_no_create_or_edit_buttons_anywhere(client_as):
    client = client_as("auditor")
    org = OrganisationFactory()
    for url in [reverse("home"), reverse("organisation_list"), reverse("contact_list"), org.get_absolute_url()]:
        page = html(client.get(url))
        assert "/new/" not in page and "/edit/" not in page, url


# --- lists: filters, sorting, pagination -----------------------------------------------------


def test_organisation_list_filters(client_as):
    client = client_as("service_desk")
    key = OrganisationFactory(name="Key Bank", code="key-bank", is_key_customer=True)
    plain = OrganisationFactory(name="Plain Shop", code="shop")
    supplier = OrganisationFactory(name="Cable Supplier", code="cables", kind="supplier")
    url = reverse("organisation_list")

    assert listed(client.get(url)) == [supplier, key, plain]
    assert listed(client.get(url, {"kind": "supplier"})) == [supplier]
    assert listed(client.get(url, {"is_key_customer": "true"})) == [key]
    assert listed(client.get(url, {"is_key_customer": "false", "kind": "customer"})) == [plain]
    assert listed(client.get(url, {"q": "bank"})) == [key]
    assert listed(client.get(url, {"q": "CABLES"})) == [supplier]  # code, case-insensitive
    assert listed(client.get(url, {"q": "nothing like it"})) == []


def test_an_invalid_filter_value_is_shown_not_a_500(client_as):
    response = client_as("service_desk").get(reverse("organisation_list"), {"kind": "bogus"})
    assert response.status_code == 200
    assert "invalid-feedback" in html(response)


def test_contact_list_filters_by_organisation_and_search(client_as):
    client = client_as("service_desk")
    org, other = OrganisationFactory(), OrganisationFactory()
    mine = ContactFactory(organisation=org, name="Zhang Wei", email="zw@bank.example")
    theirs = ContactFactory(organisation=other, name="Li Na", phone="13800000000")
    url = reverse("contact_list")

    assert listed(client.get(url, {"organisation": org.pk})) == [mine]
    assert listed(client.get(url, {"organisation": other.pk})) == [theirs]
    assert listed(client.get(url, {"q": "bank.example"})) == [mine]
    assert listed(client.get(url, {"q": "138000"})) == [theirs]
    assert listed(client.get(url, {"q": "zhang", "organisation": other.pk})) == []


def test_calendar_list_search(client_as):
    client = client_as("auditor")
    calendar = CalendarFactory(name="Round the clock", always_open=True)
    assert listed(client.get(reverse("calendar_list"), {"q": "clock"})) == [calendar]


def test_organisation_list_sorting(client_as):
    client = client_as("auditor")
    b = OrganisationFactory(name="Org B", code="c-code")
    c = OrganisationFactory(name="Org C", code="a-code")
    a = OrganisationFactory(name="Org A", code="b-code")
    url = reverse("organisation_list")

    assert listed(client.get(url, {"sort": "name"})) == [a, b, c]
    assert listed(client.get(url, {"sort": "-name"})) == [c, b, a]
    assert listed(client.get(url, {"sort": "code"})) == [c, a, b]
    # A field that is not sortable (or does not exist) is ignored: default order, no error.
    for sort in ["notes", "-password", "organisation__secret"]:
        response = client.get(url, {"sort": sort})
        assert response.status_code == 200 and listed(response) == [a, b, c], sort
    # The column header links toggle the direction.
    assert 'href="?sort=-name"' in html(client.get(url, {"sort": "name"}))


def test_organisation_list_pagination_keeps_filters(client_as):
    client = client_as("auditor")
    OrganisationFactory.create_batch(30, kind="supplier")
    OrganisationFactory()  # a customer, filtered out
    url = reverse("organisation_list")

    first = client.get(url, {"kind": "supplier"})
    assert len(listed(first)) == 25 and first.context["paginator"].count == 30
    assert "kind=supplier&amp;page=2" in html(first)
    second = client.get(url, {"kind": "supplier", "page": 2})
    assert len(listed(second)) == 5
    assert not set(listed(first)) & set(listed(second))
    assert client.get(url, {"page": 99}).status_code == 404


# --- query counts ----------------------------------------------------------------------------


def test_list_pages_run_a_constant_number_of_queries(client_as):
    client = client_as("process_owner")
    org = OrganisationFactory()

    def contacts(n):
        for _ in range(n):
            ContactFactory(organisation=org, department=DepartmentFactory(organisation=org))

    counts = {
        "organisations": assert_constant_queries(
            client, reverse("organisation_list"), lambda n: OrganisationFactory.create_batch(n)
        ),
        "contacts": assert_constant_queries(client, reverse("contact_list"), contacts),
        "calendars": assert_constant_queries(
            client, reverse("calendar_list"), lambda n: CalendarFactory.create_batch(n)
        ),
    }
    print("list page queries:", counts)


def test_detail_pages_run_a_constant_number_of_queries(client_as):
    client = client_as("process_owner")
    org = OrganisationFactory()
    calendar = CalendarFactory()

    def contacts(n):
        for _ in range(n):
            ContactFactory(organisation=org, department=DepartmentFactory(organisation=org))

    def overrides(n):
        start = CalendarOverride.objects.filter(calendar=calendar).count()
        for i in range(start, start + n):
            CalendarOverrideFactory(calendar=calendar, date=f"2026-{1 + i // 28:02d}-{1 + i % 28:02d}")

    counts = {
        "organisation": assert_constant_queries(client, org.get_absolute_url(), contacts),
        "calendar": assert_constant_queries(client, calendar.get_absolute_url() + "?month=2026-02", overrides),
    }
    print("detail page queries:", counts)


def test_audit_pages_run_a_constant_number_of_queries(client_as):
    client = client_as("auditor")
    actor = user_with_role("process_owner")
    org = OrganisationFactory()

    def audited_changes(n):
        for _ in range(n):
            services.contact_create(actor=actor, organisation=org, name="Audited", email="a@example.com")
            services.organisation_update(organisation=org, actor=actor, notes=f"{org.notes}x")

    counts = {
        "audit": assert_constant_queries(client, reverse("audit_list"), audited_changes, many=30),
        "history": assert_constant_queries(
            client, reverse("organisation_history", args=[org.pk]), audited_changes, many=30
        ),
    }
    print("audit page queries:", counts)


# --- create and edit through the forms -------------------------------------------------------


ORG_FORM = {"name": "Acme Ltd", "code": "acme", "kind": "customer", "is_active": "on", "address": "", "notes": ""}


def test_organisation_create_writes_one_row_with_an_audit_entry(client_as):
    client = client_as("service_desk")
    count = Organisation.objects.count()
    response = client.post(reverse("organisation_create"), ORG_FORM)
    org = Organisation.objects.get(code="acme")
    assert response.status_code == 302 and response["Location"] == org.get_absolute_url()
    assert Organisation.objects.count() == count + 1
    entry = LogEntry.objects.get_for_object(org).get()
    assert entry.action == LogEntry.Action.CREATE and entry.actor == client.user


def test_organisation_edit_saves_and_records_the_change(client_as):
    client = client_as("br_manager")
    org = OrganisationFactory(name="Before")
    response = client.post(reverse("organisation_edit", args=[org.pk]), {**ORG_FORM, "name": "After", "code": org.code})
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.name == "After"
    entry = LogEntry.objects.get_for_object(org).filter(action=LogEntry.Action.UPDATE).get()
    assert entry.actor == client.user and entry.changes_dict["name"] == ["Before", "After"]


def test_contact_and_calendar_create(client_as):
    client = client_as("process_owner")
    org = OrganisationFactory()
    department = DepartmentFactory(organisation=org)
    response = client.post(
        reverse("contact_create"),
        {"organisation": org.pk, "department": department.pk, "name": "Wang Fang", "phone": "13912345678",
         "preferred_language": "en", "is_active": "on"},
    )  # fmt: skip
    contact = Contact.objects.get(name="Wang Fang")
    assert response["Location"] == contact.get_absolute_url() and contact.department == department
    assert LogEntry.objects.get_for_object(contact).get().actor == client.user

    response = client.post(
        reverse("calendar_create"),
        {"name": "Support 24x7", "country": "CN", "time_zone": "Asia/Shanghai", "work_start": "00:00",
         "work_end": "23:59", "always_open": "on"},
    )  # fmt: skip
    calendar = Calendar.objects.get(name="Support 24x7")
    assert response["Location"] == calendar.get_absolute_url() and calendar.always_open


def assert_field_error(response, field: str) -> None:
    assert response.status_code == 200
    assert re.search(rf'class="invalid-feedback[^"]*" id="id_{field}_error"', html(response)), (
        f"no error next to {field}: {response.context['form'].errors}"
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": ""}, "name"),
        ({"code": "taken"}, "code"),
        ({"code": "not a slug!"}, "code"),
        ({"kind": "partner"}, "kind"),
    ],
)
def test_bad_organisation_input_is_shown_next_to_the_field_and_writes_nothing(client_as, changes, field):
    client = client_as("service_desk")
    OrganisationFactory(code="taken")
    with assert_nothing_written(Organisation):
        assert_field_error(client.post(reverse("organisation_create"), {**ORG_FORM, **changes}), field)


def test_key_customer_supplier_is_refused(client_as):
    client = client_as("service_desk")
    with assert_nothing_written(Organisation):
        response = client.post(
            reverse("organisation_create"), {**ORG_FORM, "kind": "supplier", "is_key_customer": "on"}
        )
    assert response.status_code == 200
    assert 'id="id_is_key_customer_error"' in html(response)  # next to the flag, not form-wide


def test_bad_edit_leaves_the_row_unchanged(client_as):
    client = client_as("service_desk")
    OrganisationFactory(code="taken")
    org = OrganisationFactory(name="Unchanged", code="mine")
    with assert_nothing_written(Organisation):
        response = client.post(
            reverse("organisation_edit", args=[org.pk]), {**ORG_FORM, "name": "Changed", "code": "taken"}
        )
    assert_field_error(response, "code")
    org.refresh_from_db()
    assert (org.name, org.code) == ("Unchanged", "mine")


@pytest.mark.parametrize(
    ("scenario", "field"),
    [("department_of_another_organisation", "department"), ("neither_email_nor_phone", "email")],
)
def test_bad_contact_input_is_shown_next_to_the_field_and_writes_nothing(client_as, scenario, field):
    client = client_as("service_desk")
    org = OrganisationFactory()
    data = {"organisation": org.pk, "name": "Zhao Lei", "email": "zl@example.com", "preferred_language": "zh-hans"}
    if scenario == "department_of_another_organisation":
        data["department"] = DepartmentFactory().pk
    else:
        data["email"] = ""
    with assert_nothing_written(Contact):
        assert_field_error(client.post(reverse("contact_create"), data), field)


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"work_start": "18:00", "work_end": "09:00"}, "work_end"), ({"time_zone": "Mars/Olympus"}, "time_zone")],
)
def test_bad_calendar_input_is_shown_next_to_the_field_and_writes_nothing(client_as, changes, field):
    client = client_as("process_owner")
    data = {"name": "Ops", "country": "CN", "time_zone": "Asia/Shanghai", "work_start": "09:00", "work_end": "18:00"}
    with assert_nothing_written(Calendar):
        assert_field_error(client.post(reverse("calendar_create"), {**data, **changes}), field)


# --- the calendar page -----------------------------------------------------------------------


def working(page: str, day: str) -> str:
    match = re.search(rf'data-date="{day}" data-working="([01])"', page)
    assert match, f"{day} not in the grid"
    return match.group(1)


@pytest.fixture
def calendar():
    return CalendarFactory(name="CN office", country="CN")


def test_calendar_grid_shows_holidays_and_make_up_days(client_as, calendar):
    page = html(client_as("auditor").get(calendar.get_absolute_url(), {"month": "2026-10"}))
    assert working(page, "2026-10-05") == "0"  # National Day holiday
    assert working(page, "2026-10-10") == "1"  # make-up working Saturday
    assert working(page, "2026-10-12") == "1"
    assert len(re.findall(r"data-date=", page)) == 31
    # A bad ?month= falls back to the current month instead of failing.
    assert client_as("auditor").get(calendar.get_absolute_url(), {"month": "2026-13"}).status_code == 200


def test_process_owner_adds_and_removes_an_override(client_as, calendar):
    client = client_as("process_owner")
    url = calendar.get_absolute_url()
    response = client.post(url, {"date": "2026-10-12", "reason": "Company day off"})
    assert response.status_code == 302 and response["Location"] == f"{url}?month=2026-10"
    override = CalendarOverride.objects.get(calendar=calendar)
    assert not override.is_working_day
    assert LogEntry.objects.get_for_object(override).get().actor == client.user
    assert working(html(client.get(response["Location"])), "2026-10-12") == "0"

    client.post(url, {"date": "2026-10-05", "is_working_day": "on", "reason": "Release weekend"})
    assert working(html(client.get(url, {"month": "2026-10"})), "2026-10-05") == "1"

    response = client.post(reverse("calendar_override_delete", args=[calendar.pk, override.pk]))
    assert response.status_code == 302
    assert not CalendarOverride.objects.filter(pk=override.pk).exists()
    assert working(html(client.get(url, {"month": "2026-10"})), "2026-10-12") == "1"


@pytest.mark.parametrize(
    "data",
    [
        {"date": "2026-10-12", "reason": ""},
        {"date": "2026-13-40", "reason": "Nonsense"},
        {"date": "", "reason": "No date"},
        {"date": "2026-10-20", "reason": "Twice"},  # that day already has an override
    ],
    ids=["no-reason", "bad-date", "no-date", "duplicate-day"],
)
def test_bad_override_input_is_a_400_and_writes_nothing(client_as, calendar, data):
    CalendarOverrideFactory(calendar=calendar, date="2026-10-20")
    client = client_as("process_owner")
    with assert_nothing_written(CalendarOverride, Calendar):
        response = client.post(calendar.get_absolute_url(), data)
    assert response.status_code == 400
    assert "invalid-feedback" in html(response) or "alert-danger" in html(response)
    assert calendar.version == Calendar.objects.get(pk=calendar.pk).version


@pytest.mark.parametrize("role", [r for r in ROLES if not role_may(r, ["add"], CalendarOverride)])
def test_other_roles_cannot_change_overrides(client, calendar, role):
    override = CalendarOverrideFactory(calendar=calendar, date="2026-10-20")
    client.force_login(user_with_role(role))
    with assert_nothing_written(CalendarOverride):
        assert client.post(calendar.get_absolute_url(), {"date": "2026-10-12", "reason": "x"}).status_code == 403
        remove = reverse("calendar_override_delete", args=[calendar.pk, override.pk])
        assert client.post(remove).status_code == 403
    assert 'name="reason"' not in html(client.get(calendar.get_absolute_url()))


def test_removing_an_override_of_another_calendar_is_a_404(client_as, calendar):
    override = CalendarOverrideFactory(date="2026-10-20")
    client = client_as("process_owner")
    with assert_nothing_written(CalendarOverride):
        response = client.post(reverse("calendar_override_delete", args=[calendar.pk, override.pk]))
    assert response.status_code == 404
    assert client.get(reverse("calendar_override_delete", args=[override.calendar_id, override.pk])).status_code == 405


# --- log in, log out, language ---------------------------------------------------------------


PASSWORD = "pw-for-tests-123"


def test_login_page_and_successful_login(client, make_user):
    user = make_user("service_desk")
    response = client.get(reverse("login"))
    assert response.status_code == 200 and 'name="username"' in html(response)
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert client.get(reverse("home")).status_code == 200


def test_wrong_password_shows_an_error(client, make_user):
    user = make_user("service_desk")
    response = client.post(reverse("login"), {"username": user.username, "password": "wrong"})
    assert response.status_code == 200 and "alert-danger" in html(response)
    assert "_auth_user_id" not in client.session


def test_login_is_throttled_after_five_failures(client, make_user, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    user = make_user("service_desk")
    for _ in range(4):
        assert client.post(reverse("login"), {"username": user.username, "password": "wrong"}).status_code == 200
    assert client.post(reverse("login"), {"username": user.username, "password": "wrong"}).status_code == 429
    # Locked out: even the right password is refused now.
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    # Another user from the same address is not locked out.
    other = make_user("auditor")
    assert client.post(reverse("login"), {"username": other.username, "password": PASSWORD}).status_code == 302


def test_logout(client_as):
    client = client_as("auditor")
    assert client.get(reverse("logout")).status_code == 405  # only POST logs out
    response = client.post(reverse("logout"))
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert client.get(reverse("home"))["Location"].startswith(reverse("login"))


def test_language_switch(client):
    assert '<html lang="zh-hans">' in html(client.get(reverse("login")))
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("login")})
    assert response.status_code == 302 and response["Location"] == reverse("login")
    page = html(client.get(reverse("login")))
    assert '<html lang="en">' in page and "Log in" in page
    client.post(reverse("set_language"), {"language": "zh-hans", "next": reverse("login")})
    assert '<html lang="zh-hans">' in html(client.get(reverse("login")))


def test_a_filter_typed_wrong_shows_its_error_and_no_rows(client_as):
    ContactFactory.create_batch(3)
    response = client_as("service_desk").get(reverse("contact_list"), {"organisation": "999999"})
    assert response.status_code == 200
    assert list(response.context["object_list"]) == []
    assert "invalid-feedback" in html(response)


def test_department_filter_is_a_picker_within_the_chosen_organisation(client_as):
    """The department filter is a type-ahead (it lists no departments), searching within the
    organisation chosen in the organisation filter; it accepts only that one's departments."""
    mine = DepartmentFactory(name="Mine")
    theirs = DepartmentFactory(name="Theirs")
    client = client_as("service_desk")
    page = html(client.get(reverse("contact_list")))
    assert 'name="department"' in page and "Mine" not in page and "Theirs" not in page
    assert 'data-picker-depends="{&quot;organisation&quot;: &quot;id_organisation&quot;}"' in page
    page = html(client.get(reverse("contact_list"), {"organisation": mine.organisation_id, "department": mine.pk}))
    assert "Mine" in page and "Theirs" not in page
    response = client.get(reverse("contact_list"), {"organisation": mine.organisation_id, "department": theirs.pk})
    assert "department" in response.context["filterset"].errors


def test_history_page_is_paginated(client_as, make_user):
    owner = make_user("process_owner")
    organisation = services.organisation_create(actor=owner, name="Often changed", code="often")
    for i in range(60):
        services.organisation_update(organisation=organisation, actor=owner, notes=f"change {i}")
    client = client_as("auditor")
    first = client.get(reverse("organisation_history", args=[organisation.pk]))
    assert len(first.context["entries"]) == 50 and first.context["page_obj"].has_next()
    second = client.get(reverse("organisation_history", args=[organisation.pk]), {"page": 2})
    assert len(second.context["entries"]) == 11


def test_chinese_is_the_default_whatever_the_browser_asks(client):
    response = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert '<html lang="zh-hans">' in html(response)


def test_a_signed_in_users_preferred_language_applies_until_they_switch(client, make_user):
    client.force_login(make_user("service_desk", preferred_language="en"))
    assert '<html lang="en">' in html(client.get(reverse("home")))
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert '<html lang="zh-hans">' in html(client.get(reverse("home")))


def test_error_pages_are_the_products_own(client_as):
    client = client_as("auditor")
    forbidden = client.get(reverse("organisation_create"))
    assert forbidden.status_code == 403 and 'data-testid="current-user"' in html(forbidden)
    missing = client.get("/organisations/999999/")
    assert missing.status_code == 404 and 'data-testid="current-user"' in html(missing)
