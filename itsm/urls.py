"""URL configuration: pages, the API under /api/v1/, its schema and docs, admin, health."""

from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from itsm.core.views import pages as core_views

urlpatterns = [
    path("", include("itsm.core.urls")),
    path("", include("complaints.urls")),
    path("", include("surveys.urls")),
    path("", include("sla.urls")),
    path("", include("kpi.urls")),
    path("", include("improvement.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("healthz", core_views.healthz, name="healthz"),
    # Browsers ask for /favicon.ico on pages that name no icon (the admin, the API docs).
    path("favicon.ico", core_views.favicon, name="favicon"),
    path("api/v1/", include("itsm.core.api.urls")),
    # The schema and its docs need a login (SPECTACULAR_SETTINGS["SERVE_PERMISSIONS"]; README
    # "API"). The split view serves Swagger UI's start-up script as a file: no inline script.
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", login_required(SpectacularSwaggerSplitView.as_view(url_name="schema")), name="swagger-ui"),
]

# A URL under /api/ that no route matches answers in the API's error body, not the HTML page.
handler404 = "itsm.core.api.exceptions.page_not_found"
