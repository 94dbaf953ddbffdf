"""Pages of the core app: home per role, reference data, calendars, audit trail, health."""

from __future__ import annotations

from datetime import timedelta

from auditlog.models import LogEntry
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django.views.generic import ListView

from .. import calendar as business_calendar
from .. import history
from ..exports import export_response, filename_for
from ..filters import AuditFilterSet, CalendarFilterSet, ContactFilterSet, OrganisationFilterSet
from ..forms import CalendarForm, CalendarOverrideForm, ContactForm, DepartmentForm, OrganisationForm, bootstrap_widgets
from ..home import actions_for, panels_for
from ..models import Calendar, CalendarOverride, Contact, Department, Organisation
from ..navigation import home_sections_for
from ..permissions import can, can_view_history
from ..roles import Role, roles_of
from ..services import (
    calendar_create,
    calendar_override_create,
    calendar_override_delete,
    calendar_update,
    contact_create,
    contact_update,
    department_create,
    department_update,
    organisation_create,
    organisation_update,
)
from .generic import ObjectDetailView, ObjectEditView, ObjectListView, add_service_errors


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The home page: the primary actions and the work queues of the user's roles (each app
    registers its panels, ``itsm.core.home``), then what each role does with its links. A
    superuser gets every panel and the admin link."""
    user = request.user
    roles = roles_of(user)
    return render(
        request,
        "core/home.html",
        {
            "roles": [Role(r) for r in roles],
            "sections": home_sections_for(user, roles),
            "panels": panels_for(user),
            "actions": actions_for(user),
        },
    )


# --- organisations --------------------------------------------------------------------------


class OrganisationListView(ObjectListView):
    model = Organisation
    filterset_class = OrganisationFilterSet
    columns = [
        ("name", _("Name")),
        ("code", _("Code")),
        ("get_kind_display", _("Kind")),
        ("is_key_customer", _("Key customer")),
        ("is_active", _("Active")),
    ]
    ordering_fields = ("name", "code", "kind")
    create_url_name = "organisation_create"


class OrganisationDetailView(ObjectDetailView):
    model = Organisation
    template_name = "core/organisation_detail.html"
    fields = ["name", "code", "kind", "is_key_customer", "address", "notes", "is_active"]
    edit_url_name = "organisation_edit"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["departments"] = self.object.departments.all()
        context["contacts"] = self.object.contacts.select_related("department")[:100]
        context["contact_count"] = self.object.contacts.count()
        context["can_add_department"] = can(self.request.user, "add", Department)
        context["can_add_contact"] = can(self.request.user, "add", Contact)
        return context


class OrganisationEditView(ObjectEditView):
    model = Organisation
    form_class = OrganisationForm
    create_service = organisation_create
    update_service = organisation_update


class DepartmentEditView(ObjectEditView):
    model = Department
    form_class = DepartmentForm
    create_service = department_create
    update_service = department_update
    select_related = ("organisation",)

    def get_initial(self):
        # Only when asked for (?organisation=…): an empty initial would hide an edited row's own.
        organisation = self.request.GET.get("organisation")
        return {"organisation": organisation} if organisation else {}

    def get_success_url(self, obj=None):
        return obj.organisation.get_absolute_url()

    def get_cancel_url(self) -> str:
        # A department has no page of its own: back to its organisation's.
        if self.object is not None:
            return self.object.organisation.get_absolute_url()
        organisation = self.request.GET.get("organisation", "")
        if organisation.isdigit():
            return reverse("organisation_detail", args=[int(organisation)])
        return reverse("organisation_list")


# --- contacts -------------------------------------------------------------------------------


class ContactListView(ObjectListView):
    model = Contact
    filterset_class = ContactFilterSet
    select_related = ("organisation", "department")
    columns = [
        ("name", _("Name")),
        ("organisation", _("Organisation")),
        ("department.name", _("Department")),
        ("email", _("Email")),
        ("phone", _("Phone")),
        ("is_vip", _("VIP")),
        ("get_preferred_language_display", _("Language")),
    ]
    ordering_fields = ("name", "organisation__name", "email")
    create_url_name = "contact_create"


class ContactDetailView(ObjectDetailView):
    model = Contact
    select_related = ("organisation", "department")
    fields = [
        "name",
        "organisation",
        "department",
        "email",
        "phone",
        "is_vip",
        "preferred_language",
        "unsubscribed",
        "is_active",
        "notes",
    ]
    edit_url_name = "contact_edit"


class ContactEditView(ObjectEditView):
    model = Contact
    form_class = ContactForm
    create_service = contact_create
    update_service = contact_update
    select_related = ("organisation", "department")

    def get_initial(self):
        # Only when asked for (?organisation=…): an empty initial would hide an edited row's own.
        organisation = self.request.GET.get("organisation")
        return {"organisation": organisation} if organisation else {}


# --- calendars ------------------------------------------------------------------------------


class CalendarListView(ObjectListView):
    model = Calendar
    filterset_class = CalendarFilterSet
    columns = [
        ("name", _("Name")),
        ("country", _("Country")),
        ("time_zone", _("Time zone")),
        ("work_start", _("Working hours start")),
        ("work_end", _("Working hours end")),
        ("always_open", _("24×7")),
        ("is_default", _("Default")),
    ]
    ordering_fields = ("name",)
    create_url_name = "calendar_create"


class CalendarDetailView(ObjectDetailView):
    model = Calendar
    template_name = "core/calendar_detail.html"
    fields = ["name", "country", "subdivision", "time_zone", "work_start", "work_end", "always_open", "is_default"]
    edit_url_name = "calendar_edit"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        calendar = self.object
        start = _parse_month(self.request.GET.get("month")) or timezone.localdate().replace(day=1)
        days = []
        day = start
        while day.month == start.month:
            days.append({"date": day, "working": business_calendar.is_working_day(day, calendar)})
            day += timedelta(days=1)
        context.update(
            month=start,
            previous_month=(start - timedelta(days=1)).replace(day=1),
            next_month=(start + timedelta(days=32)).replace(day=1),
            leading_blanks=range(start.weekday()),
            days=days,
            overrides=calendar.overrides.all(),
            override_form=kwargs.get("override_form") or CalendarOverrideForm(),
            can_edit_overrides=can(self.request.user, "add", CalendarOverride),
        )
        return context

    def post(self, request, *args, **kwargs):
        """Add an override from the calendar page (process owners)."""
        if not can(request.user, "add", CalendarOverride):
            raise PermissionDenied
        self.object = self.get_object()
        form = CalendarOverrideForm(request.POST)
        if form.is_valid():
            try:
                override = calendar_override_create(actor=request.user, calendar=self.object, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("The override was saved; due dates are being recomputed."))
                return redirect(f"{self.object.get_absolute_url()}?month={override.date:%Y-%m}")
        return self.render_to_response(self.get_context_data(override_form=form), status=400)


def _parse_month(value: str | None):
    from datetime import date

    try:
        year, month = (int(part) for part in (value or "").split("-"))
        return date(year, month, 1)
    except (ValueError, TypeError):
        return None


class CalendarEditView(ObjectEditView):
    model = Calendar
    form_class = CalendarForm
    create_service = calendar_create
    update_service = calendar_update


@require_POST
@login_required
def calendar_override_remove(request: HttpRequest, calendar_pk: int, pk: int) -> HttpResponse:
    if not can(request.user, "delete", CalendarOverride):
        raise PermissionDenied
    override = get_object_or_404(CalendarOverride, pk=pk, calendar_id=calendar_pk)
    calendar_override_delete(override=override, actor=request.user)
    messages.success(request, _("The override was removed."))
    return redirect(override.calendar.get_absolute_url())


# --- audit trail ----------------------------------------------------------------------------


class AuditListView(LoginRequiredMixin, ListView):
    """Every audit entry, newest first, filtered, readable, and exported for auditors."""

    template_name = "core/audit_list.html"
    paginate_by = 50

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not can_view_history(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        queryset = LogEntry.objects.select_related("actor", "content_type").order_by("-timestamp", "-pk")
        query = self.request.GET.copy()
        query.pop("page", None)
        query.pop("format", None)
        self.filterset = AuditFilterSet(query or None, queryset=queryset, request=self.request)
        if self.filterset.is_bound and not self.filterset.is_valid():
            return queryset.none()  # the errors show next to the filters; never "everything"
        return self.filterset.qs

    def get(self, request, *args, **kwargs):
        fmt = request.GET.get("format")
        if fmt:
            return export_response(
                history.change_rows(self.get_queryset().iterator(chunk_size=500)),
                AUDIT_EXPORT_COLUMNS,
                fmt,
                filename_for("audit-trail", fmt),
                sheet_title=str(_("Audit trail")),
            )
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        query.pop("format", None)
        context.update(
            entries=history.present(context["object_list"]),
            filter_form=bootstrap_widgets(self.filterset.form),
            querystring=query.urlencode(),
        )
        return context


AUDIT_EXPORT_COLUMNS = [
    (_("When"), lambda row: row["when"]),
    (_("Who"), lambda row: row["actor"]),
    (_("Kind of record"), lambda row: row["record_type"]),
    (_("Record"), lambda row: row["record"]),
    (_("Record number"), lambda row: row["object_pk"]),
    (_("Action"), lambda row: row["action"]),
    (_("Field"), lambda row: row["field"]),
    (_("Before"), lambda row: row["before"]),
    (_("After"), lambda row: row["after"]),
]


# --- health ---------------------------------------------------------------------------------


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """The icon, for browsers asking for /favicon.ico on pages that name none (admin, API docs)."""
    from django.templatetags.static import static

    return redirect(static("img/favicon.ico"), permanent=True)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Database and broker reachability: 200 when both answer, 503 otherwise."""
    from itsm.celery import app as celery_app

    status = {"database": "ok", "broker": "ok"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        status["database"] = f"error: {exc.__class__.__name__}"
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
    except Exception as exc:
        status["broker"] = f"error: {exc.__class__.__name__}"
    healthy = all(value == "ok" for value in status.values())
    return JsonResponse({"status": "ok" if healthy else "error", **status}, status=200 if healthy else 503)
