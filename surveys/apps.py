from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SurveysConfig(AppConfig):
    name = "surveys"
    verbose_name = _("Satisfaction")

    def ready(self) -> None:
        from itsm.core.history import audit_register

        from . import (  # noqa: F401  (home and periodic register the home panels and periodic checks)
            home,
            models,
            periodic,
        )

        for model, url_name in (
            (models.Ticket, None),
            (models.CallBack, "callback_detail"),
            (models.WeeklyReport, "weekly_report_detail"),
            (models.WeeklyReportItem, None),
            (models.Questionnaire, "questionnaire_detail"),
            (models.QuestionnaireSection, None),
            (models.Question, None),
            (models.QuestionOption, None),
            (models.Campaign, "campaign_detail"),
            (models.CampaignDepartmentRatio, None),
        ):
            audit_register(model, url_name=url_name)
        # Invitations, responses and answers are recorded by the services with their own
        # timestamps; auditing two million answers row by row would double the writes.
