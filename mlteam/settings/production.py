"""Production: PostgreSQL, Redis, SMTP, HTTPS only. Passes `check --deploy` cleanly."""

from __future__ import annotations

from .base import *  # noqa: F403
from .env import (
    EnvError,
    env_bool,
    env_broker,
    env_cache,
    env_choice,
    env_database,
    env_float,
    env_int,
    env_site_url,
    env_str,
)

DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or SECRET_KEY.startswith("django-insecure"):
    raise EnvError("DJANGO_SECRET_KEY must be a random string of at least 50 characters.")

DATABASES = {"default": env_database("DATABASE_URL")}
CELERY_BROKER_URL = env_broker("CELERY_BROKER_URL")
# The public address links in emails start with: no default could be right.
SITE_URL = env_site_url("SITE_URL")
# Without CACHE_URL nothing is cached: an in-memory cache per gunicorn worker
# would not hear of changes made through the other workers.
CACHES = {"default": env_cache("CACHE_URL", "django.core.cache.backends.dummy.DummyCache")}

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# HTTPS everywhere. Behind a proxy that terminates TLS, it must set X-Forwarded-Proto
# (and drop any a client sent): Django trusts it to tell https from http.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Off only when the proxy itself redirects http to https.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
# HSTS: browsers use https only, for a year, on subdomains too. Preloading (browsers
# shipping the site as https-only) is hard to undo; DJANGO_SECURE_HSTS_PRELOAD=false
# for a domain not submitted to the preload list.
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True
# Only the __Host- prefix guarantees a cookie was set by this host over https, with
# no Domain: a sibling subdomain cannot plant one.
SESSION_COOKIE_NAME = "__Host-sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken"
# Webhook addresses must be https here (mlteam.notifications.addresses).
WEBHOOK_REQUIRE_HTTPS = env_bool("WEBHOOK_REQUIRE_HTTPS", True)
# Artifact systems' tokens are sent over https only (deliverables.artifacts).
ARTIFACT_TOKENS_REQUIRE_HTTPS = env_bool("ARTIFACT_TOKENS_REQUIRE_HTTPS", True)

# Logs: one JSON object a line by default (LOG_FORMAT=plain for people reading a
# terminal), each with the request id of the request or task it belongs to.
LOGGING["handlers"]["console"]["formatter"] = env_choice(  # noqa: F405
    "LOG_FORMAT", "json", {"plain", "json"}
)

# Errors to Sentry when SENTRY_DSN is set (Django, Celery and logging integrations
# turn on by themselves); no personal data is sent, and no performance traces
# unless SENTRY_TRACES_SAMPLE_RATE says what share of requests to trace.
SENTRY_DSN = env_str("SENTRY_DSN", "")
if SENTRY_DSN:
    import sentry_sdk

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=env_str("SENTRY_ENVIRONMENT", "production"),
        send_default_pii=False,
        # Webhook and chat addresses are secrets (whoever has one may post): no local
        # variables of the failing frames and no request bodies leave with an error.
        include_local_variables=False,
        max_request_body_size="never",
        traces_sample_rate=env_float("SENTRY_TRACES_SAMPLE_RATE", 0.0),
    )
