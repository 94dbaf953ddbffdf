"""Type-ahead pickers: the choice of a record among many (organisations, contacts, users…).

A ``Picker`` names a model, the query parameters it understands (``kind=customer``,
``active=1``, ``organisation=<id>``…), how it searches, labels and orders its rows, and who
may use it. Three things are built on one picker, so they always agree:

* its JSON endpoint (``Picker.view``, URL name ``pick_<name>``): ``GET ?q=…`` →
  ``{"results": [{"value": pk, "text": label, …}], "more": bool}``, at most ``LIMIT`` rows in
  a constant number of queries; signed out → the login page, without the permission → 403;
* the widgets ``PickerSelect`` / ``PickerSelectMultiple``: a ``<select>`` holding only the
  chosen option(s) (looked up in one query), which ``static/js/pickers.js`` turns into a
  Tom Select asking the endpoint as the user types — the page never grows with the table;
* the form fields ``PickerField`` / ``PickerMultipleField`` and the filter ``PickerFilter``:
  a submitted pk outside the picker's rows (or outside the user's reach, once scoped with
  ``scope_pickers`` or through the filter set's request) is a validation error, never a 500.

Apps declare their pickers in ``<app>/pickers.py`` and route them in their ``urls.py``.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar
from urllib.parse import urlencode

import django_filters
from django import forms
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .choices import OrganisationKind
from .models import Contact, Department, Organisation, User
from .permissions import can_view
from .roles import Role, roles_of

LIMIT = 20  # rows an endpoint returns; "more" says there were others
MAX_QUERY = 100  # characters of ``q`` looked at


# --- search terms --------------------------------------------------------------------------


def is_cjk(char: str) -> bool:
    """A Chinese (or Japanese / Korean) character: one of them already names a person (陈)."""
    return char.isalpha() and unicodedata.east_asian_width(char) == "W"


def search_term_ok(term: str, min_length: int = 2) -> bool:
    """Whether ``term`` is long enough to search by: ``min_length`` characters, or a single
    CJK character (a one-character surname is a real search; a lone Latin letter is not)."""
    term = term.strip()
    return len(term) >= min_length or (len(term) >= 1 and all(is_cjk(char) for char in term))


def flag_param(params: Mapping[str, str], name: str) -> bool:
    return str(params.get(name, "")).lower() in ("1", "true", "yes")


def int_param(params: Mapping[str, str], name: str) -> int | None:
    value = str(params.get(name, "") or "").strip()
    return int(value) if value.isdigit() else None


def choice_param(params: Mapping[str, str], name: str, choices: Iterable[str]) -> str:
    value = str(params.get(name, "") or "")
    return value if value in set(choices) else ""


def choices_param(params: Mapping[str, str], name: str, choices: Iterable[str]) -> list[str]:
    """A comma-separated list parameter (``status=active,negotiating``), unknown values dropped."""
    allowed = set(choices)
    return [value for value in str(params.get(name, "") or "").split(",") if value in allowed]


# --- pickers -------------------------------------------------------------------------------


class Picker:
    """What one kind of picker offers; subclasses set the class attributes and may override
    ``queryset`` (the parameters), ``search``, ``label``, ``details`` and ``permitted``."""

    name: ClassVar[str]  # URL /pick/<name>/, URL name pick_<name>
    model: ClassVar[type[models.Model]]
    params: ClassVar[tuple[str, ...]] = ()  # the query parameters read (others are ignored)
    search_fields: ClassVar[tuple[str, ...]] = ()
    ordering: ClassVar[tuple[str, ...]] = ("pk",)
    select_related: ClassVar[tuple[str, ...]] = ()
    min_length: ClassVar[int] = 1  # of a non-empty ``q`` (2: or one CJK character); "" lists the first rows

    @property
    def url_name(self) -> str:
        return f"pick_{self.name}"

    def url(self, params: Mapping[str, Any] | None = None) -> str:
        query = urlencode({key: value for key, value in (params or {}).items() if value not in (None, "")})
        return reverse(self.url_name) + (f"?{query}" if query else "")

    def urlpattern(self):
        return path(f"pick/{self.name}/", self.view, name=self.url_name)

    # who, what

    def permitted(self, user) -> bool:
        """The permission of the model's list page (and of every page offering the picker)."""
        return can_view(user, self.model)

    def queryset(self, params: Mapping[str, Any] | None = None) -> QuerySet:
        """The rows offered for ``params``, unordered and unscoped (forms validate against it)."""
        return self.model._default_manager.select_related(*self.select_related)

    def scope(self, queryset: QuerySet, user) -> QuerySet:
        """``queryset`` cut to what ``user`` may see: ``visible_to(user)``, nothing without the permission."""
        if user is None or not self.permitted(user):
            return queryset.none()
        visible_to = getattr(queryset, "visible_to", None)
        return visible_to(user) if callable(visible_to) else queryset

    def search(self, queryset: QuerySet, query: str) -> QuerySet:
        condition = Q()
        for word in query.split():
            any_field = Q()
            for field in self.search_fields:
                any_field |= Q(**{f"{field}__icontains": word})
            condition &= any_field
        return queryset.filter(condition)

    def hint(self, query: str, params: Mapping[str, Any]) -> str | None:
        """Why ``query`` is not searched (shown instead of the results), or None to search."""
        if query and not search_term_ok(query, self.min_length):
            return gettext("Type at least two characters, or one Chinese character.")
        return None

    # how a row is shown

    def label(self, obj: Any, params: Mapping[str, Any] | None = None) -> str:
        return str(obj)

    def details(self, obj: Any) -> dict[str, Any]:
        """More about a row for the page's script (``data-*`` on a rendered option)."""
        return {}

    # the endpoint

    def matching(self, query: str, params: Mapping[str, Any], *, user: Any = None, limit: int = LIMIT) -> list[Any]:
        """Up to ``limit`` rows matching ``query`` (none when ``hint`` refuses it), in order;
        cut to ``user``'s reach when a user is given. One query."""
        query = query.strip()[:MAX_QUERY]
        if self.hint(query, params) is not None:
            return []
        queryset = self.queryset(params)
        if user is not None:
            queryset = self.scope(queryset, user)
        if query:
            queryset = self.search(queryset, query)
        return list(queryset.order_by(*self.ordering)[:limit])

    def results(self, user, query: str, params: Mapping[str, Any], limit: int = LIMIT) -> dict[str, Any]:
        """The endpoint's answer: ``{"results": [...], "more": bool}`` (+ ``"hint"``)."""
        hint = self.hint(query.strip()[:MAX_QUERY], params)
        if hint is not None:
            return {"results": [], "more": False, "hint": hint}
        rows = self.matching(query, params, user=user, limit=limit + 1)
        results = [{"value": obj.pk, "text": self.label(obj, params), **self.details(obj)} for obj in rows[:limit]]
        return {"results": results, "more": len(rows) > limit}

    def view(self, request: HttpRequest) -> HttpResponse:
        return _picker_view(request, self)


