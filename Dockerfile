# Production image: gunicorn web, Celery worker and beat all run from this one image.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=itsm.settings.prod \
    PIP_NO_CACHE_DIR=1

RUN apt-get update \
 && apt-get install -y --no-install-recommends gettext libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b fonts-noto-cjk \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# Static files and compiled translations are built into the image; SECRET_KEY here is a
# throwaway needed only to import settings at build time.
RUN SECRET_KEY=build-only-not-secret-build-only-not-secret-build-only-0000 \
    python manage.py collectstatic --noinput \
 && python manage.py compilemessages --ignore=.venv \
 && useradd --system --uid 1000 itsm && mkdir -p /app/var /app/media && chown -R itsm /app/var /app/media

USER itsm
EXPOSE 8000
# Bind address, workers, access log with tokens masked: gunicorn.conf.py.
CMD ["gunicorn", "itsm.wsgi", "--config", "gunicorn.conf.py"]
