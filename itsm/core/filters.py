"""FilterSets of the core records, shared by pages and the API."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_filters.widgets import BooleanWidget

from .choices import Language, OrganisationKind
from .models import Calendar, Contact, Department, Organisation


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

    class Meta:
        model = Department
        fields = ["q", "organisation"]


class ContactFilterSet(SearchFilterSet):
    search_fields = ("name", "email", "phone")
    organisation = django_filters.ModelChoiceFilter(queryset=Organisation.objects.all(), label=_("Organisation"))
    # A department's name includes its organisation's: load both in the one query.
    department = django_filters.ModelChoiceFilter(
        queryset=Department.objects.select_related("organisation"), label=_("Department")
    )
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
            # Offer (and accept) only that organisation's departments.
            self.filters["department"].queryset = Department.objects.filter(
                organisation_id=organisation
            ).select_related("organisation")


class CalendarFilterSet(SearchFilterSet):
    search_fields = ("name",)
    always_open = YesNoFilter(label=_("24×7"))
    is_default = YesNoFilter(label=_("Default"))

    class Meta:
        model = Calendar
        fields = ["q", "country", "always_open", "is_default"]
