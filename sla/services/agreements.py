"""Every write to agreements (SLA / OLA / UC): create, edit, signed document, workflow, versions.

* ``agreement_create`` numbers the agreement ``SLA-YYYY-NNN`` / ``OLA-…`` / ``UC-…`` per kind
  and year, gap-free: the next number is the highest of the kind's year plus one, read under a
  row lock of those rows and inserted in a savepoint; a concurrent insert of the same number
  (the first of a year, where there is no row to lock) fails on the unique number and is
  retried with the next. Agreements are never deleted, so no number is ever freed.
* The counterparty must be an organisation of the kind's kind (customer / internal team /
  supplier); a retired service joins no agreement.
* A draft or negotiating agreement is edited directly (``agreement_update``); an active one
  changes only through ``agreement_new_version``: the current content is frozen as version N
  (if not already), the change applied, version N+1 frozen with its reason and RFC, the
  status stays active.
* ``agreement_transition`` is the only code that assigns ``Agreement.status``: it locks the
  row and follows ``AGREEMENT_TRANSITIONS``. Activation needs the signed document, at least
  one target and the validity; it freezes version 1 and schedules the first review a year on.

Every service checks the permission (``PermissionDenied``), validates (``ValidationError`` per
field; nothing written), runs in one transaction with the actor on the audit trail and writes
an ``AgreementEvent``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from pathlib import PurePath
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from itsm.core.audit import set_actor
from itsm.core.models import Organisation, User
from itsm.core.permissions import can
from itsm.core.uploads import validate_upload
from itsm.core.workflow import Machine, Move, TransitionRefused, allowed, perform

from ..choices import COUNTERPARTY_KIND, NUMBER_PREFIX, AgreementKind, AgreementStatus, ServiceStatus
from ..models import Agreement, AgreementEvent, AgreementVersion, Service, ServiceLevelTarget
from ..selectors import SECTION_NAMES, agreement_content
from ..workflow import AGREEMENT_TRANSITIONS, Transition
from .targets import TargetChanges, targets_sync

__all__ = [
    "AGREEMENT_FIELDS",
    "EDITABLE_STATUSES",
    "SIGNED_DOCUMENT_TYPES",
    "VERSION_FIELDS",
    "TransitionRefused",
    "agreement_allowed_actions",
    "agreement_create",
    "agreement_new_version",
    "agreement_transition",
    "agreement_update",
    "agreement_upload_document",
    "agreements_expire_due",
]

# The fields the agreement form (and the API) writes while the agreement is a draft or
# negotiated; ``kind`` is chosen at creation only (the number depends on it).
AGREEMENT_FIELDS = ("title", "counterparty", "valid_from", "valid_to", "owner", "signed_on", *SECTION_NAMES)
# What a new version of an active agreement may change (not the counterparty: another party
# is another agreement).
VERSION_FIELDS = ("title", "valid_from", "valid_to", "signed_on", *SECTION_NAMES)
# Internal bookkeeping that is no part of the agreed content: changes in any open status.
INTERNAL_FIELDS = ("owner",)
EDITABLE_STATUSES = frozenset({AgreementStatus.DRAFT, AgreementStatus.NEGOTIATING})
ENDED_STATUSES = frozenset({AgreementStatus.EXPIRED, AgreementStatus.TERMINATED})
# A signed agreement is a PDF, a scan or a Word document (of the types uploads accept).
SIGNED_DOCUMENT_TYPES = (".pdf", ".png", ".jpg", ".jpeg", ".gif", ".docx", ".doc")
_NUMBER_ATTEMPTS = 10


# --- helpers ----------------------------------------------------------------------------------


def _event(
    agreement: Agreement,
    *,
    action: str,
    actor: User | None,
    from_status: str = "",
    to_status: str = "",
    note: str = "",
    actor_label: str = "",
    data: dict | None = None,
) -> AgreementEvent:
    return AgreementEvent.objects.create(
        agreement=agreement,
        action=action,
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        actor_label=actor_label if actor is None else "",
        note=note,
        data=data or {},
    )


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _check_fields(fields: dict[str, Any], allowed: Iterable[str]) -> dict[str, Any]:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise ValidationError({name: _("This field cannot be set here.") for name in sorted(unknown)})
    return {name: _strip(value) for name, value in fields.items()}


_COUNTERPARTY_MESSAGES = {
    AgreementKind.SLA: gettext_lazy(
        "An SLA is agreed with a customer; %(name)s is not a customer (it is: %(actual)s)."
    ),
    AgreementKind.OLA: gettext_lazy(
        "An OLA is agreed with an internal team; %(name)s is not an internal team (it is: %(actual)s)."
    ),
    AgreementKind.UC: gettext_lazy("A UC is agreed with a supplier; %(name)s is not a supplier (it is: %(actual)s)."),
}


def check_counterparty(kind: str, counterparty: Organisation | None) -> None:
    """Raise ``ValidationError`` on ``counterparty`` unless it is an active organisation of
    the kind ``kind`` needs (SLA: customer, OLA: internal team, UC: supplier)."""
    if counterparty is None or kind not in COUNTERPARTY_KIND:
        return  # reported by the field checks
    kind = AgreementKind(kind)
    if counterparty.kind != COUNTERPARTY_KIND[kind]:
        message = _COUNTERPARTY_MESSAGES[kind] % {"name": counterparty.name, "actual": counterparty.get_kind_display()}
        raise ValidationError({"counterparty": message})
    if not counterparty.is_active:
        raise ValidationError({"counterparty": _("%(name)s is no longer active.") % {"name": counterparty.name}})


def _check_validity(valid_from: date | None, valid_to: date | None) -> None:
    # The check constraint says the same, but only as a form-wide "constraint violated".
    if valid_from is not None and valid_to is not None and valid_to < valid_from:
        raise ValidationError({"valid_to": _("The validity must end on or after the day it starts.")})


def check_services(services: Iterable[Service], already: Iterable[int] = ()) -> None:
    """Raise ``ValidationError`` on ``services`` when one not ``already`` covered is retired
    (read from the database: the status of the objects passed in may be stale)."""
    new = {s.pk for s in services} - set(already)
    retired = Service.objects.filter(pk__in=new, status=ServiceStatus.RETIRED).order_by("code")
    messages = [
        _("%(service)s is retired: a retired service cannot be added to an agreement.") % {"service": service}
        for service in retired
    ]
    if messages:
        raise ValidationError({"services": messages})


def _number_year(moment: datetime | None = None) -> int:
    return timezone.localtime(moment or timezone.now()).year


def _next_number(kind: str, year: int) -> str:
    """The kind's next number in ``year``: the highest taken plus one, read with the kind's
    rows of the year locked (the caller inserts it in the same transaction)."""
    prefix = f"{NUMBER_PREFIX[AgreementKind(kind)]}-{year}-"
    taken = Agreement.objects.select_for_update().filter(number__startswith=prefix).values_list("number", flat=True)
    highest = max((int(n[len(prefix) :]) for n in taken if n[len(prefix) :].isdigit()), default=0)
    return f"{prefix}{highest + 1:03d}"


def _version_row(agreement: Agreement, *, actor: User | None, reason: str = "", rfc_ref: str = "") -> None:
    """Freeze the agreement's current content as its current version, unless already frozen."""
    if agreement.versions.filter(version=agreement.version).exists():
        return
    AgreementVersion.objects.create(
        agreement=agreement,
        version=agreement.version,
        content=agreement_content(agreement),
        reason=reason,
        rfc_ref=rfc_ref,
        created_by=actor,
    )


