"""/api/v1/: every app's router registers here."""

from rest_framework.routers import DefaultRouter

from .views import ContactViewSet, OrganisationViewSet

router = DefaultRouter()
router.register("organisations", OrganisationViewSet, basename="organisation")
router.register("contacts", ContactViewSet, basename="contact")

urlpatterns = router.urls
