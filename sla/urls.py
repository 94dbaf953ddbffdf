"""Service catalogue and agreement pages; each area declares its own ``urlpatterns``."""

from . import pickers
from .views import agreements, catalogue, measurements, reports, reviews, underpinning

urlpatterns = [
    *catalogue.urlpatterns,
    *agreements.urlpatterns,
    *underpinning.urlpatterns,
    *measurements.urlpatterns,
    *reports.urlpatterns,
    *reviews.urlpatterns,
    *pickers.urlpatterns,
]
