from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SlaConfig(AppConfig):
    name = "sla"
    verbose_name = _("Service catalogue and agreements")

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from . import models, periodic  # noqa: F401  (periodic registers the periodic checks)

        for model in (
            models.Service,
            models.Agreement,
            models.ServiceLevelTarget,
            models.Measurement,
            models.SlaReport,
            models.AgreementReview,
        ):
            auditlog.register(model)
