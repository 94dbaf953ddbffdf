"""Service catalogue pages: the catalogue grouped by category, a service's page with its
history, the agreements covering it and its workflow actions, create and edit.

Views are thin: they check the permission (403 before any row is read), parse a form, call
one service of ``sla.services.catalogue`` and render; a ``ValidationError`` from the service is
shown at the form with status 400. The list and the detail page run a constant number of
queries whatever the number of services, events or agreements.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from itsm.core.forms import TransitionForm
from itsm.core.permissions import acting_user, can, can_view_history, require_all
from itsm.core.views.generic import ObjectHistoryView, ObjectListView, add_service_errors
from itsm.core.views.workflow import action_forms, timeline, transition_view

from ..choices import ServiceStatus
from ..filters import ServiceFilter
from ..forms import SlaActionForm
from ..forms.catalogue import ServiceForm
from ..models import Agreement, Service, ServiceEvent
from ..selectors import service_agreements, service_list
from ..services import catalogue as services

SERVICE_COLOURS = {
    ServiceStatus.PROPOSED: "info",
    ServiceStatus.ACCEPTED: "success",
    ServiceStatus.RETIRED: "secondary",
}


def _require(request: HttpRequest, *verbs: str) -> None:
    require_all(request.user, verbs, Service)


def _service(request: HttpRequest, pk: int) -> Service:
    queryset = Service.objects.visible_to(request.user).select_related("owner", "calendar")
    return get_object_or_404(queryset, pk=pk)


# --- list -------------------------------------------------------------------------------------


class ServiceListView(ObjectListView):
    """The catalogue, grouped by category: search by code, name or description, status filter."""

    model = Service
    template_name = "sla/service_list.html"
    filterset_class = ServiceFilter
    paginate_by = 100
    default_ordering = ("category", "name")
    select_related = ("owner", "calendar")

    def visible_queryset(self):
        return service_list(self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["filter_form"].fields["status"].widget.attrs["size"] = 3
        context["rows"] = [
            {"service": service, "colour": SERVICE_COLOURS.get(ServiceStatus(service.status), "secondary")}
            for service in context["object_list"]
        ]
        return context


service_list_view = ServiceListView.as_view()


# --- create and edit --------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def service_create(request: HttpRequest) -> HttpResponse:
    """Propose a new service (it starts ``proposed``)."""
    _require(request, "add")
    if request.method == "GET":
        return _render_form(request, ServiceForm())
    form = ServiceForm(request.POST)
    if form.is_valid():
        try:
            service = services.service_create(actor=acting_user(request), **form.service_fields())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Service %(service)s was proposed.") % {"service": service})
            return HttpResponseRedirect(service.get_absolute_url())
    return _render_form(request, form, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def service_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a service's description: freely while proposed, with the RFC once accepted,
    never once retired."""
    _require(request, "view", "change")
    service = _service(request, pk)
    # A copy: the form writes into its instance while validating; the page keeps the stored one.
    instance = Service.objects.get(pk=service.pk)
    if request.method == "GET":
        return _render_form(request, ServiceForm(instance=instance), service=service)
    form = ServiceForm(request.POST, instance=instance)
    if form.is_valid():
        try:
            services.service_update(
                service=service,
                actor=acting_user(request),
                rfc_ref=form.cleaned_data.get("change_rfc", ""),
                **form.service_fields(changed_only=True),
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict") and "rfc_ref" in exc.error_dict and "change_rfc" in form.fields:
                form.add_error("change_rfc", exc.error_dict.pop("rfc_ref"))
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Service %(service)s was saved.") % {"service": service})
            return HttpResponseRedirect(service.get_absolute_url())
    return _render_form(request, form, service=service, status=400)


def _render_form(
    request: HttpRequest, form: ServiceForm, *, service: Service | None = None, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "sla/service_form.html",
        {
            "form": form,
            "service": service,
            "object": service,
            "retired": service is not None and service.status == ServiceStatus.RETIRED,
        },
        status=status,
    )


# --- detail -----------------------------------------------------------------------------------


@login_required
@require_GET
def service_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "view")
    return _render_detail(request, _service(request, pk))


def _render_detail(
    request: HttpRequest, service: Service, *, failed: TransitionForm | None = None, status: int = 200
) -> HttpResponse:
    user = request.user
    forms, refused = action_forms(services.SERVICE_MACHINE, service, user, SlaActionForm, failed)
    show_events = can(user, "view", ServiceEvent)
    context: dict[str, Any] = {
        "service": service,
        "object": service,
        "colour": SERVICE_COLOURS.get(ServiceStatus(service.status), "secondary"),
        "events": _timeline(service) if show_events else None,
        "agreements": list(service_agreements(service, user)) if can(user, "view", Agreement) else None,
        "action_forms": forms,
        "refused": refused,
        "may_edit": service.status != ServiceStatus.RETIRED and can(user, "change", Service),
        "can_view_history": can_view_history(user),
    }
    return render(request, "sla/service_detail.html", context, status=status)


def _timeline(service: Service) -> list[dict[str, Any]]:
    """The history's rows: a change names the fields it changed (kept in its note), a move
    under an RFC carries it as a tag."""
    rows = timeline(services.SERVICE_MACHINE, services.SERVICE_MACHINE.events(service))
    for row in rows:
        event = row["event"]
        if event.action == "changed":
            row["note"] = ""
            row["details"] = [", ".join(_field_label(name) for name in event.note.split(", ") if name)]
        row["tags"] = [_("RFC %(ref)s") % {"ref": event.rfc_ref}] if event.rfc_ref else []
    return rows


def _field_label(name: str) -> str:
    try:
        return str(getattr(Service._meta.get_field(name), "verbose_name", name))
    except FieldDoesNotExist:
        return name


# --- workflow ---------------------------------------------------------------------------------


service_transition = transition_view(
    services.SERVICE_MACHINE,
    form_class=SlaActionForm,
    record=_service,
    render_failed=_render_detail,
)

service_history = ObjectHistoryView.as_view(model=Service)

urlpatterns = [
    path("sla/services/", service_list_view, name="service_list"),
    path("sla/services/new/", service_create, name="service_create"),
    path("sla/services/<int:pk>/", service_detail, name="service_detail"),
    path("sla/services/<int:pk>/edit/", service_edit, name="service_edit"),
    path("sla/services/<int:pk>/actions/<slug:action>/", service_transition, name="service_transition"),
    path("sla/services/<int:pk>/history/", service_history, name="service_history"),
]
