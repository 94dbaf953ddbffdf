"""Settings shared by every environment.

Everything that differs between a laptop and production comes from the environment
(see README "Configuration"); the defaults here are the embedded ones: a SQLite file and
kombu's filesystem broker in ``var/`` inside the project, so nothing else has to run.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "itsm.core.vendor_apps.ApiTokensConfig",  # knox
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "itsm.core.vendor_apps.AuditTrailConfig",  # auditlog
    "itsm.core.vendor_apps.LoginAttemptsConfig",  # axes
    "itsm.core",
    "complaints",
    "surveys",
    "sla",
    "improvement",
    "kpi",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "itsm.core.sanitize.InputHygieneMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "itsm.core.middleware.LanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "itsm.core.middleware.PermissionsPolicyMiddleware",
    "itsm.core.middleware.AuditlogMiddleware",
    "axes.middleware.AxesMiddleware",
]

# Content-Security-Policy (django-csp) on every page: scripts, styles, images, fonts and
# requests from this site only; no inline script or style element anywhere (the templates
# load theirs from static/, htmx is configured to add none), no plug-ins, no framing, forms
# post only here. Inline style *attributes* stay allowed (style-src-attr): a few cells set a
# width, and an attribute cannot run code. data: images are Bootstrap's form-control icons.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# Permissions-Policy (itsm.core.middleware): no page uses a camera, microphone, location,
# payment or the like; nothing embedded may either.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    "accelerometer": [],
    "camera": [],
    "display-capture": [],
    "geolocation": [],
    "gyroscope": [],
    "magnetometer": [],
    "microphone": [],
    "midi": [],
    "payment": [],
    "usb": [],
    "browsing-topics": [],
}

ROOT_URLCONF = "itsm.urls"
WSGI_APPLICATION = "itsm.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "itsm.core.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Concurrent web + worker + beat on one SQLite file: wait for locks instead of failing,
    # and take the write lock at BEGIN so two writers never deadlock on an upgrade.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# The client's address behind reverse proxies (itsm.core.throttle.client_ip): how many proxies
# in front of the app append to X-Forwarded-For. 0 (the default): the header is ignored.
TRUSTED_PROXIES = env.int("TRUSTED_PROXIES", default=0)

# Login throttling (django-axes, itsm.core.lockout): after LOGIN_FAILURE_LIMIT failed attempts
# for one username from one address, that pair is locked out for LOGIN_COOLOFF_HOURS; after
# LOGIN_USERNAME_FAILURE_LIMIT failures for one username from any number of addresses, the
# username is. Administrators unlock in the admin (Access attempts) or with
# `manage.py axes_reset_username <name>`.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_USERNAME_FAILURE_LIMIT = env.int("LOGIN_USERNAME_FAILURE_LIMIT", default=20)
AXES_COOLOFF_TIME = env.float("LOGIN_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "itsm.core.lockout.LockoutHandler"
AXES_CLIENT_IP_CALLABLE = "itsm.core.throttle.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "itsm.core.lockout.lockout_response"
AXES_VERBOSE = False

# Cache: per-process memory by default; CACHE_URL=redis://host:6379/1 shares it between web
# processes (login throttling and the public forms' rate limits need that in production).
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}

# Internationalisation: Chinese first, English switchable; times stored in UTC and shown in
# the business calendar's zone (Asia/Shanghai by default).
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(BASE_DIR / "media"))

# Uploads: what the product accepts anywhere a file is attached.
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=10 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Mail. EMAIL_URL (smtp://user:pass@host:587/?tls=True, consolemail://, ...) decides the
# backend; the default prints mail on the console so a laptop never sends real mail.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="itsm <itsm@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Seconds an SMTP operation may take before it fails (and the send is retried): a stalled
# server must not hold a send past its time limit.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
# Every mail's Message-ID is derived from its once-only key (itsm.core.notifications.
# message_id_for), so a repeat can be discarded by the receiver; its domain part is this, or
# else the domain of DEFAULT_FROM_EMAIL.
MAIL_MESSAGE_ID_DOMAIN = env.str("MAIL_MESSAGE_ID_DOMAIN", default="")
# The key that encrypts the personal links of queued mail (itsm.core.mail_links): Fernet
# keys separated by commas, the first encrypts, all decrypt (rotation). Empty: derived from
# SECRET_KEY (and SECRET_KEY_FALLBACKS), so changing SECRET_KEY without keeping the old one as
# a fallback makes the links of mail still queued unreadable (those mails fail, not sent).
MAIL_LINK_KEY = env.str("MAIL_LINK_KEY", default="")
# Sending one mail (itsm.core.tasks.send_notification_task): its hard time limit, and how old a
# claim on a row ("sending") must be to belong to a dead worker and be taken over — the time
# limit plus a margin for clock skew between workers; it must stay below the visibility timeout.
MAIL_SEND_TIME_LIMIT = env.int("MAIL_SEND_TIME_LIMIT", default=120)
MAIL_CLAIM_TIMEOUT = env.int("MAIL_CLAIM_TIMEOUT", default=MAIL_SEND_TIME_LIMIT + 60)
# The address links in mail point at (survey and confirmation links).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# Celery. The default broker is kombu's filesystem transport: no server needed.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://localhost/")
# Every task is acknowledged after it ran, and a task whose pool process died goes straight
# back to its queue: tasks are safe to run twice (claims, unique keys), losing one is not.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Redis: a message taken by a worker that is then killed outright (kill -9 of the whole worker,
# a lost machine) stays unacknowledged until it is this old (seconds), then any running worker
# puts it back on its queue — a restarted one within CELERY_RESTORE_INTERVAL after that. So it
# bounds how long a dead worker's mail waits (7 minutes), and it must exceed how long a live
# worker keeps a message unacknowledged, or a second worker would get a task still running:
# the longest hard time limit of any task (300 s: surveys.send_invitations, the periodic checks,
# complaints.recompute_open and CELERY_TASK_TIME_LIMIT; sending one mail has 120 s), plus for a
# retry its countdown (each task caps its backoff to fit), plus a margin for clock skew.
# tests/core/test_tasks_time_limits.py holds every registered task to this, and a system check
# (itsm.core.checks) refuses a timeout that does not fit.
BROKER_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=420)
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "control_folder": str(_broker_dir / "control"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
        # The worker looks for new messages every 0.1 s (kombu's default is 1 s): tasks
        # start sooner, and a warm shutdown, which waits out the current poll, is shorter.
        "polling_interval": 0.1,
    }
    for _folder in ("queue", "control", "processed"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": BROKER_VISIBILITY_TIMEOUT,
        # Every 10 s a worker looks for messages older than the visibility timeout (kombu's
        # default: every 100 s) and puts them back on their queue.
        "unacked_restore_interval": env.int("CELERY_RESTORE_INTERVAL", default=10),
        "unacked_restore_throttle": 1,
        # A worker killed while restoring leaves the restore lock behind for this long.
        "unacked_mutex_expire": max(5, min(300, BROKER_VISIBILITY_TIMEOUT // 4)),
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# Periodic checks (itsm.core.periodic): one beat entry per registered check. Each runs the
# check by name through run_periodic_check_task; `expires` drops a run that waited so long
# the next one is already due, so a stalled worker never works through a backlog.
CELERY_BEAT_SCHEDULE = {
    # Held (non-urgent) mail whose working-hours window has opened; stuck sends re-queued.
    "core.deliver_due_notifications": {
        "task": "itsm.core.run_periodic_check",
        "schedule": crontab(minute="*/5"),
        "args": ("core.deliver_due_notifications",),
        "options": {"expires": 240},
    },
    # Complaint deadlines: 75 % warnings, response and resolution breaches escalate.
    "complaints.check_deadlines": {
        "task": "itsm.core.run_periodic_check",
        "schedule": crontab(minute="*/5"),
        "args": ("complaints.check_deadlines",),
        "options": {"expires": 240},
    },
    # Ticket call-backs past their 24-hour due time: one digest to the service desk lead.
    "surveys.callbacks_overdue": {
        "task": "itsm.core.run_periodic_check",
        "schedule": crontab(minute="*/15"),
        "args": ("surveys.callbacks_overdue",),
        "options": {"expires": 840},
    },
    # Weekly visit reports: Friday 15:00, remind recorders before the Monday meeting.
    "surveys.weekly_reminders": {
        "task": "itsm.core.run_periodic_check",
        "schedule": crontab(minute=0, hour=15, day_of_week="fri"),
        "args": ("surveys.weekly_reminders",),
        "options": {"expires": 3600},
    },
    # Survey campaigns: close on the close date, send unsent invitations, mark refused
    # addresses, remind non-respondents (day 3 and 7 after launch by default).
    "surveys.campaigns": {
        "task": "itsm.core.run_periodic_check",
        "schedule": crontab(minute="*/10"),
        "args": ("surveys.campaigns",),
        "options": {"expires": 540},
    },
    # KPIs: the running period recomputed every hour; a period whose report fell due frozen.
    "kpi.compute_values": {
        "task": "itsm.core.run_periodic_check",
        "schedule": crontab(minute=20),
        "args": ("kpi.compute_values",),
        "options": {"expires": 3000},
    },
    # Agreements whose validity ended before today expire (just after midnight, daily).
    "sla.expire_agreements": {
        "task": "itsm.core.run_periodic_check",
        "schedule": crontab(minute=10, hour=0),
        "args": ("sla.expire_agreements",),
        "options": {"expires": 3600},
    },
    # Monthly SLA reports: from the first working day of a month, draft last month's (daily).
    "sla.draft_reports": {
        "task": "itsm.core.run_periodic_check",
        "schedule": crontab(minute=0, hour=7),
        "args": ("sla.draft_reports",),
        "options": {"expires": 3600},
    },
    # Agreement reviews: remind owners 30 and 7 days before the due date and when overdue (daily).
    "sla.review_reminders": {
        "task": "itsm.core.run_periodic_check",
        "schedule": crontab(minute=30, hour=8),
        "args": ("sla.review_reminders",),
        "options": {"expires": 3600},
    },
    # The improvement register's intake: red KPI periods, repeated SLA breaches, survey
    # questions below target suggest items (hourly; a finding suggests once).
    "improvement.intake": {
        "task": "itsm.core.run_periodic_check",
        "schedule": crontab(minute=25),
        "args": ("improvement.intake",),
        "options": {"expires": 3000},
    },
    # Improvement actions: due in 3 working days, overdue (each working day), escalated (daily).
    "improvement.action_reminders": {
        "task": "itsm.core.run_periodic_check",
        "schedule": crontab(minute=40, hour=8),
        "args": ("improvement.action_reminders",),
        "options": {"expires": 3600},
    },
    # Effectiveness reviews due and not recorded: the plan's owner, each working day (daily).
    "improvement.review_reminders": {
        "task": "itsm.core.run_periodic_check",
        "schedule": crontab(minute=50, hour=8),
        "args": ("improvement.review_reminders",),
        "options": {"expires": 3600},
    },
}

# Working days an improvement action may be overdue before its plan's owner is told.
IMPROVEMENT_ESCALATE_AFTER_WORKING_DAYS = env.int("IMPROVEMENT_ESCALATE_AFTER_WORKING_DAYS", default=3)

# Days a customer has to confirm a complaint's result through the mailed link.
COMPLAINT_FEEDBACK_DAYS = env.int("COMPLAINT_FEEDBACK_DAYS", default=14)

# Who receives the digest of overdue ticket call-backs; empty: every active service desk user.
SERVICE_DESK_LEAD_EMAILS = env.list("SERVICE_DESK_LEAD_EMAILS", default=[])

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an unauthenticated call gets 401 with WWW-Authenticate: Token.
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["itsm.core.api.permissions.RolePermission"],
    # JSON bounded in size and depth, text cleaned of control characters (itsm.core.api.parsers).
    "DEFAULT_PARSER_CLASSES": [
        "itsm.core.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "itsm.core.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "itsm.core.api.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "itsm.core.api.schema.ApiAutoSchema",
    "DEFAULT_THROTTLE_RATES": {"anon": "60/minute"},
    # The client behind the proxies, as itsm.core.throttle.client_ip counts it.
    "NUM_PROXIES": TRUSTED_PROXIES or None,
}

# API tokens (django-rest-knox): only a SHA-512 digest is stored; the token is shown once
# when issued (manage.py create_api_token). Integration clients get long-lived tokens.
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=env.int("API_TOKEN_TTL_DAYS", default=365)),
    "AUTO_REFRESH": False,
    "AUTH_HEADER_PREFIX": "Token",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "itsm API",
    "DESCRIPTION": "ITSM business-relationship management: complaints, satisfaction, "
    "service catalogue and agreements, improvement and KPIs.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Signed-in users and API tokens only: the schema names every endpoint, filter and field
    # of a system holding customers' data, which is of use to an attacker and to nobody else
    # without an account (integrators get a token first).
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "GET_LIB_DOC_EXCLUDES": "itsm.core.api.schema.lib_doc_excludes",
    "ENUM_NAME_OVERRIDES": {
        "WeeklyItemKindEnum": "surveys.choices.WeeklyItemKind",
        "CampaignKindEnum": "surveys.choices.CampaignKind",
        "QuestionKindEnum": "surveys.choices.QuestionKind",
        "AgreementKindEnum": "sla.choices.AgreementKind",
        "ServiceStatusEnum": "sla.choices.ServiceStatus",
        "AgreementStatusEnum": "sla.choices.AgreementStatus",
        "UnderpinningStatusEnum": "sla.underpinning.UnderpinningStatus",
        "UnitEnum": "sla.choices.TargetUnit",
        "KpiUnitEnum": "kpi.models.Unit",
        "KpiStatusEnum": "kpi.models.Status",
    },
}

AUDITLOG_INCLUDE_ALL_MODELS = False
AUDITLOG_DISABLE_REMOTE_ADDR = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
