"""Complaint lists, exports, the monthly analysis and the deadline targets (being built)."""

from django.http import HttpResponse


def complaint_list(request):
    return HttpResponse("todo")


complaint_mine = complaint_overdue = complaint_export = complaint_analysis = complaint_list
complaint_target_list = complaint_target_edit = complaint_list
