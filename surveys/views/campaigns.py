"""Survey campaign pages: list, plan (create / edit), detail with audience, history and the
workflow actions, delete, the invitation list and the audit history.

Views are thin: they check the role, parse a form, call one service of
``surveys.services.campaigns`` and render. Access:

* anonymous → the login page; without the model permission → 403, decided before the row is
  looked up (a missing row is not told apart from a real one); a missing row → 404;
* a workflow action the user's roles may not perform → 403; one the table does not allow from
  the current state, or with a missing input or an unmet condition → the detail page again,
  the errors at the action's form, status 400.

The list, the detail page and the invitation list run a constant number of queries whatever
the number of campaigns, events or invitations: counts are computed in SQL (the response rate
from the invitations' statuses), related rows are joined in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from itsm.core.forms import TransitionForm, bootstrap_widgets
from itsm.core.models import Organisation, User
from itsm.core.permissions import acting_user as _user
from itsm.core.permissions import can, can_view_history, require_all
from itsm.core.selectors import with_mail
from itsm.core.views.generic import ObjectHistoryView, ObjectListView
from itsm.core.views.workflow import action_forms, timeline, transition_view

from ..choices import LAUNCHED_STATUSES, PLAN_EDITABLE_STATUSES, CampaignStatus, InvitationStatus
from ..filters import CampaignFilter, InvitationFilter
from ..forms.campaigns import (
    CampaignActionForm,
    CampaignForm,
    CloseDateForm,
    DepartmentShareFormSet,
    StakeholdersForm,
    share_initial,
)
from ..models import Campaign, Invitation
from ..services import campaigns as services
from ..services.invitations import invite_key_expression

S = CampaignStatus
STATUS_COLOURS = {
    S.DRAFT: "secondary",
    S.IN_REVIEW: "info",
    S.APPROVED: "primary",
    S.RUNNING: "success",
    S.CLOSED: "dark",
    S.PUBLISHED: "warning",
    S.ANALYSED: "light",
}
# The close date moves with ``campaign_set_close`` until the campaign has closed.
CLOSE_MOVABLE_STATUSES = frozenset({S.IN_REVIEW, S.APPROVED, S.RUNNING})
STAKEHOLDERS_EDITABLE_STATUSES = frozenset(set(S) - {S.PUBLISHED, S.ANALYSED})
DELIVERED = [InvitationStatus.SENT, InvitationStatus.ANSWERED]
INVITATIONS_PER_PAGE = 50

# --- access ------------------------------------------------------------------------------------


def _require(request: HttpRequest, *verbs: str, model: Any = Campaign) -> None:
    """403 unless the signed-in user holds every verb on ``model`` (before any row is read)."""
    require_all(request.user, verbs, model)


def _campaign(request: HttpRequest, pk: int) -> Campaign:
    queryset = Campaign.objects.visible_to(request.user).select_related("questionnaire", "owner", "approved_by")
    return get_object_or_404(queryset, pk=pk)


def _field_label(name: str) -> str:
    try:
        return str(capfirst(getattr(Campaign._meta.get_field(name), "verbose_name", name)))
    except FieldDoesNotExist:
        return name


def _add_errors(form: BaseForm, exc: ValidationError, formset: Any = None) -> None:
    """Show a service's ``ValidationError`` on ``form``: next to the field where the form has
    it, the department shares' on the share rows, else above the form with the field's label."""
    if not hasattr(exc, "error_dict"):
        for message in exc.messages:
            form.add_error(None, message)
        return
    for name, errors in exc.message_dict.items():
        for message in errors:
            if name in form.fields and name != NON_FIELD_ERRORS:
                form.add_error(name, message)
            elif name == "department_ratios" and formset is not None:
                formset.non_form_errors().append(message)
            elif name == NON_FIELD_ERRORS:
                form.add_error(None, message)
            else:
                form.add_error(None, _("%(field)s: %(message)s") % {"field": _field_label(name), "message": message})


def with_invitation_counts(queryset: QuerySet[Campaign]) -> QuerySet[Campaign]:
    """Annotate each campaign with its invitations (``invited``), those delivered (sent or
    answered: ``delivered``) and answered (``answered``), as correlated subqueries: on a page
    they are computed for the rows shown only, each from the (campaign, status) index."""

    def count(**conditions: Any) -> Coalesce:
        rows = (
            Invitation.objects.filter(campaign=OuterRef("pk"), **conditions)
            .order_by()
            .values("campaign")
            .annotate(n=Count("pk"))
            .values("n")[:1]
        )
        return Coalesce(Subquery(rows, output_field=IntegerField()), 0)

    return queryset.annotate(
        invited=count(),
        delivered=count(status__in=DELIVERED),
        answered=count(status=InvitationStatus.ANSWERED),
    )


def response_rate(answered: int, delivered: int) -> int | None:
    """Answered as a share of the invitations delivered (sent or answered), in %."""
    return round(100 * answered / delivered) if delivered else None


# --- list --------------------------------------------------------------------------------------


class CampaignListView(ObjectListView):
    """Campaigns, newest first: filters, search by title, sort, 25 a page, live response rate."""

    model = Campaign
    template_name = "surveys/campaign_list.html"
    filterset_class = CampaignFilter
    ordering_fields = ("title", "status", "closes_at", "created_at")
    select_related = ("owner", "questionnaire")

    def visible_queryset(self):
        return with_invitation_counts(Campaign.objects.visible_to(self.request.user))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = context["filter_form"]
        form.fields["status"].widget.attrs["size"] = 4
        for name in ("closes_after", "closes_before"):
            form.fields[name].widget.input_type = "date"
        context["rows"] = [
            {
                "campaign": campaign,
                "status_colour": STATUS_COLOURS.get(S(campaign.status), "secondary"),
                "launched": campaign.status in LAUNCHED_STATUSES,
                "rate": response_rate(campaign.answered, campaign.delivered),
            }
            for campaign in context["object_list"]
        ]
        return context


campaign_list = CampaignListView.as_view()


# --- plan: create and edit ---------------------------------------------------------------------


def _plan_valid(form: CampaignForm, shares: Any) -> bool:
    """Both valid, and every share's department belongs to a surveyed organisation."""
    valid = form.is_valid()
    valid = shares.is_valid() and valid
    if valid:
        valid = shares.check_against(form.cleaned_data.get("organisations") or [], form.cleaned_data["audience_mode"])
    return valid


