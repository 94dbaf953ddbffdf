"""API of the core records: organisations and contacts."""

from collections.abc import Callable

from django.db.models import Prefetch
from rest_framework import viewsets

from .. import services
from ..filters import ContactFilterSet, OrganisationFilterSet
from ..models import Contact, Department, Organisation
from .serializers import ContactSerializer, OrganisationSerializer


class VisibleModelViewSet(viewsets.ModelViewSet):
    """Rows scoped with ``visible_to(user)``; out-of-reach rows are 404."""

    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return self.queryset.visible_to(self.request.user)

    delete_service: Callable[..., None]

    def perform_destroy(self, instance):
        type(self).delete_service(**{instance._meta.model_name: instance}, actor=self.request.user)


class OrganisationViewSet(VisibleModelViewSet):
    queryset = Organisation.objects.prefetch_related(
        Prefetch("departments", queryset=Department.objects.order_by("name"))
    ).order_by("name")
    serializer_class = OrganisationSerializer
    delete_service = services.organisation_delete
    filterset_class = OrganisationFilterSet
    search_fields = ["name", "code"]
    ordering_fields = ["name", "code", "kind", "created_at"]


class ContactViewSet(VisibleModelViewSet):
    queryset = Contact.objects.select_related("organisation").order_by("name", "pk")
    serializer_class = ContactSerializer
    delete_service = services.contact_delete
    filterset_class = ContactFilterSet
    search_fields = ["name", "email", "phone"]
    ordering_fields = ["name", "email", "created_at"]
