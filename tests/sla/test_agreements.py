"""Agreements (SLA / OLA / UC): creation (counterparty kind per kind, retired services, the
number sequence), edits (draft yes, active no), the signed document, every move of
``AGREEMENT_TRANSITIONS`` allowed and refused (state, role, inputs, activation conditions),
the periodic expiry; the pages (access per role, forms, 400 with nothing written, constant
queries on the list and the detail page, the document download); the workflow doc.

Everything goes through the real services; time is frozen (a Monday in March 2026, 10:00 in
Shanghai) so numbers, validity and review dates are fixed.
"""

from __future__ import annotations

import re
import threading
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.urls import reverse
from django.utils import translation

from itsm.core.choices import OrganisationKind
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
from itsm.core.workflow import TransitionRefused
from sla.choices import AgreementKind, AgreementStatus, Metric, Priority, ServiceStatus, TargetUnit
from sla.models import Agreement, AgreementEvent, AgreementVersion
from sla.services.agreements import (
    agreement_allowed_actions,
    agreement_create,
    agreement_transition,
    agreement_update,
    agreement_upload_document,
    agreements_expire_due,
)
from sla.services.catalogue import service_transition
from sla.services.targets import target_create
from sla.workflow import AGREEMENT_TRANSITIONS, SERVICE_TRANSITIONS, as_mermaid
from tests.factories import OrganisationFactory
from tests.sla.factories import AgreementFactory, ServiceFactory, TargetFactory

pytestmark = pytest.mark.django_db

S = AgreementStatus
SLM = Role.SERVICE_LEVEL_MANAGER.value
ROLES = [role.value for role in Role]
# Monday 2 March 2026, 10:00 in Shanghai.
NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
VALID_FROM = date(2026, 1, 1)
VALID_TO = date(2026, 12, 31)
AFTER_VALIDITY = datetime(2027, 1, 2, 2, 0, tzinfo=UTC)
COUNTERPARTY_KIND = {
    AgreementKind.SLA: OrganisationKind.CUSTOMER,
    AgreementKind.OLA: OrganisationKind.INTERNAL_TEAM,
    AgreementKind.UC: OrganisationKind.SUPPLIER,
}
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _frozen_time():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def manager():
    return user_with_role(SLM)


