"""/api/v1/: every app's router registers here."""

from rest_framework.routers import DefaultRouter

from complaints.api.views import ComplaintViewSet

from .views import ContactViewSet, OrganisationViewSet

router = DefaultRouter()
router.register("organisations", OrganisationViewSet, basename="organisation")
router.register("contacts", ContactViewSet, basename="contact")
router.register("complaints", ComplaintViewSet, basename="complaint")

urlpatterns = router.urls
