"""gunicorn's configuration for production (the Dockerfile and docker-compose.yml use it).

Settings can be overridden on the command line or with GUNICORN_CMD_ARGS; the number of
workers with WEB_CONCURRENCY. The access log goes to stdout in the usual combined format,
with the client address from X-Forwarded-For when a reverse proxy is in front (see README,
"Behind a reverse proxy"), and with personal tokens in paths masked
(``itsm.core.logmask``): ``GET /s/AbCd…/`` — a logged link never opens a survey.
"""

import os

from itsm.core import logmask

logmask.install()

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")  # noqa: S104  (inside the container)
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
timeout = 60
graceful_timeout = 30
accesslog = "-"
errorlog = "-"
# %({x-forwarded-for}i)s: the client as the proxy saw it; %(h)s is the proxy itself.
access_log_format = '%({x-forwarded-for}i)s %(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms'
# Trust X-Forwarded-* only from these (gunicorn's own default: 127.0.0.1).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
