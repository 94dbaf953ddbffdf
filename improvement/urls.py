"""Continual-improvement pages; each area declares its own ``urlpatterns``."""

from . import pickers
from .views import items, meetings, plans, tracking

urlpatterns = [
    *pickers.urlpatterns,
    *items.urlpatterns,
    *plans.urlpatterns,
    *tracking.urlpatterns,
    *meetings.urlpatterns,
]
