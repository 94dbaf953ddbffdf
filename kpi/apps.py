from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KpiConfig(AppConfig):
    name = "kpi"
    verbose_name = _("KPIs and reporting")

    def ready(self) -> None:
        from itsm.core.history import audit_register

        from . import home, periodic  # noqa: F401  (register the home panel and the periodic check)
        from .models import KpiDefinition, KpiTarget

        # Every change of a definition or a target is in the audit trail (issue 12, item 1).
        audit_register(KpiDefinition)
        audit_register(KpiTarget)