def pdf(name: str = "signed.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def counterparty(kind: str = AgreementKind.SLA, **fields):
    return OrganisationFactory(kind=COUNTERPARTY_KIND[AgreementKind(kind)], **fields)


def draft(kind: str = AgreementKind.SLA, actor=None, **fields: Any) -> Agreement:
    """A draft made by the real service (numbered)."""
    fields.setdefault("title", "Managed desktop")
    if "counterparty" not in fields:
        fields["counterparty"] = counterparty(kind)
    fields.setdefault("valid_from", VALID_FROM)
    fields.setdefault("valid_to", VALID_TO)
    return agreement_create(actor=actor or manager(), kind=kind, **fields)


def ready(agreement: Agreement, actor=None) -> Agreement:
    """Give a draft what activation needs: a target and the signed document."""
    actor = actor or manager()
    target_create(
        agreement=agreement, actor=actor, metric=Metric.RESOLUTION, priority=Priority.P1, value=2, unit="hours"
    )
    return agreement_upload_document(agreement=agreement, actor=actor, upload=pdf(), signed_on=date(2026, 2, 20))


def make_agreement(status: str = S.DRAFT, kind: str = AgreementKind.SLA, **fields: Any) -> Agreement:
    """An agreement brought to ``status`` through the real services."""
    actor = manager()
    agreement = draft(kind, actor=actor, **fields)
    if status == S.DRAFT:
        return agreement
    ready(agreement, actor)
    agreement = agreement_transition(agreement=agreement, action="negotiate", actor=actor)
    if status == S.NEGOTIATING:
        return agreement
    agreement = agreement_transition(agreement=agreement, action="activate", actor=actor)
    if status == S.ACTIVE:
        return agreement
    if status == S.TERMINATED:
        return agreement_transition(agreement=agreement, action="terminate", actor=actor, note="customer left")
    with time_machine.travel(AFTER_VALIDITY, tick=False):
        return agreement_transition(agreement=agreement, action="expire", actor=None)


# --- creation ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(AgreementKind))
def test_each_kind_is_agreed_with_its_kind_of_organisation(kind):
    agreement = draft(kind)
    assert agreement.status == S.DRAFT
    assert agreement.number == f"{kind.value.upper()}-2026-001"
    assert agreement.events.get().action == "created"


@pytest.mark.parametrize("kind", list(AgreementKind))
@pytest.mark.parametrize("wrong", list(OrganisationKind))
def test_a_counterparty_of_another_kind_is_refused_on_the_field(kind, wrong):
    if COUNTERPARTY_KIND[kind] == wrong:
        return
    party = OrganisationFactory(kind=wrong, name="Acme Ltd")
    actor = manager()
    with assert_nothing_written(Agreement), translation.override("en"), pytest.raises(ValidationError) as error:
        draft(kind, counterparty=party, actor=actor)
    message = error.value.message_dict["counterparty"][0]
    assert "Acme Ltd" in message
    wanted = {"sla": "a customer", "ola": "an internal team", "uc": "a supplier"}[kind.value]
    assert f"not {wanted}" in message


def test_an_inactive_counterparty_is_refused():
    with pytest.raises(ValidationError) as error:
        draft(counterparty=counterparty(is_active=False))
    assert "counterparty" in error.value.message_dict


def test_a_retired_service_is_refused_on_a_new_agreement():
    actor = manager()
    live = ServiceFactory()
    retired = ServiceFactory(code="old-mail", name="Old mail")
    service_transition(service=retired, action="accept", actor=actor, rfc_ref="RFC-1")
    service_transition(service=retired, action="retire", actor=actor, rfc_ref="RFC-2", note="replaced")
    party = counterparty()
    with assert_nothing_written(Agreement), translation.override("en"), pytest.raises(ValidationError) as error:
        draft(services=[live, retired], actor=actor, counterparty=party)
    assert "retired" in error.value.message_dict["services"][0]
    assert "old-mail" in error.value.message_dict["services"][0]
    assert list(draft(services=[live]).services.all()) == [live]


def test_a_retired_service_cannot_be_added_to_a_draft_but_one_already_covered_stays():
    actor = manager()
    service = ServiceFactory()
    agreement = draft(services=[service])
    service_transition(service=service, action="accept", actor=actor, rfc_ref="RFC-1")
    service_transition(service=service, action="retire", actor=actor, rfc_ref="RFC-2", note="gone")
    other = ServiceFactory(status=ServiceStatus.RETIRED)
    agreement_update(agreement=agreement, actor=actor, services=[service], title="Still here")
    with pytest.raises(ValidationError) as error:
        agreement_update(agreement=agreement, actor=actor, services=[service, other])
    assert "services" in error.value.message_dict


def test_numbers_run_per_kind_and_year_without_gaps():
    numbers = [draft(kind).number for kind in ["sla", "sla", "uc", "ola", "sla", "uc"]]
    assert numbers == ["SLA-2026-001", "SLA-2026-002", "UC-2026-001", "OLA-2026-001", "SLA-2026-003", "UC-2026-002"]
    with time_machine.travel(datetime(2027, 1, 4, 2, 0, tzinfo=UTC), tick=False):
        assert draft("sla", valid_from=None, valid_to=None).number == "SLA-2027-001"


def test_a_refused_agreement_uses_no_number():
    draft()
    with pytest.raises(ValidationError):
        draft(counterparty=counterparty("uc"))
    assert draft().number == "SLA-2026-002"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks under concurrency: PostgreSQL only")
def test_concurrent_creation_takes_each_number_once(transactional_db):
    actor = manager()
    party = counterparty()
    draft(actor=actor, counterparty=party)  # SLA-2026-001: the rows of the year are there to lock
    uc_party = counterparty("uc")
    count = 4
    start = threading.Barrier(count * 2)
    outcomes: list[str] = []
    lock = threading.Lock()

    def work(kind: str, organisation) -> None:
        try:
            start.wait(timeout=10)
            result = agreement_create(actor=actor, kind=kind, title="Concurrent", counterparty=organisation).number
        except Exception as exc:
            result = repr(exc)
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    # The SLAs lock the year's rows; the UCs have none yet (the first number of a year races
    # on the unique number and is retried).
    threads = [threading.Thread(target=work, args=("sla", party)) for _ in range(count)]
    threads += [threading.Thread(target=work, args=("uc", uc_party)) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == [f"SLA-2026-{n:03d}" for n in range(2, 2 + count)] + [
        f"UC-2026-{n:03d}" for n in range(1, 1 + count)
    ]


def test_numbers_past_999_keep_counting():
    AgreementFactory(number="SLA-2026-999")
    assert draft().number == "SLA-2026-1000"
    assert draft().number == "SLA-2026-1001"


def test_create_refuses_a_validity_ending_before_it_starts_and_a_missing_title():
    with translation.override("en"), pytest.raises(ValidationError) as error:
        draft(valid_from=date(2026, 5, 1), valid_to=date(2026, 4, 1))
    assert "valid_to" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        draft(title="  ")
    assert "title" in error.value.message_dict


def test_create_needs_the_permission():
    for role in (Role.AUDITOR, Role.BR_MANAGER, Role.SERVICE_DESK):
        actor, party = user_with_role(role), counterparty()
        with assert_nothing_written(Agreement), pytest.raises(PermissionDenied):
            draft(actor=actor, counterparty=party)


def test_unknown_sections_are_refused():
    with pytest.raises(ValidationError) as error:
        draft(status="active")
    assert "status" in error.value.message_dict


# --- edits ------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [S.DRAFT, S.NEGOTIATING])
def test_a_draft_or_negotiated_agreement_is_edited_directly(status):
    agreement = make_agreement(status)
    actor = manager()
    service = ServiceFactory()
    updated = agreement_update(
        agreement=agreement, actor=actor, title="New title", glossary="**SLA**: agreement", services=[service]
    )
    assert (updated.title, updated.glossary, updated.status) == ("New title", "**SLA**: agreement", status)
    assert list(updated.services.all()) == [service]
    event = updated.events.filter(action="edited").get()
    assert event.data["fields"] == ["title", "glossary"] and event.data["services"]["added"] == [service.pk]


def test_an_active_agreement_is_not_edited_directly():
    agreement = make_agreement(S.ACTIVE)
    actor = manager()
    with assert_nothing_written(AgreementEvent), translation.override("en"), pytest.raises(ValidationError) as error:
        agreement_update(agreement=agreement, actor=actor, title="Sneaky")
    assert "new version" in error.value.messages[0]
    assert Agreement.objects.get(pk=agreement.pk).title == "Managed desktop"
    # Its owner (internal bookkeeping) still changes.
    other = manager()
    assert agreement_update(agreement=agreement, actor=manager(), owner=other).owner == other


@pytest.mark.parametrize("status", [S.EXPIRED, S.TERMINATED])
def test_an_ended_agreement_does_not_change(status):
    agreement = make_agreement(status)
    with pytest.raises(ValidationError):
        agreement_update(agreement=agreement, actor=manager(), owner=manager())


def test_the_status_cannot_be_set_by_an_edit():
    agreement = make_agreement(S.DRAFT)
    with pytest.raises(ValidationError) as error:
        agreement_update(agreement=agreement, actor=manager(), status=S.ACTIVE)
    assert "status" in error.value.message_dict
    assert Agreement.objects.get(pk=agreement.pk).status == S.DRAFT


def test_a_counterparty_change_is_checked_too():
    agreement = make_agreement(S.DRAFT)
    with pytest.raises(ValidationError) as error:
        agreement_update(agreement=agreement, actor=manager(), counterparty=counterparty("ola"))
    assert "counterparty" in error.value.message_dict


# --- the signed document ----------------------------------------------------------------------


def test_the_signed_document_is_stored_under_the_agreement_number():
    agreement = draft()
    stored = agreement_upload_document(agreement=agreement, actor=manager(), upload=pdf(), signed_on=date(2026, 3, 1))
    assert stored.signed_document.name.endswith("SLA-2026-001-v1.pdf")
    assert stored.signed_on == date(2026, 3, 1)
    assert stored.events.filter(action="document_uploaded").exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("contract.exe", b"MZ\x90\x00", "not accepted"),
        ("contract.pdf", b"MZ\x90\x00 not a pdf", "does not match"),
        ("contract.txt", b"plain text", "PDF, an image or a Word document"),
        ("contract.pdf", b"", "empty"),
    ],
)
def test_a_document_of_the_wrong_type_is_refused(name, content, message):
    agreement = draft()
    upload, actor = SimpleUploadedFile(name, content), manager()
    with assert_nothing_written(AgreementEvent), translation.override("en"), pytest.raises(ValidationError) as error:
        agreement_upload_document(agreement=agreement, actor=actor, upload=upload)
    assert message in error.value.message_dict["file"][0]
    assert not Agreement.objects.get(pk=agreement.pk).signed_document


