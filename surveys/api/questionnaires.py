"""The questionnaire API (SPEC §9): ``/api/v1/questionnaires/`` with its sections and questions.

* list: the latest version of each questionnaire (``?all_versions=true``: every version;
  ``?family=<uuid>``: the versions of one questionnaire), ``q`` searches the title, ``locked``
  (in use by a campaign); paginated. Retrieve: the version with its sections → questions →
  choices nested (four queries, whatever their number).
* create (``questionnaire_create``) and update / partial update of the title, introduction
  and thank-you text (``questionnaire_update``): a version in use is frozen, so editing it is
  a 400 saying so; ``{id}/new-version/`` (POST) copies it into a new, editable version.
* ``{id}/sections/`` (POST) adds a section, ``{id}/sections/{section_id}/`` (PATCH, DELETE)
  edits or removes one; ``{id}/questions/`` (POST) adds a question to one of the version's
  sections, ``{id}/questions/{question_id}/`` (PATCH, DELETE) edits or removes one. All go
  through ``surveys.services.questionnaires`` and are refused (400) on a version in use.

No DELETE of a questionnaire (405): versions are history. Reads need ``view_questionnaire``;
create and new versions ``add_questionnaire``; edits ``change_questionnaire``; sections and
questions their own model's add / change / delete permission.
"""

from __future__ import annotations

from typing import Any, cast

from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from itsm.core.api.filters import StableOrderingFilter
from itsm.core.api.permissions import RolePermission
from itsm.core.api.serializers import ApiErrorSerializer, ServiceModelSerializer, StrictInputMixin
from itsm.core.models import User
from itsm.core.permissions import can
from sla.models import Service, ServiceLevelTarget

from ..answers import QuestionContent, questionnaire_content
from ..bilingual import EN, ZH_HANS, Bilingual, bilingual
from ..choices import QuestionKind
from ..models import Question, Questionnaire, QuestionnaireSection
from ..services import questionnaires as services
from .filters import QuestionnaireFilterSet

ERRORS = {
    400: OpenApiResponse(
        ApiErrorSerializer, description="Invalid input (a message per field), or the version is in use."
    ),
    403: OpenApiResponse(ApiErrorSerializer, description="The caller's role may not do this."),
    404: OpenApiResponse(ApiErrorSerializer, description="No such questionnaire, section or question."),
}


class _ContentInputMixin(StrictInputMixin):
    def refusal(self, key: str) -> str:
        return _("Unknown field.")


# --- output ------------------------------------------------------------------------------------


class TextField(serializers.CharField):
    """One language of a bilingual text (``surveys.bilingual``), read from a model row
    (``title`` / ``title_en`` columns) or from ``questionnaire_content`` (a ``Bilingual``):
    ``TextField("title", ZH_HANS)`` is the Chinese title, ``TextField("title", EN)`` the English
    one; empty when that translation is missing."""

    def __init__(self, name: str, language: str, **kwargs: Any) -> None:
        self.text_name, self.language = name, language
        kwargs.setdefault("read_only", True)
        kwargs.setdefault(
            "help_text", gettext_lazy("In English.") if language == EN else gettext_lazy("In simplified Chinese.")
        )
        super().__init__(**kwargs)

    def get_attribute(self, instance: Any) -> str:
        value = getattr(instance, self.text_name)
        pair = value if isinstance(value, Bilingual) else bilingual(instance, self.text_name)
        return pair.of(self.language)


def _texts(*names: str) -> dict[str, TextField]:
    """The ``<name>`` (Chinese) and ``<name>_en`` (English) output fields of ``names``."""
    return {
        f"{name}{suffix}": TextField(name, language)
        for name in names
        for suffix, language in (("", ZH_HANS), ("_en", EN))
    }


class OptionSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    position = serializers.IntegerField(read_only=True)

    def get_fields(self) -> dict[str, serializers.Field]:
        return {**super().get_fields(), **_texts("label")}


