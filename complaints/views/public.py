"""The customer's confirmation page, reached through the mailed link (being built)."""

from django.http import HttpResponse


def complaint_feedback(request, token):
    return HttpResponse("todo")
