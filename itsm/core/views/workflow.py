"""The pages' side of the workflow kit (``itsm.core.workflow``): the action forms of a record's
page and the one view that performs an action posted from one of them.

A machine's page gives ``transition_view`` how to read its record and how to render its page
again with a refused form (status 400); the view does the rest the same way for every machine:
404 for an unknown action, 403 without the model's view and change permissions or a role the
table names, 400 with the form's errors (the table's "not possible while …" above the form when
the record has moved on), else the move through ``perform``, a success message and a redirect
to the record.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from ..forms import TransitionForm
from ..permissions import acting_user, require_all
from ..workflow import Machine, allowed, moved_message, perform, refused_message
from .generic import add_service_errors

# Who a history row without a user names, as stored in ``actor_label``.
ACTOR_LABELS = {"system": gettext_lazy("system"), "customer": gettext_lazy("customer")}

# The record's page again: ``render_failed(request, record, failed=form, status=400)``.
RenderFailed = Callable[..., HttpResponse]


def action_forms(
    machine: Machine,
    record: Any,
    user: Any,
    form_class: type[TransitionForm],
    failed: TransitionForm | None = None,
) -> tuple[list[TransitionForm], TransitionForm | None]:
    """One form per action ``user`` may take on ``record`` now (``failed`` in its place when it
    was just refused), and ``failed`` again when its action is no longer on offer: the page shows
    that one's errors above the forms."""
    forms = []
    for transition in allowed(machine, record, user):
        if failed is not None and failed.transition.action == transition.action:
            forms.append(failed)
        else:
            forms.append(form_class(transition=transition, record=record, user=user))
    refused = failed if failed is not None and failed not in forms else None
    return forms, refused


def transition_view(
    machine: Machine,
    *,
    form_class: type[TransitionForm],
    record: Callable[[HttpRequest, int], Any],
    render_failed: RenderFailed,
    add_errors: Callable[[Any, ValidationError], None] = add_service_errors,
) -> Callable[..., HttpResponse]:
    """The view of ``POST …/<pk>/actions/<action>/`` for ``machine`` (see the module).
    ``record(request, pk)`` reads the record within the user's reach (404 otherwise);
    ``render_failed(request, record, failed=form, status=400)`` renders its page again with the
    refused form."""

    @login_required
    @require_POST
    def view(request: HttpRequest, pk: int, action: str) -> HttpResponse:
        transition = machine.table.get(action)
        if transition is None:
            raise Http404
        require_all(request.user, ("view", "change"), machine.model)
        current = record(request, pk)
        user = acting_user(request)
        if not machine.may(transition, current, user):
            raise PermissionDenied
        form = form_class(request.POST, transition=transition, record=current, user=user)
        if not form.is_valid():
            if current.status not in transition.sources:
                form.add_error(None, refused_message(machine, transition, current))
            return render_failed(request, current, failed=form, status=400)
        note, inputs = form.transition_inputs()
        try:
            moved = perform(machine, current, action, actor=user, note=note, inputs=inputs)
        except ValidationError as exc:  # TransitionRefused included
            add_errors(form, exc)
            # The page shows the stored record, not the attempt.
            return render_failed(request, record(request, pk), failed=form, status=400)
        messages.success(request, moved_message(machine, transition, moved))
        return HttpResponseRedirect(moved.get_absolute_url())

    view.__doc__ = f"Perform one workflow action on a {machine.model._meta.model_name} from its small form."
    return view


def timeline(
    machine: Machine,
    events: Any,
    *,
    details: Callable[[Any], list[str]] | None = None,
    arrivals: bool = False,
) -> list[dict[str, Any]]:
    """``events`` (the record's history, oldest first) as the rows ``includes/timeline.html``
    shows: who (a user, the customer or the system), the row's label, from → to when it moved,
    the machine's ``details`` of the row and the note. ``arrivals``: a later row that set a
    status without leaving one (a pause lifted) shows "→ status" too."""
    event_model = machine.event_model
    choices: Any = getattr(event_model._meta.get_field("to_status"), "choices", None)
    statuses = dict(choices or getattr(machine.model._meta.get_field("status"), "choices", None) or ())
    rows = []
    for index, event in enumerate(events):
        if event.actor is not None:
            who: Any = str(event.actor)
        else:
            label = event.actor_label or machine.system_label
            who = ACTOR_LABELS.get(label, label)
        moved = bool(event.from_status) and event.from_status != event.to_status
        rows.append(
            {
                "event": event,
                "who": who,
                "by_user": event.actor is not None,
                "action": event.action,
                "label": machine.action_label(event.action),
                "from": statuses.get(event.from_status, ""),
                "to": statuses.get(event.to_status, ""),
                "moved": moved,
                "arrived": arrivals and index > 0 and not event.from_status and bool(event.to_status),
                "details": details(event) if details is not None else [],
                "note": event.note,
            }
        )
    return rows
