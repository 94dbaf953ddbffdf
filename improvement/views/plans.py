"""The pages of service improvement plans (SIP): the list, drafting (optionally answering items:
``/improvement/plans/new/?items=1,2``), a plan's page — its PDCA stage, goal, scope, target
(and the KPI's values), approval, the items it answers and their sources, its actions with
their evidence, its effectiveness reviews, its moves and its history —, the edit form, and the
small forms posted from the page: items joining, an action added, edited, done or cancelled,
the effectiveness review; the evidence files are streamed to whoever may see the plan.

Views are thin: the permission is checked before any row is read (403), the row must be
visible (404), a form is parsed and one service of ``improvement.services.plans`` called; its
``ValidationError`` comes back at the form with status 400 and nothing written. The list
counts its actions in SQL; the list and the plan's page run a constant number of queries
whatever the number of plans, items, actions, reviews or events.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from itsm.core.permissions import acting_user, can, can_view_history, require_all
from itsm.core.pickers import scope_pickers
from itsm.core.roles import Role
from itsm.core.uploads import ALLOWED
from itsm.core.views.generic import ObjectHistoryView, ObjectListView, add_service_errors
from itsm.core.views.workflow import action_forms, timeline, transition_view

from ..choices import (
    ACTION_OPEN_STATUSES,
    PLAN_APPROVED_STATUSES,
    PLAN_OPEN_STATUSES,
    Effectiveness,
    PlanStatus,
)
from ..filters import PlanFilter
from ..forms.plans import (
    ActionCancelForm,
    ActionCompleteForm,
    ActionEditForm,
    ActionForm,
    AddItemsForm,
    EffectivenessReviewForm,
    PlanActionForm,
    PlanForm,
)
from ..models import EffectivenessReview, ImprovementPlan, ImprovementPlanEvent, PlanAction
from ..selectors.plans import (
    action_get,
    approval_changes,
    open_items_of,
    plan_actions,
    plan_get,
    plan_items,
    plan_list,
    plan_reviews,
    plan_scope,
    review_get,
    stage_rows,
)
from ..services.plans import (
    CLOSED,
    PLAN_MACHINE,
    action_add,
    action_cancel,
    action_complete,
    action_update,
    approver_role,
    effectiveness_review_record,
    may_work_action,
    measured_values,
    plan_add_items,
    plan_create,
    plan_may,
    plan_update,
)
from ..workflow import PLAN_TRANSITIONS

# The review's own form closes the plan or sends it round again: no separate buttons for them.
REVIEW_MOVES = frozenset({"close", "repeat"})
# Actions are done (with evidence) once the plan is approved.
WORKING_STATUSES = (PlanStatus.APPROVED, PlanStatus.IN_PROGRESS)
TARGET_LABELS = {
    "target_measure": ImprovementPlan._meta.get_field("target_measure").verbose_name,
    "kpi": ImprovementPlan._meta.get_field("kpi").verbose_name,
    "target_value": ImprovementPlan._meta.get_field("target_value").verbose_name,
    "target_date": ImprovementPlan._meta.get_field("target_date").verbose_name,
}


def _plan(request: HttpRequest, pk: int) -> ImprovementPlan:
    return plan_get(acting_user(request), pk)


def _back_for_approval(request: HttpRequest, before: str, plan: ImprovementPlan) -> None:
    if before in PLAN_APPROVED_STATUSES and plan.status == PlanStatus.SUBMITTED:
        messages.warning(request, _("The plan changed after its approval: it is back for approval."))


# --- list -------------------------------------------------------------------------------------


class PlanListView(ObjectListView):
    """Plans: search, filters (status, PDCA stage, owner, overdue actions, review overdue),
    sort, 25 a page; actions done / total and the next due date counted in SQL."""

    model = ImprovementPlan
    template_name = "improvement/plan_list.html"
    filterset_class = PlanFilter
    ordering_fields = ("reference", "title", "status", "round", "next_due", "review_due_on", "created_at")
    default_ordering = ("-created_at",)
    select_related = ("owner",)
    create_url_name = "improvement_plan_create"

    def visible_queryset(self):
        return plan_list(self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["filter_form"].fields["status"].widget.attrs["size"] = 5
        today = timezone.localdate()
        context["rows"] = [
            {
                "plan": plan,
                "action_late": plan.next_due is not None and plan.next_due < today,
                "review_late": plan.status == PlanStatus.EFFECTIVENESS_REVIEW
                and plan.review_due_on is not None
                and plan.review_due_on < today,
            }
            for plan in context["object_list"]
        ]
        return context


plan_list_view = PlanListView.as_view()


# --- drafting and editing ---------------------------------------------------------------------


def _item_pks(value: str) -> list[int]:
    return [int(part) for part in value.split(",") if part.strip().isdigit()][:100]


@login_required
@require_http_methods(["GET", "POST"])
def plan_create_view(request: HttpRequest) -> HttpResponse:
    """Draft a plan; ``?items=1,2`` pre-selects open items of the register it answers."""
    require_all(request.user, ("add",), ImprovementPlan)
    user = acting_user(request)
    if request.method == "GET":
        initial: dict[str, Any] = {"owner": user.pk}
        items = open_items_of(user, _item_pks(request.GET.get("items", "")))
        if items:
            initial["items"] = [item.pk for item in items]
        form = PlanForm(initial=initial, with_items=True)
        scope_pickers(form, user)
        return _render_form(request, form)
    form = PlanForm(request.POST, with_items=True)
    scope_pickers(form, user)
    if form.is_valid():
        try:
            plan = plan_create(
                actor=user, items=list(form.cleaned_data.get("items") or []), **form.scope(), **form.plan_fields()
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("%(reference)s was drafted.") % {"reference": plan.reference})
            return HttpResponseRedirect(plan.get_absolute_url())
    return _render_form(request, form, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def plan_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a plan that is not closed or rejected. Changing the target of an approved plan
    sends it back for approval (the page says so before and after)."""
    require_all(request.user, ("view", "change"), ImprovementPlan)
    plan = _plan(request, pk)
    if plan.status in CLOSED:
        messages.info(request, _("A closed or rejected plan is not changed any more."))
        return HttpResponseRedirect(plan.get_absolute_url())
    instance = ImprovementPlan.objects.get(pk=plan.pk)  # the form writes into it while validating
    if request.method == "GET":
        form = PlanForm(instance=instance)
        scope_pickers(form, request.user)
        return _render_form(request, form, plan=plan)
    form = PlanForm(request.POST, instance=instance)
    scope_pickers(form, request.user)
    if form.is_valid():
        before = plan.status
        try:
            saved = plan_update(
                plan=plan,
                actor=acting_user(request),
                **form.scope(changed_only=True),
                **form.plan_fields(changed_only=True),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("%(reference)s was saved.") % {"reference": plan.reference})
            _back_for_approval(request, before, saved)
            return HttpResponseRedirect(plan.get_absolute_url())
    return _render_form(request, form, plan=plan, status=400)


