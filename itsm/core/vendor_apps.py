"""Third-party apps under names our users read (the admin's section headings).

INSTALLED_APPS names these configs instead of the packages' own; labels and behaviour are the
packages'. (Kept out of ``itsm.core.apps``: a module with several configs has no default one.)
"""

from auditlog.apps import AuditlogConfig
from axes.apps import AppConfig as AxesConfig
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditTrailConfig(AuditlogConfig):
    verbose_name = _("Audit trail")


class LoginAttemptsConfig(AxesConfig):
    verbose_name = _("Login attempts")


class ApiTokensConfig(AppConfig):
    name = "knox"
    verbose_name = _("API tokens")
