"""Review meeting pages (回顾会议 000 §8, 质量分析会议 003 §5.2(4)): the list, planning and
editing a meeting, one meeting with its inputs, minutes, decisions, moves and history, the
printable agenda, the audit trail, and the POST views of the moves and of the decisions (a
decision becomes an item of the register or an action of a plan in one step).

The moves are the workflow kit's (``MEETING_MACHINE``): the page's hold and cancel forms come
from ``action_forms``, are posted to ``transition_view`` and the history is the machine's
events drawn by ``includes/timeline.html``.

Views are thin: the permission is checked before any row is read (403), the meeting must be
visible (404), a form is parsed and one service of ``improvement.services.meetings`` called;
its ``ValidationError`` comes back at the form with status 400 and nothing written. A planned
meeting's page compiles its inputs live (``meeting_inputs``, a fixed number of queries); a held
one's shows what was frozen. Every page runs a constant number of queries whatever the number
of KPI values, plans, items, actions, complaints or decisions.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import prefetch_related_objects
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from itsm.core.permissions import acting_user, can, can_view_history, require_all
from itsm.core.pickers import scope_pickers
from itsm.core.views.generic import ObjectHistoryView, add_service_errors
from itsm.core.views.workflow import action_forms, timeline, transition_view

from ..choices import MeetingKind, MeetingStatus
from ..forms.meetings import (
    DecisionActionForm,
    DecisionForm,
    DecisionItemForm,
    MeetingActionForm,
    MeetingFilterForm,
    MeetingForm,
    MinutesForm,
)
from ..models import MeetingDecision, ReviewMeeting, ReviewMeetingEvent
from ..selectors.meetings import (
    meeting_decisions,
    meeting_get,
    meeting_list,
    meeting_shown_inputs,
    present_inputs,
)
from ..services import meetings as services
from ..services.meetings import MEETING_MACHINE

PAGE_SIZE = 25
# The fields a "details changed" row of the history may name.
EDITED_FIELDS = frozenset({*services.MEETING_FIELDS, "attendees"})


def _require(request: HttpRequest, *verbs: str, model: Any = ReviewMeeting) -> None:
    require_all(request.user, verbs, model)


def _roles_once(request: HttpRequest) -> None:
    """The role checks of a page read the user's groups: load them once per request."""
    if request.user.is_authenticated:
        prefetch_related_objects([request.user], "groups")


# --- list ------------------------------------------------------------------------------------


@login_required
@require_GET
def review_meeting_list(request: HttpRequest) -> HttpResponse:
    """The meetings, planned ones first; filters by kind, status and period."""
    _require(request, "view")
    form = MeetingFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    queryset = meeting_list(
        request.user,
        kind=filters.get("kind", ""),
        status=filters.get("status", ""),
        period=filters.get("period", ""),
    )
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    _roles_once(request)
    return render(
        request,
        "improvement/meeting_list.html",
        {
            "form": form,
            "meetings": page.object_list,
            "page_obj": page,
            "querystring": query.urlencode(),
            "may_add": can(request.user, "add", ReviewMeeting) and services.has_meeting_role(request.user),
        },
        status=200 if not form.is_bound or form.is_valid() else 400,
    )


# --- plan and edit ---------------------------------------------------------------------------


def _require_meeting_role(request: HttpRequest) -> None:
    if not services.has_meeting_role(request.user):
        raise PermissionDenied