def _render_form(
    request: HttpRequest, form: PlanForm, *, plan: ImprovementPlan | None = None, status: int = 200
) -> HttpResponse:
    groups = [
        (pgettext("improvement plan", "The plan"), ["title", "goal", "owner", "team", "change_request_ref"]),
        (pgettext("improvement plan", "Scope"), ["services", "organisations", "departments"]),
        (
            _("Baseline and target"),
            ["baseline_measure", "target_measure", "kpi", "baseline_value", "target_value", "target_date"],
        ),
        (_("Items it answers"), ["items"]),
    ]
    return render(
        request,
        "improvement/plan_form.html",
        {
            "form": form,
            "plan": plan,
            "object": plan,
            "groups": [(label, [form[name] for name in names if name in form.fields]) for label, names in groups],
            "approved": plan is not None and plan.status in PLAN_APPROVED_STATUSES,
        },
        status=status,
    )


# --- one plan ---------------------------------------------------------------------------------


def _event_details(event: ImprovementPlanEvent) -> list[str]:
    data = event.data if isinstance(event.data, dict) else {}
    action = event.action
    details: list[str] = []
    if action == "action_added" and data.get("task"):
        if data.get("due_on"):
            details.append(_("“%(task)s”, due on %(date)s") % {"task": data["task"], "date": data["due_on"]})
        else:
            details.append(f"“{data['task']}”")
    elif action in ("action_done", "action_cancelled") and data.get("task"):
        details.append(f"“{data['task']}”")
        if action == "action_done" and data.get("on_time") is False:
            details.append(_("after its due date"))
    elif action == "item_added" and data.get("item"):
        details.append(str(data["item"]))
    elif action == "reviewed":
        if data.get("result") in Effectiveness.values:
            details.append(str(Effectiveness(data["result"]).label))
        if data.get("round"):
            details.append(_("round %(round)s") % {"round": data["round"]})
    elif action == "request_review" and data.get("due_on"):
        details.append(_("review due on %(date)s") % {"date": data["due_on"]})
    elif action == "repeat" and data.get("round"):
        details.append(_("round %(round)s begins") % {"round": data["round"]})
    elif action == "close":
        if data.get("outcome") in Effectiveness.values:
            details.append(str(Effectiveness(data["outcome"]).label))
        if data.get("items_done"):
            details.append(_("items done: %(items)s") % {"items": ", ".join(data["items_done"])})
    elif action == "reject" and data.get("released"):
        details.append(_("items open again: %(items)s") % {"items": ", ".join(data["released"])})
    return details


