"""The API schema tells the truth: schemathesis over every operation of ``/api/schema/`` (issue 10).

As an administrator (superuser) and as an auditor (read-only), on the demo data, every
operation gets a bounded number of generated requests, valid ones and invalid ones, sent
in-process to the WSGI application with a knox token. Every answer must be no 5xx, a status
code the schema documents for that operation, a documented content type and a body that
matches the documented schema. Each example runs in a savepoint that is rolled back, so a
write never changes what the next example sees. Generation is derandomised and keeps no
example database, so a run repeats itself; the figures (operations, cases, failures by kind)
are printed (``-s``) for the record.

``ITSM_FUZZ_EXAMPLES`` raises the examples per operation and mode for a deeper run by hand.
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter, defaultdict
from io import StringIO

import pytest
import schemathesis
from django.core.cache import cache
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase, given, settings
from knox.models import AuthToken
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from itsm.core.models import User

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Per operation and generation mode: 91 operations x 2 modes x 2 roles in about two minutes
# on SQLite (two shared cores).
EXAMPLES = int(os.environ.get("ITSM_FUZZ_EXAMPLES", "20"))
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
ROLES = {"administrator": "admin", "auditor": "auditor"}  # demo login of each


@pytest.fixture
def _connection_kept_across_requests():
    """The WSGI handler closes the database connection around each request, which would end
    the test's transaction; Django's own test client lifts that the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def _quiet_client_errors():
    """Thousands of 4xx answers are expected: log only server errors."""
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)


def _fuzz(operation, mode: GenerationMode, auth: dict, cases: Counter, failures: defaultdict) -> None:
    """``EXAMPLES`` requests to one operation; every failing check is recorded, none stops the run."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        cases[mode.value] += 1
        cache.clear()  # no rate-limit counter grows across examples
        with transaction.atomic():
            response = case.call(headers=auth)
            try:
                case.validate_response(response, checks=CHECKS, headers=auth)
            except FailureGroup as group:
                for failure in group.exceptions:
                    failures[(type(failure).__name__, operation.label)].append(
                        f"{response.status_code} {case.formatted_path} query={case.query}\n{failure}"
                    )
            transaction.set_rollback(True)

    run()


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.django_db
@pytest.mark.usefixtures("_connection_kept_across_requests", "_quiet_client_errors")
def test_every_operation_answers_as_the_schema_says(role):
    started = time.monotonic()
    call_command("load_demo", stdout=StringIO())
    _token, key = AuthToken.objects.create(User.objects.get(username=ROLES[role]))
    auth = {"Authorization": f"Token {key}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application(), headers=auth)

    operations = [result.ok() for result in schema.get_all_operations()]
    cases: Counter[str] = Counter()
    failures: defaultdict[tuple[str, str], list[str]] = defaultdict(list)
    for operation in operations:
        for mode in MODES:
            _fuzz(operation, mode, auth, cases, failures)

    by_kind = Counter()
    for (kind, _label), messages in failures.items():
        by_kind[kind] += len(messages)
    print(
        f"\nschemathesis as {role}: {len(operations)} operations, {sum(cases.values())} cases "
        f"({cases['positive']} positive, {cases['negative']} negative); "
        f"{sum(by_kind.values())} failing checks in {len(failures)} operation/check pairs "
        f"{dict(sorted(by_kind.items()))}; {time.monotonic() - started:.0f} s"
    )
    for (kind, label), messages in sorted(failures.items()):
        print(f"  {kind}: {label} ({len(messages)}x)\n    " + messages[0][:1500].replace("\n", "\n    "))
    assert len(operations) >= 90
    assert not failures, f"{len(failures)} operation/check pairs fail: {sorted(failures)}"
