"""Settings of the real Celery worker that ``test_broker_worker_kill`` starts as a subprocess.

The test settings (same secret key, so the same mail-link key), except that mail goes over
SMTP to the test's sink at 127.0.0.1:``TEST_SMTP_PORT`` and tasks are not eager. The database,
the broker, the visibility timeout and the mail time limits come from the environment the
test passes (``DATABASE_URL`` names the test database).
"""

from itsm.settings.test import *  # noqa: F403
from itsm.settings.test import env

EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = "127.0.0.1"
EMAIL_PORT = env.int("TEST_SMTP_PORT")
EMAIL_USE_TLS = False
EMAIL_HOST_USER = ""
EMAIL_HOST_PASSWORD = ""
CELERY_TASK_ALWAYS_EAGER = False
# The test's own queue, for what the worker queues itself (the periodic mail check at start).
CELERY_TASK_DEFAULT_QUEUE = env.str("TEST_CELERY_QUEUE")
