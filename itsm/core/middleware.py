"""Request middleware of the core app."""

from auditlog.middleware import AuditlogMiddleware as BaseAuditlogMiddleware
from django.conf import settings
from django.utils import translation
from django.utils.cache import patch_vary_headers


class LanguageMiddleware:
    """Chinese first: the language is the one chosen with the switcher (its cookie), else the
    signed-in user's preferred language, else ``LANGUAGE_CODE`` (zh-hans).

    Unlike Django's LocaleMiddleware it ignores the browser's Accept-Language: staff on an
    English-language browser still get the organisation's language until they choose.
    Place it after AuthenticationMiddleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.supported = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if language not in self.supported:
            user = getattr(request, "user", None)
            preferred = getattr(user, "preferred_language", "") if user and user.is_authenticated else ""
            language = preferred if preferred in self.supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        return response


class PermissionsPolicyMiddleware:
    """Sends ``Permissions-Policy`` on every response, built once from ``PERMISSIONS_POLICY``
    (``{"camera": [], "fullscreen": ["self"]}`` → ``camera=(), fullscreen=(self)``): the
    browser features a page of this site, or anything it embeds, may use. A view that set
    the header itself keeps its own."""

    def __init__(self, get_response):
        self.get_response = get_response
        policy = getattr(settings, "PERMISSIONS_POLICY", {})
        self.header = ", ".join(f"{feature}=({' '.join(map(_origin, origins))})" for feature, origins in policy.items())

    def __call__(self, request):
        response = self.get_response(request)
        if self.header:
            response.headers.setdefault("Permissions-Policy", self.header)
        return response


def _origin(origin: str) -> str:
    return origin if origin in ("self", "*") else f'"{origin}"'


class AuditlogMiddleware(BaseAuditlogMiddleware):
    """django-auditlog's middleware, recording the client's address as ``client_ip`` finds it:
    auditlog's own takes the first ``X-Forwarded-For`` entry, which the client writes."""

    @staticmethod
    def _get_remote_addr(request):
        if settings.AUDITLOG_DISABLE_REMOTE_ADDR:
            return None
        from .throttle import client_ip

        return client_ip(request) or None