class QuestionSerializer(serializers.Serializer):
    """A question, read from a ``Question`` row or from ``questionnaire_content``."""

    id = serializers.IntegerField(read_only=True)
    section = serializers.IntegerField(source="section_id", read_only=True)
    position = serializers.IntegerField(read_only=True)
    kind = serializers.ChoiceField(choices=QuestionKind.choices, read_only=True)
    required = serializers.BooleanField(read_only=True)  # type: ignore[assignment]
    comment_below = serializers.IntegerField(
        read_only=True, allow_null=True, help_text=gettext_lazy("A rating below this needs a comment (ratings only).")
    )
    service = serializers.IntegerField(
        source="service_id", read_only=True, allow_null=True, help_text=gettext_lazy("The catalogue service measured.")
    )
    sla_target = serializers.IntegerField(
        source="sla_target_id", read_only=True, allow_null=True, help_text=gettext_lazy("The SLA target measured.")
    )
    service_ref = serializers.CharField(read_only=True, help_text=gettext_lazy("Another service tag (free text)."))
    target_ref = serializers.CharField(read_only=True, help_text=gettext_lazy("Another target tag (free text)."))
    options = serializers.SerializerMethodField(
        help_text=gettext_lazy("The choices (single / multiple choice), in order.")
    )

    def get_fields(self) -> dict[str, serializers.Field]:
        return {**_texts(*Question.TEXTS), **super().get_fields()}

    @extend_schema_field(OptionSerializer(many=True))
    def get_options(self, question: Question | QuestionContent) -> Any:
        if isinstance(question, QuestionContent):
            rows: Any = question.options
        else:
            rows = question.options.order_by("position", "pk")
        return OptionSerializer(rows, many=True).data


class SectionSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    position = serializers.IntegerField(read_only=True)
    questions = QuestionSerializer(many=True, read_only=True)

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        questions = fields.pop("questions")
        return {**fields, **_texts(*QuestionnaireSection.TEXTS), "questions": questions}


class QuestionnaireSerializer(serializers.ModelSerializer):
    """A questionnaire version as the list shows it. ``family`` is shared by every version of
    one questionnaire; ``locked``: in use by a campaign, so frozen."""

    locked = serializers.BooleanField(source="is_locked", read_only=True)
    created_by_name = serializers.SerializerMethodField()
    question_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Questionnaire
        fields = [
            "id",
            "family",
            "version",
            "title",
            "title_en",
            "introduction",
            "introduction_en",
            "thanks",
            "thanks_en",
            "locked",
            "locked_at",
            "question_count",
            "created_by",
            "created_by_name",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_created_by_name(self, questionnaire: Questionnaire) -> str | None:
        return str(questionnaire.created_by) if questionnaire.created_by is not None else None


class QuestionnaireDetailSerializer(QuestionnaireSerializer):
    """A version with its sections, questions and choices, in order."""

    sections = serializers.SerializerMethodField()

    class Meta(QuestionnaireSerializer.Meta):
        fields = [*QuestionnaireSerializer.Meta.fields, "sections"]
        read_only_fields = fields

    @extend_schema_field(SectionSerializer(many=True))
    def get_sections(self, questionnaire: Questionnaire) -> Any:
        return SectionSerializer(questionnaire_content(questionnaire).sections, many=True).data


# --- input -------------------------------------------------------------------------------------


class QuestionnaireWriteSerializer(StrictInputMixin, ServiceModelSerializer):
    """Title, introduction and thank-you text (``questionnaire_create`` / ``questionnaire_update``)."""

    create_service = staticmethod(services.questionnaire_create)
    update_service = staticmethod(services.questionnaire_update)

    class Meta:
        model = Questionnaire
        fields = list(services.QUESTIONNAIRE_FIELDS)

    def refusal(self, key: str) -> str:
        if key in QuestionnaireDetailSerializer.Meta.fields:
            return _("This field is read-only.")
        return _("Unknown field.")


class SectionWriteSerializer(_ContentInputMixin, serializers.ModelSerializer):
    class Meta:
        model = QuestionnaireSection
        fields = list(services.SECTION_FIELDS)


class OptionInputSerializer(_ContentInputMixin, serializers.Serializer):
    label = serializers.CharField(  # type: ignore[assignment]  # a declared field
        max_length=200, required=False, allow_blank=True, help_text=gettext_lazy("In simplified Chinese.")
    )
    label_en = serializers.CharField(
        max_length=200, required=False, allow_blank=True, help_text=gettext_lazy("In English.")
    )


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "maxLength": 200, "description": "A choice's Chinese label."},
            {
                "type": "object",
                "properties": {
                    "label": {"type": "string", "maxLength": 200, "description": "In simplified Chinese."},
                    "label_en": {"type": "string", "maxLength": 200, "description": "In English."},
                },
                "additionalProperties": False,
            },
        ]
    }
)
class OptionInputField(serializers.Field):
    """A choice: its Chinese label (a string), or ``{"label": …, "label_en": …}``."""

    default_error_messages = {"invalid": gettext_lazy("Give a label, or an object with label and label_en.")}

    def to_internal_value(self, data: Any) -> tuple[str, str]:
        if isinstance(data, str):
            data = {"label": data}
        if not isinstance(data, dict):
            self.fail("invalid")
        serializer = OptionInputSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        return (serializer.validated_data.get("label", ""), serializer.validated_data.get("label_en", ""))

    def to_representation(self, value: Any) -> Any:
        return value


