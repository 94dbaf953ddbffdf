"""KPI pages; each area declares its own ``urlpatterns``."""

from .views import dashboard, export, manage, scorecards, values

urlpatterns = [
    *dashboard.urlpatterns,
    *export.urlpatterns,
    *scorecards.urlpatterns,
    *manage.urlpatterns,
    *values.urlpatterns,
]