def _action_rows(
    request: HttpRequest, plan: ImprovementPlan, actions: list[PlanAction], forms: dict[str, Any]
) -> list[dict[str, Any]]:
    user = acting_user(request)
    today = timezone.localdate()
    failed_complete = forms.get("complete_form")
    failed_cancel = forms.get("cancel_form")
    plan_open = plan.status in PLAN_OPEN_STATUSES
    rows = []
    for action in actions:
        is_open = action.status in ACTION_OPEN_STATUSES
        may_work = is_open and plan_open and may_work_action(user, action)
        complete_form = cancel_form = None
        if may_work and plan.status in WORKING_STATUSES:
            complete_form = (
                failed_complete
                if failed_complete is not None and failed_complete.action.pk == action.pk
                else ActionCompleteForm(action=action)
            )
        if may_work:
            cancel_form = (
                failed_cancel
                if failed_cancel is not None and failed_cancel.action.pk == action.pk
                else ActionCancelForm(action=action)
            )
        rows.append(
            {
                "action": action,
                "overdue": is_open and action.due_on < today,
                "may_edit": may_work,
                "complete_form": complete_form,
                "cancel_form": cancel_form,
                "evidence_name": PurePath(action.evidence.name or "").name if action.evidence else "",
            }
        )
    return rows


def _approval(plan: ImprovementPlan, actions: list[PlanAction], events: list[dict[str, Any]]) -> dict[str, Any]:
    """Who approved the plan and when, what changed since, and whether it was approved again
    after a change (read from the history rows already on the page)."""
    approvals = [row for row in events if row["action"] == "approve"]
    resubmits = [row for row in events if row["action"] == "resubmit"]
    changed = approval_changes(plan, actions)
    labels = [str(TARGET_LABELS[name]) for name in changed if name in TARGET_LABELS]
    if "actions" in changed:
        labels.append(_("the actions"))
    last_resubmit = resubmits[-1] if resubmits else None
    last_approval = approvals[-1] if approvals else None
    return {
        "approved_by": plan.approved_by,
        "approved_at": plan.approved_at,
        "times": len(approvals),
        "changed": labels,
        # Changed after an approval and approved again since: the approval covers the change.
        "reapproved": bool(
            last_resubmit and last_approval and last_approval["event"].created_at > last_resubmit["event"].created_at
        ),
        "awaiting": plan.status == PlanStatus.SUBMITTED and last_resubmit is not None,
        "change_note": last_resubmit["note"] if last_resubmit else "",
        "change_at": last_resubmit["event"].created_at if last_resubmit else None,
        "approver": Role(approver_role(plan)).label,
    }


