# The one image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=mlteam.settings.production

RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 1000 mlteam

WORKDIR /app
COPY requirements.lock package.json package-lock.json ./
RUN pip install --no-cache-dir "setuptools==80.9.0" "wheel==0.48.0" \
    && pip install --no-cache-dir --no-build-isolation -r requirements.lock \
    && npm ci --omit=dev --no-audit --no-fund --loglevel=error

COPY . .
# collectstatic needs settings that parse; these values are build-time only.
RUN DJANGO_SECRET_KEY=build-only-build-only-build-only-build-only-build-only \
    DATABASE_URL=postgres://build@localhost/build CELERY_BROKER_URL=redis://localhost:6379/0 \
    SITE_URL=https://build.invalid \
    python manage.py collectstatic --noinput \
    && python manage.py compilemessages --ignore '.venv/*'

USER mlteam
EXPOSE 8000
CMD ["gunicorn", "mlteam.wsgi:application", "--bind", "0.0.0.0:8000"]
