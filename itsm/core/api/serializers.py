"""Serializers of the core records. Writes go through the services, as on the pages."""

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from rest_framework import serializers

from .. import services
from ..models import Contact, Department, Organisation


class ServiceModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose create / update call the app's services with the acting user."""

    create_service: Callable[..., Any]
    update_service: Callable[..., Any]

    def _call(self, service, **kwargs):
        try:
            return service(actor=self.context["request"].user, **kwargs)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(serializers.as_serializer_error(exc)) from exc

    def create(self, validated_data):
        return self._call(type(self).create_service, **validated_data)

    def update(self, instance, validated_data):
        return self._call(type(self).update_service, **{instance._meta.model_name: instance}, **validated_data)


# Keys a browser form posts besides the data (the browsable API's forms).
FORM_KEYS = frozenset({"csrfmiddlewaretoken"})


class StrictInputMixin:
    """Refuse (400, per key) every key of the body that the serializer does not write."""

    # Rather than drop it: ``status`` moves only by a workflow action, the output's other
    # fields (``read_only_names``) are read-only, anything else is unknown.

    fields: Any
    read_only_names: frozenset[str] = frozenset()

    def refusal(self, key: str) -> str:
        if key == "status":
            return _("The status changes only through a workflow action (POST …/transitions/).")
        if key in self.read_only_names:
            return _("This field is read-only.")
        return _("Unknown field.")

    def to_internal_value(self, data: Any) -> Any:
        extra: dict[str, list[str]] = {}
        if isinstance(data, Mapping):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            extra = {key: [self.refusal(key)] for key in data if key not in writable and key not in FORM_KEYS}
        try:
            value = super().to_internal_value(data)  # type: ignore[misc]
        except serializers.ValidationError as exc:
            if extra and isinstance(exc.detail, dict):
                raise serializers.ValidationError({**extra, **exc.detail}) from exc
            raise
        if extra:
            raise serializers.ValidationError(extra)
        return value


class ApiErrorSerializer(serializers.Serializer):
    """The API's error body (``itsm.core.api.exceptions``): every error of every operation."""

    message = serializers.CharField()
    errors = serializers.DictField(  # type: ignore[assignment]  # a declared field, not Serializer.errors
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Invalid input only: the messages per field (`non_field_errors` for the whole input).",
    )


class MomentField(serializers.DateTimeField):
    """A moment a client reports (received, resolved, recorded, closing): 1970 to 2099.

    Earlier or later is a typo. And before 1901 the local zone's offset has seconds (Asia/Shanghai
    kept local mean time, +08:05:43), which the ``date-time`` of the answer could not carry.
    """

    first = datetime(1970, 1, 1, tzinfo=UTC)
    end = datetime(2100, 1, 1, tzinfo=UTC)

    def to_internal_value(self, value):
        moment = super().to_internal_value(value)
        if not self.first <= moment < self.end:
            raise serializers.ValidationError(
                _("Give a date and time from %(first)s to %(last)s.") % {"first": "1970-01-01", "last": "2099-12-31"}
            )
        return moment


class DepartmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["id", "name"]


class OrganisationSerializer(ServiceModelSerializer):
    create_service = staticmethod(services.organisation_create)
    update_service = staticmethod(services.organisation_update)
    departments = DepartmentSerializer(many=True, read_only=True)

    class Meta:
        model = Organisation
        fields = [
            "id",
            "name",
            "code",
            "kind",
            "is_key_customer",
            "address",
            "notes",
            "is_active",
            "departments",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]


class ContactSerializer(ServiceModelSerializer):
    create_service = staticmethod(services.contact_create)
    update_service = staticmethod(services.contact_update)
    organisation_name = serializers.CharField(source="organisation.name", read_only=True)

    class Meta:
        model = Contact
        fields = [
            "id",
            "organisation",
            "organisation_name",
            "department",
            "name",
            "email",
            "phone",
            "is_vip",
            "preferred_language",
            "unsubscribed",
            "is_active",
            "notes",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def validate(self, attrs):
        email = attrs.get("email", getattr(self.instance, "email", ""))
        phone = attrs.get("phone", getattr(self.instance, "phone", ""))
        if not email and not phone:
            raise serializers.ValidationError({"email": _("Give an email address or a phone number.")})
        return attrs
