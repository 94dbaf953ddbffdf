from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "itsm.core"
    label = "core"
    verbose_name = _("Core records")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from . import checks, logmask, panels, periodic  # noqa: F401  (register system checks, panels, periodic checks)
        from .audit import register_core_models
        from .roles import sync_role_permissions_handler

        register_core_models()
        logmask.install()  # no token-shaped URL segment in any log line

        post_migrate.connect(sync_role_permissions_handler, dispatch_uid="core.sync_roles")
