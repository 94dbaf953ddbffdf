from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImprovementConfig(AppConfig):
    name = "improvement"
    verbose_name = _("Continual improvement")

    def ready(self) -> None:
        from itsm.core.history import audit_register

        from . import home, models, periodic  # noqa: F401  (home and periodic register the panels and checks)

        for model, url_name in (
            (models.ImprovementItem, "improvement_item_detail"),
            (models.ImprovementPlan, "improvement_plan_detail"),
            (models.PlanAction, None),
            (models.EffectivenessReview, None),
            (models.ReviewMeeting, "review_meeting_detail"),
            (models.MeetingDecision, None),
        ):
            audit_register(model, url_name=url_name)