class QuestionWriteSerializer(_ContentInputMixin, serializers.Serializer):
    """A question's fields; every text in Chinese (``text``) and English (``text_en``), one of
    the two at least. ``options``: the choices, in order (single / multiple choice: two to
    thirty; other types: none), each a Chinese label or ``{"label": …, "label_en": …}``. On
    update ``options`` replaces the choices when sent, and ``section`` cannot be changed."""

    section = serializers.PrimaryKeyRelatedField(
        queryset=QuestionnaireSection.objects.all(), help_text=gettext_lazy("A section of this questionnaire version.")
    )
    kind = serializers.ChoiceField(choices=QuestionKind.choices)
    text = serializers.CharField(
        max_length=500, required=False, allow_blank=True, help_text=gettext_lazy("In simplified Chinese.")
    )
    text_en = serializers.CharField(
        max_length=500, required=False, allow_blank=True, help_text=gettext_lazy("In English.")
    )
    help_text = serializers.CharField(max_length=500, required=False, allow_blank=True)  # type: ignore[assignment]
    help_text_en = serializers.CharField(max_length=500, required=False, allow_blank=True)
    required = serializers.BooleanField(required=False)  # type: ignore[assignment]  # a declared field
    comment_below = serializers.IntegerField(
        min_value=2,
        max_value=5,
        required=False,
        allow_null=True,
        help_text=gettext_lazy("Ratings only: a comment below this."),
    )
    service = serializers.PrimaryKeyRelatedField(queryset=Service.objects.all(), required=False, allow_null=True)
    sla_target = serializers.PrimaryKeyRelatedField(
        queryset=ServiceLevelTarget.objects.filter(agreement__kind="sla"), required=False, allow_null=True
    )
    service_ref = serializers.CharField(max_length=200, required=False, allow_blank=True)
    target_ref = serializers.CharField(max_length=200, required=False, allow_blank=True)
    options = serializers.ListField(child=OptionInputField(), required=False, max_length=services.MAX_OPTIONS)

    def __init__(self, *args, questionnaire: Questionnaire | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if questionnaire is not None:
            self.fields["section"].queryset = QuestionnaireSection.objects.filter(questionnaire=questionnaire)


class QuestionUpdateSerializer(QuestionWriteSerializer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.pop("section")

    def refusal(self, key: str) -> str:
        if key == "section":
            return _("A question stays in its section; delete it and add it to the other one.")
        return super().refusal(key)


# --- views -------------------------------------------------------------------------------------


class ContentPermission(BasePermission):
    """Writing a version's sections or questions: view the questionnaire and the child
    model's add (POST), change (PUT / PATCH) or delete (DELETE) permission."""

    model: type[QuestionnaireSection] | type[Question]
    verbs = {"POST": "add", "PUT": "change", "PATCH": "change", "DELETE": "delete"}

    def has_permission(self, request, view) -> bool:
        verb = self.verbs.get(request.method or "")
        user = request.user
        return bool(verb and can(user, "view", Questionnaire) and can(user, verb, self.model))


class SectionPermission(ContentPermission):
    model = QuestionnaireSection


class QuestionPermission(ContentPermission):
    model = Question


def _question_count():
    counted = (
        Question.objects.filter(questionnaire=OuterRef("pk")).order_by().values("questionnaire").annotate(n=Count("pk"))
    )
    return Coalesce(Subquery(counted.values("n"), output_field=IntegerField()), Value(0))


@extend_schema_view(
    list=extend_schema(
        summary="List questionnaires (the latest version of each)",
        description="`all_versions=true` lists every version; `family` the versions of one questionnaire.",
        responses={200: QuestionnaireSerializer(many=True)},
    ),
    retrieve=extend_schema(
        summary="One questionnaire version with its sections, questions and choices",
        responses={200: QuestionnaireDetailSerializer, 404: ERRORS[404]},
    ),
    create=extend_schema(
        summary="Start a questionnaire (version 1, no sections yet)",
        request=QuestionnaireWriteSerializer,
        responses={201: QuestionnaireDetailSerializer, 400: ERRORS[400], 403: ERRORS[403]},
    ),
    update=extend_schema(
        summary="Change a version's title, introduction and thank-you text",
        description="A version in use by a campaign is frozen: a 400; make a new version (`new-version/`).",
        request=QuestionnaireWriteSerializer,
        responses={200: QuestionnaireDetailSerializer, **ERRORS},
    ),
    partial_update=extend_schema(
        summary="Change some of a version's texts",
        description="A version in use by a campaign is frozen: a 400; make a new version (`new-version/`).",
        request=QuestionnaireWriteSerializer,
        responses={200: QuestionnaireDetailSerializer, **ERRORS},
    ),
)
class QuestionnaireViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = QuestionnaireSerializer
    permission_classes = [RolePermission]
    filterset_class = QuestionnaireFilterSet
    filter_backends = [DjangoFilterBackend, StableOrderingFilter]
    ordering_fields = ["title", "version", "created_at", "updated_at", "locked_at"]
    ordering = ["title", "-version"]

    def get_queryset(self):
        return (
            Questionnaire.objects.visible_to(self.request.user)
            .select_related("created_by")
            .annotate(question_count=_question_count())
        )

    def get_serializer_class(self):
        return {
            "create": QuestionnaireWriteSerializer,
            "update": QuestionnaireWriteSerializer,
            "partial_update": QuestionnaireWriteSerializer,
            "retrieve": QuestionnaireDetailSerializer,
            "sections": SectionWriteSerializer,
            "section": SectionWriteSerializer,
            "questions": QuestionWriteSerializer,
            "question": QuestionUpdateSerializer,
        }.get(self.action or "", QuestionnaireSerializer)

    def filter_queryset(self, queryset):
        # The sub-resources take their input from the body; only the list filters.
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    def check_permissions(self, request: Request) -> None:
        # DELETE of a questionnaire is a 405 for everyone, not a 403 for a permission no role holds.
        if request.method and request.method.upper() not in self.allowed_methods:
            raise exceptions.MethodNotAllowed(request.method)
        super().check_permissions(request)

    def _output(self, questionnaire: Questionnaire, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=questionnaire.pk)
        return Response(QuestionnaireDetailSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._output(serializer.save(), status.HTTP_201_CREATED)

    def update(self, request: Request, *args, **kwargs) -> Response:
        partial = kwargs.pop("partial", False)
        serializer = self.get_serializer(self.get_object(), data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return self._output(serializer.save())

    @extend_schema(
        summary="Make a new, editable version of a version in use",
        description=(
            "Copies the sections, questions and choices into version n+1 of the same family. "
            "400 when this version is not in use yet (edit it) or a newer draft exists (edit that)."
        ),
        request=None,
        responses={201: QuestionnaireDetailSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="new-version")
    def new_version(self, request: Request, pk=None) -> Response:
        copy = services.questionnaire_new_version(questionnaire=self.get_object(), actor=cast(User, request.user))
        return self._output(copy, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Add a section at the end of the version",
        request=SectionWriteSerializer,
        responses={201: SectionSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"], permission_classes=[SectionPermission])
    def sections(self, request: Request, pk=None) -> Response:
        questionnaire = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        section = services.section_create(
            questionnaire=questionnaire, actor=cast(User, request.user), **serializer.validated_data
        )
        return Response(SectionSerializer(section).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["PATCH"],
        summary="Change a section's title or description",
        request=SectionWriteSerializer,
        responses={200: SectionSerializer, **ERRORS},
    )
    @extend_schema(
        methods=["DELETE"],
        summary="Delete a section with its questions",
        request=None,
        responses={204: None, **ERRORS},
    )
    @action(
        detail=True,
        methods=["patch", "delete"],
        url_path=r"sections/(?P<section_id>[0-9]+)",
        permission_classes=[SectionPermission],
    )
    def section(self, request: Request, pk=None, section_id: str | None = None) -> Response:
        questionnaire = self.get_object()
        section = get_object_or_404(QuestionnaireSection, questionnaire=questionnaire, pk=section_id)
        user = cast(User, request.user)
        if request.method == "DELETE":
            services.section_delete(section=section, actor=user)
            return Response(status=status.HTTP_204_NO_CONTENT)
        serializer = self.get_serializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        section = services.section_update(section=section, actor=user, **serializer.validated_data)
        content = questionnaire_content(questionnaire)
        return Response(SectionSerializer(next(s for s in content.sections if s.id == section.pk)).data)

    @extend_schema(
        summary="Add a question at the end of one of the version's sections",
        request=QuestionWriteSerializer,
        responses={201: QuestionSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"], permission_classes=[QuestionPermission])
    def questions(self, request: Request, pk=None) -> Response:
        questionnaire = self.get_object()
        serializer = QuestionWriteSerializer(
            data=request.data, questionnaire=questionnaire, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        question = services.question_create(actor=cast(User, request.user), **serializer.validated_data)
        return Response(QuestionSerializer(question).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["PATCH"],
        summary="Change a question",
        description=(
            "Only the fields sent change. `options` (labels, in order) replaces the choices; "
            "changing the type to one without choices needs `options: []`."
        ),
        request=QuestionUpdateSerializer,
        responses={200: QuestionSerializer, **ERRORS},
    )
    @extend_schema(
        methods=["DELETE"],
        summary="Delete a question and its choices",
        request=None,
        responses={204: None, **ERRORS},
    )
    @action(
        detail=True,
        methods=["patch", "delete"],
        url_path=r"questions/(?P<question_id>[0-9]+)",
        permission_classes=[QuestionPermission],
    )
    def question(self, request: Request, pk=None, question_id: str | None = None) -> Response:
        questionnaire = self.get_object()
        question = get_object_or_404(Question, questionnaire=questionnaire, pk=question_id)
        user = cast(User, request.user)
        if request.method == "DELETE":
            services.question_delete(question=question, actor=user)
            return Response(status=status.HTTP_204_NO_CONTENT)
        serializer = self.get_serializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        question = services.question_update(question=question, actor=user, **serializer.validated_data)
        return Response(QuestionSerializer(question).data)
