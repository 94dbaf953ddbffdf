"""FilterSets of the core records, shared by pages and the API."""

import functools
from pathlib import Path
from typing import cast

import django_filters
from auditlog.models import LogEntry
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_filters.widgets import BooleanWidget

from . import pickers
from .choices import Language, MailState, OrganisationKind
from .history import ACTION_LABELS
from .models import Calendar, Contact, Department, Notification, Organisation
from .pickers import PickerFilter


class AnyYesNoWidget(BooleanWidget):
    """A yes / no filter whose empty choice reads "Any" (not django-filter's "Unknown")."""

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.choices = (("", _("Any")), ("true", _("Yes")), ("false", _("No")))


class YesNoFilter(django_filters.BooleanFilter):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", AnyYesNoWidget)
        super().__init__(*args, **kwargs)


class SearchFilterSet(django_filters.FilterSet):
    """Adds ``q``: a case-insensitive search over ``search_fields``."""

    search_fields: tuple[str, ...] = ()
    q = django_filters.CharFilter(method="search", label=_("Search"))

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        condition = Q()
        for field in self.search_fields:
            condition |= Q(**{f"{field}__icontains": value})
        return queryset.filter(condition)


class OrganisationFilterSet(SearchFilterSet):
    search_fields = ("name", "code")
    kind = django_filters.ChoiceFilter(choices=OrganisationKind.choices, label=_("Kind"))
    is_key_customer = YesNoFilter(label=_("Key customer"))
    is_active = YesNoFilter(label=_("Active"))

    class Meta:
        model = Organisation
        fields = ["q", "kind", "is_key_customer", "is_active"]


class DepartmentFilterSet(SearchFilterSet):
    search_fields = ("name",)
    organisation = PickerFilter(pickers.organisations, label=_("Organisation"))

    class Meta:
        model = Department
        fields = ["q", "organisation"]


class ContactFilterSet(SearchFilterSet):
    search_fields = ("name", "email", "phone")
    # Type-ahead pickers; the department one searches within the organisation chosen.
    organisation = PickerFilter(pickers.organisations, label=_("Organisation"))
    department = PickerFilter(pickers.departments, depends={"organisation": "id_organisation"}, label=_("Department"))
    is_vip = YesNoFilter(label=_("VIP"))
    unsubscribed = YesNoFilter(label=_("Unsubscribed"))
    preferred_language = django_filters.ChoiceFilter(choices=Language.choices, label=_("Preferred language"))
    is_active = YesNoFilter(label=_("Active"))

    class Meta:
        model = Contact
        fields = ["q", "organisation", "department", "is_vip", "unsubscribed", "preferred_language", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        organisation = (self.data or {}).get("organisation")
        if organisation and str(organisation).isdigit():
            # Accept only that organisation's departments.
            self.filters["department"].queryset = pickers.departments.queryset({"organisation": str(organisation)})


class CalendarFilterSet(SearchFilterSet):
    search_fields = ("name",)
    always_open = YesNoFilter(label=_("24×7"))
    is_default = YesNoFilter(label=_("Default"))

    class Meta:
        model = Calendar
        fields = ["q", "country", "always_open", "is_default"]


def _audited_model_choices() -> list[tuple[str, str]]:
    from .history import audited_models

    choices = [
        (f"{model._meta.app_label}.{model._meta.model_name}", str(model._meta.verbose_name).capitalize())
        for model in audited_models()
    ]
    return sorted(choices, key=lambda choice: choice[1])


class AuditFilterSet(django_filters.FilterSet):
    """The audit trail's filters (page and export): kind of record, record, who, what, when."""

    model = django_filters.ChoiceFilter(choices=_audited_model_choices, method="by_model", label=_("Kind of record"))
    object_pk = django_filters.CharFilter(label=_("Record number"))
    q = django_filters.CharFilter(field_name="object_repr", lookup_expr="icontains", label=_("Record"))
    actor = PickerFilter(pickers.users, label=_("Who"))
    action = django_filters.ChoiceFilter(
        choices=[(key, label) for key, label in ACTION_LABELS.items() if key != LogEntry.Action.ACCESS],
        label=_("Action"),
    )
    since = django_filters.DateFilter(field_name="timestamp", lookup_expr="date__gte", label=_("From"))
    until = django_filters.DateFilter(field_name="timestamp", lookup_expr="date__lte", label=_("Until"))

    class Meta:
        model = LogEntry
        fields = ["model", "object_pk", "q", "actor", "action", "since", "until"]

    def by_model(self, queryset, name, value):
        app_label, _dot, model_name = value.partition(".")
        return queryset.filter(content_type__app_label=app_label, content_type__model=model_name)


@functools.cache
def _mail_template_names() -> tuple[str, ...]:
    """The mail templates on disk (``<app>/email/<name>.subject.txt``): what a notification's
    ``template`` can be. Read once per process, no query."""
    from django.conf import settings

    names: set[str] = set()
    directories = cast("list[str | Path]", settings.TEMPLATES[0]["DIRS"])
    for directory in directories:
        for path in Path(directory).glob("*/email/*.subject.txt"):
            base = path.name.removesuffix(".subject.txt").split(".")[0]  # report.zh-hans → report
            names.add(f"{path.parent.parent.name}/email/{base}")
    return tuple(sorted(names))


def _mail_templates() -> list[tuple[str, list[tuple[str, str]]]]:
    """The mail templates grouped by app, each group named by the app (in the current language)."""
    from django.apps import apps

    groups: dict[str, list[tuple[str, str]]] = {}
    for name in _mail_template_names():
        app_label, _slash, rest = name.partition("/")
        groups.setdefault(app_label, []).append((name, rest.rsplit("/", 1)[-1]))

    def app_name(label: str) -> str:
        try:
            return str(apps.get_app_config(label).verbose_name)
        except LookupError:
            return label

    return [(app_name(label), choices) for label, choices in groups.items()]


class NotificationFilterSet(django_filters.FilterSet):
    """The mail queue's filters: state (held = waiting for working hours), recipient, kind of
    mail (its template), when it was recorded. Filter a queryset annotated by
    ``itsm.core.selectors.with_mail_state``."""

    state = django_filters.ChoiceFilter(choices=MailState.choices, method="by_state", label=_("Status"))
    recipient = django_filters.CharFilter(method="by_recipient", label=_("Recipient"))
    template = django_filters.ChoiceFilter(choices=_mail_templates, label=_("Kind of mail"))
    since = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte", label=_("From"))
    until = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte", label=_("Until"))

    class Meta:
        model = Notification
        fields = ["state", "recipient", "template", "since", "until"]

    def by_state(self, queryset, name, value):
        return queryset.filter(state=value)

    def by_recipient(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(recipient_email__icontains=value) | Q(recipient_name__icontains=value))