# --- create and edit --------------------------------------------------------------------------


def agreement_create(
    *,
    actor: User,
    kind: str,
    title: str,
    counterparty: Organisation,
    services: Iterable[Service] = (),
    valid_from: date | None = None,
    valid_to: date | None = None,
    owner: User | None = None,
    **sections: str,
) -> Agreement:
    """Draft a new agreement of ``kind`` with ``counterparty`` covering ``services``.

    ``sections`` are the content sections by name (``SECTION_NAMES``, Markdown). The owner
    defaults to ``actor``. The number is taken under a lock, gap-free per kind and year.
    Raises ``PermissionDenied`` without the add permission; ``ValidationError`` per field for
    an unknown kind, a counterparty of the wrong kind (or inactive), a retired service, a
    validity ending before it starts, a missing title.
    """
    if not can(actor, "add", Agreement):
        raise PermissionDenied
    sections = _check_fields(sections, SECTION_NAMES)
    services = list(services)
    agreement = Agreement(
        kind=kind,
        title=_strip(title),
        counterparty=counterparty,
        valid_from=valid_from,
        valid_to=valid_to,
        owner=owner or actor,
        number="pending",  # taken under the lock below
        **sections,
    )
    _check_validity(valid_from, valid_to)
    agreement.full_clean(exclude=["number"])
    check_counterparty(kind, counterparty)
    check_services(services)
    year = _number_year()
    for attempt in range(_NUMBER_ATTEMPTS):
        try:
            with set_actor(actor), transaction.atomic():
                agreement.number = _next_number(kind, year)
                agreement.save(force_insert=True)
                agreement.services.set(services)
                _event(
                    agreement,
                    action="created",
                    actor=actor,
                    to_status=agreement.status,
                    data={"services": [s.pk for s in services]},
                )
        except IntegrityError:
            agreement.pk = None
            agreement._state.adding = True
            if attempt == _NUMBER_ATTEMPTS - 1:
                raise
            continue
        return agreement
    raise AssertionError("unreachable")  # pragma: no cover