def _detail_context(request: HttpRequest, plan: ImprovementPlan, **forms: Any) -> dict[str, Any]:
    user = acting_user(request)
    failed = forms.get("failed")
    moves, refused = action_forms(PLAN_MACHINE, plan, user, PlanActionForm, failed)
    moves = [form for form in moves if form.transition.action not in REVIEW_MOVES]
    if failed is not None and failed.transition.action in REVIEW_MOVES:
        refused = failed
    actions = plan_actions(plan)
    # The review is scheduled once the round's actions are all done or cancelled: until then
    # its form would only be refused, so the page says what it waits for instead.
    review_waits = plan.status == PlanStatus.IN_PROGRESS and any(
        action.round == plan.round and action.status in ACTION_OPEN_STATUSES for action in actions
    )
    if review_waits:
        moves = [form for form in moves if form.transition.action != "request_review" or form is failed]
    events = (
        timeline(PLAN_MACHINE, PLAN_MACHINE.events(plan), details=_event_details)
        if can(user, "view", ImprovementPlanEvent)
        else []
    )
    may_change = can(user, "change", ImprovementPlan)
    plan_open = plan.status in PLAN_OPEN_STATUSES
    may_add_action = plan_open and plan.status != PlanStatus.EFFECTIVENESS_REVIEW and can(user, "add", PlanAction)
    may_review = (
        plan.status == PlanStatus.EFFECTIVENESS_REVIEW
        and may_change
        and plan_may(PLAN_TRANSITIONS["close"], plan, user)
    )
    reviews = plan_reviews(plan) if can(user, "view", EffectivenessReview) else []
    return {
        "plan": plan,
        "object": plan,
        "stages": stage_rows(plan),
        **plan_scope(plan),
        "items": plan_items(plan, user),
        "actions": _action_rows(request, plan, actions, forms),
        "rounds": sorted({action.round for action in actions}),
        "reviews": [
            {"review": review, "evidence_name": PurePath(review.evidence.name or "").name if review.evidence else ""}
            for review in reviews
        ],
        "measured": measured_values(plan) if plan.kpi_id else [],
        "approval": _approval(plan, actions, events),
        "events": events if can(user, "view", ImprovementPlanEvent) else None,
        "action_forms": moves,
        "refused": refused,
        "review_waits": review_waits and plan_may(PLAN_TRANSITIONS["request_review"], plan, user),
        "may_edit": plan.status not in CLOSED and may_change,
        "action_form": forms.get("action_form") or (ActionForm() if may_add_action else None),
        "add_items_form": forms.get("add_items_form") or (AddItemsForm() if plan_open and may_change else None),
        "review_form": forms.get("review_form") or (EffectivenessReviewForm() if may_review else None),
        "approved": plan.status in PLAN_APPROVED_STATUSES,
        "can_view_history": can_view_history(user),
    }


def _render_detail(request: HttpRequest, plan: ImprovementPlan, *, status: int = 200, **forms: Any) -> HttpResponse:
    return render(request, "improvement/plan_detail.html", _detail_context(request, plan, **forms), status=status)


@login_required
@require_GET
def plan_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    require_all(request.user, ("view",), ImprovementPlan)
    return _render_detail(request, _plan(request, pk))


plan_transition_view = transition_view(
    PLAN_MACHINE,
    form_class=PlanActionForm,
    record=_plan,
    render_failed=_render_detail,
)