def test_a_document_too_large_is_refused(settings):
    settings.UPLOAD_MAX_BYTES = 100
    with translation.override("en"), pytest.raises(ValidationError) as error:
        agreement_upload_document(agreement=draft(), actor=manager(), upload=pdf(content=PDF + b"x" * 200))
    assert "larger than" in error.value.message_dict["file"][0]


def test_a_signing_date_in_the_future_is_refused():
    with pytest.raises(ValidationError) as error:
        agreement_upload_document(agreement=draft(), actor=manager(), upload=pdf(), signed_on=date(2026, 4, 1))
    assert "signed_on" in error.value.message_dict


def test_an_active_agreement_gets_a_new_document_only_with_a_new_version():
    with pytest.raises(ValidationError) as error:
        agreement_upload_document(agreement=make_agreement(S.ACTIVE), actor=manager(), upload=pdf())
    assert "file" in error.value.message_dict


# --- the workflow -----------------------------------------------------------------------------

SOURCE = {"negotiate": S.DRAFT, "return_to_draft": S.NEGOTIATING, "activate": S.NEGOTIATING}
SOURCE.update({"terminate": S.ACTIVE, "expire": S.ACTIVE})
INPUTS = {"return_to_draft": "not signed as it stands", "terminate": "customer ended the contract"}