def agreement_update(
    *, agreement: Agreement, actor: User, services: Iterable[Service] | None = None, **fields: Any
) -> Agreement:
    """Edit a draft or negotiating agreement (``AGREEMENT_FIELDS``, ``services``).

    An active agreement changes only through ``agreement_new_version``; only its owner
    (internal bookkeeping) changes here. An expired or terminated one no longer changes.
    Raises ``PermissionDenied`` or ``ValidationError`` (nothing written).
    """
    if not can(actor, "change", Agreement):
        raise PermissionDenied
    fields = _check_fields(fields, AGREEMENT_FIELDS)
    with set_actor(actor), transaction.atomic():
        locked = Agreement.objects.select_for_update().select_related("counterparty").get(pk=agreement.pk)
        content_change = bool(set(fields) - set(INTERNAL_FIELDS)) or services is not None
        if locked.status in ENDED_STATUSES:
            raise ValidationError(
                _("The agreement is %(status)s: it no longer changes.") % {"status": locked.get_status_display()}
            )
        if locked.status not in EDITABLE_STATUSES and content_change:
            raise ValidationError(
                _(
                    "The agreement is active: it changes only through a new version, with the reason and the "
                    "RFC reference."
                )
            )
        changed = [name for name, value in fields.items() if getattr(locked, name) != value]
        for name in changed:
            setattr(locked, name, fields[name])
        _check_validity(locked.valid_from, locked.valid_to)
        locked.full_clean()
        if "counterparty" in changed:
            check_counterparty(locked.kind, locked.counterparty)
        services_data: dict[str, list[int]] = {}
        if services is not None:
            services = list(services)
            current = set(locked.services.values_list("pk", flat=True))
            check_services(services, already=current)
            wanted = {s.pk for s in services}
            if wanted != current:
                locked.services.set(services)
                services_data = {"added": sorted(wanted - current), "removed": sorted(current - wanted)}
        if changed:
            locked.save()
        if changed or services_data:
            _event(locked, action="edited", actor=actor, data={"fields": changed, "services": services_data})
    return locked


def agreement_upload_document(
    *, agreement: Agreement, actor: User, upload: Any, signed_on: date | None = None
) -> Agreement:
    """Store the signed agreement (a PDF, image or Word document; ``itsm.core.uploads``
    checks type, content and size) on a draft or negotiating agreement, with the signing date.

    The file is named after the agreement and version; an active agreement's document is
    replaced only with a new version. Raises ``PermissionDenied`` or ``ValidationError`` on
    ``file`` / ``signed_on``.
    """
    if not can(actor, "change", Agreement):
        raise PermissionDenied
    _check_document(upload)
    if signed_on is not None and signed_on > timezone.localdate():
        raise ValidationError({"signed_on": _("The signing date cannot be in the future.")})
    with set_actor(actor), transaction.atomic():
        locked = Agreement.objects.select_for_update().get(pk=agreement.pk)
        if locked.status not in EDITABLE_STATUSES:
            raise ValidationError(
                {
                    "file": _("The agreement is %(status)s: its signed document is replaced only with a new version.")
                    % {"status": locked.get_status_display()}
                }
            )
        _store_document(locked, upload, signed_on)
        locked.save()
        _event(
            locked,
            action="document_uploaded",
            actor=actor,
            data={"file": locked.signed_document.name, "signed_on": signed_on.isoformat() if signed_on else None},
        )
    return locked


def _check_document(upload: Any) -> None:
    validate_upload(upload)
    if PurePath(upload.name or "").suffix.lower() not in SIGNED_DOCUMENT_TYPES:
        raise ValidationError(
            {
                "file": _("A signed agreement is a PDF, an image or a Word document (%(types)s).")
                % {"types": ", ".join(SIGNED_DOCUMENT_TYPES)}
            }
        )


def _store_document(agreement: Agreement, upload: Any, signed_on: date | None) -> None:
    extension = PurePath(upload.name).suffix.lower()
    agreement.signed_document.save(f"{agreement.number}-v{agreement.version}{extension}", upload, save=False)
    if signed_on is not None:
        agreement.signed_on = signed_on


