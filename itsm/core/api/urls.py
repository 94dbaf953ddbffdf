"""/api/v1/: every app's router registers here."""

from rest_framework.routers import DefaultRouter

from complaints.api.attachments import ComplaintAttachmentViewSet
from complaints.api.views import ComplaintViewSet
from improvement.api.meetings import ReviewMeetingViewSet
from improvement.api.views import ImprovementItemViewSet, ImprovementPlanViewSet
from kpi.api.views import KpiViewSet
from sla.api.agreements import AgreementViewSet
from sla.api.measurements import MeasurementViewSet
from sla.api.views import ServiceViewSet, TargetViewSet
from surveys.api.callbacks import CallBackViewSet, TicketViewSet
from surveys.api.campaigns import CampaignViewSet
from surveys.api.questionnaires import QuestionnaireViewSet
from surveys.api.responses import AnswerViewSet, InvitationViewSet
from surveys.api.weekly import WeeklyReportViewSet

from .views import ContactViewSet, OrganisationViewSet

router = DefaultRouter()
router.register("organisations", OrganisationViewSet, basename="organisation")
router.register("contacts", ContactViewSet, basename="contact")
router.register("complaints", ComplaintViewSet, basename="complaint")
# Nested under one complaint: its files (a viewset of their own, not actions of the complaint's).
router.register(
    r"complaints/(?P<complaint_pk>[0-9]+)/attachments", ComplaintAttachmentViewSet, basename="complaint-attachment"
)
router.register("weekly-reports", WeeklyReportViewSet, basename="weeklyreport")
router.register("tickets", TicketViewSet, basename="ticket")
router.register("callbacks", CallBackViewSet, basename="callback")
router.register("questionnaires", QuestionnaireViewSet, basename="questionnaire")
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("invitations", InvitationViewSet, basename="invitation")
router.register("answers", AnswerViewSet, basename="answer")
router.register("services", ServiceViewSet, basename="service")
router.register("agreements", AgreementViewSet, basename="agreement")
router.register("targets", TargetViewSet, basename="target")
router.register("measurements", MeasurementViewSet, basename="measurement")
router.register("kpis", KpiViewSet, basename="kpi")
router.register("review-meetings", ReviewMeetingViewSet, basename="review-meeting")
router.register("improvement-items", ImprovementItemViewSet, basename="improvementitem")
router.register("improvement-plans", ImprovementPlanViewSet, basename="improvementplan")

urlpatterns = router.urls
