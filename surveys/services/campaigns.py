"""Survey campaigns: plan, audience, and the one service that moves their state.

``campaign_create`` / ``campaign_update`` write the plan while it is a draft;
``campaign_audience`` works out who would be invited and who is left out and why (the page
shows it before launch, and launch invites exactly that); ``campaign_transition`` moves the
state by the table in ``surveys/workflow.py`` — it locks the row, checks the move and the
actor's role, applies the step's effects (questionnaire frozen, invitations created, results
mailed …), writes a ``CampaignEvent`` and queues mail on commit. ``campaigns_close_due`` closes
running campaigns whose date has passed (periodic check).
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from itsm.core.audit import set_actor
from itsm.core.choices import OrganisationKind
from itsm.core.models import Contact, Department, Organisation, User
from itsm.core.notifications import Recipient, notification_queue
from itsm.core.roles import Role
from itsm.core.workflow import Machine, Move, TransitionRefused, allowed, perform

from ..choices import PLAN_EDITABLE_STATUSES, AudienceMode, CampaignStatus
from ..models import Campaign, CampaignDepartmentRatio, CampaignEvent, Invitation
from ..workflow import TRANSITIONS, Transition

SYSTEM = "system"

# The plan fields a draft campaign's form may write (besides the many-to-many ones).
PLAN_FIELDS = (
    "kind",
    "title",
    "domain",
    "objective",
    "scope",
    "audience_description",
    "resources",
    "method",
    "schedule",
    "questionnaire",
    "owner",
    "audience_mode",
    "sample_percent",
    "repeat_interval_days",
    "reminder_days",
    "closes_at",
)


# --- plan -------------------------------------------------------------------------------------


def _set_relations(
    campaign: Campaign,
    organisations: list[Organisation] | None,
    ratios: dict[int, int] | None,
    stakeholders: list[User] | None,
) -> None:
    if organisations is not None:
        campaign.organisations.set(organisations)
    if ratios is not None:
        campaign.department_ratios.all().delete()
        departments = Department.objects.in_bulk(list(ratios))
        rows = []
        for department_id, percent in sorted(ratios.items()):
            department = departments.get(department_id)
            if department is None:
                raise ValidationError({"department_ratios": _("Unknown department.")})
            row = CampaignDepartmentRatio(campaign=campaign, department=department, percent=percent)
            row.full_clean(exclude=["campaign"])
            rows.append(row)
        CampaignDepartmentRatio.objects.bulk_create(rows)
    if stakeholders is not None:
        campaign.stakeholders.set(stakeholders)


def _check_plan(campaign: Campaign, now: datetime) -> None:
    errors: dict[str, str] = {}
    if campaign.closes_at and campaign.closes_at <= now:
        errors["closes_at"] = _("The close date must be in the future.")
    if errors:
        raise ValidationError(errors)


def campaign_create(
    *,
    actor: User,
    organisations: list[Organisation] | None = None,
    ratios: dict[int, int] | None = None,
    stakeholders: list[User] | None = None,
    **fields: Any,
) -> Campaign:
    """Create a draft campaign from plan ``fields`` (see ``PLAN_FIELDS``); the owner defaults
    to ``actor``. Raises ``ValidationError`` per field (unknown field, close date past, …)."""
    unknown = set(fields) - set(PLAN_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be set here.") for name in sorted(unknown)})
    fields.setdefault("owner", actor)
    with transaction.atomic(), set_actor(actor):
        campaign = Campaign(**fields)
        campaign.full_clean()
        _check_plan(campaign, timezone.now())
        campaign.save()
        _set_relations(campaign, organisations, ratios, stakeholders)
    return campaign


def campaign_update(
    *,
    campaign: Campaign,
    actor: User,
    organisations: list[Organisation] | None = None,
    ratios: dict[int, int] | None = None,
    stakeholders: list[User] | None = None,
    **fields: Any,
) -> Campaign:
    """Change a campaign's plan. The plan (everything but the stakeholders) may change only
    while the campaign is a draft; stakeholders may change until the results are published;
    a running campaign's close date moves with ``campaign_set_close``. Raises
    ``ValidationError``."""
    unknown = set(fields) - set(PLAN_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be set here.") for name in sorted(unknown)})
    with transaction.atomic(), set_actor(actor):
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        plan_change = bool(fields) or organisations is not None or ratios is not None
        if plan_change and locked.status not in PLAN_EDITABLE_STATUSES:
            raise ValidationError(
                _("The plan can only be changed while the campaign is a draft (it is %(status)s now).")
                % {"status": locked.get_status_display()}
            )
        if stakeholders is not None and locked.status in (CampaignStatus.PUBLISHED, CampaignStatus.ANALYSED):
            raise ValidationError({"stakeholders": _("The results have been published already.")})
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.full_clean()
        if "closes_at" in fields:
            _check_plan(locked, timezone.now())
        locked.save()
        _set_relations(locked, organisations, ratios, stakeholders)
    return locked


def campaign_set_close(*, campaign: Campaign, closes_at: datetime, actor: User) -> Campaign:
    """Move the close date of a campaign that is not closed yet. For a running campaign the
    open survey links are extended (or shortened) to the new date. Raises ``ValidationError``
    for a date not in the future or a campaign already closed."""
    from itsm.core.tokens import token_extend

    from .invitations import SURVEY_PURPOSE

    with transaction.atomic(), set_actor(actor):
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.closed_at is not None or locked.status not in (
            CampaignStatus.DRAFT,
            CampaignStatus.IN_REVIEW,
            CampaignStatus.APPROVED,
            CampaignStatus.RUNNING,
        ):
            raise ValidationError({"closes_at": _("The campaign is closed already.")})
        if closes_at <= timezone.now():
            raise ValidationError({"closes_at": _("The close date must be in the future.")})
        previous = locked.closes_at
        locked.closes_at = closes_at
        locked.save(update_fields=["closes_at", "updated_at"])
        if locked.status == CampaignStatus.RUNNING:
            token_extend(target=locked.invitations.all(), purpose=SURVEY_PURPOSE, expires_at=closes_at)
        _event(
            locked,
            action="set_close",
            actor=actor,
            data={"from": previous.isoformat(), "to": closes_at.isoformat()},
        )
    return locked


def campaign_delete(*, campaign: Campaign, actor: User) -> None:
    """Delete a draft that was never submitted. Raises ``ValidationError`` otherwise."""
    with transaction.atomic(), set_actor(actor):
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.status != CampaignStatus.DRAFT or locked.events.exists():
            raise ValidationError(_("Only a draft that was never submitted can be deleted."))
        locked.delete()


# --- audience ---------------------------------------------------------------------------------


@dataclass
class DepartmentCoverage:
    organisation: str
    department: str
    contacts: int = 0
    eligible: int = 0
    percent: int = 100
    invited: int = 0

    @property
    def coverage(self) -> int:
        """Invited as a share of all the department's contacts, in %."""
        return round(100 * self.invited / self.contacts) if self.contacts else 0