def _move(agreement: Agreement, action: str, actor) -> Agreement:
    if action == "expire":
        with time_machine.travel(AFTER_VALIDITY, tick=False):
            return agreement_transition(agreement=agreement, action=action, actor=actor, note=INPUTS.get(action, ""))
    return agreement_transition(agreement=agreement, action=action, actor=actor, note=INPUTS.get(action, ""))


def test_every_action_of_the_table_is_covered_here():
    assert set(SOURCE) == set(AGREEMENT_TRANSITIONS)


@pytest.mark.parametrize("action", list(AGREEMENT_TRANSITIONS))
def test_each_move_is_allowed_to_the_service_level_manager(action):
    transition = AGREEMENT_TRANSITIONS[action]
    agreement = make_agreement(SOURCE[action])
    moved = _move(agreement, action, manager())
    assert moved.status == transition.target
    event = moved.events.order_by("-pk").first()
    assert (event.action, event.from_status, event.to_status) == (action, SOURCE[action], transition.target)
    assert event.note == INPUTS.get(action, "")


@pytest.mark.parametrize("action", list(AGREEMENT_TRANSITIONS))
@pytest.mark.parametrize("role", [r for r in ROLES if r != SLM])
def test_each_move_is_refused_to_every_other_role(action, role):
    agreement = make_agreement(SOURCE[action])
    actor = user_with_role(role)
    with assert_nothing_written(AgreementEvent), pytest.raises(PermissionDenied):
        _move(agreement, action, actor)
    assert Agreement.objects.get(pk=agreement.pk).status == SOURCE[action]


@pytest.mark.parametrize("action", list(AGREEMENT_TRANSITIONS))
@pytest.mark.parametrize("status", list(S))
def test_each_move_is_refused_from_every_other_state(action, status):
    if status == SOURCE[action]:
        return
    agreement = make_agreement(status)
    actor = manager()
    with assert_nothing_written(AgreementEvent), translation.override("en"), pytest.raises(TransitionRefused) as error:
        _move(agreement, action, actor)
    assert "not possible while the agreement is" in error.value.message_dict["action"][0]


@pytest.mark.parametrize("action", ["return_to_draft", "terminate"])
def test_a_move_needing_a_note_is_refused_without_one(action):
    agreement = make_agreement(SOURCE[action])
    actor = manager()
    with assert_nothing_written(AgreementEvent), pytest.raises(ValidationError) as error:
        agreement_transition(agreement=agreement, action=action, actor=actor, note="  ")
    assert "note" in error.value.message_dict


def test_an_unknown_action_is_refused():
    with pytest.raises(TransitionRefused):
        agreement_transition(agreement=make_agreement(), action="approve", actor=manager())


