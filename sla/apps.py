from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SlaConfig(AppConfig):
    name = "sla"
    verbose_name = _("Service catalogue and agreements")

    def ready(self) -> None:
        from itsm.core.history import audit_register

        from . import home, models, periodic  # noqa: F401  (home and periodic register the panels and checks)

        for model, url_name in (
            (models.Service, "service_detail"),
            (models.Agreement, "agreement_detail"),
            (models.ServiceLevelTarget, None),
            (models.Measurement, None),
            (models.SlaReport, "sla_report_detail"),
            (models.AgreementReview, "agreement_review_detail"),
        ):
            audit_register(model, url_name=url_name)
