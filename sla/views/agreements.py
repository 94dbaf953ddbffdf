"""Agreement pages: list, create, detail (sections, services, targets, signed document,
versions, history, workflow actions), edit, new version, a version, two versions compared,
the signed document download, and the target forms.

Views are thin: the permission is checked before any row is read (403), the row must be
visible (404), a form is parsed and one service of ``sla.services`` called; its
``ValidationError`` comes back at the form with status 400 and nothing written. The list and
the detail page run a constant number of queries whatever the number of agreements, targets,
versions or events.

``EXTRA_CONTEXT``: callables ``(request, agreement) -> dict`` whose results are added to the
detail page's context (other parts of the product hook in there). The underpinning badge is
shown when ``sla.underpinning`` provides ``agreement_underpinning_summary`` and the template
``sla/agreement_underpinning_badge.html`` exists.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePath
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from itsm.core.permissions import acting_user, can, can_view_history, require_all
from itsm.core.uploads import ALLOWED
from itsm.core.views.generic import ObjectHistoryView, ObjectListView, add_service_errors
from itsm.core.views.workflow import action_forms, timeline, transition_view

from ..choices import AgreementKind, AgreementStatus
from ..filters import AgreementFilter
from ..forms import SlaActionForm
from ..forms.agreements import (
    AgreementChangeForm,
    AgreementForm,
    CompareForm,
    DocumentForm,
    StandardTargetsForm,
    TargetForm,
    TargetFormSet,
)
from ..models import Agreement, AgreementEvent, AgreementVersion, ServiceLevelTarget
from ..selectors import (
    SECTION_NAMES,
    agreement_get,
    agreement_list,
    agreement_sections,
    agreement_targets,
    agreement_underpinning_summary,
    agreement_version,
    agreement_versions,
    agreement_versions_diff,
    expiring_soon,
    review_overdue,
    target_key_label,
    target_value_label,
)
from ..services import agreements as services
from ..services import targets as target_services

A = AgreementStatus
STATUS_COLOURS = {
    A.DRAFT: "secondary",
    A.NEGOTIATING: "info",
    A.ACTIVE: "success",
    A.EXPIRED: "dark",
    A.TERMINATED: "danger",
}
UNDERPINNING_BADGE = "sla/agreement_underpinning_badge.html"
# Hooks adding to the detail page's context: (request, agreement) -> dict.
EXTRA_CONTEXT: list[Callable[[HttpRequest, Agreement], dict[str, Any]]] = []


def _require(request: HttpRequest, *verbs: str, model: Any = Agreement) -> None:
    require_all(request.user, verbs, model)


def _agreement(request: HttpRequest, pk: int) -> Agreement:
    return agreement_get(request.user, pk)


def _colour(status: str) -> str:
    return STATUS_COLOURS.get(AgreementStatus(status), "secondary")


def _template_exists(name: str) -> bool:
    try:
        get_template(name)
    except TemplateDoesNotExist:
        return False
    return True


# --- list -------------------------------------------------------------------------------------


class AgreementListView(ObjectListView):
    """Agreements: search, filters (kind, status, counterparty, service, ending within 60
    days, review overdue), sort, 25 a page."""

    model = Agreement
    template_name = "sla/agreement_list.html"
    filterset_class = AgreementFilter
    ordering_fields = ("number", "title", "status", "valid_to", "next_review_on")
    default_ordering = ("kind", "number")
    select_related = ("counterparty", "owner")

    def visible_queryset(self):
        return agreement_list(self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = context["filter_form"]
        form.fields["status"].widget.attrs["size"] = 5
        today = timezone.localdate()
        context["rows"] = [
            {
                "agreement": agreement,
                "colour": _colour(agreement.status),
                "expiring": expiring_soon(agreement, today),
                "review_overdue": review_overdue(agreement, today),
            }
            for agreement in context["object_list"]
        ]
        context["kinds"] = AgreementKind.choices
        return context


agreement_list_view = AgreementListView.as_view()


# --- create and edit --------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def agreement_create(request: HttpRequest) -> HttpResponse:
    """Draft a new SLA, OLA or UC (``?kind=uc`` preselects the kind)."""
    _require(request, "add")
    if request.method == "GET":
        kind = request.GET.get("kind", "")
        initial: dict[str, Any] = {"owner": request.user.pk}
        if kind in AgreementKind.values:
            initial["kind"] = kind
        return _render_form(request, AgreementForm(initial=initial))
    form = AgreementForm(request.POST)
    if form.is_valid():
        try:
            agreement = services.agreement_create(
                actor=acting_user(request),
                kind=form.cleaned_data["kind"],
                services=list(form.cleaned_data["services"]),
                **form.agreement_fields(),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("%(number)s was drafted.") % {"number": agreement.number})
            return HttpResponseRedirect(agreement.get_absolute_url())
    return _render_form(request, form, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def agreement_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a draft or negotiating agreement; an active one is changed with a new version."""
    _require(request, "view", "change")
    agreement = _agreement(request, pk)
    if agreement.status == A.ACTIVE:
        messages.info(request, _("An active agreement changes through a new version, with the reason and RFC."))
        return HttpResponseRedirect(reverse("agreement_change", args=[agreement.pk]))
    instance = Agreement.objects.get(pk=agreement.pk)  # the form writes into it while validating
    if request.method == "GET":
        return _render_form(request, AgreementForm(instance=instance), agreement=agreement)
    form = AgreementForm(request.POST, instance=instance)
    if form.is_valid():
        try:
            services.agreement_update(
                agreement=agreement,
                actor=acting_user(request),
                services=list(form.cleaned_data["services"]) if "services" in form.changed_data else None,
                **form.agreement_fields(changed_only=True),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("%(number)s was saved.") % {"number": agreement.number})
            return HttpResponseRedirect(agreement.get_absolute_url())
    return _render_form(request, form, agreement=agreement, status=400)


