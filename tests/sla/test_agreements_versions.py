"""Versions of an active agreement: a change makes a new version (reason and RFC required,
the earlier content frozen, the status still active), targets and services change with it,
earlier versions stay readable, and two versions compare side by side (fields, services,
sections line by line, targets added / removed / changed) — through the services and the pages.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.urls import reverse
from django.utils import translation

from itsm.core.audit import immutability_suspended
from itsm.core.roles import Role
from itsm.core.testing import assert_constant_queries, assert_nothing_written, user_with_role
from sla.choices import AgreementStatus, ServiceStatus, TargetUnit
from sla.models import Agreement, AgreementEvent, AgreementVersion, ServiceLevelTarget
from sla.selectors import agreement_versions_diff, side_by_side
from sla.services.agreements import agreement_new_version
from tests.sla.factories import MeasurementFactory, ServiceFactory
from tests.sla.test_agreements import PDF, _frozen_time, _media, make_agreement, manager, pdf  # noqa: F401

pytestmark = pytest.mark.django_db

S = AgreementStatus
SLM = Role.SERVICE_LEVEL_MANAGER.value


def specs(agreement: Agreement) -> list[dict]:
    """The agreement's targets as ``targets`` specs (unchanged)."""
    return [
        {
            "id": t.pk,
            "metric": t.metric,
            "priority": t.priority,
            "name": t.name,
            "value": t.value,
            "unit": t.unit,
            "calendar": t.calendar,
        }
        for t in agreement.targets.order_by("pk")
    ]


def change(agreement: Agreement, actor=None, **kwargs) -> Agreement:
    kwargs.setdefault("reason", "Customer asked for faster P1 resolution")
    kwargs.setdefault("rfc_ref", "RFC-2026-031")
    return agreement_new_version(agreement=agreement, actor=actor or manager(), **kwargs)


@pytest.fixture
def active() -> Agreement:
    return make_agreement(S.ACTIVE, provider_duties="Answer the phone.\nFix desktops.\nReport monthly.")


# --- creating versions ------------------------------------------------------------------------


def test_a_change_makes_the_next_version_and_keeps_the_earlier_one(active):
    service = ServiceFactory(code="mail")
    targets = specs(active)
    targets[0]["value"] = Decimal("1")
    targets.append({"metric": "availability", "priority": "", "value": Decimal("99.5"), "unit": "percent"})
    changed = change(
        active,
        changes={"provider_duties": "Answer the phone.\nFix desktops and laptops.\nReport monthly.", "title": "Desk+"},
        services=[service],
        targets=targets,
    )
    assert (changed.version, changed.status, changed.title) == (2, S.ACTIVE, "Desk+")
    v1, v2 = AgreementVersion.objects.filter(agreement=active).order_by("version")
    assert v1.content["title"] == "Managed desktop" and v1.content["services"] == []
    assert v1.content["targets"][0]["value"] == "2"
    assert (v2.reason, v2.rfc_ref, v2.created_by_id) == (
        "Customer asked for faster P1 resolution",
        "RFC-2026-031",
        v2.created_by_id,
    )
    assert v2.content["title"] == "Desk+"
    assert [s["code"] for s in v2.content["services"]] == ["mail"]
    assert sorted(t["value"] for t in v2.content["targets"]) == ["1", "99.5"]
    event = changed.events.get(action="new_version")
    assert (event.data["version"], event.data["previous"], event.data["rfc_ref"]) == (2, 1, "RFC-2026-031")
    assert event.data["fields"] == ["provider_duties", "title"]
    assert len(event.data["targets"]["changed"]) == 1 and len(event.data["targets"]["added"]) == 1


def test_each_further_change_adds_one_version(active):
    change(active, changes={"risks": "one"})
    change(active, changes={"risks": "two"}, rfc_ref="RFC-2026-040")
    assert list(active.versions.values_list("version", "rfc_ref")) == [
        (1, ""),
        (2, "RFC-2026-031"),
        (3, "RFC-2026-040"),
    ]
    assert Agreement.objects.get(pk=active.pk).version == 3


def test_an_agreement_activated_without_a_frozen_version_gets_it_at_the_first_change():
    agreement = make_agreement(S.ACTIVE)
    with immutability_suspended():
        AgreementVersion.objects.filter(agreement=agreement).delete()
    change(agreement, changes={"risks": "new"})
    assert list(agreement.versions.values_list("version", flat=True)) == [1, 2]
    assert agreement.versions.get(version=1).content["sections"]["risks"] == ""