@login_required
@require_http_methods(["GET", "POST"])
def review_meeting_create(request: HttpRequest) -> HttpResponse:
    """Plan a meeting for a period; it starts with the kind's standard agenda."""
    _require(request, "view", "add")
    _require_meeting_role(request)
    user = acting_user(request)
    if request.method == "GET":
        asked = request.GET.get("kind") or ""
        kind = asked if asked in MeetingKind.values else MeetingKind.REVIEW
        initial = {
            "kind": kind,
            "period_label": timezone.localdate().strftime("%Y-%m"),
            "agenda": str(services.DEFAULT_AGENDA[MeetingKind(kind)]),
        }
        return render(request, "improvement/meeting_form.html", {"form": MeetingForm(initial=initial)})
    form = MeetingForm(request.POST)
    scope_pickers(form, user)
    if form.is_valid():
        try:
            meeting = services.meeting_create(actor=user, **form.meeting_fields())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Meeting %(reference)s planned.") % {"reference": meeting.reference})
            return HttpResponseRedirect(meeting.get_absolute_url())
    return render(request, "improvement/meeting_form.html", {"form": form}, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def review_meeting_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """A planned meeting's details, or a held meeting's minutes (its inputs stay frozen)."""
    _require(request, "view", "change")
    _require_meeting_role(request)
    meeting = meeting_get(request.user, pk)
    if meeting.status == MeetingStatus.CANCELLED:
        messages.warning(request, _("A cancelled meeting is not changed any more."))
        return HttpResponseRedirect(meeting.get_absolute_url())
    user = acting_user(request)
    held = meeting.status == MeetingStatus.HELD
    context: dict[str, Any] = {"meeting": meeting, "held": held}
    if request.method == "GET":
        context["form"] = (
            MinutesForm(initial={"minutes": meeting.minutes}) if held else MeetingForm.for_meeting(meeting)
        )
        return render(request, "improvement/meeting_form.html", context)
    form: Any = MinutesForm(request.POST) if held else scope_pickers(MeetingForm(request.POST), user)
    if form.is_valid():
        fields = dict(form.cleaned_data) if held else form.meeting_fields()
        attendees = None if held else fields.pop("attendees")
        if not held and not fields.get("chair"):
            fields["chair"] = meeting.chair
        try:
            services.meeting_update(meeting=meeting, actor=user, attendees=attendees, **fields)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The meeting was saved."))
            return HttpResponseRedirect(meeting.get_absolute_url())
    context["form"] = form
    return render(request, "improvement/meeting_form.html", context, status=400)


# --- one meeting -----------------------------------------------------------------------------


def _meeting(request: HttpRequest, pk: int) -> ReviewMeeting:
    return meeting_get(request.user, pk)


def _field_label(name: str) -> str:
    return str(getattr(ReviewMeeting._meta.get_field(name), "verbose_name", name))


def _event_details(event: ReviewMeetingEvent) -> list[str]:
    """What a history row adds to its label: the period and time planned, the fields changed,
    what the hold froze, the decision and the item or action made of it."""
    data = event.data if isinstance(event.data, dict) else {}
    action = event.action
    details: list[str] = []
    if action == "created":
        if data.get("period"):
            details.append(_("period %(period)s") % {"period": data["period"]})
        moment = parse_datetime(str(data.get("scheduled_at") or ""))
        if moment is not None:
            details.append(
                _("scheduled at %(moment)s") % {"moment": timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")}
            )
    elif action == "edited" and data.get("fields"):
        names = [_field_label(name) for name in data["fields"] if name in EDITED_FIELDS]
        details.append(_("changed: %(fields)s") % {"fields": ", ".join(names)})
    elif action == "hold" and isinstance(data.get("inputs"), dict):
        counts = data["inputs"]
        details.append(
            _(
                "inputs frozen — KPI values: %(kpis)s, open plans: %(plans)s, open items: %(items)s "
                "(overdue: %(overdue)s), overdue actions: %(actions)s, complaints: %(complaints)s"
            )
            % {
                "kpis": counts.get("kpis", 0),
                "plans": counts.get("plans_open", 0),
                "items": counts.get("items_open", 0),
                "overdue": counts.get("items_overdue", 0),
                "actions": counts.get("actions_overdue", 0),
                "complaints": counts.get("complaints", 0),
            }
        )
    elif action == "decision_recorded" and data.get("text"):
        details.append(f"“{data['text']}”")
        if data.get("owner"):
            details.append(_("owner %(owner)s") % {"owner": data["owner"]})
        if data.get("due_on"):
            details.append(_("due on %(date)s") % {"date": data["due_on"]})
    elif action == "item_raised" and data.get("item"):
        details.append(f"{data['item']} {data.get('title', '')}".strip())
    elif action == "action_added" and data.get("plan"):
        details.append(
            _("“%(task)s” in %(plan)s, due on %(date)s")
            % {"task": data.get("task", ""), "plan": data["plan"], "date": data.get("due_on", "")}
        )
    return details


def _decision_rows(
    meeting: ReviewMeeting, user: Any, failed: dict[tuple[str, int], Any]
) -> tuple[list[dict[str, Any]], bool]:
    may_act = services.may_act_on_decisions(meeting, user)
    rows = []
    for decision in meeting_decisions(meeting):
        row: dict[str, Any] = {"decision": decision, "open": decision.item_id is None and decision.action_id is None}
        if may_act and row["open"]:
            key = decision.pk
            row["item_form"] = failed.get(("item", key)) or DecisionItemForm(decision_pk=key)
            row["action_form"] = failed.get(("action", key)) or DecisionActionForm(decision_pk=key)
            row["failed"] = next((kind for kind in ("item", "action") if (kind, key) in failed), "")
        rows.append(row)
    return rows, may_act


def _render_detail(
    request: HttpRequest,
    meeting: ReviewMeeting,
    *,
    failed: MeetingActionForm | None = None,
    decision_form: DecisionForm | None = None,
    failed_decisions: dict[tuple[str, int], Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    _roles_once(request)
    inputs, live = meeting_shown_inputs(meeting)
    rows, may_act = _decision_rows(meeting, user, failed_decisions or {})
    may_decide = services.may_record_decisions(meeting, user)
    moves, refused = action_forms(MEETING_MACHINE, meeting, user, MeetingActionForm, failed)
    history = (
        timeline(MEETING_MACHINE, MEETING_MACHINE.events(meeting), details=_event_details)
        if can(user, "view", ReviewMeetingEvent)
        else None
    )
    context = {
        "meeting": meeting,
        "attendees": list(meeting.attendees.all()),
        "other_attendees": [line.strip() for line in meeting.other_attendees.splitlines() if line.strip()],
        "agenda_lines": [line.strip() for line in meeting.agenda.splitlines() if line.strip()],
        "inputs": present_inputs(inputs),
        "live": live,
        "decisions": rows,
        "may_act_on_decisions": may_act,
        "decision_form": (decision_form or DecisionForm()) if may_decide else None,
        "action_forms": moves,
        "refused": refused,
        "may_edit": meeting.status != MeetingStatus.CANCELLED
        and can(user, "change", ReviewMeeting)
        and services.has_meeting_role(user),
        "history": history,
        "history_url": reverse("review_meeting_history", args=[meeting.pk]) if can_view_history(user) else "",
    }
    return render(request, "improvement/meeting_detail.html", context, status=status)


@login_required
@require_GET
def review_meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One meeting: attendees, agenda, inputs (live while planned, frozen once held), minutes,
    decisions with their one-step forms, the moves and the history."""
    _require(request, "view")
    return _render_detail(request, meeting_get(request.user, pk))


@login_required
@require_GET
def review_meeting_agenda(request: HttpRequest, pk: int) -> HttpResponse:
    """The printable agenda: the meeting, its agenda and its inputs (and, once held, the
    minutes and decisions); the navigation is not printed."""
    _require(request, "view")
    meeting = meeting_get(request.user, pk)
    inputs, live = meeting_shown_inputs(meeting)
    return render(
        request,
        "improvement/meeting_agenda.html",
        {
            "meeting": meeting,
            "attendees": list(meeting.attendees.all()),
            "other_attendees": [line.strip() for line in meeting.other_attendees.splitlines() if line.strip()],
            "agenda_lines": [line.strip() for line in meeting.agenda.splitlines() if line.strip()],
            "inputs": present_inputs(inputs),
            "live": live,
            "decisions": list(meeting_decisions(meeting)) if meeting.status == MeetingStatus.HELD else [],
        },
    )


class MeetingHistoryView(ObjectHistoryView):
    model = ReviewMeeting


# --- moves and decisions ---------------------------------------------------------------------


# Hold or cancel a meeting from its small form (``MEETING_MACHINE`` decides).
review_meeting_action = transition_view(
    MEETING_MACHINE,
    form_class=MeetingActionForm,
    record=_meeting,
    render_failed=_render_detail,
)


@login_required
@require_POST
def review_meeting_decision_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a decision of a held meeting."""
    _require(request, "view")
    _require(request, "add", model=MeetingDecision)
    _require_meeting_role(request)
    meeting = meeting_get(request.user, pk)
    user = acting_user(request)
    form = DecisionForm(request.POST)
    scope_pickers(form, user)
    if form.is_valid():
        try:
            services.decision_add(meeting=meeting, actor=user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The decision was recorded."))
            return HttpResponseRedirect(f"{meeting.get_absolute_url()}#decisions")
    return _render_detail(request, meeting, decision_form=form, status=400)


def _decision(request: HttpRequest, pk: int, decision_pk: int) -> tuple[ReviewMeeting, MeetingDecision]:
    _require(request, "view")
    _require(request, "change", model=MeetingDecision)
    _require_meeting_role(request)
    meeting = meeting_get(request.user, pk)
    return meeting, get_object_or_404(MeetingDecision, pk=decision_pk, meeting=meeting)


@login_required
@require_POST
def review_meeting_decision_item(request: HttpRequest, pk: int, decision_pk: int) -> HttpResponse:
    """Raise an item of the register from a decision, in one step (its source is the meeting)."""
    meeting, decision = _decision(request, pk, decision_pk)
    user = acting_user(request)
    form = scope_pickers(DecisionItemForm(request.POST, decision_pk=decision.pk), user)
    if form.is_valid():
        try:
            item = services.decision_raise_item(decision=decision, actor=user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Improvement item %(reference)s raised.") % {"reference": item.reference})
            return HttpResponseRedirect(f"{meeting.get_absolute_url()}#decision-{decision.pk}")
    return _render_detail(request, meeting, failed_decisions={("item", decision.pk): form}, status=400)


@login_required
@require_POST
def review_meeting_decision_action(request: HttpRequest, pk: int, decision_pk: int) -> HttpResponse:
    """Add a decision to an open plan as an action, in one step."""
    meeting, decision = _decision(request, pk, decision_pk)
    user = acting_user(request)
    form = scope_pickers(DecisionActionForm(request.POST, decision_pk=decision.pk), user)
    if form.is_valid():
        try:
            action = services.decision_add_action(decision=decision, actor=user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("Action added to %(plan)s.") % {"plan": action.plan.reference},
            )
            return HttpResponseRedirect(f"{meeting.get_absolute_url()}#decision-{decision.pk}")
    return _render_detail(request, meeting, failed_decisions={("action", decision.pk): form}, status=400)


urlpatterns = [
    path("improvement/meetings/", review_meeting_list, name="review_meeting_list"),
    path("improvement/meetings/new/", review_meeting_create, name="review_meeting_create"),
    path("improvement/meetings/<int:pk>/", review_meeting_detail, name="review_meeting_detail"),
    path("improvement/meetings/<int:pk>/edit/", review_meeting_edit, name="review_meeting_edit"),
    path("improvement/meetings/<int:pk>/agenda/", review_meeting_agenda, name="review_meeting_agenda"),
    path("improvement/meetings/<int:pk>/history/", MeetingHistoryView.as_view(), name="review_meeting_history"),
    path("improvement/meetings/<int:pk>/actions/<str:action>/", review_meeting_action, name="review_meeting_action"),
    path("improvement/meetings/<int:pk>/decisions/", review_meeting_decision_add, name="review_meeting_decision_add"),
    path(
        "improvement/meetings/<int:pk>/decisions/<int:decision_pk>/item/",
        review_meeting_decision_item,
        name="review_meeting_decision_item",
    ),
    path(
        "improvement/meetings/<int:pk>/decisions/<int:decision_pk>/action/",
        review_meeting_decision_action,
        name="review_meeting_decision_action",
    ),
]