# --- the workflow -----------------------------------------------------------------------------


def agreement_allowed_actions(agreement: Agreement, user: Any) -> list[Transition]:
    """The moves ``user`` may make on ``agreement`` now (state, role, permission; ``expire``
    once the validity has ended)."""
    return allowed(AGREEMENT_MACHINE, agreement, user)


def _offered(transition: Transition, agreement: Agreement, user: Any) -> bool:
    """``expire`` is offered only once the validity has ended (before, it would be a termination)."""
    if transition.action != "expire":
        return True
    return agreement.valid_to is not None and agreement.valid_to < timezone.localdate()


def _activation_problems(agreement: Agreement, today: date) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not agreement.signed_document:
        problems["signed_document"] = _("Upload the signed agreement first.")
    if not agreement.targets.exists():
        problems["targets"] = _("Add at least one service level target first.")
    if agreement.valid_from is None:
        problems["valid_from"] = _("Give the date the agreement is valid from.")
    if agreement.valid_to is None:
        problems["valid_to"] = _("Give the date the agreement is valid to.")
    elif agreement.valid_to < today:
        problems["valid_to"] = _("The validity ended on %(date)s: the agreement cannot come into force.") % {
            "date": agreement.valid_to.isoformat()
        }
    return problems


def _one_year_after(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def agreement_transition(
    *, agreement: Agreement, action: str, actor: User | None, note: str = "", actor_label: str = ""
) -> Agreement:
    """Move ``agreement`` by ``action`` (``AGREEMENT_TRANSITIONS`` decides whether it may).

    * ``activate``: needs the signed document, at least one target, ``valid_from`` and a
      ``valid_to`` not past; sets ``activated_at``, ``next_review_on`` (a year on, unless
      set) and freezes the content as version 1 (the current version);
    * ``expire``: the system's (``actor=None``, the periodic check) or the manager's, once
      ``valid_to`` has passed; ``terminate`` (note required): ends early. Both set ``ended_at``;
    * ``return_to_draft`` needs a note.

    Raises ``TransitionRefused`` (a ``ValidationError``) for an unknown action or one not
    allowed from the status, ``PermissionDenied`` for a role (or the system) the table does
    not name, ``ValidationError`` per field for a missing input or condition.
    """
    return perform(AGREEMENT_MACHINE, agreement, action, actor=actor, note=note, actor_label=actor_label)


def _activate(move: Move) -> dict:
    agreement, today = move.record, timezone.localdate(move.now)
    problems = _activation_problems(agreement, today)
    if problems:
        raise ValidationError(problems)
    agreement.activated_at = move.now
    if agreement.next_review_on is None:
        agreement.next_review_on = _one_year_after(today)
    return {"version": agreement.version, "next_review_on": agreement.next_review_on.isoformat()}


def _expire(move: Move) -> dict:
    agreement = move.record
    if agreement.valid_to is None or agreement.valid_to >= timezone.localdate(move.now):
        raise ValidationError(
            {
                "action": _("The agreement is valid until %(date)s; to end it earlier, terminate it.")
                % {"date": agreement.valid_to.isoformat() if agreement.valid_to else "—"}
            }
        )
    agreement.ended_at = move.now
    return {}


def _terminate(move: Move) -> dict:
    move.record.ended_at = move.now
    return {}


def _after_agreement_move(move: Move, event: AgreementEvent) -> None:
    if move.action == "activate":
        _version_row(move.record, actor=move.actor, reason=move.note)


AGREEMENT_MACHINE = Machine(
    model=Agreement,
    table=AGREEMENT_TRANSITIONS,
    refused=gettext_lazy("“%(action)s” is not possible while the agreement is %(status)s."),
    moved=gettext_lazy("%(action)s: the agreement is now “%(status)s”."),
    event_labels={
        "created": gettext_lazy("Drafted"),
        "edited": gettext_lazy("Edited"),
        "document_uploaded": gettext_lazy("Signed document stored"),
        "new_version": gettext_lazy("New version"),
        "target_added": gettext_lazy("Target added"),
        "target_changed": gettext_lazy("Target changed"),
        "target_removed": gettext_lazy("Target removed"),
        "standard_targets": gettext_lazy("Standard targets added"),
        "underpinning_linked": gettext_lazy("Underpinning target linked"),
        "underpinning_unlinked": gettext_lazy("Underpinning target unlinked"),
    },
    event_model=AgreementEvent,
    effects={"activate": _activate, "expire": _expire, "terminate": _terminate},
    after=_after_agreement_move,
    offered=_offered,
    permission="change",
    select_related=("counterparty",),
)


def agreements_expire_due(*, today: date | None = None) -> int:
    """Expire every active agreement whose ``valid_to`` is before ``today`` (the periodic
    check; safe to run twice: an expired agreement is skipped). Returns how many expired."""
    today = today or timezone.localdate()
    due = Agreement.objects.filter(status=AgreementStatus.ACTIVE, valid_to__lt=today).values_list("pk", flat=True)
    expired = 0
    for pk in list(due):
        try:
            agreement_transition(agreement=Agreement(pk=pk), action="expire", actor=None)
        except ValidationError:  # moved meanwhile (terminated, or renewed by a new version)
            continue
        expired += 1
    return expired


# --- versions ---------------------------------------------------------------------------------


def agreement_new_version(
    *,
    agreement: Agreement,
    actor: User,
    reason: str,
    rfc_ref: str,
    changes: dict[str, Any] | None = None,
    services: Iterable[Service] | None = None,
    targets: list[dict[str, Any]] | None = None,
    document: Any = None,
    signed_on: date | None = None,
) -> Agreement:
    """Change an active agreement: a new version with ``reason`` and ``rfc_ref`` (required).

    ``changes``: new values of ``VERSION_FIELDS``; ``services``: the full new list (None:
    unchanged); ``targets``: the full new list of targets, each a dict of the target fields
    with ``id`` for one kept (None: unchanged; see ``targets_sync``); ``document``: a new
    signed document (with ``signed_on``).

    The current content is frozen as version N first (if activation did not already), the
    change applied, ``version`` set to N+1 and the new content frozen as version N+1 with the
    reason and RFC; the status stays active. Raises ``PermissionDenied``; ``ValidationError``
    per field (``reason``, ``rfc_ref``, a retired service added, ``targets`` with every target
    problem, ``file``) or when nothing would change — nothing is written then.
    """
    if not can(actor, "change", Agreement):
        raise PermissionDenied
    if targets is not None and not all(can(actor, verb, ServiceLevelTarget) for verb in ("add", "change", "delete")):
        raise PermissionDenied
    changes = _check_fields(changes or {}, VERSION_FIELDS)
    reason, rfc_ref = reason.strip(), rfc_ref.strip()
    errors = {}
    if not reason:
        errors["reason"] = _("Say why the agreement changes.")
    if not rfc_ref:
        errors["rfc_ref"] = _("Give the reference of the RFC that approved the change.")
    if errors:
        raise ValidationError(errors)
    if document is not None:
        _check_document(document)
    with set_actor(actor), transaction.atomic():
        locked = Agreement.objects.select_for_update().select_related("counterparty").get(pk=agreement.pk)
        if locked.status != AgreementStatus.ACTIVE:
            if locked.status in EDITABLE_STATUSES:
                raise ValidationError(
                    _("The agreement is not in force yet: edit it directly; versions start once it is active.")
                )
            raise ValidationError(
                _("The agreement is %(status)s: it no longer changes.") % {"status": locked.get_status_display()}
            )
        _version_row(locked, actor=actor)
        changed = [name for name, value in changes.items() if getattr(locked, name) != value]
        for name in changed:
            setattr(locked, name, changes[name])
        _check_validity(locked.valid_from, locked.valid_to)
        locked.full_clean()
        services_data: dict[str, list[int]] = {}
        if services is not None:
            services = list(services)
            current = set(locked.services.values_list("pk", flat=True))
            check_services(services, already=current)
            wanted = {s.pk for s in services}
            if wanted != current:
                locked.services.set(services)
                services_data = {"added": sorted(wanted - current), "removed": sorted(current - wanted)}
        target_changes = targets_sync(locked, targets) if targets is not None else TargetChanges()
        if not (changed or services_data or target_changes or document is not None):
            raise ValidationError(_("Nothing changed: a new version needs a change to the agreement."))
        previous = locked.version
        locked.version = previous + 1
        if document is not None:
            _store_document(locked, document, signed_on)
            changed.append("signed_document")
        locked.save()
        AgreementVersion.objects.create(
            agreement=locked,
            version=locked.version,
            content=agreement_content(locked),
            reason=reason,
            rfc_ref=rfc_ref,
            created_by=actor,
        )
        _event(
            locked,
            action="new_version",
            actor=actor,
            note=reason,
            data={
                "version": locked.version,
                "previous": previous,
                "rfc_ref": rfc_ref,
                "fields": changed,
                "services": services_data,
                "targets": target_changes.as_data(),
            },
        )
    return locked
