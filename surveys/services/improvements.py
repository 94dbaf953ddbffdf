"""Every write of improvement items proposed from survey results.

An improvement item is proposed from a campaign's results — once the campaign is closed, so
in ``closed``, ``published`` or ``analysed`` — optionally from one of its questions, with a
priority; it then moves through proposed → accepted → part of an improvement plan → done (or
rejected). Each service checks the actor's model permission (``PermissionDenied``), validates
before it writes (``ValidationError``; nothing is written) and saves in one transaction under
``set_actor`` so the audit trail names who did it.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from itsm.core.audit import set_actor
from itsm.core.models import User
from itsm.core.permissions import can

from ..choices import CampaignStatus, ImprovementStatus
from ..models import Campaign, ImprovementItem, Question

# Results are final from the close on; improvements are proposed from final results.
IMPROVEMENT_STATUSES = frozenset({CampaignStatus.CLOSED, CampaignStatus.PUBLISHED, CampaignStatus.ANALYSED})

_UNCHANGED: Any = object()


def campaign_accepts_improvements(campaign: Campaign) -> bool:
    return campaign.status in IMPROVEMENT_STATUSES


def _require(actor: User, verb: str) -> None:
    if not can(actor, verb, ImprovementItem):
        raise PermissionDenied(_("Your role may not propose or change improvement items."))


def _check_campaign(campaign_id: int) -> Campaign:
    """The campaign, locked for the transaction, refusing one whose results are not final."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
    if not campaign_accepts_improvements(campaign):
        raise ValidationError(
            _("Improvement items can be proposed once the campaign is closed (it is %(status)s).")
            % {"status": campaign.get_status_display()}
        )
    return campaign


def _check_plan(item: ImprovementItem) -> None:
    if item.status == ImprovementStatus.IN_PLAN and not item.plan_ref.strip():
        raise ValidationError({"plan_ref": _("Name the improvement plan the item is part of.")})


def improvement_item_create(
    *,
    campaign: Campaign,
    title: str,
    description: str = "",
    priority: str,
    question: Question | None = None,
    owner: User | None = None,
    actor: User,
) -> ImprovementItem:
    """Propose an improvement from ``campaign``'s results (optionally from one ``question``).

    Raises ``PermissionDenied`` without ``surveys.add_improvementitem``; ``ValidationError``
    when the campaign is not closed, published or analysed, when the question is not one of
    the campaign's questionnaire, or for a blank title or unknown priority.
    """
    _require(actor, "add")
    item = ImprovementItem(
        campaign=campaign,
        question=question,
        title=title,
        description=description,
        priority=priority,
        owner=owner,
        created_by=actor,
    )
    with transaction.atomic(), set_actor(actor):
        item.campaign = _check_campaign(campaign.pk)
        item.full_clean()
        item.save()
    return item


def improvement_item_update(
    *,
    item: ImprovementItem,
    actor: User,
    title: str | None = None,
    description: str | None = None,
    priority: str | None = None,
    status: str | None = None,
    plan_ref: str | None = None,
    owner: User | None = _UNCHANGED,
    question: Question | None = _UNCHANGED,
) -> ImprovementItem:
    """Change an item: text, priority, status, plan reference, owner, source question.

    ``None`` leaves a text, priority or status unchanged; ``owner`` and ``question`` are left
    alone unless given (``None`` given clears them). An item "part of an improvement plan"
    needs the plan's reference. Raises ``PermissionDenied`` without
    ``surveys.change_improvementitem``; ``ValidationError`` as ``improvement_item_create`` does.
    """
    _require(actor, "change")
    with transaction.atomic(), set_actor(actor):
        item = ImprovementItem.objects.select_for_update().get(pk=item.pk)
        item.campaign = _check_campaign(item.campaign_id)
        for name, value in (
            ("title", title),
            ("description", description),
            ("priority", priority),
            ("status", status),
            ("plan_ref", plan_ref),
        ):
            if value is not None:
                setattr(item, name, value)
        if owner is not _UNCHANGED:
            item.owner = owner
        if question is not _UNCHANGED:
            item.question = question
        item.full_clean()
        _check_plan(item)
        item.save()
    return item