def _create_initial(request: HttpRequest) -> dict[str, Any]:
    """``?questionnaire=<pk>`` pre-selects a questionnaire (a link from the questionnaire page)."""
    questionnaire = request.GET.get("questionnaire", "")
    return {"questionnaire": int(questionnaire)} if questionnaire.isdigit() else {}


@login_required
@require_http_methods(["GET", "POST"])
def campaign_create(request: HttpRequest) -> HttpResponse:
    """Plan a new campaign (a draft owned by the user), all or nothing."""
    _require(request, "add")
    user = _user(request)
    if request.method == "GET":
        form = CampaignForm(user=user, initial=_create_initial(request))
        shares = DepartmentShareFormSet()
        return _render_plan(request, form=form, shares=shares)
    form = CampaignForm(request.POST, user=user)
    shares = DepartmentShareFormSet(request.POST)
    if _plan_valid(form, shares):
        try:
            campaign = _create(user, form, shares)
        except ValidationError as exc:
            _add_errors(form, exc, shares)
        else:
            messages.success(request, _("Campaign “%(title)s” was created as a draft.") % {"title": campaign.title})
            return HttpResponseRedirect(campaign.get_absolute_url())
    return _render_plan(request, form=form, shares=shares, status=400)


def _create(user: User, form: CampaignForm, shares: Any) -> Campaign:
    return services.campaign_create(
        actor=user,
        organisations=form.relation("organisations"),
        ratios=shares.ratios(),
        stakeholders=form.relation("stakeholders"),
        **form.plan_fields(),
    )


