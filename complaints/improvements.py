"""What complaints give the improvement register (``improvement.registry``): a complaint is a
source of improvement items (a plan improvement step links its plans through them)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from improvement.registry import ImprovementSource, register_source

from .choices import Severity
from .models import Complaint


def _prefill(complaint: Complaint, part: object) -> dict:
    return {
        "title": (
            _("Complaint %(reference)s: %(title)s") % {"reference": complaint.reference, "title": complaint.title}
        )[:200],
        "description": complaint.root_cause or complaint.description,
        "priority": "high" if complaint.severity == Severity.MAJOR else "medium",
    }


COMPLAINT = register_source(
    ImprovementSource(
        kind="complaint",
        label=gettext_lazy("Complaint"),
        model="complaints.complaint",
        describe=lambda complaint, part: f"{complaint.reference} {complaint.title}",
        prefill=_prefill,
    )
)
