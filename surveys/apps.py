from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SurveysConfig(AppConfig):
    name = "surveys"
    verbose_name = _("Satisfaction")

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from . import (
            models,
            periodic,  # noqa: F401  (registers the periodic checks)
        )

        for model in (
            models.Ticket,
            models.CallBack,
            models.WeeklyReport,
            models.WeeklyReportItem,
            models.Questionnaire,
            models.QuestionnaireSection,
            models.Question,
            models.QuestionOption,
            models.Campaign,
            models.CampaignDepartmentRatio,
            models.ImprovementItem,
        ):
            auditlog.register(model)
        # Invitations, responses and answers are recorded by the services with their own
        # timestamps; auditing two million answers row by row would double the writes.