def _render_plan(request: HttpRequest, *, status: int = 200, **context: Any) -> HttpResponse:
    context.setdefault("campaign", None)
    return render(request, "surveys/campaign_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def campaign_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a campaign: the whole plan while it is a draft; afterwards only the stakeholders
    (until the results are published) and the close date (until it has closed).

    POST carries ``part`` (``plan``, ``stakeholders`` or ``close``) saying which form was sent.
    """
    _require(request, "view", "change")
    campaign = _campaign(request, pk)
    user = _user(request)
    part = request.POST.get("part", "") if request.method == "POST" else ""
    data = request.POST if request.method == "POST" else None
    plan_form = shares = stakeholders_form = close_form = None
    if campaign.status in PLAN_EDITABLE_STATUSES:
        # A copy: a failed attempt must not show on the page as if it were the stored plan.
        plan_form = CampaignForm(
            data if part == "plan" else None, instance=Campaign.objects.get(pk=campaign.pk), user=user
        )
        shares = DepartmentShareFormSet(data if part == "plan" else None, initial=share_initial(campaign))
    else:
        if campaign.status in STAKEHOLDERS_EDITABLE_STATUSES:
            stakeholders_form = StakeholdersForm(data if part == "stakeholders" else None, campaign=campaign)
        if campaign.status in CLOSE_MOVABLE_STATUSES:
            close_form = CloseDateForm(data if part == "close" else None, campaign=campaign)

    status = 200
    if request.method == "POST":
        saved = False
        if part == "plan" and plan_form is not None:
            saved = _save_plan(request, campaign, plan_form, shares)
        elif part == "stakeholders" and stakeholders_form is not None:
            saved = _save_stakeholders(request, campaign, stakeholders_form)
        elif part == "close" and close_form is not None:
            saved = _save_close(request, campaign, close_form)
        else:
            # Sent from a page shown before the campaign moved on.
            messages.error(
                request,
                _("This can no longer be changed: the campaign is %(status)s now.")
                % {"status": campaign.get_status_display()},
            )
        if saved:
            return HttpResponseRedirect(campaign.get_absolute_url())
        status = 400
    return _render_plan(
        request,
        campaign=campaign,
        form=plan_form,
        shares=shares,
        stakeholders_form=stakeholders_form,
        close_form=close_form,
        status=status,
    )


def _save_plan(request: HttpRequest, campaign: Campaign, form: CampaignForm, shares: Any) -> bool:
    if not _plan_valid(form, shares):
        return False
    try:
        services.campaign_update(
            campaign=campaign,
            actor=_user(request),
            organisations=form.relation("organisations", changed_only=True),
            ratios=shares.ratios() if shares.has_changed() else None,
            stakeholders=form.relation("stakeholders", changed_only=True),
            **form.plan_fields(changed_only=True),
        )
    except ValidationError as exc:
        _add_errors(form, exc, shares)
        return False
    messages.success(request, _("The plan was saved."))
    return True


def _save_stakeholders(request: HttpRequest, campaign: Campaign, form: StakeholdersForm) -> bool:
    if not form.is_valid():
        return False
    try:
        services.campaign_update(
            campaign=campaign, actor=_user(request), stakeholders=list(form.cleaned_data["stakeholders"])
        )
    except ValidationError as exc:
        _add_errors(form, exc)
        return False
    messages.success(request, _("The stakeholders were saved."))
    return True


def _save_close(request: HttpRequest, campaign: Campaign, form: CloseDateForm) -> bool:
    if not form.is_valid():
        return False
    try:
        services.campaign_set_close(campaign=campaign, closes_at=form.cleaned_data["closes_at"], actor=_user(request))
    except ValidationError as exc:
        _add_errors(form, exc)
        return False
    messages.success(
        request,
        _("The campaign now closes at %(when)s.")
        % {"when": date_format(timezone.localtime(form.cleaned_data["closes_at"]), "Y-m-d H:i")},
    )
    return True


# --- detail ------------------------------------------------------------------------------------


@login_required
@require_GET
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "view")
    return _render_detail(request, _campaign(request, pk))


def _render_detail(
    request: HttpRequest,
    campaign: Campaign,
    *,
    failed: TransitionForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    # An action refused from this state has no form on the page: its errors go above the forms.
    forms, refused = action_forms(services.CAMPAIGN_MACHINE, campaign, user, CampaignActionForm, failed)
    events = list(campaign.events.select_related("actor").order_by("created_at", "pk"))
    launched = campaign.status in LAUNCHED_STATUSES
    context: dict[str, Any] = {
        "campaign": campaign,
        "object": campaign,
        "status_colour": STATUS_COLOURS.get(S(campaign.status), "secondary"),
        "organisations": list(campaign.organisations.order_by("name")),
        "stakeholders": list(campaign.stakeholders.order_by("first_name", "username")),
        "question_count": campaign.questionnaire.questions.count(),
        "launched": launched,
        "timeline": timeline(
            services.CAMPAIGN_MACHINE,
            events,
            details=lambda event: _event_details(event.action, event.data if isinstance(event.data, dict) else {}),
        ),
        "action_forms": forms,
        "refused": refused,
        # Stakeholders change until publication; after that there is nothing left to edit.
        "may_edit": campaign.status in STAKEHOLDERS_EDITABLE_STATUSES and can(user, "change", Campaign),
        "may_delete": campaign.status == S.DRAFT and not events and can(user, "delete", Campaign),
        "may_view_invitations": launched and can(user, "view", Invitation),
        "can_view_history": can_view_history(user),
    }
    if launched:
        context["counts"] = _invitation_counts(campaign)
        launch = next((e for e in events if e.action == "launch" and isinstance(e.data, dict)), None)
        context["at_launch"] = launch.data if launch is not None else None
    else:
        context["audience"] = services.campaign_audience(campaign)
        context["sample"] = campaign.audience_mode == "sample"
    return render(request, "surveys/campaign_detail.html", context, status=status)


def _invitation_counts(campaign: Campaign) -> dict[str, Any]:
    """The invitations by status (one aggregate query) and the live response rate."""
    statuses = InvitationStatus
    counts = campaign.invitations.aggregate(
        total=Count("pk"),
        pending=Count("pk", filter=Q(status=statuses.PENDING)),
        sent=Count("pk", filter=Q(status=statuses.SENT)),
        answered=Count("pk", filter=Q(status=statuses.ANSWERED)),
        bounced=Count("pk", filter=Q(status=statuses.BOUNCED)),
        unsubscribed=Count("pk", filter=Q(unsubscribed_at__isnull=False)),
        reminders=Coalesce(Sum("reminders_sent"), 0),
    )
    counts["delivered"] = counts["sent"] + counts["answered"]
    counts["rate"] = response_rate(counts["answered"], counts["delivered"])
    return counts


def _local(value: Any) -> str:
    """An ISO date-time from an event's data, in the local time zone."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if timezone.is_naive(moment):
        return date_format(moment, "Y-m-d H:i")
    return date_format(timezone.localtime(moment), "Y-m-d H:i")


def _event_details(action: str, data: dict[str, Any]) -> list[str]:
    details = []
    if action == "set_close" and "to" in data:
        details.append(
            _("from %(before)s to %(after)s") % {"before": _local(data.get("from")), "after": _local(data["to"])}
        )
    if action == "submit" and "audience" in data:
        details.append(_("audience: %(count)s contacts") % {"count": data["audience"]})
    if action == "launch":
        labels = [
            ("invited", _("invited: %(count)s")),
            ("invalid_addresses", _("invalid addresses: %(count)s")),
            ("no_email", _("left out, no email: %(count)s")),
            ("unsubscribed", _("left out, unsubscribed: %(count)s")),
            ("recently_answered", _("left out, answered recently: %(count)s")),
            ("not_sampled", _("not sampled: %(count)s")),
        ]
        # Reasons nobody was left out for are not worth a line.
        details.extend(label % {"count": data[key]} for key, label in labels if data.get(key) or key == "invited")
    if action == "close" and isinstance(data.get("by_status"), dict):
        names = dict(InvitationStatus.choices)
        details.extend(
            _("%(status)s: %(count)s") % {"status": names.get(key, key), "count": count}
            for key, count in sorted(data["by_status"].items())
            if count
        )
    if action == "publish" and isinstance(data.get("stakeholders"), list):
        details.append(_("mailed to %(count)s stakeholders") % {"count": len(data["stakeholders"])})
    return details


# --- workflow actions --------------------------------------------------------------------------


campaign_transition = transition_view(
    services.CAMPAIGN_MACHINE,
    form_class=CampaignActionForm,
    record=_campaign,
    render_failed=_render_detail,
    add_errors=_add_errors,
)


# --- delete ------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def campaign_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete a draft that was never submitted (GET asks to confirm)."""
    _require(request, "view", "delete")
    campaign = _campaign(request, pk)
    deletable = campaign.status == S.DRAFT and not campaign.events.exists()
    error = "" if deletable else _("Only a draft that was never submitted can be deleted.")
    if request.method == "POST" and deletable:
        try:
            services.campaign_delete(campaign=campaign, actor=_user(request))
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, _("Campaign “%(title)s” was deleted.") % {"title": campaign.title})
            return HttpResponseRedirect(reverse("campaign_list"))
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "surveys/campaign_confirm_delete.html",
        {"campaign": campaign, "object": campaign, "error": error},
        status=status,
    )


