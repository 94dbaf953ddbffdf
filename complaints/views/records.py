"""One complaint: registration, detail with timeline and actions, edits, attachments, history.

Views are thin: they check the role, parse a form, call one service and render. Access:

* anonymous → the login page; without the model permission → 403, decided before the row is
  looked up (a missing row is not told apart from a real one); a missing row → 404;
* a workflow action the user's roles may not perform → 403; one the table does not allow
  from the current state, or with a missing input → the detail page again, the error at the
  action's form, status 400.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from improvement.selectors.sources import source_panel
from itsm.core import calendar as business_calendar
from itsm.core.forms import TransitionForm
from itsm.core.models import Contact, User
from itsm.core.permissions import acting_user as _user
from itsm.core.permissions import can, can_view_history, require_all
from itsm.core.services import contact_create
from itsm.core.views.generic import ObjectHistoryView
from itsm.core.views.workflow import action_forms, timeline, transition_view

from ..choices import STATUS_COLOURS, ComplaintStatus, EscalationLevel, Severity
from ..forms import (
    ComplaintActionForm,
    ComplaintAttachmentForm,
    ComplaintConfirmationForm,
    ComplaintEditForm,
    ComplaintRegisterForm,
)
from ..models import Complaint, ComplaintAttachment, ComplaintEvent
from ..selectors import complaint_attachments, complaint_events, deadline_clock
from ..services import (
    COMPLAINT_MACHINE,
    attachment_add,
    complaint_record_confirmation,
    complaint_register,
    complaint_update,
    may_perform,
)
from ..workflow import TRANSITIONS

# --- access ------------------------------------------------------------------------------------


def _require(request: HttpRequest, *verbs: str, model: Any = Complaint) -> None:
    """403 unless the signed-in user holds every verb on ``model`` (before any row is read)."""
    require_all(request.user, verbs, model)


def _complaint(request: HttpRequest, pk: int) -> Complaint:
    queryset = Complaint.objects.visible_to(request.user).select_related(
        "organisation", "contact", "owner", "handler", "created_by", "related_service"
    )
    return get_object_or_404(queryset, pk=pk)


def _add_errors(form, exc: ValidationError, rename: dict[str, str] | None = None) -> None:
    """Show a service's ``ValidationError`` on ``form``: per field where the form has the field
    (``rename`` maps service field names to form field names), else above the form."""
    rename = rename or {}
    if not hasattr(exc, "error_dict"):
        for message in exc.messages:
            form.add_error(None, message)
        return
    for name, errors in exc.message_dict.items():
        field = rename.get(name, name)
        target = field if field in form.fields and name != NON_FIELD_ERRORS else None
        for message in errors:
            form.add_error(target, message)


# --- registration ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def complaint_create(request: HttpRequest) -> HttpResponse:
    """Register a complaint (optionally with a new contact and a file), all or nothing.

    GET pre-fills from the query string (``?external_ticket_ref=…&organisation=…&contact=…``)
    so other pages can link "register a complaint" ready-made. POST with ``lookup`` only
    refreshes the contact choices (the look-up without JavaScript; with it, the contact
    picker searches ``/pick/contacts/`` as one types).
    """
    _require(request, "add")
    user = _user(request)
    if request.method == "GET":
        return _render_create(request, ComplaintRegisterForm(initial=_prefill(request.GET), user=user))
    if "lookup" in request.POST:
        return _render_create(request, ComplaintRegisterForm(initial=_prefill(request.POST), user=user))
    form = ComplaintRegisterForm(request.POST, request.FILES, user=user)
    if not form.is_valid():
        return _render_create(request, form)
    try:
        complaint = _register(request, form)
    except ValidationError:
        return _render_create(request, form)  # the errors are on the form; nothing was written
    messages.success(request, _("Complaint %(reference)s was registered.") % {"reference": complaint.reference})
    return HttpResponseRedirect(complaint.get_absolute_url())


def _prefill(query) -> dict[str, Any]:
    """Initial values from a query string (a link from another page) or from the no-JavaScript
    look-up's POST (everything typed so far, except the file)."""
    names = (*ComplaintRegisterForm.PREFILL, *ComplaintRegisterForm.KEPT_ON_LOOKUP)
    initial: dict[str, Any] = {name: query.get(name) for name in names if query.get(name)}
    contact = str(initial.get("contact", ""))
    if contact.isdigit() and "organisation" not in initial:
        organisation = Contact.objects.filter(pk=int(contact)).values_list("organisation_id", flat=True).first()
        if organisation is not None:
            initial["organisation"] = organisation
    return initial


