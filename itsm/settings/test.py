"""Test settings: fast hashing, mail in memory, Celery tasks run in-process.

The real-broker tests (tests marked ``broker``) switch eager mode off themselves and run a
worker against CELERY_BROKER_URL.
"""

import atexit
import shutil
import tempfile

from .base import *  # noqa: F403
from .base import DATABASES, STORAGES, env

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY", default="test-only-insecure-key")
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
ALLOWED_HOSTS = ["*"]
# The live server answers each request in a new thread; a persistent connection there would
# outlive its thread and keep the test database from being dropped.
DATABASES["default"]["CONN_MAX_AGE"] = 0
# Uploads made by tests (attachments, signed agreements of the demo data) go to a scratch
# directory of this test run, never into the checkout's media/.
MEDIA_ROOT = tempfile.mkdtemp(prefix="itsm-test-media-")
atexit.register(shutil.rmtree, MEDIA_ROOT, ignore_errors=True)
