"""The complaint queues on the home page (registered with ``itsm.core.home``).

Each panel is a count and the first items of one queue, two queries, with the working time
left on each deadline (business calendar).
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy

from itsm.core import calendar as business_calendar
from itsm.core.home import HOME_ITEMS, PanelContent, PanelItem, register_action, register_panel
from itsm.core.roles import Role

from .choices import OPEN_STATUSES, ComplaintStatus, EscalationLevel
from .models import Complaint
from .selectors import complaint_list, deadline_clock, overdue_q

R = Role


def _items(queryset: QuerySet[Complaint], due_field: str, now: datetime, *, show_owner: bool = False):
    calendar = business_calendar.default_calendar()
    items = []
    for complaint in queryset[:HOME_ITEMS]:
        due = getattr(complaint, due_field)
        clock = deadline_clock(due, now, calendar)
        detail = complaint.organisation.name
        if show_owner and complaint.owner is not None:
            detail = f"{detail} · {complaint.owner}"
        items.append(
            PanelItem(
                label=f"{complaint.reference} {complaint.title}",
                url=complaint.get_absolute_url(),
                detail=detail,
                due=due,
                due_text=clock["left"],
                overdue=clock["overdue"],
                badge=str(complaint.get_severity_display()) if complaint.severity == "major" else "",
            )
        )
    return items


def _panel(user, queryset: QuerySet[Complaint], due_field: str, url: str, **kwargs) -> PanelContent:
    now = timezone.now()
    queryset = queryset.order_by(due_field, "pk")
    return PanelContent(count=queryset.count(), items=_items(queryset, due_field, now, **kwargs), url=url)


def awaiting_acceptance(user) -> PanelContent:
    queryset = complaint_list(user).filter(status=ComplaintStatus.REGISTERED)
    url = reverse("complaint_list") + "?" + urlencode({"status": ComplaintStatus.REGISTERED, "sort": "response_due_at"})
    return _panel(user, queryset, "response_due_at", url)


def my_escalations(user) -> PanelContent:
    queryset = complaint_list(user).filter(
        status__in=OPEN_STATUSES, owner=user, escalation_level__gte=EscalationLevel.BR_MANAGER
    )
    return _panel(user, queryset, "resolution_due_at", reverse("complaint_mine"))


def at_level(level: int):
    def build(user) -> PanelContent:
        queryset = complaint_list(user).filter(status__in=OPEN_STATUSES, escalation_level=level)
        url = reverse("complaint_list") + "?" + urlencode({"escalation_level": str(level), "open": "true"})
        return _panel(user, queryset, "resolution_due_at", url, show_owner=True)

    return build


def overdue(user) -> PanelContent:
    now = timezone.now()
    queryset = complaint_list(user).filter(overdue_q(now))
    return _panel(user, queryset, "resolution_due_at", reverse("complaint_overdue"), show_owner=True)


register_action(
    "complaints.register",
    gettext_lazy("Register a complaint"),
    "complaint_create",
    roles=[R.SERVICE_DESK, R.BR_MANAGER],
    permission="complaints.add_complaint",
    order=10,
)
register_panel(
    "complaints.awaiting_acceptance",
    gettext_lazy("Complaints awaiting acceptance"),
    roles=[R.SERVICE_DESK, R.BR_MANAGER],
    permission="complaints.view_complaint",
    build=awaiting_acceptance,
    empty=gettext_lazy("Every complaint has been accepted."),
    order=10,
)
register_panel(
    "complaints.my_escalations",
    gettext_lazy("Escalated complaints you own"),
    roles=[R.BR_MANAGER],
    permission="complaints.view_complaint",
    build=my_escalations,
    empty=gettext_lazy("No escalated complaint is waiting for you."),
    order=11,
)
register_panel(
    "complaints.level_2",
    gettext_lazy("Complaints at the department head (level 2)"),
    roles=[R.DEPARTMENT_HEAD],
    permission="complaints.view_complaint",
    build=at_level(EscalationLevel.DEPARTMENT_HEAD),
    empty=gettext_lazy("No open complaint is at level 2."),
    order=12,
)
register_panel(
    "complaints.level_3",
    gettext_lazy("Complaints at the management representative (level 3)"),
    roles=[R.MANAGEMENT_REP],
    permission="complaints.view_complaint",
    build=at_level(EscalationLevel.MANAGEMENT_REP),
    empty=gettext_lazy("No open complaint is at level 3."),
    order=13,
)
register_panel(
    "complaints.overdue",
    gettext_lazy("Overdue complaints"),
    roles=[R.PROCESS_OWNER],
    permission="complaints.view_complaint",
    build=overdue,
    empty=gettext_lazy("No complaint is past a deadline."),
    order=14,
)