def _register(request: HttpRequest, form: ComplaintRegisterForm) -> Complaint:
    """The contact (if new), the complaint and its file in one transaction: any error rolls
    all of them back, is put on ``form`` and re-raised."""
    user = _user(request)
    stage: dict[str, str] = {}
    try:
        with transaction.atomic():
            new_contact = form.new_contact_fields()
            if new_contact is not None:
                stage = ComplaintRegisterForm.NEW_CONTACT_FIELDS
                contact = contact_create(actor=user, **new_contact)
            else:
                contact = form.cleaned_data["contact"]
            stage = {}
            complaint = complaint_register(actor=user, contact=contact, **form.complaint_fields())
            upload = form.cleaned_data.get("attachment")
            if upload:
                stage = {"file": "attachment"}
                attachment_add(complaint=complaint, actor=user, upload=upload)
    except ValidationError as exc:
        _add_errors(form, exc, stage)
        raise
    return complaint


def _render_create(request: HttpRequest, form: ComplaintRegisterForm) -> HttpResponse:
    return render(request, "complaints/create.html", {"form": form})


# --- detail --------------------------------------------------------------------------------------


@login_required
@require_GET
def complaint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "view")
    return _render_detail(request, _complaint(request, pk))


def _render_detail(
    request: HttpRequest,
    complaint: Complaint,
    *,
    failed: TransitionForm | None = None,
    attachment_form: ComplaintAttachmentForm | None = None,
    confirmation_form: ComplaintConfirmationForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    # An action refused from this state has no form on the page: its error goes above the forms.
    forms, refused = action_forms(COMPLAINT_MACHINE, complaint, user, ComplaintActionForm, failed)
    may_change = can(user, "change", Complaint)
    events = list(complaint_events(complaint))
    context = {
        "complaint": complaint,
        "object": complaint,
        "status_colour": STATUS_COLOURS.get(ComplaintStatus(complaint.status), "secondary"),
        "is_major": complaint.severity == Severity.MAJOR,
        "deadlines": _deadlines(complaint),
        "timeline": _timeline(events),
        "attachments": list(complaint_attachments(complaint)),
        "action_forms": forms,
        "refused": refused,
        "may_edit": may_change and complaint.is_open,
        "may_attach": may_change and can(user, "add", ComplaintAttachment),
        "attachment_form": attachment_form or ComplaintAttachmentForm(),
        # Staff may record the customer's answer given by phone while the result waits for it.
        "confirmation_form": (
            (confirmation_form or ComplaintConfirmationForm())
            if may_change
            and complaint.status == ComplaintStatus.RESOLVED
            and complaint.result_settled is None
            and may_perform(TRANSITIONS["close"], complaint, user)
            else None
        ),
        "can_view_history": can_view_history(user),
        "improvement": source_panel(user, "complaint", complaint),
    }
    return render(request, "complaints/detail.html", context, status=status)


def _deadlines(complaint: Complaint) -> list[dict[str, Any]]:
    """The response and resolution deadlines, each with its state and the working time left
    (on the default business calendar)."""
    now = timezone.now()
    calendar = business_calendar.default_calendar()
    response: dict[str, Any] = {
        "key": "response",
        "label": _("Response"),
        "due": complaint.response_due_at,
        "done_at": complaint.responded_at,
        "done_label": _("Responded at"),
    }
    if complaint.responded_at is not None:
        late = complaint.responded_at > complaint.response_due_at
        response.update(overdue=late, left=_("late") if late else _("on time"))
    elif complaint.status == ComplaintStatus.REGISTERED:
        response.update(deadline_clock(complaint.response_due_at, now, calendar))
    resolution: dict[str, Any] = {
        "key": "resolution",
        "label": _("Resolution"),
        "due": complaint.resolution_due_at,
        "done_at": complaint.resolved_at,
        "done_label": _("Resolved at"),
    }
    if complaint.resolved_at is not None:
        late = complaint.resolved_at > complaint.resolution_due_at
        resolution.update(overdue=late, left=_("late") if late else _("on time"))
    elif complaint.status == ComplaintStatus.WITHDRAWN:
        resolution.update(left=_("withdrawn"))
    elif complaint.is_paused:
        resolution.update(
            paused=True,
            left=_("paused while waiting on the customer; the due date moves by the time paused"),
        )
    else:
        resolution.update(deadline_clock(complaint.resolution_due_at, now, calendar))
    return [response, resolution]


def _timeline(events: list[ComplaintEvent]) -> list[dict[str, Any]]:
    """The timeline's rows; the owners named in escalations are loaded in one query for all."""
    owner_ids: set[int] = {
        e.data["owner"] for e in events if isinstance(e.data, dict) and isinstance(e.data.get("owner"), int)
    }
    owners = {u.pk: str(u) for u in User.objects.filter(pk__in=owner_ids)} if owner_ids else {}
    return timeline(
        COMPLAINT_MACHINE,
        events,
        details=lambda event: _event_details(event.data if isinstance(event.data, dict) else {}, owners),
        arrivals=True,
    )


def _event_details(data: dict[str, Any], owners: dict[int, str]) -> list[str]:
    details = []
    levels = data.get("escalation_level")
    if isinstance(levels, list | tuple) and len(levels) == 2:
        names = dict(EscalationLevel.choices)
        details.append(
            _("escalation level: %(before)s → %(after)s")
            % {"before": names.get(levels[0], levels[0]), "after": names.get(levels[1], levels[1])}
        )
    if data.get("owner"):
        details.append(_("owner: %(name)s") % {"name": owners.get(data["owner"], "—")})
    if data.get("deadline") in ("response", "resolution"):
        details.append(_("response deadline") if data["deadline"] == "response" else _("resolution deadline"))
    if "satisfaction" in data:
        details.append(_("rating: %(rating)s/5") % {"rating": data["satisfaction"]})
    if "settled" in data:
        details.append(_("settled: yes") if data["settled"] else _("settled: no"))
    if data.get("on_behalf"):
        details.append(_("given by phone, recorded on the customer's behalf"))
    if data.get("fields"):
        labels = []
        for name in data["fields"]:
            try:
                labels.append(str(getattr(Complaint._meta.get_field(name), "verbose_name", name)))
            except FieldDoesNotExist:  # a field renamed since: show its stored name
                labels.append(str(name))
        details.append(_("changed: %(fields)s") % {"fields": ", ".join(labels)})
    return details


# --- workflow actions ----------------------------------------------------------------------------


complaint_action = transition_view(
    COMPLAINT_MACHINE,
    form_class=ComplaintActionForm,
    record=_complaint,
    render_failed=_render_detail,
    add_errors=_add_errors,
)


@login_required
@require_POST
def complaint_confirmation(request: HttpRequest, pk: int) -> HttpResponse:
    """Record the customer's confirmation of the result given by phone (on their behalf)."""
    _require(request, "view", "change")
    complaint = _complaint(request, pk)
    user = _user(request)
    if not may_perform(TRANSITIONS["close"], complaint, user):
        raise PermissionDenied
    form = ComplaintConfirmationForm(request.POST)
    if form.is_valid():
        try:
            complaint = complaint_record_confirmation(complaint=complaint, actor=user, **form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            if complaint.status == ComplaintStatus.RESOLVED:
                messages.success(request, _("The customer's confirmation was recorded; the complaint can be closed."))
            else:
                messages.warning(request, _("The customer is not satisfied: the complaint was reopened."))
            return HttpResponseRedirect(complaint.get_absolute_url())
    return _render_detail(request, _complaint(request, pk), confirmation_form=form, status=400)


# --- edit ----------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def complaint_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit the details (``services.EDITABLE_FIELDS``) through ``complaint_update``; never the state."""
    _require(request, "view", "change")
    complaint = _complaint(request, pk)
    if request.method == "POST":
        form = ComplaintEditForm(request.POST, instance=complaint)
        if form.is_valid():
            changed = {name: form.cleaned_data[name] for name in form.changed_data}
            try:
                complaint_update(complaint=_complaint(request, pk), actor=_user(request), **changed)
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("Complaint %(reference)s was saved.") % {"reference": complaint.reference})
                return HttpResponseRedirect(complaint.get_absolute_url())
    else:
        form = ComplaintEditForm(instance=complaint)
    return render(request, "complaints/edit.html", {"form": form, "complaint": complaint, "object": complaint})


# --- attachments ---------------------------------------------------------------------------------


@login_required
@require_POST
def complaint_attachment_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Attach a file (type and size checked); errors re-render the detail page with status 400."""
    _require(request, "view", "change")
    _require(request, "add", model=ComplaintAttachment)
    complaint = _complaint(request, pk)
    form = ComplaintAttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            attachment = attachment_add(complaint=complaint, actor=_user(request), upload=form.cleaned_data["file"])
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("%(name)s was attached.") % {"name": attachment.original_name})
            return HttpResponseRedirect(complaint.get_absolute_url() + "#attachments")
    return _render_detail(request, complaint, attachment_form=form, status=400)


@login_required
@require_GET
def complaint_attachment_download(request: HttpRequest, pk: int, attachment_pk: int) -> HttpResponseBase:
    """Stream an attachment to a user who may view complaints (files are never served from
    MEDIA_URL); always as a download, with the type recorded at upload."""
    _require(request, "view")
    _require(request, "view", model=ComplaintAttachment)
    complaint = _complaint(request, pk)
    return attachment_file_response(get_object_or_404(ComplaintAttachment, pk=attachment_pk, complaint=complaint))


def attachment_file_response(attachment: ComplaintAttachment) -> FileResponse:
    """The attachment's file, always as a download with the type recorded at upload, never
    sniffed or cached (the page's download and the API's). ``Http404`` when the file is gone."""
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        handle, as_attachment=True, filename=attachment.original_name, content_type=attachment.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --- history -------------------------------------------------------------------------------------

complaint_history = ObjectHistoryView.as_view(model=Complaint)
