"""API permission: the same model permissions (roles) as the pages."""

from rest_framework.permissions import DjangoModelPermissions


class RolePermission(DjangoModelPermissions):
    """Reads need the model's view permission, writes its add / change / delete permission."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
    }
