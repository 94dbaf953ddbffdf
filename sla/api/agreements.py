"""The agreements API (SPEC §9): ``/api/v1/agreements/`` — SLAs, OLAs and UCs.

* list (``sla.filters.AgreementFilter``: ``kind``, ``status`` (repeatable), ``counterparty``,
  ``service``, ``q``, ``expiring``, ``review_overdue``; plus ``ordering``; paginated), retrieve
  (with the content sections, the services covered, the targets, the version number and the
  ``underpinning`` summary: how many SLA targets are not underpinned / weakly underpinned),
  create (``agreement_create``: numbered per kind and year, a draft), update / partial update
  of a draft or negotiating agreement (``agreement_update``; an active agreement changes only
  with a new version). ``status``, ``number`` and ``version`` are read-only: sending one is a
  400. No DELETE: agreements end by expiry or termination (405 for everyone).
* ``{id}/transitions/``: GET lists the moves the caller may make now; POST performs one
  through ``agreement_transition`` (activation needs the signed document, a target and the
  validity; ``terminate`` and ``return_to_draft`` a note).
* ``{id}/document/``: POST (multipart ``file``, ``signed_on``) stores the signed agreement
  of a draft or negotiating agreement (``agreement_upload_document``).
* ``{id}/versions/``: GET the frozen versions (oldest first); POST changes an active agreement
  as a new version (``agreement_new_version``: ``reason`` and ``rfc_ref`` required; content
  fields, ``services`` and the full list of ``targets``). ``{id}/versions/{n}/``: one version
  with its frozen content. ``{id}/compare/?a=&b=``: what changed between two versions.
* ``{id}/underpinning/``: the underpinning row of each of the agreement's SLA targets (status,
  gap in words, every supporting target compared); empty for an OLA or UC.
* ``{id}/standard-targets/``: POST adds SPEC §5's standard P1–P4 response and resolution
  targets the agreement lacks (``targets_apply_standard``).
* ``{id}/events/``: the agreement's history, oldest first.

Reads need ``sla.view_agreement`` (versions also ``view_agreementversion``, history
``view_agreementevent``); create ``add_agreement``; edits, moves, documents and versions
``change_agreement`` (the workflow table then decides per action and role).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch
from django.http import Http404
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from itsm.core.api.filters import StableOrderingFilter
from itsm.core.api.workflow import MachineRecordViewSet, WorkflowPermission

from .. import selectors
from ..filters import AgreementFilter
from ..models import Agreement, AgreementVersion, Service, ServiceLevelTarget
from ..services import agreements as services
from ..services import targets as target_services
from ..underpinning import underpinning_report
from .agreement_serializers import (
    AgreementCreateSerializer,
    AgreementDetailSerializer,
    AgreementSerializer,
    AgreementTransitionSerializer,
    AgreementUpdateSerializer,
    AgreementVersionDetailSerializer,
    AgreementVersionSerializer,
    CompareQuerySerializer,
    DocumentUploadSerializer,
    NewVersionSerializer,
    StandardTargetsSerializer,
    VersionDiffSerializer,
)
from .serializers import (
    ERRORS,
    AgreementEventSerializer,
    AgreementMoveSerializer,
    TargetSerializer,
    UnderpinningRowSerializer,
    call_service,
)
from .views import SlaViewSetMixin, target_list

# --- the view -----------------------------------------------------------------------------------


def agreement_list(user: Any):
    """``sla.selectors.agreement_list`` with the service ids loaded (one query per page)."""
    return selectors.agreement_list(user).prefetch_related(
        Prefetch("services", queryset=Service.objects.only("pk").order_by("pk"))
    )


def agreement_detail(user: Any):
    targets = (
        ServiceLevelTarget.objects.select_related("agreement", "calendar")
        .prefetch_related(Prefetch("supported_by", queryset=ServiceLevelTarget.objects.only("pk")))
        .order_by("priority", "metric", "name", "pk")
    )
    return selectors.agreement_list(user).prefetch_related(
        Prefetch("services", queryset=Service.objects.order_by("code", "pk")),
        Prefetch("targets", queryset=targets),
    )


VERSION_NUMBER = OpenApiParameter("number", OpenApiTypes.INT, OpenApiParameter.PATH, description="Version number.")


@extend_schema_view(
    list=extend_schema(summary="List agreements (SLA, OLA, UC)", responses={200: AgreementSerializer(many=True)}),
    retrieve=extend_schema(
        summary="One agreement, with its sections, services, targets and underpinning summary",
        responses={200: AgreementDetailSerializer, 404: ERRORS[404]},
    ),
    create=extend_schema(
        summary="Draft an agreement",
        description=(
            "The counterparty must be of the kind's kind (SLA: customer, OLA: internal team, UC: "
            "supplier); a retired service cannot be covered. `status`, `number` and `version` are "
            "a 400."
        ),
        request=AgreementCreateSerializer,
        responses={201: AgreementDetailSerializer, 400: ERRORS[400], 403: ERRORS[403]},
    ),
    update=extend_schema(
        summary="Edit a draft or negotiating agreement",
        description=(
            "An active agreement changes only with a new version (`POST …/versions/`); only its "
            "owner changes here. `kind`, `status`, `number` and `version` are a 400."
        ),
        request=AgreementUpdateSerializer,
        responses={200: AgreementDetailSerializer, **ERRORS},
    ),
    partial_update=extend_schema(
        summary="Edit part of a draft or negotiating agreement",
        description="As PUT, with only the fields sent; `services` replaces the list when sent.",
        request=AgreementUpdateSerializer,
        responses={200: AgreementDetailSerializer, **ERRORS},
    ),
)
class AgreementViewSet(SlaViewSetMixin, MachineRecordViewSet):
    serializer_class = AgreementSerializer
    filterset_class = AgreementFilter
    filter_backends = [DjangoFilterBackend, StableOrderingFilter]
    ordering_fields = ["number", "title", "kind", "status", "valid_from", "valid_to", "next_review_on", "created_at"]
    ordering = ["kind", "number"]

    workflow_machine = services.AGREEMENT_MACHINE
    move_serializer_class = AgreementMoveSerializer
    transition_serializer_class = AgreementTransitionSerializer
    event_serializer_class = AgreementEventSerializer
    output_serializer_class = AgreementDetailSerializer
    move_description = (
        "Body: `action` and `note` (required by `terminate` and `return_to_draft`). `activate` "
        "needs the signed document, at least one target and the validity (`errors` names what "
        "is missing); `expire` is possible once `valid_to` has passed. 400: the move is not "
        "possible from the current status or a condition is not met; 403: the caller's role "
        "may not make it."
    )
    events_summary = "The agreement's history, oldest first"
    events_need_view_permission = True

    def get_queryset(self):
        if self.action == "list":
            return agreement_list(self.request.user)
        if self.action == "retrieve":
            return agreement_detail(self.request.user)
        return selectors.agreement_list(self.request.user)

    def get_serializer_class(self):
        return self.workflow_serializer_class() or {
            "list": AgreementSerializer,
            "create": AgreementCreateSerializer,
            "update": AgreementUpdateSerializer,
            "partial_update": AgreementUpdateSerializer,
            "document": DocumentUploadSerializer,
            "versions": NewVersionSerializer,
            "standard_targets": StandardTargetsSerializer,
        }.get(self.action or "", AgreementDetailSerializer)

    def _output(self, agreement: Agreement, code: int = status.HTTP_200_OK) -> Response:
        fresh = agreement_detail(self.request.user).get(pk=agreement.pk)
        return Response(AgreementDetailSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    @extend_schema(
        summary="Upload the signed agreement",
        description=(
            "Multipart: `file` (PDF, image or Word document; type, content and size are checked) "
            "and `signed_on`. Only a draft or negotiating agreement's document is replaced here; "
            "an active agreement's comes with a new version."
        ),
        request={"multipart/form-data": DocumentUploadSerializer},
        responses={200: AgreementDetailSerializer, **ERRORS},
    )
    @action(
        detail=True,
        methods=["post"],
        permission_classes=[WorkflowPermission],
        filter_backends=[],
        pagination_class=None,
        parser_classes=[MultiPartParser, FormParser],
    )
    def document(self, request: Request, pk: str | None = None) -> Response:
        agreement = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        agreement = call_service(
            services.agreement_upload_document,
            agreement=agreement,
            actor=self.user,
            upload=serializer.validated_data["file"],
            signed_on=serializer.validated_data["signed_on"],
        )
        return self._output(agreement)

    # --- versions ---

    @extend_schema(
        methods=["GET"],
        summary="The agreement's frozen versions, oldest first",
        description="Version 1 is frozen at activation; each change of an active agreement adds one.",
        responses={200: AgreementVersionSerializer(many=True), 403: ERRORS[403], 404: ERRORS[404]},
    )
    @extend_schema(
        methods=["POST"],
        summary="Change an active agreement: a new version",
        description=(
            "`reason` and `rfc_ref` are required. Content fields sent change; `services` and "
            "`targets` replace the whole list when sent (a target with `id` is kept and changed, "
            "one without is added, one left out is removed — never one with measurements). All or "
            "nothing; 400 when nothing would change or the agreement is not active. Returns the "
            "new version (201)."
        ),
        request=NewVersionSerializer,
        responses={201: AgreementVersionDetailSerializer, **ERRORS},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        permission_classes=[WorkflowPermission],
        filter_backends=[],
        pagination_class=None,
    )
    def versions(self, request: Request, pk: str | None = None) -> Response:
        agreement = self.get_object()
        self.require_view(AgreementVersion)
        if request.method == "GET":
            return Response(AgreementVersionSerializer(selectors.agreement_versions(agreement), many=True).data)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        fixed = {name: data.pop(name) for name in ("reason", "rfc_ref", "services", "targets") if name in data}
        agreement = call_service(
            services.agreement_new_version,
            agreement=agreement,
            actor=self.user,
            reason=fixed["reason"],
            rfc_ref=fixed["rfc_ref"],
            changes=data,
            services=fixed.get("services"),
            targets=fixed.get("targets"),
        )
        version = selectors.agreement_version(agreement, agreement.version)
        return Response(AgreementVersionDetailSerializer(version).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="One frozen version, with its content",
        parameters=[VERSION_NUMBER],
        responses={200: AgreementVersionDetailSerializer, 403: ERRORS[403], 404: ERRORS[404]},
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"versions/(?P<number>[0-9]+)",
        url_name="version",
        filter_backends=[],
        pagination_class=None,
    )
    def version(self, request: Request, pk: str | None = None, number: str | None = None) -> Response:
        agreement = self.get_object()
        self.require_view(AgreementVersion)
        version = selectors.agreement_version(agreement, int(number or 0))
        return Response(AgreementVersionDetailSerializer(version).data)

    @extend_schema(
        summary="Compare two versions",
        description="`?a=1&b=2`: title, counterparty, validity and signature; services; sections; targets.",
        parameters=[CompareQuerySerializer],
        responses={200: VersionDiffSerializer, **ERRORS},
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def compare(self, request: Request, pk: str | None = None) -> Response:
        agreement = self.get_object()
        self.require_view(AgreementVersion)
        query = CompareQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        a, b = query.validated_data["a"], query.validated_data["b"]
        try:
            diff = selectors.agreement_versions_diff(agreement, a, b)
        except Http404:
            numbers = set(agreement.versions.values_list("version", flat=True))
            missing = [name for name, number in (("a", a), ("b", b)) if number not in numbers]
            message = _("The agreement has no such version.")
            raise serializers.ValidationError({name: [message] for name in missing}) from None
        return Response(VersionDiffSerializer(diff).data)

    # --- targets and underpinning ---

    @extend_schema(
        summary="The underpinning of the agreement's SLA targets",
        description=(
            "One row per SLA target: `supported`, `weak` (a linked OLA / UC target is weaker: "
            "`gap` says by how much) or `missing` (no live OLA / UC target underpins it), with every "
            "linked target compared. Empty for an OLA or UC."
        ),
        responses={200: UnderpinningRowSerializer(many=True), 404: ERRORS[404]},
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def underpinning(self, request: Request, pk: str | None = None) -> Response:
        agreement = self.get_object()
        self.require_view(ServiceLevelTarget)
        rows = underpinning_report(agreement=agreement)
        return Response(UnderpinningRowSerializer(rows, many=True).data)

    @extend_schema(
        summary="Add the standard targets",
        description=(
            "Adds SPEC §5's response and resolution targets for P1–P4 (P1 30 min / 2 h, P2 4 h / "
            "12 h, P3 24 h / 5 working days, P4 5 / 10 working days) that the agreement lacks, on "
            "`calendar` (null: 24×7). 201 with the targets added; 200 with none when it has them all."
        ),
        request=StandardTargetsSerializer,
        responses={200: TargetSerializer(many=True), 201: TargetSerializer(many=True), **ERRORS},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="standard-targets",
        url_name="standard-targets",
        permission_classes=[WorkflowPermission],
        filter_backends=[],
        pagination_class=None,
    )
    def standard_targets(self, request: Request, pk: str | None = None) -> Response:
        agreement = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        added = call_service(
            target_services.targets_apply_standard,
            agreement=agreement,
            actor=self.user,
            calendar=serializer.validated_data["calendar"],
        )
        fresh = list(target_list(self.user).filter(pk__in=[t.pk for t in added]).order_by("priority", "metric"))
        code = status.HTTP_201_CREATED if added else status.HTTP_200_OK
        return Response(TargetSerializer(fresh, many=True).data, status=code)
