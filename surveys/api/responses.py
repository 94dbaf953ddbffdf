"""The survey response API (SPEC §9): ``invitations`` and ``answers``, both read only.

* ``/api/v1/invitations/``: never the survey link or its token.
* ``/api/v1/answers/``: without the respondent's identity (organisation and department only);
  cursor-paginated in id order within a campaign (index ``answer_campaign_id_idx``) so that no
  page counts millions of rows.

Reads need the model's ``view`` permission.
"""

from __future__ import annotations

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, pagination, serializers, viewsets

from itsm.core.api.filters import StableOrderingFilter
from itsm.core.api.permissions import RolePermission
from itsm.core.api.serializers import ApiErrorSerializer

from ..models import Answer, Invitation
from .filters import AnswerFilterSet, InvitationFilterSet

ERRORS = {404: OpenApiResponse(ApiErrorSerializer, description="No such record (or out of reach).")}


class InvitationSerializer(serializers.ModelSerializer):
    """One contact's invitation. The personal link is never shown: only the contact has it."""

    contact_name = serializers.CharField(source="contact.name", read_only=True)

    class Meta:
        model = Invitation
        fields = [
            "id",
            "campaign",
            "contact",
            "contact_name",
            "organisation",
            "department",
            "status",
            "sent_at",
            "reminders_sent",
            "answered_at",
            "bounced_at",
            "bounce_reason",
            "unsubscribed_at",
        ]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(
        summary="List survey invitations",
        description="Filter with `campaign` (the usual way in), `status`, `organisation`, `department`.",
    ),
    retrieve=extend_schema(summary="One survey invitation", responses={200: InvitationSerializer, 404: ERRORS[404]}),
)
class InvitationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = InvitationSerializer
    permission_classes = [RolePermission]
    filterset_class = InvitationFilterSet
    filter_backends = [DjangoFilterBackend, StableOrderingFilter]
    ordering_fields = ["sent_at", "answered_at", "status"]
    ordering = ["pk"]

    def get_queryset(self):
        return (
            Invitation.objects.visible_to(self.request.user)
            .select_related("contact")
            .only(*(name for name in InvitationSerializer.Meta.fields if name != "contact_name"), "contact__name")
        )


# --- answers -----------------------------------------------------------------------------------


class AnswerPagination(pagination.CursorPagination):
    """Cursor pages in id order: ``?cursor=`` (the ``next`` / ``previous`` links) and
    ``?page_size=`` (at most 500). No page counts the rows or skips an offset, so page 1,000 of
    two million answers costs what page 1 does."""

    ordering = "pk"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class AnswerSerializer(serializers.ModelSerializer):
    """One answer, with the organisation and department of the respondent — never who it was."""

    question_kind = serializers.CharField(source="question.kind", read_only=True)
    option_label = serializers.SerializerMethodField()
    submitted_at = serializers.DateTimeField(source="response.submitted_at", read_only=True)

    class Meta:
        model = Answer
        fields = [
            "id",
            "response",
            "campaign",
            "question",
            "question_kind",
            "value",
            "option",
            "option_label",
            "text",
            "comment",
            "submitted_at",
            "organisation",
            "department",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_option_label(self, answer: Answer) -> str | None:
        return answer.option.label if answer.option is not None else None


@extend_schema_view(
    list=extend_schema(
        summary="List survey answers",
        description=(
            "Filter with `campaign` (the intended filter: it leads the answer indexes), then "
            "`question`, `question_kind`, `organisation`, `department` or `response`. Pages are "
            "cursors in id order (follow `next`); no total count is given. Answers carry the "
            "respondent's organisation and department, never the contact."
        ),
    ),
    retrieve=extend_schema(summary="One survey answer", responses={200: AnswerSerializer, 404: ERRORS[404]}),
)
class AnswerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = AnswerSerializer
    permission_classes = [RolePermission]
    filterset_class = AnswerFilterSet
    filter_backends = [DjangoFilterBackend]
    pagination_class = AnswerPagination

    def get_queryset(self):
        return (
            Answer.objects.visible_to(self.request.user)
            .select_related("question", "option", "response")
            .only(
                *(f.attname for f in Answer._meta.concrete_fields),
                "question__kind",
                "option__label",
                "response__submitted_at",
            )
        )
