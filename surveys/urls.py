"""Satisfaction pages; each area declares its own ``urlpatterns``."""

from . import pickers
from .views import callbacks, campaigns, public, questionnaires, results, weekly

urlpatterns = [
    *callbacks.urlpatterns,
    *weekly.urlpatterns,
    *questionnaires.urlpatterns,
    *campaigns.urlpatterns,
    *results.urlpatterns,
    *public.urlpatterns,
    *pickers.urlpatterns,
]