@pytest.mark.parametrize(("reason", "rfc", "fields"), [("", "RFC-1", {"reason"}), ("why", " ", {"rfc_ref"})])
def test_a_change_needs_the_reason_and_the_rfc(active, reason, rfc, fields):
    actor = manager()
    with assert_nothing_written(AgreementVersion, AgreementEvent), pytest.raises(ValidationError) as error:
        change(active, actor, reason=reason, rfc_ref=rfc, changes={"risks": "x"})
    assert set(error.value.message_dict) == fields


def test_a_change_that_changes_nothing_is_refused(active):
    actor = manager()
    with assert_nothing_written(AgreementVersion, AgreementEvent), pytest.raises(ValidationError):
        change(active, actor, changes={"title": active.title}, targets=specs(active))
    assert Agreement.objects.get(pk=active.pk).version == 1


@pytest.mark.parametrize("status", [S.DRAFT, S.NEGOTIATING, S.EXPIRED, S.TERMINATED])
def test_only_an_active_agreement_gets_versions(status):
    agreement = make_agreement(status)
    actor = manager()
    with assert_nothing_written(AgreementVersion, AgreementEvent), pytest.raises(ValidationError):
        change(agreement, actor, changes={"risks": "x"})


def test_a_change_is_all_or_nothing(active):
    actor = manager()
    retired = ServiceFactory(status=ServiceStatus.RETIRED)
    tracked = (AgreementVersion, AgreementEvent, ServiceLevelTarget)
    with assert_nothing_written(*tracked), pytest.raises(ValidationError) as error:
        change(active, actor, changes={"title": "New"}, services=[retired])
    assert "services" in error.value.message_dict
    bad = specs(active) + [{"metric": "response", "priority": "P1", "value": Decimal("3"), "unit": "hours"}]
    with assert_nothing_written(*tracked), translation.override("en"), pytest.raises(ValidationError) as error:
        change(active, actor, changes={"title": "New"}, targets=bad)
    assert "P1 response target (3 hours) is longer" in error.value.message_dict["targets"][0]
    with assert_nothing_written(AgreementVersion, AgreementEvent), pytest.raises(ValidationError) as error:
        change(active, actor, changes={"valid_from": date(2027, 1, 1)})
    assert "valid_to" in error.value.message_dict
    assert Agreement.objects.get(pk=active.pk).title == "Managed desktop"


def test_a_target_with_measurements_is_not_removed_by_a_version(active):
    MeasurementFactory(target=active.targets.get())
    actor = manager()
    with assert_nothing_written(AgreementVersion, ServiceLevelTarget), pytest.raises(ValidationError) as error:
        change(active, actor, targets=[{"metric": "response", "priority": "P1", "value": 1, "unit": "hours"}])
    assert "targets" in error.value.message_dict


def test_a_new_signed_document_comes_with_a_version(active):
    changed = change(active, document=pdf("amendment.pdf"), signed_on=date(2026, 3, 1))
    assert changed.signed_document.name.endswith("SLA-2026-001-v2.pdf")
    v1, v2 = active.versions.order_by("version")
    assert v1.content["signed_document"].endswith("-v1.pdf") and v2.content["signed_document"].endswith("-v2.pdf")
    actor = manager()
    with assert_nothing_written(AgreementVersion), pytest.raises(ValidationError) as error:
        change(active, actor, document=SimpleUploadedFile("x.exe", b"MZ"))
    assert "file" in error.value.message_dict


def test_a_change_needs_the_permissions(active):
    for role in (Role.AUDITOR, Role.BR_MANAGER, Role.SERVICE_DESK):
        actor = user_with_role(role)
        with assert_nothing_written(AgreementVersion, AgreementEvent), pytest.raises(PermissionDenied):
            change(active, actor, changes={"risks": "x"})


def test_versions_are_never_edited():
    agreement = make_agreement(S.ACTIVE)
    version = agreement.versions.get()
    version.reason = "rewritten"
    with pytest.raises(Exception):  # noqa: B017  (the database refuses: an append-only table)
        version.save()


# --- comparing versions -----------------------------------------------------------------------


