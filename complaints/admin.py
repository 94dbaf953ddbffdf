"""Django admin for complaints: read-mostly.

Complaints are registered and moved only through the pages and the API (numbering,
deadlines, workflow rules, mail). Here an administrator may correct the editable details of
an open complaint, saved through ``services.complaint_update`` (timeline row, audit trail);
the status and everything the workflow sets are read-only, and nothing can be added or
deleted. Timeline rows and attachments show read-only. Deadline targets are editable; saving
one recomputes the due dates of open complaints, as on the targets page.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from .models import Complaint, ComplaintAttachment, ComplaintEvent, ComplaintTarget
from .services import EDITABLE_FIELDS, complaint_target_update, complaint_update


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ComplaintEventInline(_ReadOnlyInline):
    model = ComplaintEvent
    fields = ("created_at", "action", "from_status", "to_status", "actor", "actor_label", "note", "data")
    readonly_fields = fields
    ordering = ("created_at", "pk")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


class ComplaintAttachmentInline(_ReadOnlyInline):
    model = ComplaintAttachment
    fields = ("original_name", "content_type", "size", "uploaded_by", "uploaded_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("uploaded_by")


# Everything the admin shows besides the editable details: set by registration or the workflow.
_WORKFLOW_FIELDS = (
    "reference",
    "status",
    "organisation",
    "contact",
    "related_service_text",
    "owner",
    "escalation_level",
    "received_at",
    "response_due_at",
    "responded_at",
    "resolution_due_at",
    "resolved_at",
    "closed_at",
    "withdrawn_at",
    "paused_at",
    "paused_seconds",
    "reply_working_seconds",
    "diagnosis",
    "remedial_actions",
    "result",
    "result_satisfaction",
    "result_settled",
    "feedback_comment",
    "feedback_at",
    "reopen_count",
    "created_by",
    "created_at",
    "updated_at",
)


@admin.register(Complaint)
class ComplaintAdmin(admin.ModelAdmin):
    list_display = ("reference", "title", "status", "severity", "escalation_level", "organisation", "owner")
    list_filter = ("status", "severity", "category", "escalation_level", "channel")
    list_select_related = ("organisation", "owner")
    search_fields = ("reference", "title", "external_ticket_ref", "contact__name")
    date_hierarchy = "received_at"
    inlines = [ComplaintEventInline, ComplaintAttachmentInline]
    # The catalogue can grow: the service is typed by id (the pages offer a type-ahead).
    raw_id_fields = ("related_service",)
    fieldsets = (
        (None, {"fields": ("reference", "status", *EDITABLE_FIELDS)}),
        (None, {"fields": _WORKFLOW_FIELDS[2:]}),
    )

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        if obj is not None and not obj.is_open:
            return (*_WORKFLOW_FIELDS, *EDITABLE_FIELDS)  # a finished complaint: reopen it first
        return _WORKFLOW_FIELDS

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change):
        # Through the service: one transaction, a timeline row, deadlines moved with the severity.
        changed = {name: form.cleaned_data[name] for name in form.changed_data if name in EDITABLE_FIELDS}
        if changed:
            complaint_update(complaint=Complaint.objects.get(pk=obj.pk), actor=request.user, **changed)


@admin.register(ComplaintTarget)
class ComplaintTargetAdmin(admin.ModelAdmin):
    list_display = (
        "severity",
        "response_value",
        "response_unit",
        "resolution_value",
        "resolution_unit",
        "warning_percent",
        "calendar",
    )

    def save_model(self, request, obj, form, change):
        # The service validates, saves and recomputes open complaints' due dates after commit.
        complaint_target_update(target=obj, actor=request.user)
