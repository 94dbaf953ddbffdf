"""Complaint pages. The names are the contract other code (mail, navigation, tests) uses."""

from django.urls import path

from . import pickers
from .views import lists, public, records

urlpatterns = [
    # lists and reports
    path("complaints/", lists.complaint_list, name="complaint_list"),
    path("complaints/mine/", lists.complaint_mine, name="complaint_mine"),
    path("complaints/overdue/", lists.complaint_overdue, name="complaint_overdue"),
    path("complaints/export.<str:fmt>", lists.complaint_export, name="complaint_export"),
    path("complaints/analysis/", lists.complaint_analysis, name="complaint_analysis"),
    path("complaints/targets/", lists.complaint_target_list, name="complaint_target_list"),
    path("complaints/targets/<int:pk>/edit/", lists.complaint_target_edit, name="complaint_target_edit"),
    # one complaint
    path("complaints/new/", records.complaint_create, name="complaint_create"),
    path("complaints/<int:pk>/", records.complaint_detail, name="complaint_detail"),
    path("complaints/<int:pk>/edit/", records.complaint_edit, name="complaint_edit"),
    path("complaints/<int:pk>/actions/<str:action>/", records.complaint_action, name="complaint_action"),
    path("complaints/<int:pk>/confirmation/", records.complaint_confirmation, name="complaint_confirmation"),
    path("complaints/<int:pk>/attachments/", records.complaint_attachment_add, name="complaint_attachment_add"),
    path(
        "complaints/<int:pk>/attachments/<int:attachment_pk>/",
        records.complaint_attachment_download,
        name="complaint_attachment_download",
    ),
    path("complaints/<int:pk>/history/", records.complaint_history, name="complaint_history"),
    # the customer (no account)
    path("complaint-feedback/<str:token>/", public.complaint_feedback, name="complaint_feedback"),
    *pickers.urlpatterns,
]