@dataclass
class Audience:
    """Who a campaign invites, and who is left out and why. ``contact_ids`` are the chosen."""

    contacts: int = 0
    no_email: int = 0
    unsubscribed: int = 0
    recently_answered: int = 0
    eligible: int = 0
    contact_ids: list[int] = field(default_factory=list)
    departments: list[DepartmentCoverage] = field(default_factory=list)

    @property
    def invited(self) -> int:
        return len(self.contact_ids)

    @property
    def not_sampled(self) -> int:
        return self.eligible - self.invited

    @property
    def coverage(self) -> int:
        return round(100 * self.invited / self.contacts) if self.contacts else 0


def _audience_organisations(campaign: Campaign):
    customers = Organisation.objects.filter(kind=OrganisationKind.CUSTOMER)
    if campaign.audience_mode == AudienceMode.KEY_CUSTOMERS:
        return customers.filter(is_key_customer=True)
    return customers.filter(pk__in=campaign.organisations.values("pk"))


def campaign_audience(campaign: Campaign, now: datetime | None = None) -> Audience:
    """Work out the campaign's audience now (the same answer the launch will act on).

    Active contacts of the chosen organisations (all of them, or of every key customer),
    minus those without an email address, those who unsubscribed and those who answered any
    survey within ``repeat_interval_days``; in sample mode a share of each department's
    eligible contacts (its own share, or the campaign's), drawn at random but reproducibly
    (seeded by the campaign), at least one where the share is above zero.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=campaign.repeat_interval_days)
    recent = Invitation.objects.filter(contact=OuterRef("pk"), answered_at__gte=cutoff)
    rows = (
        Contact.objects.filter(is_active=True, organisation__in=_audience_organisations(campaign))
        .annotate(recent=Exists(recent))
        .order_by("organisation__name", "department__name", "pk")
        .values_list("pk", "organisation__name", "department_id", "department__name", "email", "unsubscribed", "recent")
    )
    ratios = dict(campaign.department_ratios.values_list("department_id", "percent"))
    sample = campaign.audience_mode == AudienceMode.SAMPLE
    audience = Audience()
    groups: dict[tuple[str, int | None], list[int]] = defaultdict(list)
    coverage: dict[tuple[str, int | None], DepartmentCoverage] = {}
    key: tuple[str, int | None]
    for pk, organisation, department_id, department, email, unsubscribed, answered_recently in rows:
        key = (organisation, department_id)
        row = coverage.get(key)
        if row is None:
            percent = ratios.get(department_id, campaign.sample_percent) if sample else 100
            row = coverage[key] = DepartmentCoverage(organisation, department or _("(no department)"), percent=percent)
        row.contacts += 1
        audience.contacts += 1
        if not email:
            audience.no_email += 1
        elif unsubscribed:
            audience.unsubscribed += 1
        elif answered_recently:
            audience.recently_answered += 1
        else:
            row.eligible += 1
            audience.eligible += 1
            groups[key].append(pk)
    chooser = random.Random(campaign.pk or 0)  # noqa: S311  (a sample, not a secret)
    for key, row in coverage.items():
        ids = groups.get(key, [])
        if not ids or row.percent == 0:
            continue
        wanted = max(1, math.ceil(len(ids) * row.percent / 100))
        chosen = ids if wanted >= len(ids) else sorted(chooser.sample(ids, wanted))
        row.invited = len(chosen)
        audience.contact_ids.extend(chosen)
    audience.departments = list(coverage.values())
    return audience


# --- the workflow -----------------------------------------------------------------------------


def _event(
    campaign: Campaign,
    *,
    action: str,
    actor: User | None,
    from_status: str = "",
    to_status: str = "",
    note: str = "",
    data: dict | None = None,
) -> CampaignEvent:
    return CampaignEvent.objects.create(
        campaign=campaign,
        action=action,
        actor=actor,
        actor_label="" if actor is not None else SYSTEM,
        from_status=from_status,
        to_status=to_status,
        note=note,
        data=data or {},
    )


def _mail(campaign: Campaign, *, key: str, template: str, person: User, **context: Any) -> None:
    if not person.email:
        return
    recipient = Recipient.of(person)
    payload = {"campaign": campaign, "url": f"{settings.SITE_URL}{campaign.get_absolute_url()}", **context}
    transaction.on_commit(
        lambda: notification_queue(
            key=f"campaign:{campaign.pk}:{key}:{person.pk}",
            template=f"surveys/email/{template}",
            recipient=recipient,
            context=payload,
        )
    )


def _role_members(role: str) -> list[User]:
    group = Group.objects.filter(name=role).first()
    if group is None:
        return []
    return list(group.user_set.filter(is_active=True).order_by("pk"))


def campaign_allowed_actions(campaign: Campaign, user: User) -> list[Transition]:
    """The moves ``user`` may make on ``campaign`` now (what the page offers as buttons)."""
    return allowed(CAMPAIGN_MACHINE, campaign, user)


def campaign_transition(
    *, campaign: Campaign, action: str, actor: User | None, note: str = "", **inputs: Any
) -> Campaign:
    """Move ``campaign`` by ``action`` (the workflow table decides whether it may).

    Raises ``TransitionRefused`` (a ValidationError) when the table has no such move from
    the current state, ``PermissionDenied`` when the actor's roles may not perform it (or the
    system performs a step the table reserves for people), and ``ValidationError`` per field
    when a required input is missing or the step's own conditions fail (a questionnaire not
    ready, an empty audience, a close date passed, no stakeholders to publish to).
    """
    return perform(CAMPAIGN_MACHINE, campaign, action, actor=actor, note=note, inputs=inputs)


def _submit(move: Move) -> dict:
    campaign, now, note = move.record, move.now, move.note
    from .questionnaires import questionnaire_check_ready, questionnaire_lock

    errors: dict[str, list[str]] = {}
    problems = questionnaire_check_ready(campaign.questionnaire)
    if problems:
        errors["questionnaire"] = problems
    if campaign.closes_at <= now:
        errors["closes_at"] = [_("The close date must be in the future.")]
    audience = campaign_audience(campaign, now)
    if not audience.invited:
        errors["audience_mode"] = [_("Nobody would be invited: choose organisations with eligible contacts.")]
    if errors:
        raise ValidationError(errors)
    questionnaire_lock(questionnaire=campaign.questionnaire)
    campaign.submitted_at = now
    for reviewer in _role_members(Role.BR_MANAGER):
        _mail(campaign, key=f"review:{now.timestamp():.0f}", template="campaign_review", person=reviewer, note=note)
    return {"audience": audience.invited, "questionnaire": campaign.questionnaire_id}


def _approve(move: Move) -> dict:
    campaign, actor, now, note = move.record, move.actor, move.now, move.note
    campaign.approved_by = actor
    campaign.approved_at = now
    _mail(campaign, key="approved", template="campaign_approved", person=campaign.owner, note=note)
    return {}


def _return(move: Move) -> dict:
    campaign, now, note = move.record, move.now, move.note
    campaign.submitted_at = None
    _mail(
        campaign,
        key=f"returned:{now.timestamp():.0f}",
        template="campaign_returned",
        person=campaign.owner,
        note=note,
    )
    return {}


def _launch(move: Move) -> dict:
    campaign, now = move.record, move.now
    from .invitations import invitations_create

    if campaign.closes_at <= now:
        raise ValidationError({"closes_at": _("The close date has passed: move it before launching.")})
    audience = campaign_audience(campaign, now)
    if not audience.invited:
        raise ValidationError({"audience_mode": _("Nobody is left to invite.")})
    campaign.launched_at = now
    created, invalid = invitations_create(campaign=campaign, contact_ids=audience.contact_ids)
    return {
        "invited": created,
        "invalid_addresses": invalid,
        "no_email": audience.no_email,
        "unsubscribed": audience.unsubscribed,
        "recently_answered": audience.recently_answered,
        "not_sampled": audience.not_sampled,
    }


def _close(move: Move) -> dict:
    campaign, now = move.record, move.now
    campaign.closed_at = now
    counts = dict(campaign.invitations.values_list("status").order_by().annotate(n=Count("pk")))
    return {"by_status": counts}


def _publish(move: Move) -> dict:
    campaign, now = move.record, move.now
    from ..results import campaign_summary

    stakeholders = list(campaign.stakeholders.filter(is_active=True).order_by("pk"))
    if not stakeholders:
        raise ValidationError({"stakeholders": _("Choose at least one stakeholder to publish the results to.")})
    campaign.published_at = now
    summary = campaign_summary(campaign)
    url = settings.SITE_URL + reverse("campaign_results", args=[campaign.pk])
    for person in stakeholders:
        _mail(campaign, key="published", template="results_published", person=person, summary=summary, url=url)
    return {"stakeholders": [person.pk for person in stakeholders]}


def _analyse(move: Move) -> dict:
    campaign, now = move.record, move.now
    campaign.analysed_at = now
    return {}


_EFFECTS = {
    "submit": _submit,
    "approve": _approve,
    "return": _return,
    "launch": _launch,
    "close": _close,
    "publish": _publish,
    "analyse": _analyse,
}


CAMPAIGN_MACHINE = Machine(
    model=Campaign,
    table=TRANSITIONS,
    refused=gettext_lazy("“%(action)s” is not possible while the campaign is %(status)s."),
    moved=gettext_lazy("%(action)s: the campaign is now “%(status)s”."),
    event_labels={"set_close": gettext_lazy("Close date moved")},
    event_model=CampaignEvent,
    effects=_EFFECTS,
    select_related=("questionnaire", "owner"),
)


def campaigns_close_due(now: datetime | None = None) -> int:
    """Close every running campaign whose close date has passed; return how many closed.
    Safe to run twice: a campaign closed meanwhile is skipped."""
    now = now or timezone.now()
    closed = 0
    for pk in Campaign.objects.filter(status=CampaignStatus.RUNNING, closes_at__lte=now).values_list("pk", flat=True):
        try:
            campaign_transition(campaign=Campaign(pk=pk), action="close", actor=None)
        except TransitionRefused:
            continue
        closed += 1
    return closed
