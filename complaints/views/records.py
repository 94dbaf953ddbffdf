"""One complaint: registration, detail with timeline and actions, edits, attachments (being built)."""

from django.http import HttpResponse


def complaint_create(request, **kwargs):
    return HttpResponse("todo")


complaint_contact_search = complaint_detail = complaint_edit = complaint_action = complaint_create
complaint_attachment_add = complaint_attachment_download = complaint_history = complaint_create
