"""Agreement review pages: reviews due (and overdue), recording a review, one review, an
agreement's reviews.

Reading needs ``sla.view_agreementreview`` and ``view_agreement``; recording a review
``add_agreementreview`` (service level managers). The role is checked before any row is
read. Views parse the form, call ``sla.services.reviews`` and render; the lists run a constant
number of queries whatever the number of agreements and reviews.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from improvement.selectors.sources import source_panel
from itsm.core.permissions import acting_user as _user
from itsm.core.permissions import can, require_all
from itsm.core.views.generic import add_service_errors

from ..choices import AgreementKind, AgreementStatus
from ..forms.reviews import AgreementReviewForm, ReviewDueFilterForm
from ..models import Agreement, AgreementReview
from ..services import reviews as services

DUE_WITHIN_DAYS = 60
PAGE_SIZE = 50
UNDATED_SHOWN = 50
RECENT_SHOWN = 10
# The kinds that must be reviewed yearly (SPEC §5); OLAs may be reviewed but are not chased
# when they have no review date.
REVIEWED_KINDS = (AgreementKind.SLA, AgreementKind.UC)


def _require(request: HttpRequest, *verbs: str) -> None:
    require_all(request.user, verbs, AgreementReview)
    require_all(request.user, ("view",), Agreement)


def _optional_url(name: str, *args: Any) -> str:
    # The agreement pages are another part of the sla app; link to them when they exist.
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def _agreement(request: HttpRequest, pk: int) -> Agreement:
    queryset = Agreement.objects.visible_to(request.user).select_related("counterparty", "owner")
    return get_object_or_404(queryset, pk=pk)


# --- reviews due -------------------------------------------------------------------------------


@login_required
@require_GET
def review_due_list(request: HttpRequest) -> HttpResponse:
    """Active agreements whose review is overdue or due within 60 days (overdue first, then
    the soonest), active SLAs and UCs with no review date, and the latest reviews held."""
    _require(request, "view")
    today = timezone.localdate()
    form = ReviewDueFilterForm(request.GET or None)
    kind = form.cleaned_data["kind"] if form.is_bound and form.is_valid() else ""
    due = services.reviews_due(today, DUE_WITHIN_DAYS)
    undated = (
        Agreement.objects.filter(status=AgreementStatus.ACTIVE, next_review_on__isnull=True, kind__in=REVIEWED_KINDS)
        .select_related("owner", "counterparty")
        .order_by("number", "pk")
    )
    if kind:
        due = due.filter(kind=kind)
        undated = undated.filter(kind=kind)
    page = Paginator(due, PAGE_SIZE).get_page(request.GET.get("page"))
    may_add = can(request.user, "add", AgreementReview)
    rows = []
    for agreement in page.object_list:
        left = (agreement.next_review_on - today).days if agreement.next_review_on else 0
        rows.append(
            {
                "agreement": agreement,
                "days_left": left,
                "days_overdue": -left,
                "state": "overdue" if left < 0 else ("soon" if left <= services.FIRST_REMINDER_DAYS else "upcoming"),
                "agreement_url": _optional_url("agreement_detail", agreement.pk),
                "record_url": reverse("agreement_review_create", args=[agreement.pk]) if may_add else "",
            }
        )
    undated_rows = [
        {
            "agreement": agreement,
            "agreement_url": _optional_url("agreement_detail", agreement.pk),
            "record_url": reverse("agreement_review_create", args=[agreement.pk]) if may_add else "",
        }
        for agreement in undated[:UNDATED_SHOWN]
    ]
    recent = AgreementReview.objects.select_related("agreement", "recorded_by").order_by("-held_on", "-pk")[
        :RECENT_SHOWN
    ]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "sla/review_due_list.html",
        {
            "form": form,
            "rows": rows,
            "page_obj": page,
            "querystring": query.urlencode(),
            "undated_rows": undated_rows,
            "undated_more": len(undated_rows) == UNDATED_SHOWN,
            "recent": recent,
            "today": today,
            "horizon": today + timedelta(days=DUE_WITHIN_DAYS),
        },
    )


# --- recording a review ------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def agreement_review_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a review held for the agreement; its next review becomes due a year later."""
    _require(request, "view", "add")
    agreement = _agreement(request, pk)
    context: dict[str, Any] = {
        "agreement": agreement,
        "agreement_url": _optional_url("agreement_detail", agreement.pk),
        "reviewable": agreement.status == AgreementStatus.ACTIVE,
    }
    if request.method == "GET":
        context["form"] = AgreementReviewForm(initial={"held_on": timezone.localdate()})
        return render(request, "sla/review_form.html", context)
    form = AgreementReviewForm(request.POST)
    if form.is_valid():
        try:
            review = services.agreement_review_record(agreement=agreement, actor=_user(request), **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("The review was recorded; the next one is due on %(date)s.")
                % {"date": services.one_year_after(review.held_on).isoformat()},
            )
            return HttpResponseRedirect(reverse("agreement_review_detail", args=[review.pk]))
    context["form"] = form
    return render(request, "sla/review_form.html", context, status=400)


# --- one review, an agreement's reviews --------------------------------------------------------


@login_required
@require_GET
def agreement_review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One review; when it decided the agreement changes, a link to start the new version."""
    _require(request, "view")
    queryset = AgreementReview.objects.visible_to(request.user).select_related(
        "agreement__counterparty", "agreement__owner", "recorded_by"
    )
    review = get_object_or_404(queryset, pk=pk)
    agreement = review.agreement
    may_change_agreement = can(request.user, "change", Agreement)
    change_url = ""
    if review.changes_agreement and may_change_agreement and agreement.status == AgreementStatus.ACTIVE:
        change_url = _optional_url("agreement_change", agreement.pk)
    return render(
        request,
        "sla/review_detail.html",
        {
            "review": review,
            "agreement": agreement,
            "agreement_url": _optional_url("agreement_detail", agreement.pk),
            "change_url": change_url,
            "improvement": source_panel(request.user, "agreement_review", review),
        },
    )


@login_required
@require_GET
def agreement_review_list(request: HttpRequest, pk: int) -> HttpResponse:
    """Every review of one agreement, the latest first."""
    _require(request, "view")
    agreement = _agreement(request, pk)
    reviews = agreement.reviews.select_related("recorded_by").order_by("-held_on", "-pk")
    page = Paginator(reviews, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "sla/review_history.html",
        {
            "agreement": agreement,
            "agreement_url": _optional_url("agreement_detail", agreement.pk),
            "reviews": page.object_list,
            "page_obj": page,
            "querystring": "",
            "may_add": can(request.user, "add", AgreementReview) and agreement.status == AgreementStatus.ACTIVE,
        },
    )


urlpatterns = [
    path("sla/reviews/", review_due_list, name="review_due_list"),
    path("sla/reviews/<int:pk>/", agreement_review_detail, name="agreement_review_detail"),
    path("sla/agreements/<int:pk>/reviews/", agreement_review_list, name="agreement_review_list"),
    path("sla/agreements/<int:pk>/reviews/new/", agreement_review_create, name="agreement_review_create"),
]