@login_required
@require_POST
def plan_add_items_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Open items of the register join the plan."""
    require_all(request.user, ("view", "change"), ImprovementPlan)
    plan = _plan(request, pk)
    form = scope_pickers(AddItemsForm(request.POST), request.user)
    if form.is_valid():
        items = list(form.cleaned_data["items"])
        try:
            plan_add_items(plan=plan, items=items, actor=acting_user(request))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("%(count)s items joined the plan.") % {"count": len(items)})
            return HttpResponseRedirect(plan.get_absolute_url() + "#items")
    return _render_detail(request, plan, add_items_form=form, status=400)


@login_required
@require_POST
def plan_review_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Record the effectiveness review of the plan's round: effective or partly closes the
    plan, not effective sends it round the loop again."""
    require_all(request.user, ("view", "change"), ImprovementPlan)
    plan = _plan(request, pk)
    form = EffectivenessReviewForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            saved = effectiveness_review_record(
                plan=plan,
                actor=acting_user(request),
                result=data["result"],
                evidence_note=data["evidence_note"],
                evidence=data.get("evidence"),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if saved.status == PlanStatus.CLOSED:
                messages.success(request, _("The review is recorded and the plan is closed."))
            else:
                messages.warning(
                    request,
                    _("The review found the plan not effective: round %(round)s begins; add its new actions.")
                    % {"round": saved.round},
                )
            return HttpResponseRedirect(plan.get_absolute_url() + "#reviews")
    return _render_detail(request, plan, review_form=form, status=400)


# --- actions ----------------------------------------------------------------------------------


@login_required
@require_POST
def action_create_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Add an action, due on a date or in a number of working days (an approved plan goes back
    for approval)."""
    require_all(request.user, ("view",), ImprovementPlan)
    require_all(request.user, ("add",), PlanAction)
    plan = _plan(request, pk)
    form = ActionForm(request.POST)
    scope_pickers(form, request.user)
    if form.is_valid():
        before = plan.status
        try:
            action = action_add(plan=plan, actor=acting_user(request), **form.action_fields())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The action “%(title)s” was added.") % {"title": action.title})
            action.plan.refresh_from_db()
            _back_for_approval(request, before, action.plan)
            return HttpResponseRedirect(plan.get_absolute_url() + "#actions")
    return _render_detail(request, plan, action_form=form, status=400)


def _workable_action(request: HttpRequest, pk: int) -> PlanAction:
    """The action ``pk`` of a plan the user may see (404), which the user may work (403)."""
    require_all(request.user, ("view",), ImprovementPlan)
    require_all(request.user, ("view",), PlanAction)
    user = acting_user(request)
    action = action_get(user, pk)
    if not may_work_action(user, action):
        raise PermissionDenied
    return action


@login_required
@require_http_methods(["GET", "POST"])
def action_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Change an open action's title, description, owner or due date."""
    action = _workable_action(request, pk)
    if action.status not in ACTION_OPEN_STATUSES:
        messages.info(request, _("A done or cancelled action is not changed any more."))
        return HttpResponseRedirect(action.plan.get_absolute_url() + "#actions")
    instance = PlanAction.objects.get(pk=action.pk)
    status = 200
    if request.method == "GET":
        form = ActionEditForm(instance=instance)
    else:
        form = ActionEditForm(request.POST, instance=instance)
        scope_pickers(form, request.user)
        if form.is_valid():
            try:
                action_update(action=action, actor=acting_user(request), **form.action_fields())
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("The action “%(title)s” was saved.") % {"title": action.title})
                return HttpResponseRedirect(action.plan.get_absolute_url() + "#actions")
        status = 400
    return render(
        request,
        "improvement/plan_action_form.html",
        {"action": action, "plan": action.plan, "object": action.plan, "form": form},
        status=status,
    )


