from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SurveysConfig(AppConfig):
    name = "surveys"
    verbose_name = _("Satisfaction")

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from . import periodic  # noqa: F401  (registers the periodic checks)
        from .models import CallBack, Ticket, WeeklyReport, WeeklyReportItem

        for model in (Ticket, CallBack, WeeklyReport, WeeklyReportItem):
            auditlog.register(model)