@never_cache
@require_GET
def _picker_view(request: HttpRequest, picker: Picker) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not picker.permitted(request.user):
        return JsonResponse({"message": gettext("You do not have permission to do this.")}, status=403)
    params = {name: request.GET.get(name, "") for name in picker.params}
    return JsonResponse(picker.results(request.user, request.GET.get("q", ""), params))


class OrganisationPicker(Picker):
    """Organisations by name or code; ``kind`` (customer / internal / supplier), ``active=1``."""

    name = "organisations"
    model = Organisation
    params: ClassVar[tuple[str, ...]] = ("kind", "active")
    search_fields = ("name", "code")
    ordering = ("name", "pk")

    def queryset(self, params=None):
        params = params or {}
        queryset = super().queryset(params)
        kind = choice_param(params, "kind", OrganisationKind.values)
        if kind:
            queryset = queryset.filter(kind=kind)
        if flag_param(params, "active"):
            queryset = queryset.filter(is_active=True)
        return queryset

    def label(self, obj, params=None):
        # Without a kind the choice may be a customer, a team or a supplier: say which.
        if choice_param(params or {}, "kind", OrganisationKind.values):
            return obj.name
        return f"{obj.name} ({obj.get_kind_display()})"


class DepartmentPicker(Picker):
    """Departments by their or their organisation's name; ``organisation=<id>``, ``kind``."""

    name = "departments"
    model = Department
    params = ("organisation", "kind")
    search_fields = ("name", "organisation__name")
    ordering = ("organisation__name", "name", "pk")
    select_related = ("organisation",)

    def queryset(self, params=None):
        params = params or {}
        queryset = super().queryset(params)
        organisation = int_param(params, "organisation")
        if organisation is not None:
            queryset = queryset.filter(organisation_id=organisation)
        kind = choice_param(params, "kind", OrganisationKind.values)
        if kind:
            queryset = queryset.filter(organisation__kind=kind)
        return queryset

    def label(self, obj, params=None):
        if int_param(params or {}, "organisation") is not None:
            return obj.name
        return f"{obj.organisation.name} / {obj.name}"


