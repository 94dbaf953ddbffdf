"""A complaint's attachments through the API: ``/api/v1/complaints/{complaint_pk}/attachments/``.

* ``GET …/attachments/``: the complaint's files, oldest first, paginated: id, file name, size,
  content type, who uploaded it and when, and the URL that downloads it;
* ``POST …/attachments/`` (multipart ``file``): attaches one through
  ``services.attachment_add`` — the same type, content and size checks as the page
  (``itsm.core.uploads.validate_upload``): a file refused is a 400 on ``file`` and nothing is
  written;
* ``GET …/attachments/{id}/``: the file itself, as the page's download gives it
  (``views.records.attachment_file_response``: the type recorded at upload, as a download).

The permissions are the page's: the list needs ``view_complaint``, the download also
``view_complaintattachment``, an upload ``change_complaint`` and ``add_complaintattachment``;
an unknown complaint, or an attachment of another complaint, is a 404.

A viewset of its own, nested under the complaint's URL (registered in ``itsm.core.api.urls``),
so the complaint's viewset keeps only the complaint and its workflow.
"""

from __future__ import annotations

from typing import Any, cast

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from itsm.core.api.serializers import ApiErrorSerializer, StrictInputMixin
from itsm.core.models import User
from itsm.core.permissions import can
from itsm.core.uploads import ALLOWED

from .. import selectors, services
from ..models import Complaint, ComplaintAttachment
from ..views.records import attachment_file_response

ERRORS = {
    400: OpenApiResponse(ApiErrorSerializer, description="Invalid input: a message per field."),
    401: OpenApiResponse(ApiErrorSerializer, description="No valid credentials."),
    403: OpenApiResponse(ApiErrorSerializer, description="The caller's role may not do this."),
    404: OpenApiResponse(ApiErrorSerializer, description="No such complaint or attachment (or out of reach)."),
}
COMPLAINT = OpenApiParameter("complaint_pk", int, OpenApiParameter.PATH, description="The complaint's id.")
ATTACHMENT = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The attachment's id.")
# What a download can be: the types an upload may have (the type recorded at upload is sent).
DOWNLOAD_TYPES = sorted({content_type for content_type, _signatures in ALLOWED.values()})


class ComplaintAttachmentSerializer(serializers.ModelSerializer):
    """One file attached to a complaint, and where to download it."""

    file_name = serializers.CharField(source="original_name", read_only=True)
    uploaded_by_name = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ComplaintAttachment
        fields = [
            "id",
            "file_name",
            "size",
            "content_type",
            "uploaded_by",
            "uploaded_by_name",
            "uploaded_at",
            "download_url",
        ]
        read_only_fields = fields

    def get_uploaded_by_name(self, attachment: ComplaintAttachment) -> str:
        return str(attachment.uploaded_by)

    @extend_schema_field(OpenApiTypes.URI)
    def get_download_url(self, attachment: ComplaintAttachment) -> str:
        return reverse(
            "complaint-attachment-detail",
            kwargs={"complaint_pk": attachment.complaint_id, "pk": attachment.pk},
            request=self.context.get("request"),
        )


class AttachmentUploadSerializer(StrictInputMixin, serializers.Serializer):
    """The file to attach (the model has no description: a file is all there is)."""

    read_only_names = frozenset(ComplaintAttachmentSerializer.Meta.fields)

    file = serializers.FileField(
        help_text="A PDF, image, Office document, mail, text, CSV or ZIP file; its type, content and size are checked."
    )


class AttachmentPermission(permissions.BasePermission):
    """The complaint page's permissions: reading the list needs ``view_complaint``; downloading
    also ``view_complaintattachment``; attaching also ``change_complaint`` and
    ``add_complaintattachment``. Decided before any row is looked up."""

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        needs: list[tuple[str, type]] = [("view", Complaint)]
        if getattr(view, "action", None) == "retrieve":
            needs.append(("view", ComplaintAttachment))
        if request.method not in permissions.SAFE_METHODS:
            needs += [("change", Complaint), ("add", ComplaintAttachment)]
        return all(can(user, verb, model) for verb, model in needs)


@extend_schema_view(
    list=extend_schema(
        summary="A complaint's attachments, oldest first",
        parameters=[COMPLAINT],
        responses={200: ComplaintAttachmentSerializer(many=True), 401: ERRORS[401], 403: ERRORS[403], 404: ERRORS[404]},
    ),
    create=extend_schema(
        summary="Attach a file to a complaint",
        description=(
            "Multipart: `file`. The same checks as the complaint's page: the extension must be an "
            "accepted type, the content must match it and the size must stay within the limit "
            "(`UPLOAD_MAX_BYTES`); a refused file is a 400 on `file` and nothing is written."
        ),
        parameters=[COMPLAINT],
        request={"multipart/form-data": AttachmentUploadSerializer},
        responses={201: ComplaintAttachmentSerializer, **ERRORS},
    ),
    retrieve=extend_schema(
        summary="Download an attachment",
        description="The file itself, with the type recorded at upload, as a download (`Content-Disposition`).",
        parameters=[COMPLAINT, ATTACHMENT],
        responses={
            **{(200, content_type): OpenApiTypes.BINARY for content_type in DOWNLOAD_TYPES},
            401: ERRORS[401],
            403: ERRORS[403],
            404: ERRORS[404],
        },
    ),
)
class ComplaintAttachmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ComplaintAttachmentSerializer
    permission_classes = [AttachmentPermission]
    parser_classes = [MultiPartParser, FormParser]
    filter_backends: list[type] = []
    lookup_value_regex = "[0-9]+"
    http_method_names = ["get", "post", "head", "options"]

    def complaint(self) -> Complaint:
        """The complaint of the URL, in the caller's reach (else a 404)."""
        if not hasattr(self, "_complaint"):
            visible = Complaint.objects.visible_to(self.request.user)
            self._complaint = get_object_or_404(visible, pk=self.kwargs["complaint_pk"])
        return self._complaint

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator: no complaint
            return ComplaintAttachment.objects.none()
        return selectors.complaint_attachments(self.complaint())

    def perform_content_negotiation(self, request: Request, force: bool = False):
        # A download answers with the file's own type whatever the client says it accepts.
        return super().perform_content_negotiation(request, force=force or self.action == "retrieve")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        complaint = self.complaint()
        upload = AttachmentUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        attachment = services.attachment_add(
            complaint=complaint, actor=cast(User, request.user), upload=upload.validated_data["file"]
        )
        body = ComplaintAttachmentSerializer(attachment, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any):
        return attachment_file_response(self.get_object())