@login_required
@require_POST
def action_complete_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Record an action as done with its evidence (what was done, a file or a link)."""
    action = _workable_action(request, pk)
    form = ActionCompleteForm(request.POST, request.FILES, action=action)
    if form.is_valid():
        data = form.cleaned_data
        try:
            action_complete(
                action=action,
                actor=acting_user(request),
                evidence_note=data.get("evidence_note") or "",
                evidence=data.get("evidence"),
                evidence_link=data.get("evidence_link") or "",
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The action “%(title)s” is done.") % {"title": action.title})
            return HttpResponseRedirect(action.plan.get_absolute_url() + f"#action-{action.pk}")
    return _render_detail(request, _plan(request, action.plan_id), complete_form=form, status=400)


@login_required
@require_POST
def action_cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Cancel an open action with a reason."""
    action = _workable_action(request, pk)
    form = ActionCancelForm(request.POST, action=action)
    if form.is_valid():
        try:
            action_cancel(action=action, actor=acting_user(request), reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The action “%(title)s” was cancelled.") % {"title": action.title})
            return HttpResponseRedirect(action.plan.get_absolute_url() + f"#action-{action.pk}")
    return _render_detail(request, _plan(request, action.plan_id), cancel_form=form, status=400)


# --- evidence files ---------------------------------------------------------------------------


def _file_response(file_field: Any) -> HttpResponseBase:
    """A stored file as a download with the type its extension names, never sniffed or cached
    (files are never served from MEDIA_URL). ``Http404`` when the file is gone."""
    name = file_field.name or ""
    try:
        handle = file_field.storage.open(name, "rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    content_type = ALLOWED.get(PurePath(name).suffix.lower(), ("application/octet-stream", None))[0]
    response = FileResponse(handle, as_attachment=True, filename=PurePath(name).name, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def action_evidence_view(request: HttpRequest, pk: int) -> HttpResponseBase:
    """An action's evidence file, to whoever may see the plan."""
    require_all(request.user, ("view",), ImprovementPlan)
    require_all(request.user, ("view",), PlanAction)
    action = action_get(acting_user(request), pk)
    if not action.evidence:
        raise Http404
    return _file_response(action.evidence)


@login_required
@require_GET
def review_evidence_view(request: HttpRequest, pk: int, round_: int) -> HttpResponseBase:
    """The evidence file of one round's effectiveness review, to whoever may see the plan."""
    require_all(request.user, ("view",), ImprovementPlan)
    require_all(request.user, ("view",), EffectivenessReview)
    review = review_get(_plan(request, pk), round_)
    if not review.evidence:
        raise Http404
    return _file_response(review.evidence)


plan_history_view = ObjectHistoryView.as_view(model=ImprovementPlan)

urlpatterns = [
    path("improvement/plans/", plan_list_view, name="improvement_plan_list"),
    path("improvement/plans/new/", plan_create_view, name="improvement_plan_create"),
    path("improvement/plans/<int:pk>/", plan_detail_view, name="improvement_plan_detail"),
    path("improvement/plans/<int:pk>/edit/", plan_edit_view, name="improvement_plan_edit"),
    path("improvement/plans/<int:pk>/actions/<slug:action>/", plan_transition_view, name="improvement_plan_transition"),
    path("improvement/plans/<int:pk>/items/add/", plan_add_items_view, name="improvement_plan_add_items"),
    path("improvement/plans/<int:pk>/review/", plan_review_view, name="improvement_plan_review"),
    path(
        "improvement/plans/<int:pk>/reviews/<int:round_>/evidence/",
        review_evidence_view,
        name="improvement_review_evidence",
    ),
    path("improvement/plans/<int:pk>/history/", plan_history_view, name="improvement_plan_history"),
    path("improvement/plans/<int:pk>/tasks/new/", action_create_view, name="improvement_action_create"),
    path("improvement/actions/<int:pk>/edit/", action_edit_view, name="improvement_action_edit"),
    path("improvement/actions/<int:pk>/complete/", action_complete_view, name="improvement_action_complete"),
    path("improvement/actions/<int:pk>/cancel/", action_cancel_view, name="improvement_action_cancel"),
    path("improvement/actions/<int:pk>/evidence/", action_evidence_view, name="improvement_action_evidence"),
]