def contact_label(contact: Contact, *, with_organisation: bool = False) -> str:
    """The label of a contact: "Chen Jianguo · 13800000001 · chen@bank.example[ · 华信银行]"."""
    parts = [contact.name, contact.phone, contact.email]
    if with_organisation:
        parts.append(contact.organisation.name)
    return " · ".join(part for part in parts if part)


class ContactPicker(Picker):
    """Contacts by name, phone or email (a phone number matches with or without spaces and
    dashes, as it is read out on the phone); ``organisation=<id>`` lists that organisation's
    contacts even before anything is typed; ``kind`` of the organisation; ``active=1``:
    active contacts of active organisations. A search needs two characters, or one Chinese
    character (a surname: 陈)."""

    name = "contacts"
    model = Contact
    params = ("organisation", "kind", "active")
    ordering = ("name", "pk")
    select_related = ("organisation",)
    min_length = 2

    def queryset(self, params=None):
        params = params or {}
        queryset = super().queryset(params)
        organisation = int_param(params, "organisation")
        if organisation is not None:
            queryset = queryset.filter(organisation_id=organisation)
        kind = choice_param(params, "kind", OrganisationKind.values)
        if kind:
            queryset = queryset.filter(organisation__kind=kind)
        if flag_param(params, "active"):
            queryset = queryset.filter(is_active=True, organisation__is_active=True)
        return queryset

    def hint(self, query, params):
        if not query and int_param(params, "organisation") is None:
            return gettext("Type a name, phone number or email.")
        return super().hint(query, params)

    def search(self, queryset, query):
        # Trigram-indexed on PostgreSQL (itsm/core/migrations/0005_search_indexes.py).
        condition = Q(name__icontains=query) | Q(email__icontains=query)
        digits = "".join(char for char in query if char.isdigit() or char == "+")
        condition |= Q(phone__icontains=digits if len(digits) >= 3 else query)
        return queryset.filter(condition)

    def label(self, obj, params=None):
        return contact_label(obj, with_organisation=int_param(params or {}, "organisation") is None)

    def details(self, obj):
        return {"organisation": obj.organisation_id, "organisation_text": obj.organisation.name}


class UserPicker(Picker):
    """Staff accounts by user name, name or email; ``role=<role>`` (members of that role),
    ``active=1``. Anyone holding a role may pick a colleague."""

    name = "users"
    model = User
    params: ClassVar[tuple[str, ...]] = ("role", "active")
    search_fields = ("username", "first_name", "last_name", "email")
    ordering = ("first_name", "username", "pk")

    def permitted(self, user) -> bool:
        return bool(user and user.is_authenticated and (user.is_superuser or roles_of(user)))

    def queryset(self, params=None):
        params = params or {}
        queryset = super().queryset(params)
        role = choice_param(params, "role", Role.values)
        if role:
            queryset = queryset.filter(groups__name=role)
        if flag_param(params, "active"):
            queryset = queryset.filter(is_active=True)
        return queryset


