"""KPI pages; each area declares its own ``urlpatterns``."""

from .views import dashboard

urlpatterns = [
    *dashboard.urlpatterns,
]