def test_only_expiry_is_the_systems():
    for action in AGREEMENT_TRANSITIONS:
        agreement = make_agreement(SOURCE[action])
        if action == "expire":
            assert _move(agreement, action, None).status == S.EXPIRED
            assert agreement.events.order_by("-pk").first().actor_label == "system"
        else:
            with pytest.raises(PermissionDenied):
                _move(agreement, action, None)


def test_activation_freezes_version_one_and_schedules_the_review():
    agreement = make_agreement(S.ACTIVE)
    assert agreement.activated_at == NOW
    assert agreement.next_review_on == date(2027, 3, 2)
    version = AgreementVersion.objects.get(agreement=agreement)
    assert version.version == 1 and agreement.version == 1
    assert version.content["title"] == "Managed desktop"
    assert version.content["targets"][0]["metric"] == "resolution"
    assert version.content["signed_document"].endswith("SLA-2026-001-v1.pdf")


def test_activation_keeps_a_review_date_already_set():
    agreement = draft()
    Agreement.objects.filter(pk=agreement.pk).update(next_review_on=date(2026, 9, 1))
    ready(agreement)
    agreement_transition(agreement=agreement, action="negotiate", actor=manager())
    assert agreement_transition(agreement=agreement, action="activate", actor=manager()).next_review_on == date(
        2026, 9, 1
    )


@pytest.mark.parametrize(
    ("missing", "field"),
    [
        ("document", "signed_document"),
        ("targets", "targets"),
        ("valid_from", "valid_from"),
        ("valid_to", "valid_to"),
        ("past", "valid_to"),
    ],
)
def test_activation_is_refused_without_what_it_needs(missing, field):
    actor = manager()
    fields: dict[str, Any] = {}
    if missing == "valid_from":
        fields["valid_from"] = None
    if missing == "valid_to":
        fields["valid_to"] = None
    if missing == "past":
        fields.update(valid_from=date(2025, 1, 1), valid_to=date(2026, 2, 28))
    agreement = draft(actor=actor, **fields)
    if missing != "targets":
        TargetFactory(agreement=agreement)
    if missing != "document":
        agreement_upload_document(agreement=agreement, actor=actor, upload=pdf())
    agreement_transition(agreement=agreement, action="negotiate", actor=actor)
    with assert_nothing_written(AgreementEvent, AgreementVersion), pytest.raises(ValidationError) as error:
        agreement_transition(agreement=agreement, action="activate", actor=actor)
    assert field in error.value.message_dict
    assert Agreement.objects.get(pk=agreement.pk).status == S.NEGOTIATING


def test_expiry_before_the_end_of_the_validity_is_refused():
    agreement = make_agreement(S.ACTIVE)
    with translation.override("en"), pytest.raises(ValidationError) as error:
        agreement_transition(agreement=agreement, action="expire", actor=manager())
    assert "terminate" in error.value.message_dict["action"][0]
    assert "expire" not in [t.action for t in agreement_allowed_actions(agreement, manager())]
    with time_machine.travel(AFTER_VALIDITY, tick=False):
        assert "expire" in [t.action for t in agreement_allowed_actions(agreement, manager())]


def test_the_periodic_expiry_ends_what_has_run_out_once():
    ended = make_agreement(S.ACTIVE)
    running = make_agreement(S.ACTIVE, valid_to=date(2027, 6, 30))
    with time_machine.travel(AFTER_VALIDITY, tick=False):
        assert agreements_expire_due() == 1
        assert agreements_expire_due() == 0
    assert Agreement.objects.get(pk=ended.pk).status == S.EXPIRED
    assert Agreement.objects.get(pk=ended.pk).ended_at == AFTER_VALIDITY
    assert Agreement.objects.get(pk=running.pk).status == S.ACTIVE


def test_allowed_actions_follow_state_and_role():
    agreement = make_agreement(S.NEGOTIATING)
    assert [t.action for t in agreement_allowed_actions(agreement, manager())] == ["return_to_draft", "activate"]
    assert agreement_allowed_actions(agreement, user_with_role(Role.AUDITOR)) == []


# --- pages ------------------------------------------------------------------------------------

AGREEMENTS = Resource.for_model(Agreement, AgreementFactory)
READERS = [r for r in ALL_ROLES if r not in (ANONYMOUS, NO_ROLE) and role_may(r, ["view"], Agreement)]