organisations = OrganisationPicker()
departments = DepartmentPicker()
contacts = ContactPicker()
users = UserPicker()

urlpatterns = [picker.urlpattern() for picker in (organisations, departments, contacts, users)]


# --- widgets -------------------------------------------------------------------------------


class PickerWidgetMixin:
    """A select rendering only the chosen option(s) (one query for their labels) plus
    ``offered`` ones, with what ``static/js/pickers.js`` needs as ``data-picker-*`` attributes.

    ``depends``: query parameters read from other fields of the page when searching
    (``{"organisation": "id_organisation"}``: the contacts of the organisation chosen there).
    """

    choices: Any
    attrs: dict[str, Any]
    allow_multiple_selected: bool

    def __init__(
        self,
        picker: Picker,
        params: Mapping[str, Any] | None = None,
        *,
        depends: Mapping[str, str] | None = None,
        placeholder: Any = None,
        attrs: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(attrs)  # type: ignore[call-arg]
        self.picker = picker
        self.params = dict(params or {})
        self.depends = dict(depends or {})
        self.placeholder = placeholder
        # Rows shown as options besides the chosen ones (a list, or a callable returning one).
        self.offered: list[Any] | Callable[[], list[Any]] = []

    def __deepcopy__(self, memo):
        copy = super().__deepcopy__(memo)  # type: ignore[misc]
        copy.params, copy.depends = dict(self.params), dict(self.depends)
        copy.offered = self.offered if callable(self.offered) else list(self.offered)
        return copy

    def get_context(self, name, value, attrs):
        attrs = dict(attrs or {})
        attrs.update(
            {
                "data-picker-url": self.picker.url(self.params),
                "data-picker-placeholder": str(self.placeholder or _("Type to search…")),
                "data-picker-empty": str(_("No match.")),
                "data-picker-error": str(_("The search failed; try again.")),
                "data-picker-remove": str(_("Remove")),
            }
        )
        if self.depends:
            attrs["data-picker-depends"] = json.dumps(self.depends)
        return super().get_context(name, value, attrs)  # type: ignore[misc]

    def _chosen(self, values: list[str]) -> list[Any]:
        """The chosen rows (in the field's queryset: what the form would accept), one query."""
        iterator = self.choices
        field = getattr(iterator, "field", None)
        queryset = getattr(iterator, "queryset", None)
        if field is None or queryset is None:
            return []
        key = field.to_field_name or "pk"
        model_field = queryset.model._meta.pk if key == "pk" else queryset.model._meta.get_field(key)
        keys = []
        for value in values:
            try:
                keys.append(model_field.to_python(value))
            except (ValidationError, ValueError, TypeError):
                continue
        if not keys:
            return []
        return list(queryset.filter(**{f"{key}__in": keys}))

    def optgroups(self, name, value, attrs=None) -> list[Any]:
        values = [str(v) for v in value if v not in (None, "")]
        field = getattr(self.choices, "field", None)
        key = (field.to_field_name if field is not None else None) or "pk"
        offered = self.offered() if callable(self.offered) else self.offered
        known = {str(getattr(obj, key)) for obj in offered}
        rows: dict[str, Any] = {}
        # The chosen rows first; those already offered need no query (a formset's rows).
        for obj in [*self._chosen([v for v in values if v not in known]), *offered]:
            rows.setdefault(str(getattr(obj, key)), obj)
        options: list[dict[str, Any]] = []
        empty_label = getattr(field, "empty_label", None)
        if not self.allow_multiple_selected and empty_label is not None:
            options.append(self.create_option(name, "", empty_label, not values, 0, attrs=attrs))  # type: ignore[attr-defined]
        for index, (pk, obj) in enumerate(rows.items(), start=len(options)):
            option = self.create_option(  # type: ignore[attr-defined]
                name, pk, self.picker.label(obj, self.params), pk in values, index, attrs=attrs
            )
            # data-organisation_text reads back as dataset.organisation_text, the JSON's key.
            option["attrs"].update({f"data-{key}": value for key, value in self.picker.details(obj).items()})
            options.append(option)
        return [(None, [option], index) for index, option in enumerate(options)]


class PickerSelect(PickerWidgetMixin, forms.Select):
    pass


class PickerSelectMultiple(PickerWidgetMixin, forms.SelectMultiple):
    pass


# --- form fields and filters ---------------------------------------------------------------


class PickerField(forms.ModelChoiceField):
    """One row picked by type-ahead; ``queryset`` defaults to the picker's rows for ``params``."""

    def __init__(
        self,
        picker: Picker,
        params: Mapping[str, Any] | None = None,
        *,
        queryset: QuerySet | None = None,
        depends: Mapping[str, str] | None = None,
        placeholder: Any = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("widget", PickerSelect(picker, params, depends=depends, placeholder=placeholder))
        super().__init__(queryset=picker.queryset(params) if queryset is None else queryset, **kwargs)
        self.picker = picker
        self.params = dict(params or {})

    def label_from_instance(self, obj) -> str:
        return self.picker.label(obj, self.params)


class PickerMultipleField(forms.ModelMultipleChoiceField):
    """Several rows picked by type-ahead."""

    def __init__(
        self,
        picker: Picker,
        params: Mapping[str, Any] | None = None,
        *,
        queryset: QuerySet | None = None,
        placeholder: Any = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("widget", PickerSelectMultiple(picker, params, placeholder=placeholder))
        super().__init__(queryset=picker.queryset(params) if queryset is None else queryset, **kwargs)
        self.picker = picker
        self.params = dict(params or {})

    def label_from_instance(self, obj) -> str:
        return self.picker.label(obj, self.params)


class PickerFilter(django_filters.ModelChoiceFilter):
    """A django-filter choice of one row by type-ahead, scoped to the request's user: a pk out
    of reach is an invalid filter (the page shows the error and no rows)."""

    def __init__(
        self,
        picker: Picker,
        params: Mapping[str, Any] | None = None,
        *,
        queryset: QuerySet | None = None,
        depends: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("widget", PickerSelect(picker, params, depends=depends))
        self.picker = picker
        self.params = dict(params or {})
        super().__init__(queryset=picker.queryset(params) if queryset is None else queryset, **kwargs)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        user = getattr(request, "user", None)
        return self.picker.scope(queryset, user) if user is not None else queryset


def use_picker(
    field: forms.Field,
    picker: Picker,
    params: Mapping[str, Any] | None = None,
    *,
    depends: Mapping[str, str] | None = None,
    placeholder: Any = None,
) -> forms.Field:
    """Turn an existing model choice field (of a ``ModelForm``) into a type-ahead picker,
    keeping its queryset, label, help text and required flag."""
    assert isinstance(field, forms.ModelChoiceField)  # noqa: S101  (a programming error otherwise)
    multiple = isinstance(field, forms.ModelMultipleChoiceField)
    widget_class = PickerSelectMultiple if multiple else PickerSelect
    widget = widget_class(picker, params, depends=depends, placeholder=placeholder, attrs=dict(field.widget.attrs))
    widget.is_required = field.required
    widget.choices = field.choices
    field.widget = widget
    return field


def scope_pickers(form: forms.BaseForm, user) -> forms.BaseForm:
    """Cut every picker field's queryset of ``form`` to what ``user`` may see, so a pk out of
    reach fails validation like a pk that does not exist."""
    for field in form.fields.values():
        widget = field.widget
        if not isinstance(widget, PickerWidgetMixin) or not isinstance(field, forms.ModelChoiceField):
            continue
        if field.queryset is not None:
            field.queryset = widget.picker.scope(field.queryset, user)
    return form