def _render_form(
    request: HttpRequest, form: AgreementForm, *, agreement: Agreement | None = None, status: int = 200
) -> HttpResponse:
    editable = agreement is None or agreement.status in services.EDITABLE_STATUSES
    main = ("kind", "title", "counterparty", "owner", "valid_from", "valid_to")
    return render(
        request,
        "sla/agreement_form.html",
        {
            "form": form,
            "agreement": agreement,
            "object": agreement,
            "editable": editable,
            "main_fields": [form[name] for name in main if name in form.fields],
            "section_fields": [form[name] for name in SECTION_NAMES],
        },
        status=status,
    )


# --- detail -----------------------------------------------------------------------------------


def _detail_context(request: HttpRequest, agreement: Agreement, **forms: Any) -> dict[str, Any]:
    user = request.user
    moves, refused = action_forms(services.AGREEMENT_MACHINE, agreement, user, SlaActionForm, forms.get("failed"))
    editable = agreement.status in services.EDITABLE_STATUSES
    may_change = can(user, "change", Agreement)
    may_edit_targets = editable and can(user, "add", ServiceLevelTarget)
    summary = agreement_underpinning_summary(agreement)
    context: dict[str, Any] = {
        "agreement": agreement,
        "object": agreement,
        "colour": _colour(agreement.status),
        **_sections(agreement_sections(agreement)),
        "services": list(agreement.services.order_by("category", "code")),
        "targets": [
            {"target": target, "value": target_services.describe_target(target)}
            for target in agreement_targets(agreement)
        ],
        "versions": agreement_versions(agreement) if can(user, "view", AgreementVersion) else None,
        "events": (
            timeline(services.AGREEMENT_MACHINE, services.AGREEMENT_MACHINE.events(agreement), details=_event_details)
            if can(user, "view", AgreementEvent)
            else None
        ),
        "action_forms": moves,
        "refused": refused,
        "editable": editable,
        "may_edit": editable and may_change,
        "may_change_version": agreement.status == A.ACTIVE and may_change,
        "may_upload": editable and may_change,
        "may_edit_targets": may_edit_targets,
        "may_delete_targets": editable and can(user, "delete", ServiceLevelTarget),
        "document_name": PurePath(agreement.signed_document.name or "").name,
        "document_form": forms.get("document_form") or (DocumentForm() if editable and may_change else None),
        "target_form": forms.get("target_form") or (TargetForm(prefix="target") if may_edit_targets else None),
        "standard_form": forms.get("standard_form")
        or (StandardTargetsForm(prefix="standard") if may_edit_targets else None),
        "target_error": forms.get("target_error", ""),
        "expiring": expiring_soon(agreement),
        "review_overdue": review_overdue(agreement),
        "can_view_history": can_view_history(user),
        "underpinning": summary,
        "underpinning_badge": summary is not None and _template_exists(UNDERPINNING_BADGE),
    }
    for hook in EXTRA_CONTEXT:
        context.update(hook(request, agreement))
    return context


