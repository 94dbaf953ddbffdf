#!/usr/bin/env bash
# The production image's dependencies, tested: a fresh venv from requirements.txt alone (what
# the Dockerfile installs, none of the test tools), then what production needs from it —
# Django's deploy checks on itsm.settings.prod, the Redis broker's transport, the cache
# client, gunicorn's configuration and a PDF with Chinese text. With a `docker compose`
# client, docker-compose.yml is validated too.
#
# Usage: scripts/check_production_install.sh   (CI runs it; about a minute with a warm pip cache)
set -euo pipefail
cd "$(dirname "$0")/.."

venv="$(mktemp -d -t itsm-prod-venv-XXXXXX)"
trap 'rm -rf "$venv"' EXIT

python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -r requirements.txt

export DJANGO_SETTINGS_MODULE=itsm.settings.prod
export SECRET_KEY="$("$venv/bin/python" -c 'import secrets; print(secrets.token_urlsafe(64))')"
export ALLOWED_HOSTS=itsm.example.com
export CELERY_BROKER_URL=redis://127.0.0.1:6379/0
export CACHE_URL=redis://127.0.0.1:6379/1

"$venv/bin/python" manage.py check --deploy --fail-level WARNING
"$venv/bin/python" - <<'PY'
import django

django.setup()

import kombu.transport.redis  # noqa: F401  (the broker's transport: needs redis and packaging)
from django.core.cache import cache
from kombu import Connection
from weasyprint import HTML

from itsm.celery import app

with Connection(app.conf.broker_url) as connection:
    connection.ensure_connection(max_retries=1)
cache.set("itsm-production-check", "ok", 5)
assert cache.get("itsm-production-check") == "ok"
pdf = HTML(string="<html lang='zh-hans'><body><h1>管理评审报告</h1><p>itsm</p></body></html>").write_pdf()
assert pdf.startswith(b"%PDF") and len(pdf) > 1000, len(pdf)
print(f"broker and cache reachable over Redis, a {len(pdf)}-byte PDF with Chinese text rendered")
PY
"$venv/bin/gunicorn" --check-config --config gunicorn.conf.py itsm.wsgi
echo "production venv: deploy checks, Redis transport and cache, PDF and gunicorn configuration pass"

if docker compose version >/dev/null 2>&1; then
  # In a scratch copy: the compose file reads a .env beside it, and a real one may be here.
  compose_dir="$(mktemp -d)"
  cp docker-compose.yml Dockerfile "$compose_dir/"
  printf 'SECRET_KEY=compose-check\nALLOWED_HOSTS=itsm.example.com\n' >"$compose_dir/.env"
  (cd "$compose_dir" && docker compose config --quiet)
  rm -rf "$compose_dir"
  echo "docker-compose.yml is valid"
else
  echo "no docker compose client here: docker-compose.yml not validated"
fi
