"""Local development: the embedded defaults, debug on, a throwaway secret key."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-change-me-in-production")

# Links in mail point at the port `make run` serves on (ITSM_PORT, as in Procfile.dev).
SITE_URL = env.str("SITE_URL", default=f"http://127.0.0.1:{env.int('ITSM_PORT', default=8000)}")

# Mail is logged on the worker's console, decoded and readable (itsm.core.mail), unless
# EMAIL_URL names a backend.
if not env.str("EMAIL_URL", default=""):
    EMAIL_BACKEND = "itsm.core.mail.ConsoleLogBackend"