def _sections(sections: list[dict[str, Any]]) -> dict[str, Any]:
    """The written sections (shown in full) and the names of the empty ones (listed in a line)."""
    return {
        "sections": [s for s in sections if s["html"]],
        "empty_sections": [str(s["label"]) for s in sections if not s["html"]],
    }


def _event_details(event: AgreementEvent) -> list[str]:
    data = event.data if isinstance(event.data, dict) else {}
    details: list[str] = []
    if event.action == "new_version":
        details.append(
            _("version %(previous)s → %(version)s, RFC %(rfc)s")
            % {
                "previous": data.get("previous", "?"),
                "version": data.get("version", "?"),
                "rfc": data.get("rfc_ref", ""),
            }
        )
    elif event.action == "activate" and data.get("next_review_on"):
        details.append(_("first review due %(date)s") % {"date": data["next_review_on"]})
    elif event.action == "document_uploaded" and data.get("file"):
        details.append(PurePath(str(data["file"])).name)
    elif event.action == "standard_targets":
        details.append(_("%(count)s targets") % {"count": len(data.get("targets") or [])})
    elif event.action in ("target_added", "target_removed") and isinstance(data.get("target"), dict):
        target = data["target"]
        details.append(f"{target_key_label(target)}: {target_value_label(_calendar_named(target))}")
    elif event.action == "target_changed" and isinstance(data.get("after"), dict):
        before, after = _calendar_named(data.get("before") or {}), _calendar_named(data["after"])
        details.append(f"{target_key_label(after)}: {target_value_label(before)} → {target_value_label(after)}")
    return details


def _calendar_named(target: dict[str, Any]) -> dict[str, Any]:
    # Target events keep the calendar's id only: say "business calendar" rather than a query per event.
    calendar = target.get("calendar")
    if calendar and not isinstance(calendar, dict):
        return {**target, "calendar": {"id": calendar, "name": _("business calendar")}}
    return target


def _render_detail(request: HttpRequest, agreement: Agreement, *, status: int = 200, **forms: Any) -> HttpResponse:
    return render(request, "sla/agreement_detail.html", _detail_context(request, agreement, **forms), status=status)


@login_required
@require_GET
def agreement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "view")
    return _render_detail(request, _agreement(request, pk))


# --- workflow ---------------------------------------------------------------------------------


agreement_transition = transition_view(
    services.AGREEMENT_MACHINE,
    form_class=SlaActionForm,
    record=_agreement,
    render_failed=_render_detail,
)


# --- signed document --------------------------------------------------------------------------


