"""The core's own home panels: the audit trail's latest changes (auditors, process owners)."""

from __future__ import annotations

from auditlog.models import LogEntry
from django.urls import reverse
from django.utils.translation import gettext_lazy

from .history import local_minute, present
from .home import HOME_ITEMS, PanelContent, PanelItem, register_panel
from .roles import Role


def recent_changes(user) -> PanelContent:
    entries = present(
        LogEntry.objects.select_related("actor", "content_type").order_by("-timestamp", "-pk")[:HOME_ITEMS]
    )
    items = [
        PanelItem(
            label=f"{view.record_type}: {view.record}",
            url=view.record_url,
            detail=f"{view.actor} · {view.action} · {local_minute(view.when)}",
        )
        for view in entries
    ]
    # No count(*) over the whole trail on every home page: the panel shows the latest changes.
    return PanelContent(count=len(items), items=items, url=reverse("audit_list"))


register_panel(
    "core.recent_changes",
    gettext_lazy("Latest changes in the audit trail"),
    roles=[Role.AUDITOR, Role.PROCESS_OWNER],
    permission="auditlog.view_logentry",
    build=recent_changes,
    empty=gettext_lazy("Nothing has been recorded yet."),
    order=90,
)
