"""The state machines of the service catalogue and the agreements (SPEC §5), as tables.

Services::

    proposed --accept--> accepted --retire--> retired

Agreements::

    draft --negotiate--> negotiating --activate--> active
    negotiating --return_to_draft--> draft
    active --expire--> expired           (the periodic check, once valid_to has passed)
    active --terminate--> terminated     (ended early; the reason is required)

Each ``Transition`` says which states it leaves from, the state it enters, which roles may
perform it, what it requires and whether the system (a periodic check) may perform it. The
machines ``sla.services.catalogue.SERVICE_MACHINE`` and ``sla.services.agreements.
AGREEMENT_MACHINE`` run these tables on the workflow kit (``itsm.core.workflow.perform``), the
only code that moves a status. Conditions beyond inputs (an active agreement needs a signed
document and at least one target) are the machine's effects and named here in ``description``.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from itsm.core.roles import Role
from itsm.core.workflow import Transition, as_mermaid  # noqa: F401  (as_mermaid draws these tables)

from .choices import AgreementStatus, ServiceStatus

SLM = frozenset({Role.SERVICE_LEVEL_MANAGER.value})


S = ServiceStatus
SERVICE_TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in [
        Transition(
            "accept",
            _("Accept into the catalogue"),
            frozenset({S.PROPOSED}),
            S.ACCEPTED,
            SLM,
            requires=("rfc_ref",),
            accepts=("rfc_ref",),
            description=_("The service is agreed and offered. Give the RFC that approved it."),
            button="success",
        ),
        Transition(
            "retire",
            _("Retire"),
            frozenset({S.ACCEPTED}),
            S.RETIRED,
            SLM,
            requires=("rfc_ref", "note"),
            accepts=("rfc_ref",),
            description=_("The service is withdrawn; no new agreement may cover it. Give the RFC and the reason."),
            button="outline-danger",
        ),
    ]
}

A = AgreementStatus
AGREEMENT_TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in [
        Transition(
            "negotiate",
            _("Start negotiating"),
            frozenset({A.DRAFT}),
            A.NEGOTIATING,
            SLM,
            description=_("The draft goes to the counterparty for negotiation."),
        ),
        Transition(
            "return_to_draft",
            _("Back to draft"),
            frozenset({A.NEGOTIATING}),
            A.DRAFT,
            SLM,
            requires=("note",),
            description=_("The negotiation needs a reworked draft. Say why."),
            button="warning",
        ),
        Transition(
            "activate",
            _("Activate"),
            frozenset({A.NEGOTIATING}),
            A.ACTIVE,
            SLM,
            description=_(
                "Signed: the agreement is in force. Needs the signed document, at least one target "
                "and a validity period."
            ),
            button="success",
        ),
        Transition(
            "expire",
            _("Expire"),
            frozenset({A.ACTIVE}),
            A.EXPIRED,
            SLM,
            description=_("The validity has ended (done by the system the day after the end date)."),
            button="dark",
            system=True,
        ),
        Transition(
            "terminate",
            _("Terminate"),
            frozenset({A.ACTIVE}),
            A.TERMINATED,
            SLM,
            requires=("note",),
            description=_("The agreement ends before its end date. Give the reason."),
            button="outline-danger",
        ),
    ]
}