# --- invitations -------------------------------------------------------------------------------


@login_required
@require_GET
def campaign_invitations(request: HttpRequest, pk: int) -> HttpResponse:
    """One campaign's invitations (who, where, status, when, reminders, why an address is
    invalid): filters, 50 a page; for staff who may read invitations. An invitation marked
    sent shows where its mail really is (held until working hours, queued, sent at, failed),
    read in the same query."""
    _require(request, "view")
    _require(request, "view", model=Invitation)
    campaign = _campaign(request, pk)
    organisations = Organisation.objects.filter(
        pk__in=Invitation.objects.filter(campaign=campaign).values("organisation_id")
    ).order_by("name")
    queryset = (
        Invitation.objects.visible_to(request.user)
        .filter(campaign=campaign)
        .select_related("contact", "organisation", "department")
        .order_by("organisation__name", "contact__name", "pk")
    )
    filterset = InvitationFilter(
        request.GET or None, queryset=queryset, organisations=organisations, campaign=campaign, request=request
    )
    if filterset.is_bound:
        queryset = filterset.qs if filterset.is_valid() else queryset.none()
    queryset = with_mail(queryset, key=invite_key_expression())
    page = Paginator(queryset, INVITATIONS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "surveys/campaign_invitations.html",
        {
            "campaign": campaign,
            "object": campaign,
            "filterset": filterset,
            "filter_form": bootstrap_widgets(filterset.form),
            "page_obj": page,
            "paginator": page.paginator,
            "invitations": page.object_list,
            "querystring": query.urlencode(),
            "launched": campaign.status in LAUNCHED_STATUSES,
        },
    )


# --- history -----------------------------------------------------------------------------------

campaign_history = ObjectHistoryView.as_view(model=Campaign)


urlpatterns = [
    path("surveys/campaigns/", campaign_list, name="campaign_list"),
    path("surveys/campaigns/new/", campaign_create, name="campaign_create"),
    path("surveys/campaigns/<int:pk>/", campaign_detail, name="campaign_detail"),
    path("surveys/campaigns/<int:pk>/edit/", campaign_edit, name="campaign_edit"),
    path("surveys/campaigns/<int:pk>/delete/", campaign_delete, name="campaign_delete"),
    path("surveys/campaigns/<int:pk>/actions/<slug:action>/", campaign_transition, name="campaign_transition"),
    path("surveys/campaigns/<int:pk>/invitations/", campaign_invitations, name="campaign_invitations"),
    path("surveys/campaigns/<int:pk>/history/", campaign_history, name="campaign_history"),
]
