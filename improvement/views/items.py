"""The register's pages: the list (filters, sort, the system's suggestions a tab away), raising
an item from a source (the one step every source page links to:
``/improvement/items/new/?source=<kind>&id=<pk>[&part=<pk>]``), an item's page with its
source, duplicates, plan, history and moves, its edit form and the move view.

Views are thin: the permission is checked before any row is read (403), the row must be
visible (404), a form is parsed and one service of ``improvement.services.items`` called; its
``ValidationError`` comes back at the form with status 400 and nothing written. The list
resolves its rows' sources in one query per kind of source (``resolve_sources``), so it runs a
constant number of queries whatever the number of items.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_http_methods

from itsm.core.permissions import acting_user, can, can_view_history, require_all
from itsm.core.pickers import scope_pickers
from itsm.core.views.generic import ObjectHistoryView, ObjectListView, add_service_errors
from itsm.core.views.workflow import action_forms, timeline, transition_view

from ..choices import ItemStatus
from ..filters import ItemFilter
from ..forms.items import ItemActionForm, ItemCreateForm, ItemEditForm
from ..models import ImprovementItem, ImprovementItemEvent
from ..registry import ImprovementSource, source_for
from ..selectors.items import (
    describe_source,
    is_overdue,
    item_duplicates,
    item_get,
    item_list,
    items_of_source,
    resolve_sources,
    suggested_count,
    with_sources,
)
from ..services.items import CLOSED_STATUSES, ITEM_MACHINE, item_create, item_update

# Values of a yes / no filter in the query string (``itsm.core.filters.YesNoFilter``).
YES = "true"


def _item(request: HttpRequest, pk: int) -> ImprovementItem:
    return item_get(acting_user(request), pk)


# --- list -------------------------------------------------------------------------------------


class ItemListView(ObjectListView):
    """The register: search, filters (kind of source, status, priority, owner, plan, overdue),
    sort, 25 a page; tabs for the suggestions waiting for their owner, open items, overdue ones
    and the user's own."""

    model = ImprovementItem
    template_name = "improvement/item_list.html"
    filterset_class = ItemFilter
    ordering_fields = ("reference", "title", "priority_rank", "status", "target_date", "created_at")
    default_ordering = ("-created_at",)
    select_related = ("owner", "plan")
    # The source record filter only once a kind of source is chosen (the source pages link so).
    dependent_filters = {"source_id": "source_kind"}

    def visible_queryset(self):
        return item_list(self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        form = context["filter_form"]
        form.fields["status"].widget.attrs["size"] = 5
        context["rows"] = with_sources(context["object_list"], user)
        context["suggested_count"] = suggested_count(user)
        context["tabs"] = self._tabs(user)
        return context

    def _tabs(self, user: Any) -> list[dict[str, Any]]:
        query = self.request.GET
        chosen = {key: query.getlist(key) for key in query if key not in ("page", "sort")}
        tabs = [
            ("all", _("All"), {}),
            ("suggested", _("Suggested, awaiting acceptance"), {"status": [ItemStatus.SUGGESTED.value]}),
            ("open", pgettext("improvement item", "Open"), {"status": [ItemStatus.OPEN.value]}),
            ("planned", _("In a plan"), {"status": [ItemStatus.PLANNED.value]}),
            ("overdue", _("Overdue"), {"overdue": [YES]}),
            ("mine", _("Mine"), {"owner": [str(user.pk)]}),
        ]
        return [
            {
                "key": key,
                "label": label,
                "query": "&".join(f"{name}={value}" for name, values in params.items() for value in values),
                "active": chosen == params,
            }
            for key, label, params in tabs
        ]


item_list_view = ItemListView.as_view()


# --- raising an item from a source ------------------------------------------------------------


def _digits(value: str | None) -> int:
    if not value or not value.isdigit():
        raise Http404
    return int(value)


def _source_of(request: HttpRequest) -> tuple[ImprovementSource, models.Model, models.Model | None]:
    """The kind, source record and part the query string names: 404 for an unknown kind or a
    record (or part) that does not exist, 403 for a kind the user may not read."""
    registered = source_for(request.GET.get("source", ""))
    if registered is None or not registered.manual:
        raise Http404
    if not registered.readable_by(request.user):
        raise PermissionDenied
    source = registered.records().filter(pk=_digits(request.GET.get("id"))).first()
    if source is None:
        raise Http404
    part = None
    if request.GET.get("part"):
        part_class = registered.part_class
        if part_class is None:
            raise Http404
        part = part_class._default_manager.filter(pk=_digits(request.GET.get("part"))).first()
        if part is None:
            raise Http404
    return registered, source, part


def _prefill(registered: ImprovementSource, source: models.Model, part: models.Model | None, user: Any) -> dict:
    initial: dict[str, Any] = {"owner": user.pk}
    values = registered.prefill(source, part) or {}
    for name in ("title", "description", "priority"):
        if values.get(name):
            initial[name] = values[name]
    return initial


@login_required
@require_http_methods(["GET", "POST"])
def item_create_view(request: HttpRequest) -> HttpResponse:
    """Raise an item from the source in the query string, pre-filled from its kind."""
    require_all(request.user, ("add",), ImprovementItem)
    registered, source, part = _source_of(request)
    user = acting_user(request)
    if request.method == "GET":
        form = ItemCreateForm(initial=_prefill(registered, source, part, user))
        plan = request.GET.get("plan", "")
        if plan.isdigit():
            form.initial["plan"] = int(plan)
        scope_pickers(form, user)
        return _render_create(request, registered, source, part, form)
    form = ItemCreateForm(request.POST)
    scope_pickers(form, user)
    if form.is_valid():
        try:
            item = item_create(
                actor=user, source_kind=registered.kind, source=source, source_part=part, **form.item_fields()
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("%(reference)s was raised.") % {"reference": item.reference})
            return HttpResponseRedirect(item.get_absolute_url())
    return _render_create(request, registered, source, part, form, status=400)


def _render_create(
    request: HttpRequest,
    registered: ImprovementSource,
    source: models.Model,
    part: models.Model | None,
    form: ItemCreateForm,
    *,
    status: int = 200,
) -> HttpResponse:
    existing = items_of_source(acting_user(request), registered.kind, source.pk, part.pk if part is not None else None)
    return render(
        request,
        "improvement/item_create.html",
        {
            "form": form,
            "source": describe_source(registered, registered.kind, source, part),
            "existing": existing,
            # Why this source takes no item now (a campaign before its close), said up front.
            "refusal": registered.refusal(source),
        },
        status=status,
    )


# --- one item ---------------------------------------------------------------------------------


def _event_details(event: ImprovementItemEvent) -> list[str]:
    data = event.data if isinstance(event.data, dict) else {}
    details: list[str] = []
    if data.get("plan"):
        details.append(_("plan %(plan)s") % {"plan": data["plan"]})
    if data.get("duplicate_of"):
        details.append(_("duplicate of %(item)s") % {"item": data["duplicate_of"]})
    return details


def _detail_context(request: HttpRequest, item: ImprovementItem, **forms: Any) -> dict[str, Any]:
    user = acting_user(request)
    moves, refused = action_forms(ITEM_MACHINE, item, user, ItemActionForm, forms.get("failed"))
    duplicates = item_duplicates(item)
    links = resolve_sources([item, *duplicates], user)
    return {
        "item": item,
        "object": item,
        "source": links[item.pk],
        "duplicates": [{"item": d, "source": links[d.pk]} for d in duplicates],
        "overdue": is_overdue(item),
        "events": (
            timeline(ITEM_MACHINE, ITEM_MACHINE.events(item), details=_event_details)
            if can(user, "view", ImprovementItemEvent)
            else None
        ),
        "action_forms": moves,
        "refused": refused,
        "may_edit": item.status not in CLOSED_STATUSES and can(user, "change", ImprovementItem),
        "can_view_history": can_view_history(user),
    }


def _render_detail(request: HttpRequest, item: ImprovementItem, *, status: int = 200, **forms: Any) -> HttpResponse:
    return render(request, "improvement/item_detail.html", _detail_context(request, item, **forms), status=status)


@login_required
@require_GET
def item_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    require_all(request.user, ("view",), ImprovementItem)
    return _render_detail(request, _item(request, pk))


@login_required
@require_http_methods(["GET", "POST"])
def item_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit an item's text, priority, owner and close-by date; a done or dismissed item is
    reopened first (its page says so)."""
    require_all(request.user, ("view", "change"), ImprovementItem)
    item = _item(request, pk)
    if item.status in CLOSED_STATUSES:
        messages.info(request, _("A done or dismissed item is reopened before it is changed."))
        return HttpResponseRedirect(item.get_absolute_url())
    instance = ImprovementItem.objects.get(pk=item.pk)  # the form writes into it while validating
    if request.method == "GET":
        return _render_edit(request, item, ItemEditForm(instance=instance))
    form = ItemEditForm(request.POST, instance=instance)
    scope_pickers(form, request.user)
    if form.is_valid():
        try:
            item_update(item=item, actor=acting_user(request), **form.item_fields())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("%(reference)s was saved.") % {"reference": item.reference})
            return HttpResponseRedirect(item.get_absolute_url())
    return _render_edit(request, item, form, status=400)


def _render_edit(request: HttpRequest, item: ImprovementItem, form: ItemEditForm, *, status: int = 200) -> HttpResponse:
    return render(request, "improvement/item_form.html", {"item": item, "object": item, "form": form}, status=status)


item_transition_view = transition_view(
    ITEM_MACHINE,
    form_class=ItemActionForm,
    record=_item,
    render_failed=_render_detail,
)

item_history_view = ObjectHistoryView.as_view(model=ImprovementItem)

urlpatterns = [
    path("improvement/items/", item_list_view, name="improvement_item_list"),
    path("improvement/items/new/", item_create_view, name="improvement_item_create"),
    path("improvement/items/<int:pk>/", item_detail_view, name="improvement_item_detail"),
    path("improvement/items/<int:pk>/edit/", item_edit_view, name="improvement_item_edit"),
    path("improvement/items/<int:pk>/actions/<slug:action>/", item_transition_view, name="improvement_item_transition"),
    path("improvement/items/<int:pk>/history/", item_history_view, name="improvement_item_history"),
]
