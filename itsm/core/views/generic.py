"""Generic pages every app's reference data uses: list, detail, create / edit, history.

Views only declare (``model``, ``filterset_class``, ``form_class``, ``columns``, the services
to call) and inherit the behaviour: 403 without the model permission, 404 for a row outside
``visible_to(user)``, filters and pagination on lists, services (never ``form.save()``) for
writes with their ``ValidationError`` shown next to the fields.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import models
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.generic import DetailView, FormView, ListView

from ..audit import history_of
from ..forms import bootstrap_widgets
from ..history import present
from ..permissions import can, can_view_history


class RoleRequiredMixin(LoginRequiredMixin):
    """Signed-in users holding ``permission_verb`` on ``model``; everyone else gets 403."""

    model: Any
    request: HttpRequest
    permission_verb = "view"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not self.has_permission():
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def has_permission(self) -> bool:
        return can(self.request.user, self.permission_verb, self.model)

    def visible_queryset(self):
        return self.model.objects.visible_to(self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        opts = self.model._meta
        context.update(
            opts=opts,
            can_add=can(self.request.user, "add", self.model),
            can_change=can(self.request.user, "change", self.model),
            can_view_history=can_view_history(self.request.user),
        )
        return context


class ObjectListView(RoleRequiredMixin, ListView):
    """A filtered, sortable, paginated list. ``columns``: (attribute path, label) pairs."""

    template_name = "generic/object_list.html"
    paginate_by = 25
    filterset_class: Any = None
    columns: list[tuple[str, Any]] = []
    ordering_fields: tuple[str, ...] = ()
    default_ordering: tuple[str, ...] = ()
    select_related: tuple[str, ...] = ()
    create_url_name: str | None = None
    # Filters shown on the page only once another filter has a value ({"department":
    # "organisation"}): their choices would otherwise list every row of a large table.
    dependent_filters: dict[str, str] = {}

    def get_queryset(self):
        queryset = self.visible_queryset().select_related(*self.select_related)
        self.filterset = None
        if self.filterset_class is not None:
            self.filterset = self.filterset_class(self.request.GET or None, queryset=queryset, request=self.request)
            if self.filterset.is_bound and not self.filterset.is_valid():
                # Show the errors next to the filters and no rows: never "everything" for a
                # filter the user typed wrong.
                return queryset.none()
            queryset = self.filterset.qs if self.filterset.is_bound else queryset
        sort = self.request.GET.get("sort", "")
        if sort.lstrip("-") in self.ordering_fields:
            return queryset.order_by(sort, "pk")
        return queryset.order_by(*(self.default_ordering or self.model._meta.ordering or ["pk"]), "pk")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(
            filterset=self.filterset,
            filter_form=bootstrap_widgets(self.filterset.form) if self.filterset is not None else None,
            filter_fields=self._shown_filter_fields(),
            columns=self.columns,
            ordering_fields=self.ordering_fields,
            current_sort=self.request.GET.get("sort", ""),
            querystring=query.urlencode(),
            create_url_name=self.create_url_name,
        )
        return context

    def _shown_filter_fields(self) -> list:
        if self.filterset is None:
            return []
        return [
            field
            for field in self.filterset.form
            if field.name not in self.dependent_filters or self.request.GET.get(self.dependent_filters[field.name])
        ]


class ObjectDetailView(RoleRequiredMixin, DetailView):
    """One record: 403 without the view permission, 404 when out of reach."""

    template_name = "generic/object_detail.html"
    fields: list[str] = []
    select_related: tuple[str, ...] = ()
    edit_url_name: str | None = None

    def get_queryset(self):
        return self.visible_queryset().select_related(*self.select_related)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        obj = self.object
        rows = []
        for name in self.fields:
            field = obj._meta.get_field(name)
            display = getattr(obj, f"get_{name}_display", None)
            value = display() if callable(display) else getattr(obj, name)
            rows.append((field.verbose_name, value))
        context.update(rows=rows, edit_url_name=self.edit_url_name)
        return context


class ObjectEditView(RoleRequiredMixin, FormView):
    """Create (no ``pk`` in the URL) or edit a record through its services.

    ``create_service(actor=..., **cleaned_data)`` and ``update_service(<model_name>=obj,
    actor=..., **cleaned_data)`` do the write; a ``ValidationError`` they raise is shown on
    the form and nothing is saved.
    """

    template_name = "generic/object_edit.html"
    create_service: Callable[..., models.Model]
    update_service: Callable[..., models.Model]
    select_related: tuple[str, ...] = ()

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.object = None

    def has_permission(self) -> bool:
        verb = "change" if "pk" in self.kwargs else "add"
        return can(self.request.user, verb, self.model)

    def dispatch(self, request, *args, **kwargs):
        if "pk" in kwargs and request.user.is_authenticated:
            queryset = self.visible_queryset() if can(request.user, "view", self.model) else self.model.objects.none()
            try:
                self.object = get_object_or_404(queryset.select_related(*self.select_related), pk=kwargs["pk"])
            except Http404:
                if not can(request.user, "change", self.model):
                    raise PermissionDenied from None
                raise
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        if self.object is not None:
            kwargs["instance"] = self.object
        return kwargs

    def form_valid(self, form):
        data = {name: form.cleaned_data[name] for name in form._meta.fields if name in form.cleaned_data}
        try:
            if self.object is None:
                obj = type(self).create_service(actor=self.request.user, **data)
                messages.success(self.request, _("%(name)s was created.") % {"name": obj})
            else:
                service = type(self).update_service
                obj = service(**{self.model._meta.model_name: self.object}, actor=self.request.user, **data)
                messages.success(self.request, _("%(name)s was saved.") % {"name": obj})
        except ValidationError as exc:
            add_service_errors(form, exc)
            return self.form_invalid(form)
        return HttpResponseRedirect(self.get_success_url(obj))

    def get_success_url(self, obj=None):
        return obj.get_absolute_url()

    def get_cancel_url(self) -> str:
        """Where "Cancel" leads: the record being edited, else the list of its kind (the home
        page when there is none)."""
        if self.object is not None and hasattr(self.object, "get_absolute_url"):
            return self.object.get_absolute_url()
        try:
            return reverse(f"{self.model._meta.model_name}_list")
        except NoReverseMatch:
            return reverse("home")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["object"] = self.object
        context["cancel_url"] = self.get_cancel_url()
        return context


def add_service_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            target = field if field in form.fields else None
            for error in errors:
                form.add_error(target if field != NON_FIELD_ERRORS else None, error)
    else:
        for error in exc.messages:
            form.add_error(None, error)


class ObjectHistoryView(LoginRequiredMixin, DetailView):
    """The audit trail of one record, read-only, for auditors and process owners."""

    template_name = "generic/object_history.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not can_view_history(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        return self.model.objects.all()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        paginator = Paginator(history_of(self.object), 50)
        page_obj = paginator.get_page(self.request.GET.get("page"))
        context.update(
            entries=present(page_obj.object_list), page_obj=page_obj, paginator=paginator, opts=self.model._meta
        )
        return context
