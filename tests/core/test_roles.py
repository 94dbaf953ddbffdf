"""Roles (itsm.core.roles): groups from the migration, the auditor's read-only reach, the sync."""

import pytest
from django.apps import apps
from django.contrib.auth.models import AnonymousUser, Group, Permission

from itsm.core.roles import PROJECT_APPS, ROLE_PERMISSIONS, Role, roles_of, sync_role_permissions

pytestmark = pytest.mark.django_db


def codenames(group: Group) -> set[str]:
    return {
        f"{app}.{codename}" for app, codename in group.permissions.values_list("content_type__app_label", "codename")
    }


def project_models():
    return [model for config in apps.get_app_configs() if config.label in PROJECT_APPS for model in config.get_models()]


def test_every_role_is_a_group_after_migrations():
    assert set(Group.objects.values_list("name", flat=True)) >= set(Role.values)
    assert set(ROLE_PERMISSIONS) == set(Role)  # every role has a rule table


@pytest.mark.parametrize("role", Role.values)
def test_every_role_reads_the_core_reference_data(role):
    granted = codenames(Group.objects.get(name=role))
    for model in ("organisation", "department", "contact", "calendar", "calendaroverride"):
        assert f"core.view_{model}" in granted


def test_auditor_only_views():
    granted = codenames(Group.objects.get(name=Role.AUDITOR))
    assert granted, "the auditor must be able to read"
    assert {name for name in granted if not name.split(".")[1].startswith("view_")} == set()


def test_auditor_views_every_project_model_and_the_audit_trail():
    granted = codenames(Group.objects.get(name=Role.AUDITOR))
    missing = {
        f"{model._meta.app_label}.view_{model._meta.model_name}"
        for model in project_models()
        if "view" in model._meta.default_permissions
    } - granted
    assert missing == set()
    assert "auditlog.view_logentry" in granted


def test_auditor_user_has_perms(make_user):
    auditor = make_user(Role.AUDITOR)
    assert auditor.has_perm("core.view_contact")
    assert auditor.has_perm("auditlog.view_logentry")
    assert not auditor.has_perm("core.change_contact")
    assert not auditor.has_perm("core.add_organisation")
    assert not auditor.has_perm("auditlog.delete_logentry")


def test_nobody_may_change_the_audit_trail():
    for group in Group.objects.filter(name__in=Role.values):
        assert not {n for n in codenames(group) if n.startswith("auditlog.") and not n.endswith("view_logentry")}


def test_only_auditor_and_process_owner_read_the_history():
    readers = Group.objects.filter(
        permissions__content_type__app_label="auditlog", permissions__codename="view_logentry"
    ).values_list("name", flat=True)
    assert set(readers) == {Role.AUDITOR, Role.PROCESS_OWNER}


def test_service_desk_maintains_contacts_but_deletes_nothing():
    granted = codenames(Group.objects.get(name=Role.SERVICE_DESK))
    assert {"core.add_contact", "core.change_contact", "core.add_organisation"} <= granted
    assert not {n for n in granted if ".delete_" in n}
    assert "core.change_calendar" not in granted


def test_process_owner_keeps_the_calendar():
    granted = codenames(Group.objects.get(name=Role.PROCESS_OWNER))
    assert {"core.change_calendar", "core.add_calendaroverride", "core.delete_calendaroverride"} <= granted
    assert "core.delete_calendar" not in granted


def test_sync_is_idempotent():
    before = {group.name: codenames(group) for group in Group.objects.filter(name__in=Role.values)}
    sync_role_permissions()
    sync_role_permissions()
    after = {group.name: codenames(group) for group in Group.objects.filter(name__in=Role.values)}
    assert after == before
    assert Group.objects.filter(name__in=Role.values).count() == len(Role)


def test_sync_restores_a_permission_removed_by_hand_and_removes_one_added():
    auditor = Group.objects.get(name=Role.AUDITOR)
    auditor.permissions.remove(Permission.objects.get(content_type__app_label="core", codename="view_contact"))
    auditor.permissions.add(Permission.objects.get(content_type__app_label="core", codename="delete_contact"))
    sync_role_permissions()
    granted = codenames(auditor)
    assert "core.view_contact" in granted
    assert "core.delete_contact" not in granted


def test_sync_recreates_a_deleted_group():
    Group.objects.filter(name=Role.QUALITY_MANAGER).delete()
    sync_role_permissions()
    assert "core.view_contact" in codenames(Group.objects.get(name=Role.QUALITY_MANAGER))


def test_sync_leaves_other_groups_alone():
    custom = Group.objects.create(name="night shift")
    custom.permissions.add(Permission.objects.get(content_type__app_label="core", codename="change_contact"))
    sync_role_permissions()
    assert codenames(custom) == {"core.change_contact"}


def test_roles_of(make_user):
    user = make_user(Role.SERVICE_DESK)
    user.groups.add(Group.objects.get(name=Role.AUDITOR), Group.objects.create(name="not a role"))
    assert roles_of(user) == [Role.SERVICE_DESK, Role.AUDITOR]  # in table order
    assert roles_of(make_user(None)) == []
    assert roles_of(AnonymousUser()) == []
