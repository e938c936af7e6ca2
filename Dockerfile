# The one image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=mlteam.settings.production

# pg_dump must be at least as new as the PostgreSQL server it backs up (make backup,
# docs/backups.md); docker-compose.yml passes its postgres image's major version.
# Debian bookworm has only 15, so the client comes from the PostgreSQL project's
# apt repository (apt.postgresql.org), signed with its published key.
ARG POSTGRES_MAJOR=16
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext curl ca-certificates \
    && install -d /usr/share/postgresql-common/pgdg \
    && curl -fsSL -o /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc \
        https://www.postgresql.org/media/keys/ACCC4CF8.asc \
    && echo "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] https://apt.postgresql.org/pub/repos/apt bookworm-pgdg main" \
        > /etc/apt/sources.list.d/pgdg.list \
    && apt-get update \
    && apt-get install -y --no-install-recommends "postgresql-client-${POSTGRES_MAJOR}" \
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

# BACKUP_DIR's default; docker-compose.yml mounts the backups volume here.
RUN mkdir -p /app/var/backups && chown -R mlteam:mlteam /app/var && chmod 700 /app/var/backups \
    && install -d -o mlteam -g mlteam /tmp/prometheus

USER mlteam
EXPOSE 8000
CMD ["gunicorn", "mlteam.wsgi:application", "--bind", "0.0.0.0:8000", "--logger-class", "mlteam.log.GunicornLogger"]