def test_the_diff_of_two_versions(active):
    targets = specs(active)
    targets[0]["value"] = Decimal("1")
    targets.append({"metric": "response", "priority": "P1", "value": Decimal("15"), "unit": "minutes"})
    service = ServiceFactory(code="mail", name="Email")
    change(
        active,
        changes={
            "provider_duties": "Answer the phone.\nFix desktops and laptops.\nReport monthly.\nVisit weekly.",
            "valid_to": date(2027, 6, 30),
        },
        services=[service],
        targets=targets,
    )
    with translation.override("en"):
        diff = agreement_versions_diff(active, 1, 2)
    assert [(f.label, f.before, f.after) for f in diff.fields] == [("Valid to", "2026-12-31", "2027-06-30")]
    assert diff.services_added == ["mail Email"] and diff.services_removed == []
    assert [s.name for s in diff.changed_sections] == ["provider_duties"]
    section = diff.changed_sections[0]
    assert "-Fix desktops." in section.unified and "+Fix desktops and laptops." in section.unified
    assert "+Visit weekly." in section.unified
    kinds = [(row.kind, row.left, row.right) for row in section.rows]
    assert kinds == [
        ("equal", "Answer the phone.", "Answer the phone."),
        ("replace", "Fix desktops.", "Fix desktops and laptops."),
        ("equal", "Report monthly.", "Report monthly."),
        ("insert", "", "Visit weekly."),
    ]
    assert [(t.kind, t.before, t.after) for t in diff.targets_changed] == [
        ("changed", "2 hours, 24×7", "1 hours, 24×7")
    ]
    assert [(t.label, t.after) for t in diff.targets_added] == [("P1 Response time", "15 minutes, 24×7")]
    assert diff.targets_removed == []
    assert diff.has_changes
    # Backwards, the same change reads the other way round.
    with translation.override("en"):
        back = agreement_versions_diff(active, 2, 1)
    assert [t.kind for t in back.targets] == ["changed", "removed"]
    assert back.services_removed == ["mail Email"]


def test_a_version_compared_with_itself_has_no_changes_and_a_missing_one_is_404(active):
    assert not agreement_versions_diff(active, 1, 1).has_changes
    with pytest.raises(Http404):
        agreement_versions_diff(active, 1, 2)


def test_side_by_side_pairs_deleted_and_inserted_lines():
    rows = side_by_side("a\nb\nc", "a\nc\nd\ne")
    assert [(r.kind, r.left, r.right, r.left_no, r.right_no) for r in rows] == [
        ("equal", "a", "a", 1, 1),
        ("delete", "b", "", 2, None),
        ("equal", "c", "c", 3, 2),
        ("insert", "", "d", None, 3),
        ("insert", "", "e", None, 4),
    ]


# --- pages ------------------------------------------------------------------------------------