@login_required
@require_POST
def agreement_document_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """Upload the signed agreement (type and size checked) to a draft or negotiating agreement."""
    _require(request, "view", "change")
    agreement = _agreement(request, pk)
    form = DocumentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.agreement_upload_document(
                agreement=agreement,
                actor=acting_user(request),
                upload=form.cleaned_data["file"],
                signed_on=form.cleaned_data["signed_on"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The signed document was stored."))
            return HttpResponseRedirect(agreement.get_absolute_url() + "#document")
    return _render_detail(request, agreement, document_form=form, status=400)


def _file_response(file_field: Any, name: str) -> HttpResponseBase:
    try:
        handle = file_field.storage.open(name, "rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    filename = PurePath(name).name
    content_type = ALLOWED.get(PurePath(name).suffix.lower(), ("application/octet-stream", None))[0]
    response = FileResponse(handle, as_attachment=True, filename=filename, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def agreement_document(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The current signed document, to users who may view agreements (never a public URL)."""
    _require(request, "view")
    agreement = _agreement(request, pk)
    if not agreement.signed_document:
        raise Http404
    return _file_response(agreement.signed_document, agreement.signed_document.name or "")


@login_required
@require_GET
def agreement_version_document(request: HttpRequest, pk: int, number: int) -> HttpResponseBase:
    """The signed document as it was in version ``number``."""
    _require(request, "view")
    _require(request, "view", model=AgreementVersion)
    agreement = _agreement(request, pk)
    version = agreement_version(agreement, number)
    name = (version.content or {}).get("signed_document") or ""
    if not name:
        raise Http404
    return _file_response(agreement.signed_document, name)


# --- versions ---------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def agreement_change(request: HttpRequest, pk: int) -> HttpResponse:
    """Change an active agreement: a new version with reason and RFC; content, services and
    targets in one form, written all or nothing."""
    _require(request, "view", "change")
    agreement = _agreement(request, pk)
    if agreement.status != A.ACTIVE:
        messages.info(request, _("Only an active agreement is changed with a new version."))
        return HttpResponseRedirect(agreement.get_absolute_url())
    instance = Agreement.objects.get(pk=agreement.pk)
    targets = agreement.targets.select_related("calendar").order_by("priority", "metric", "name", "pk")
    may_targets = all(can(request.user, v, ServiceLevelTarget) for v in ("add", "change", "delete"))
    if request.method == "GET":
        form = AgreementChangeForm(instance=instance)
        formset = TargetFormSet(queryset=targets, prefix="targets") if may_targets else None
        return _render_change(request, agreement, form, formset)
    form = AgreementChangeForm(request.POST, request.FILES, instance=instance)
    formset = TargetFormSet(request.POST, queryset=targets, prefix="targets") if may_targets else None
    valid = form.is_valid()
    valid = (formset is None or formset.is_valid()) and valid
    if valid:
        try:
            agreement = services.agreement_new_version(
                agreement=agreement,
                actor=acting_user(request),
                reason=form.cleaned_data["reason"],
                rfc_ref=form.cleaned_data["rfc_ref"],
                changes=form.version_changes(),
                services=list(form.cleaned_data["services"]) if "services" in form.changed_data else None,
                targets=_target_specs(formset) if formset is not None and formset.has_changed() else None,
                document=form.cleaned_data.get("file"),
                signed_on=form.cleaned_data.get("signed_on"),
            )
        except ValidationError as exc:
            errors: dict[str, list[str]] = (
                dict(exc.message_dict) if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: list(exc.messages)}
            )
            target_messages = errors.pop("targets", [])
            if formset is not None:
                formset.non_form_errors().extend(target_messages)
            else:
                errors.setdefault(NON_FIELD_ERRORS, []).extend(target_messages)
            if errors:
                add_service_errors(form, ValidationError(errors))
        else:
            messages.success(
                request,
                _("%(number)s is now at version %(version)s.")
                % {"number": agreement.number, "version": agreement.version},
            )
            return HttpResponseRedirect(agreement.get_absolute_url() + "#versions")
    return _render_change(request, agreement, form, formset, status=400)


def _target_specs(formset: Any) -> list[dict[str, Any]]:
    """The full new list of targets: every kept row (changed or not) and every filled new row."""
    specs = []
    deleted = set(map(id, formset.deleted_forms))
    for form in formset.forms:
        if id(form) in deleted:
            continue
        instance_pk = form.instance.pk if form.instance is not None else None
        if instance_pk is None and not form.has_changed():
            continue
        spec = form.target_fields()
        if instance_pk is not None:
            spec["id"] = instance_pk
        specs.append(spec)
    return specs


def _render_change(
    request: HttpRequest, agreement: Agreement, form: AgreementChangeForm, formset: Any, *, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "sla/agreement_change.html",
        {
            "agreement": agreement,
            "object": agreement,
            "form": form,
            "formset": formset,
            "section_fields": [form[name] for name in SECTION_NAMES],
        },
        status=status,
    )


@login_required
@require_GET
def agreement_version_detail(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    """One frozen version: its sections, validity, services and targets as they were."""
    _require(request, "view")
    _require(request, "view", model=AgreementVersion)
    agreement = _agreement(request, pk)
    version = agreement_version(agreement, number)
    content = version.content or {}
    targets = [
        {"label": target_key_label(t), "value": target_value_label(t), "metric": t.get("metric")}
        for t in content.get("targets", [])
    ]
    numbers = [v.version for v in agreement_versions(agreement)]
    return render(
        request,
        "sla/agreement_version.html",
        {
            "agreement": agreement,
            "object": agreement,
            "version": version,
            "content": content,
            **_sections(agreement_sections(content.get("sections", {}))),
            "targets": targets,
            "document_name": PurePath(content.get("signed_document") or "").name,
            "numbers": numbers,
            "previous": number - 1 if number - 1 in numbers else None,
            "is_current": number == agreement.version,
        },
    )


@login_required
@require_GET
def agreement_compare(request: HttpRequest, pk: int) -> HttpResponse:
    """Two versions side by side (``?a=1&b=3``): fields, services, sections, targets."""
    _require(request, "view")
    _require(request, "view", model=AgreementVersion)
    agreement = _agreement(request, pk)
    numbers = [v.version for v in agreement_versions(agreement)]
    data: Any = request.GET if "a" in request.GET or "b" in request.GET else None
    if data is None and len(numbers) >= 2:
        data = {"a": numbers[-2], "b": numbers[-1]}
    form = CompareForm(data, versions=numbers)
    diff = None
    status = 200
    if data is not None:
        if form.is_valid():
            diff = agreement_versions_diff(agreement, form.cleaned_data["a"], form.cleaned_data["b"])
        else:
            status = 400
    return render(
        request,
        "sla/agreement_compare.html",
        {"agreement": agreement, "object": agreement, "form": form, "diff": diff, "numbers": numbers},
        status=status,
    )


# --- targets ----------------------------------------------------------------------------------


def _target(agreement: Agreement, target_pk: int) -> ServiceLevelTarget:
    return get_object_or_404(
        ServiceLevelTarget.objects.select_related("calendar", "agreement"), pk=target_pk, agreement=agreement
    )


@login_required
@require_POST
def target_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a target from the form under the agreement's targets table."""
    _require(request, "view")
    _require(request, "add", model=ServiceLevelTarget)
    agreement = _agreement(request, pk)
    form = TargetForm(request.POST, prefix="target")
    if form.is_valid():
        try:
            target_services.target_create(agreement=agreement, actor=acting_user(request), **form.target_fields())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The target was added."))
            return HttpResponseRedirect(agreement.get_absolute_url() + "#targets")
    return _render_detail(request, agreement, target_form=form, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def target_edit(request: HttpRequest, pk: int, target_pk: int) -> HttpResponse:
    """Change one target of a draft or negotiating agreement."""
    _require(request, "view")
    _require(request, "view", "change", model=ServiceLevelTarget)
    agreement = _agreement(request, pk)
    target = _target(agreement, target_pk)
    instance = ServiceLevelTarget.objects.get(pk=target.pk)
    status = 200
    if request.method == "GET":
        form = TargetForm(instance=instance)
    else:
        form = TargetForm(request.POST, instance=instance)
        if form.is_valid():
            try:
                target_services.target_update(target=target, actor=acting_user(request), **form.target_fields())
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("The target was saved."))
                return HttpResponseRedirect(agreement.get_absolute_url() + "#targets")
        status = 400
    return render(
        request,
        "sla/target_form.html",
        {
            "agreement": agreement,
            "object": agreement,
            "target": target,
            "form": form,
            "editable": agreement.status in target_services.TARGETS_EDITABLE_STATUSES,
        },
        status=status,
    )


@login_required
@require_POST
def target_delete(request: HttpRequest, pk: int, target_pk: int) -> HttpResponse:
    _require(request, "view")
    _require(request, "view", "delete", model=ServiceLevelTarget)
    agreement = _agreement(request, pk)
    target = _target(agreement, target_pk)
    try:
        target_services.target_delete(target=target, actor=acting_user(request))
    except ValidationError as exc:
        return _render_detail(request, agreement, target_error=" ".join(exc.messages), status=400)
    messages.success(request, _("The target was removed."))
    return HttpResponseRedirect(agreement.get_absolute_url() + "#targets")


@login_required
@require_POST
def targets_apply_standard(request: HttpRequest, pk: int) -> HttpResponse:
    """Add the standard P1–P4 response and resolution targets the agreement lacks."""
    _require(request, "view")
    _require(request, "add", model=ServiceLevelTarget)
    agreement = _agreement(request, pk)
    form = StandardTargetsForm(request.POST, prefix="standard")
    if form.is_valid():
        try:
            added = target_services.targets_apply_standard(
                agreement=agreement, actor=acting_user(request), calendar=form.cleaned_data["calendar"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if added:
                messages.success(request, _("%(count)s standard targets were added.") % {"count": len(added)})
            else:
                messages.info(request, _("The agreement has every standard target already."))
            return HttpResponseRedirect(agreement.get_absolute_url() + "#targets")
    return _render_detail(request, agreement, standard_form=form, status=400)


agreement_history = ObjectHistoryView.as_view(model=Agreement)

urlpatterns = [
    path("sla/agreements/", agreement_list_view, name="agreement_list"),
    path("sla/agreements/new/", agreement_create, name="agreement_create"),
    path("sla/agreements/<int:pk>/", agreement_detail, name="agreement_detail"),
    path("sla/agreements/<int:pk>/edit/", agreement_edit, name="agreement_edit"),
    path("sla/agreements/<int:pk>/actions/<slug:action>/", agreement_transition, name="agreement_transition"),
    path("sla/agreements/<int:pk>/document/", agreement_document, name="agreement_document"),
    path("sla/agreements/<int:pk>/document/upload/", agreement_document_upload, name="agreement_document_upload"),
    path("sla/agreements/<int:pk>/change/", agreement_change, name="agreement_change"),
    path("sla/agreements/<int:pk>/versions/<int:number>/", agreement_version_detail, name="agreement_version_detail"),
    path(
        "sla/agreements/<int:pk>/versions/<int:number>/document/",
        agreement_version_document,
        name="agreement_version_document",
    ),
    path("sla/agreements/<int:pk>/compare/", agreement_compare, name="agreement_compare"),
    path("sla/agreements/<int:pk>/history/", agreement_history, name="agreement_history"),
    path("sla/agreements/<int:pk>/targets/new/", target_create, name="target_create"),
    path("sla/agreements/<int:pk>/targets/standard/", targets_apply_standard, name="targets_apply_standard"),
    path("sla/agreements/<int:pk>/targets/<int:target_pk>/edit/", target_edit, name="target_edit"),
    path("sla/agreements/<int:pk>/targets/<int:target_pk>/delete/", target_delete, name="target_delete"),
]
