"""Shared fixtures: a user per role, API clients, a clean calendar cache."""

import importlib

import pytest
from auditlog.context import disable_auditlog
from django.apps import apps as django_apps
from django.contrib.auth.models import Group
from django.db.models.signals import post_migrate
from rest_framework.test import APIClient

from itsm.core import calendar as business_calendar
from itsm.core.roles import Role
from tests.factories import UserFactory

# What the data migrations seed (the default business calendar, the complaint targets), put back
# after each flush. A transactional test (live server, real broker, row locks) ends with a
# flush, which empties every table; the role groups come back by themselves (post_migrate),
# these would not. Under pytest-xdist a worker runs other files' ordinary tests after such a
# test, and they expect the database as migrated.
_SEEDS = {
    "core": [("itsm.core.migrations.0002_roles_and_default_calendar", "create_default_calendar")],
    "complaints": [("complaints.migrations.0002_default_targets", "create_targets")],
    "kpi": [
        ("kpi.migrations.0002_seed_kpis", "seed"),
        ("kpi.migrations.0004_complaints_by_category_and_ratings", "seed"),
        ("kpi.migrations.0005_tickets_closed_in_2_working_days", "seed"),
        ("kpi.migrations.0006_improvement_kpis", "seed"),
    ],
}


def _reseed_after_flush(sender, **kwargs):
    for module, function in _SEEDS.get(sender.label, []):
        # As a migration seeds them: no audit trail entries (the KPIs are audited models; their
        # entries would sit in the trail of the next test, which counts the trail's queries).
        with disable_auditlog():
            getattr(importlib.import_module(module), function)(django_apps, None)


post_migrate.connect(_reseed_after_flush, dispatch_uid="tests.reseed_after_flush")


@pytest.fixture(autouse=True)
def _celery_joins_allowed():
    """A real worker started in this process (the broker tests) marks the process as a worker,
    where waiting on a task's result is refused ("Never call result.get() within a task!"),
    and leaves the mark when it stops; under pytest-xdist the next file's eager tasks would
    inherit it. Each test starts as an ordinary process."""
    from celery._state import _set_task_join_will_block

    _set_task_join_will_block(False)
    yield
    _set_task_join_will_block(False)


@pytest.fixture(autouse=True)
def _clean_cache():
    """Rate-limit counters (and anything else cached) never leak from one test to the next."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the product's default language (zh-hans), whatever an earlier test
    in the same worker activated: a test that reads English messages says so with
    ``translation.override("en")``."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _clean_calendar_cache():
    business_calendar.clear_cache()
    yield
    business_calendar.clear_cache()


@pytest.fixture
def make_user(db):
    """``make_user("auditor")`` → a user holding that role (``None``: no role at all)."""

    def make(role: str | None = None, **fields):
        user = UserFactory(**fields)
        if role is not None:
            user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """``load_demo``'s data for the whole module, inside a transaction rolled back after it;
    each test runs in a savepoint on top. The module must carry ``pytest.mark.django_db``:
    pytest-django creates the test database only for a session holding marked tests, and
    this fixture must never reach another database."""
    import io

    from django.core.management import call_command
    from django.db import transaction
    from django.test import TestCase

    from itsm.core.models import User

    with django_db_blocker.unblock(), transaction.atomic():
        assert not User.objects.filter(username="desk").exists(), "not the test database"
        with TestCase.captureOnCommitCallbacks(execute=True):
            call_command("load_demo", stdout=io.StringIO())
        yield
        transaction.set_rollback(True)


@pytest.fixture(params=[r.value for r in Role])
def any_role(request):
    return request.param


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def client_as(client, make_user):
    """``client_as("service_desk")`` → the Django test client logged in with that role."""

    def login(role: str | None):
        user = make_user(role)
        client.force_login(user)
        client.user = user
        return client

    return login


@pytest.fixture
def api_as(api_client, make_user):
    """``api_as("auditor")`` → a DRF client authenticated as a user with that role."""

    def login(role: str | None):
        user = make_user(role)
        api_client.force_authenticate(user)
        api_client.user = user
        return api_client

    return login


def _is_transactional(request) -> bool:
    marker = request.node.get_closest_marker("django_db")
    if marker is not None and (marker.kwargs.get("transaction") or (len(marker.args) > 0 and marker.args[0])):
        return True
    return bool({"transactional_db", "live_server"} & set(request.fixturenames))


@pytest.fixture(autouse=True)
def _flushable_audit_trail(request, _django_db_helper):
    """Transactional tests end with a flush, which the audit-trail triggers would refuse:
    empty the trail with the triggers lifted first (the triggers themselves stay tested).
    Depending on pytest-django's ``_django_db_helper`` makes this teardown run before its flush."""
    yield
    if _is_transactional(request):
        from auditlog.models import LogEntry
        from django.db import connection

        from itsm.core.audit import APPEND_ONLY_TABLES, immutability_suspended

        with immutability_suspended():
            LogEntry.objects.all().delete()
            with connection.cursor() as cursor:
                for table in APPEND_ONLY_TABLES:
                    cursor.execute(f"DELETE FROM {table}")  # noqa: S608  (a constant table name)