@pytest.fixture
def en(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(user_with_role(SLM))
    return client


def _change_data(agreement: Agreement, **overrides) -> dict:
    targets = list(agreement.targets.order_by("priority", "metric", "name", "pk"))
    data = {
        "reason": "Faster P1",
        "rfc_ref": "RFC-2026-050",
        "title": agreement.title,
        "valid_from": agreement.valid_from.isoformat(),
        "valid_to": agreement.valid_to.isoformat(),
        "signed_on": agreement.signed_on.isoformat() if agreement.signed_on else "",
        "targets-TOTAL_FORMS": str(len(targets) + 2),
        "targets-INITIAL_FORMS": str(len(targets)),
        "targets-MIN_NUM_FORMS": "0",
        "targets-MAX_NUM_FORMS": "1000",
    }
    for name in ("service_description", "provider_duties"):
        data[name] = getattr(agreement, name)
    for i, target in enumerate(targets):
        data.update(
            {
                f"targets-{i}-id": str(target.pk),
                f"targets-{i}-metric": target.metric,
                f"targets-{i}-priority": target.priority,
                f"targets-{i}-name": target.name,
                f"targets-{i}-value": str(target.value),
                f"targets-{i}-unit": target.unit,
                f"targets-{i}-calendar": str(target.calendar_id or ""),
            }
        )
    data.update(overrides)
    return data


def test_the_change_page_makes_a_new_version(en, active):
    url = reverse("agreement_change", args=[active.pk])
    assert en.get(url).status_code == 200
    data = _change_data(
        active,
        **{
            "targets-0-value": "1",
            "targets-1-metric": "availability",
            "targets-1-value": "99.9",
            "targets-1-unit": "percent",
            "provider_duties": "Answer the phone.\nFix everything.",
        },
    )
    response = en.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    active.refresh_from_db()
    assert active.version == 2 and active.status == S.ACTIVE
    assert active.provider_duties == "Answer the phone.\nFix everything."
    assert sorted(str(t.value.normalize()) for t in active.targets.all()) == ["1", "99.9"]
    assert active.versions.get(version=2).rfc_ref == "RFC-2026-050"


def test_the_change_page_refuses_bad_input_with_messages_and_writes_nothing(en, active):
    url = reverse("agreement_change", args=[active.pk])
    with assert_nothing_written(AgreementVersion, AgreementEvent, ServiceLevelTarget):
        response = en.post(url, _change_data(active, reason="", rfc_ref="", title="Other"))
    assert response.status_code == 400
    assert response.content.decode().count("This field is required.") == 2
    with assert_nothing_written(AgreementVersion, AgreementEvent, ServiceLevelTarget):
        response = en.post(
            url,
            _change_data(
                active,
                **{
                    "targets-1-metric": "response",
                    "targets-1-priority": "P1",
                    "targets-1-value": "3",
                    "targets-1-unit": "hours",
                },
            ),
        )
    assert response.status_code == 400
    assert "is longer than the P1 resolution target" in response.content.decode()
    with assert_nothing_written(AgreementVersion, AgreementEvent):
        response = en.post(url, _change_data(active))
    assert response.status_code == 400
    assert "Nothing changed" in response.content.decode()


def test_the_change_page_of_a_draft_sends_back_to_the_agreement(en):
    agreement = make_agreement()
    response = en.get(reverse("agreement_change", args=[agreement.pk]))
    assert response.status_code == 302 and response["Location"] == agreement.get_absolute_url()


def test_versions_are_readable_and_compared_on_their_pages(en, active):
    change(active, changes={"provider_duties": "Answer the phone.\nFix laptops.\nReport monthly."})
    page = en.get(active.get_absolute_url()).content.decode()
    assert 'data-version="1"' in page and 'data-version="2"' in page
    response = en.get(reverse("agreement_version_detail", args=[active.pk, 1]))
    assert response.status_code == 200
    assert "Fix desktops." in response.content.decode()
    assert en.get(reverse("agreement_version_detail", args=[active.pk, 9])).status_code == 404
    response = en.get(reverse("agreement_compare", args=[active.pk]) + "?a=1&b=2")
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-kind="replace"' in page and "Fix laptops." in page and "Fix desktops." in page
    assert "Customer asked for faster P1 resolution" in page
    # Without parameters: the last two versions.
    assert en.get(reverse("agreement_compare", args=[active.pk])).context["diff"].b.version == 2
    assert en.get(reverse("agreement_compare", args=[active.pk]) + "?a=1&b=7").status_code == 400


def test_an_earlier_versions_document_stays_downloadable(en, active):
    change(active, document=pdf("amendment.pdf", PDF + b"% v2\n"))
    first = en.get(reverse("agreement_version_document", args=[active.pk, 1]))
    second = en.get(reverse("agreement_version_document", args=[active.pk, 2]))
    assert b"".join(first.streaming_content) == PDF
    assert b"".join(second.streaming_content) == PDF + b"% v2\n"


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.BR_MANAGER])
def test_readers_read_versions_but_do_not_change_them(client, role, active):
    client.force_login(user_with_role(role))
    assert client.get(reverse("agreement_version_detail", args=[active.pk, 1])).status_code == 200
    assert client.get(reverse("agreement_compare", args=[active.pk])).status_code == 200
    with assert_nothing_written(AgreementVersion):
        assert client.get(reverse("agreement_change", args=[active.pk])).status_code == 403
        assert client.post(reverse("agreement_change", args=[active.pk]), {}).status_code == 403


def test_the_service_desk_reads_agreements_but_not_their_versions(client, active):
    client.force_login(user_with_role(Role.SERVICE_DESK))
    page = client.get(active.get_absolute_url()).content.decode()
    assert 'data-testid="versions"' not in page
    assert client.get(reverse("agreement_version_detail", args=[active.pk, 1])).status_code == 403


def test_the_versions_shown_on_the_page_use_constant_queries(en, active):
    counter = iter(range(100))

    def grow(n: int) -> None:
        for _ in range(n):
            change(active, changes={"risks": f"risk {next(counter)}"})

    assert_constant_queries(en, active.get_absolute_url(), grow, few=1, many=6)


def test_target_units_in_the_diff_say_what_they_are(active):
    targets = specs(active)
    targets[0].update(value=Decimal("1"), unit=TargetUnit.WORKING_DAYS)
    change(active, targets=targets)
    with translation.override("en"):
        diff = agreement_versions_diff(active, 1, 2)
    assert [(t.label, t.before, t.after) for t in diff.targets] == [
        ("P1 Resolution time", "2 hours, 24×7", "1 working days, 24×7")
    ]