@pytest.fixture
def en(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def login(client, role: str = SLM):
    user = user_with_role(role)
    client.force_login(user)
    return user


def test_every_staff_role_reads_agreements():
    assert set(READERS) == set(ROLES)


@pytest.mark.parametrize("case", page_matrix(AGREEMENTS), ids=str)
def test_page_access(client, case):
    check_page_access(client, case)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("status", [S.DRAFT, S.ACTIVE, S.TERMINATED])
def test_every_role_sees_the_detail_page(client, role, status):
    agreement = make_agreement(status)
    login(client, role)
    response = client.get(agreement.get_absolute_url())
    assert response.status_code == 200
    page = response.content.decode()
    assert f'data-status="{status}"' in page
    assert ("/actions/" in page) == (role == SLM and status != S.TERMINATED)
    assert client.get(reverse("agreement_document", args=[agreement.pk])).status_code in (200, 404)


def test_no_role_sees_no_agreement_page(client):
    agreement = make_agreement(S.ACTIVE)
    login(client, NO_ROLE)
    for url in (
        reverse("agreement_list"),
        agreement.get_absolute_url(),
        reverse("agreement_document", args=[agreement.pk]),
        reverse("agreement_compare", args=[agreement.pk]),
        reverse("agreement_version_detail", args=[agreement.pk, 1]),
        reverse("agreement_change", args=[agreement.pk]),
    ):
        assert client.get(url).status_code == 403, url


def test_the_document_is_downloaded_by_readers_only_and_never_public(client):
    agreement = make_agreement(S.ACTIVE)
    url = reverse("agreement_document", args=[agreement.pk])
    assert client.get(url).status_code == 302  # to the login page
    login(client, Role.SERVICE_DESK)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == PDF
    assert client.get(reverse("agreement_document", args=[make_agreement().pk])).status_code == 404


def test_the_detail_page_shows_sections_as_sanitised_markdown(en):
    agreement = draft(
        service_description=(
            "# Scope\n\n**Desktops** of *HQ*\n\n<script>alert(1)</script>\n\n| a | b |\n|---|---|\n| 1 | 2 |"
        ),
        glossary="[link](javascript:alert(1))",
    )
    login(en)
    page = en.get(agreement.get_absolute_url()).content.decode()
    assert "<h5>Scope</h5>" in page and "<strong>Desktops</strong>" in page and "<td>1</td>" in page
    assert "<script>alert" not in page and "javascript:" not in page


def test_the_detail_page_offers_the_underpinning_badge_when_that_part_provides_it(en):
    agreement = make_agreement(S.ACTIVE)
    login(en)
    response = en.get(agreement.get_absolute_url())
    assert response.status_code == 200
    assert "underpinning" in response.context


def test_the_manager_creates_an_agreement_from_the_page(en):
    user = login(en)
    party = counterparty("uc", name="Fast Parts Ltd")
    service = ServiceFactory()
    response = en.get(reverse("agreement_create") + "?kind=uc")
    assert response.status_code == 200
    assert 'value="uc" selected' in response.content.decode()
    response = en.post(
        reverse("agreement_create"),
        {
            "kind": "uc",
            "title": "Spare parts",
            "counterparty": party.pk,
            "services": [service.pk],
            "valid_from": "2026-03-01",
            "valid_to": "2027-02-28",
            "owner": user.pk,
            "service_description": "Parts within 4 hours.",
        },
    )
    agreement = Agreement.objects.get(title="Spare parts")
    assert response.status_code == 302 and response["Location"] == agreement.get_absolute_url()
    assert agreement.number == "UC-2026-001" and agreement.status == S.DRAFT
    assert list(agreement.services.all()) == [service]


def test_a_bad_agreement_form_is_a_400_with_messages_and_nothing_written(en):
    login(en)
    retired = ServiceFactory(status=ServiceStatus.RETIRED)
    party = counterparty("sla", name="Big Bank")
    with assert_nothing_written(Agreement, AgreementEvent):
        response = en.post(
            reverse("agreement_create"),
            {"kind": "ola", "title": "", "counterparty": party.pk, "services": [retired.pk], "valid_to": "x"},
        )
    assert response.status_code == 400
    page = response.content.decode()
    assert "This field is required." in page  # title
    assert "Enter a valid date." in page
    assert "Select a valid choice." in page  # the retired service is not offered
    with assert_nothing_written(Agreement, AgreementEvent):
        response = en.post(reverse("agreement_create"), {"kind": "ola", "title": "Desk OLA", "counterparty": party.pk})
    assert response.status_code == 400
    assert "An OLA is agreed with an internal team; Big Bank is not an internal team" in response.content.decode()


def test_the_edit_page_edits_a_draft_and_sends_an_active_agreement_to_a_new_version(en):
    login(en)
    agreement = make_agreement(S.DRAFT)
    response = en.post(
        reverse("agreement_edit", args=[agreement.pk]),
        {
            "title": "Managed desktop 2",
            "counterparty": agreement.counterparty_id,
            "valid_from": "2026-01-01",
            "valid_to": "2026-12-31",
            "risks": "Hardware shortage",
            "status": "active",
        },
    )
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert (agreement.title, agreement.risks, agreement.status) == ("Managed desktop 2", "Hardware shortage", S.DRAFT)
    active = make_agreement(S.ACTIVE)
    response = en.get(reverse("agreement_edit", args=[active.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("agreement_change", args=[active.pk])
    response = en.post(reverse("agreement_edit", args=[active.pk]), {"title": "x"})
    assert response.status_code == 302
    assert Agreement.objects.get(pk=active.pk).title == "Managed desktop"


def test_a_workflow_action_from_the_page(en):
    login(en)
    agreement = make_agreement(S.NEGOTIATING)
    response = en.post(reverse("agreement_transition", args=[agreement.pk, "activate"]))
    assert response.status_code == 302
    assert Agreement.objects.get(pk=agreement.pk).status == S.ACTIVE


def test_a_refused_action_from_the_page_is_a_400_naming_what_is_missing(en):
    login(en)
    agreement = draft()
    agreement_transition(agreement=agreement, action="negotiate", actor=manager())
    with assert_nothing_written(AgreementEvent, AgreementVersion):
        response = en.post(reverse("agreement_transition", args=[agreement.pk, "activate"]))
    assert response.status_code == 400
    page = response.content.decode()
    assert "Upload the signed agreement first." in page
    assert "Add at least one service level target first." in page
    with assert_nothing_written(AgreementEvent):
        response = en.post(reverse("agreement_transition", args=[agreement.pk, "return_to_draft"]), {})
    assert response.status_code == 400
    with assert_nothing_written(AgreementEvent):
        response = en.post(reverse("agreement_transition", args=[agreement.pk, "negotiate"]))
    assert response.status_code == 400
    assert "not possible while the agreement is Negotiating" in response.content.decode()
    assert en.post(reverse("agreement_transition", args=[agreement.pk, "fly"])).status_code == 404


@pytest.mark.parametrize("role", [r for r in ROLES if r != SLM])
def test_other_roles_cannot_move_an_agreement_from_the_page(client, role):
    agreement = make_agreement(S.NEGOTIATING)
    login(client, role)
    with assert_nothing_written(AgreementEvent):
        response = client.post(reverse("agreement_transition", args=[agreement.pk, "activate"]))
    assert response.status_code == 403


def test_the_document_upload_page_action(en):
    login(en)
    agreement = draft()
    response = en.post(reverse("agreement_document_upload", args=[agreement.pk]), {"file": pdf()})
    assert response.status_code == 302
    assert Agreement.objects.get(pk=agreement.pk).signed_document
    with assert_nothing_written(AgreementEvent):
        response = en.post(
            reverse("agreement_document_upload", args=[agreement.pk]),
            {"file": SimpleUploadedFile("virus.exe", b"MZ\x00\x00")},
        )
    assert response.status_code == 400
    assert "This type of file is not accepted." in response.content.decode()


def test_the_list_filters_and_searches(en):
    login(en)
    sla = make_agreement(S.ACTIVE, title="Payroll service", valid_to=date(2026, 4, 15))
    uc = make_agreement(S.DRAFT, kind="uc", title="Hardware repair")
    overdue = make_agreement(S.ACTIVE, title="Mail")
    Agreement.objects.filter(pk=overdue.pk).update(next_review_on=date(2026, 2, 1))

    def listed(query: str) -> set[int]:
        page = en.get(reverse("agreement_list") + query).content.decode()
        return {int(pk) for pk in re.findall(r'data-agreement="(\d+)"', page)}

    assert listed("") == {sla.pk, uc.pk, overdue.pk}
    assert listed("?kind=uc") == {uc.pk}
    assert listed("?status=active") == {sla.pk, overdue.pk}
    assert listed(f"?counterparty={uc.counterparty_id}") == {uc.pk}
    assert listed("?q=payroll") == {sla.pk}
    assert listed("?q=UC-2026") == {uc.pk}
    assert listed("?expiring=true") == {sla.pk}
    assert listed("?review_overdue=true") == {overdue.pk}
    assert listed("?status=bogus") == set()


def _rows(n: int) -> None:
    for _ in range(n):
        agreement = AgreementFactory(status=S.ACTIVE, next_review_on=date(2026, 6, 1))
        agreement.services.add(ServiceFactory())
        TargetFactory(agreement=agreement)


def test_the_list_runs_a_constant_number_of_queries(client):
    login(client, Role.AUDITOR)
    assert_constant_queries(client, reverse("agreement_list"), _rows, few=3, many=20)


def test_the_detail_page_runs_a_constant_number_of_queries(client):
    agreement = make_agreement(S.ACTIVE)
    login(client)
    priorities = iter(
        [(metric, priority, name) for metric in Metric for priority in Priority for name in ("", "x", "y", "z")]
    )

    def grow(n: int) -> None:
        for _ in range(n):
            metric, priority, name = next(priorities)
            if (metric, priority, name) == (Metric.RESOLUTION, Priority.P1, ""):
                metric, priority, name = next(priorities)
            unit = TargetUnit.HOURS if metric in ("response", "resolution") else TargetUnit.PERCENT
            TargetFactory(
                agreement=agreement, metric=metric, priority=priority, name=name, unit=unit, value=Decimal(50)
            )
            agreement.services.add(ServiceFactory())
            AgreementEvent.objects.create(agreement=agreement, action="edited", actor=None)

    assert_constant_queries(client, agreement.get_absolute_url(), grow, few=2, many=12)


# --- the workflow doc -------------------------------------------------------------------------

DOC = Path(__file__).resolve().parents[2] / "docs" / "sla-workflow.md"
SERVICE_EFFECTS = {
    "accept": "the RFC is recorded on the service and its history",
    "retire": "no new agreement may cover the service; agreements already covering it keep it",
}
AGREEMENT_EFFECTS = {
    "negotiate": "—",
    "return_to_draft": "—",
    "activate": "needs the signed document, ≥ 1 target, `valid_from` and a `valid_to` not past; `activated_at`; "
    "`next_review_on` a year on unless set; version 1 frozen",
    "expire": "only once `valid_to` has passed; `ended_at`",
    "terminate": "`ended_at`",
}
HEADER = "| action | from | to | roles | requires | system | effects |"


def doc_table(table, effects) -> list[str]:
    rows = [HEADER, "|---|---|---|---|---|---|---|"]
    for action, t in table.items():
        sources = ", ".join(f"`{s}`" for s in sorted(t.sources))
        roles = ", ".join(f"`{r}`" for r in sorted(t.roles))
        requires = ", ".join(f"`{r}`" for r in t.requires) or "—"
        system = "yes" if t.system else "—"
        rows.append(f"| `{action}` | {sources} | `{t.target}` | {roles} | {requires} | {system} | {effects[action]} |")
    return rows


def test_the_workflow_doc_shows_both_current_diagrams():
    text = DOC.read_text(encoding="utf-8")
    diagrams = re.findall(r"```mermaid\n(.*?)\n```", text, flags=re.DOTALL)
    expected = [
        as_mermaid(SERVICE_TRANSITIONS, "proposed", ("retired",)),
        as_mermaid(AGREEMENT_TRANSITIONS, "draft", ("expired", "terminated")),
    ]
    assert diagrams == expected, "docs/sla-workflow.md is stale; its diagrams should be:\n" + "\n\n".join(expected)


def test_the_workflow_doc_lists_every_action_as_the_tables_say():
    lines = DOC.read_text(encoding="utf-8").splitlines()
    tables = []
    for start, line in enumerate(lines):
        if line == HEADER:
            end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
            tables.append(lines[start:end])
    expected = [doc_table(SERVICE_TRANSITIONS, SERVICE_EFFECTS), doc_table(AGREEMENT_TRANSITIONS, AGREEMENT_EFFECTS)]
    assert tables == expected, "docs/sla-workflow.md is stale; its tables should be:\n" + "\n\n".join(
        "\n".join(t) for t in expected
    )
