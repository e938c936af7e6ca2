"""Settings shared by every environment. Environment-specific modules import this."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import xstatic.pkg.bootstrap
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

from .env import (
    env_bool,
    env_cache,
    env_choice,
    env_email,
    env_int,
    env_list,
    env_site_url,
    env_str,
    env_time_zone,
)

BASE_DIR = Path(__file__).resolve().parent.parent.parent
# Where `make run` keeps its SQLite database, filesystem broker and beat's pid file.
VAR_DIR = Path(env_str("MLTEAM_VAR_DIR", str(BASE_DIR / "var")))
# `make run` (run_local) writes the address it serves here, for commands run beside it.
RUN_LOCAL_URL_FILE = VAR_DIR / "served-url"
# Where `make backup` (the backup command) writes its files (docs/backups.md).
BACKUP_DIR = Path(env_str("BACKUP_DIR", str(VAR_DIR / "backups")))

DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    # Request and database metrics for /metrics (mlteam/observability.py).
    "django_prometheus",
    # Before django.contrib.auth: its `changepassword` command (which revokes the
    # person's API tokens) is the one manage.py finds.
    "mlteam.accounts",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "django_celery_beat",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and Redoc files, served as static files
    "knox",  # its token hashing and authentication, on mlteam.accounts.ApiToken
    # Sign-in, two-factor authentication and OpenID Connect single sign-on (issue 16).
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    # A row per signed-in session (device, address, last use): Settings > Sessions.
    "allauth.usersessions",
    "mlteam",
    "roles",
    "deliverables",
    "deliverables.reviews",
    "deliverables.readiness",
    "deliverables.cards",  # model cards and datasheets (app label "cards")
    "deliverables.artifacts",
    "mlteam.notifications",
    "mlteam.notifications.channels",  # chat channels (app label "chat")
    "mlteam.calendars",
    "mlteam.search",
    "axes",  # sign-in throttling: see "Sign-in throttling (django-axes)" below
]

MIDDLEWARE = [
    # First: every later log line of the request carries its id (mlteam.observability).
    "mlteam.observability.RequestIdMiddleware",
    # Request counts and latency by view for /metrics (the After one closes the list).
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "mlteam.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication (it reads request.user); static files never reach it.
    "mlteam.middleware.SignedInNoStoreMiddleware",
    # Django's LoginRequiredMiddleware, answering htmx's requests with HX-Redirect.
    "mlteam.middleware.LoginRequiredMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Before the session policy, which tells a person why they were signed out.
    "django.contrib.messages.middleware.MessageMiddleware",
    # Idle timeout and lifetime, a new session id when privileges change, and the
    # session's device and last use (mlteam.accounts.middleware).
    "mlteam.accounts.middleware.SessionPolicyMiddleware",
    # Admins and managers who must use two factors enrol before anything else.
    "mlteam.signin.RequireTwoFactorMiddleware",
    "deliverables.middleware.PersonTimeZoneMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last: turns a request that axes marked as locked out into the lockout page.
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "mlteam.urls"
WSGI_APPLICATION = "mlteam.wsgi.application"

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
                "mlteam.context_processors.navigation",
                "deliverables.context_processors.digest_delivery",
            ],
        },
    },
]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Covering indexes (Index(include=...)) are a PostgreSQL speed-up, production's and
# CI's database: SQLite builds the same index without the extra columns.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

# Dashboards are cached until the data behind them changes (mlteam/cache.py).
# One process (make run, tests) may keep them in memory; production reads
# CACHE_URL (Redis) so that every web worker shares them.
CACHES = {"default": env_cache("CACHE_URL", "django.core.cache.backends.locmem.LocMemCache")}

# ASVS 5.0 level 2: at least 12 characters, and not among the 20,000 common and
# breached passwords Django ships (checked offline). The forms show these rules as
# help text (Django's password_validators_help_text_html).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# One backend checks the password, so a failed sign-in costs one password hash:
# PermissionBackend is allauth's (username or email) with permissions read in one
# query (mlteam/auth.py). Axes's backend goes first and refuses a locked-out
# attempt before any hashing; it signs nobody in and answers no permission.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "mlteam.auth.PermissionBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Sign-in, two factors and single sign-on (django-allauth; README "Sign-in") ---
# People are invited (roles.services); nobody signs themselves up, except through
# an OpenID Connect provider whose admin settings allow new accounts.
ACCOUNT_ADAPTER = "mlteam.signin.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "mlteam.signin.SocialAccountAdapter"
ACCOUNT_FORMS = {"login": "mlteam.accounts.forms.SignInForm"}
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False  # the password change ends the *other* sessions
ACCOUNT_SESSION_REMEMBER = None  # the person chooses ("Remember me")
ACCOUNT_LOGOUT_ON_GET = False
# Rate limits are django-axes' (in the database), not allauth's (in the cache).
ACCOUNT_RATE_LIMITS = False
# Two-factor authentication: an authenticator app (TOTP) and recovery codes; the
# QR code is drawn here (allauth's qrcode), no outside service is asked.
MFA_ADAPTER = "mlteam.signin.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env_str("MFA_TOTP_ISSUER", "MLTeam")
# Codes of the step before and after the current one are accepted too: a phone's
# clock a few seconds off, or a code typed as its 30 seconds run out, still signs
# in (RFC 6238 advises one step). allauth remembers a used code for the whole
# window, so it still works once. 0 accepts the current step only.
MFA_TOTP_TOLERANCE = env_int("MFA_TOTP_TOLERANCE", 1, minimum=0)
# A wrong code counts against the account in axes' table, as a wrong password does.
MFA_FORMS = {
    "authenticate": "mlteam.accounts.forms.TwoFactorForm",
    "reauthenticate": "mlteam.accounts.forms.TwoFactorReauthenticateForm",
}
# Single sign-on: OpenID Connect providers are configured in the admin (Social
# applications); a verified email signs in the person who has it.
SOCIALACCOUNT_ONLY = False
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_PROVIDERS = {"openid_connect": {"OAUTH_PKCE_ENABLED": True}}
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24 * 3
# Sessions (mlteam.accounts.middleware; README "Sessions"). A session ends after
# SESSION_IDLE_TIMEOUT_MINUTES without a request, and at the latest
# SESSION_LIFETIME_HOURS after sign-in, whatever the activity: a working day, so
# nobody signs in again mid-day, and yesterday's session is over by the morning
# (NIST SP 800-63B-4 at AAL2 asks for at most 1 hour idle and 24 hours in all).
# "Keep me signed in" on the sign-in form is for the person's own device: no idle
# timeout, a cookie that outlives the browser, and SESSION_REMEMBER_DAYS in all.
SESSION_LIFETIME_HOURS = env_int("SESSION_LIFETIME_HOURS", 12, minimum=1)
SESSION_IDLE_TIMEOUT_MINUTES = env_int("SESSION_IDLE_TIMEOUT_MINUTES", 60, minimum=1)
SESSION_REMEMBER_DAYS = env_int("SESSION_REMEMBER_DAYS", 14, minimum=1)
# The cookie of a session nobody asked to keep ends with the browser; allauth gives a
# kept one SESSION_COOKIE_AGE.
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_AGE = SESSION_REMEMBER_DAYS * 24 * 60 * 60
# The sessions page tracks last use itself, at most once a minute (not allauth's
# middleware, which writes on every request).
USERSESSIONS_TRACK_ACTIVITY = False

# --- Sign-in throttling (django-axes) ---
# Failed sign-ins are counted in the database (axes' AccessAttempt, shown in the
# admin, where admins clear them; also `manage.py axes_reset`), so every web worker
# sees the same counts without a shared cache. Counted separately per account (the
# name typed, normalised: "Bob" and "bob " are one) and per client address; either
# reaching SIGN_IN_FAILURE_LIMIT within the cool-off refuses every further attempt
# for it, the right password included, until SIGN_IN_LOCKOUT_MINUTES pass with no
# new attempt. Unknown account names are counted exactly like existing ones, and
# the lockout page is the same for both. Password reset requests, failed API
# tokens and wrong second-factor codes are counted in the same table
# (mlteam/accounts/throttling.py).
#
# Before the lock, attempts are slowed: from SIGN_IN_SLOWDOWN_AFTER failures on, an
# account or address is heard again only once 2 ** (failures - SIGN_IN_SLOWDOWN_AFTER)
# seconds have passed since its last failure (1, 2, 4, ... capped at
# SIGN_IN_SLOWDOWN_LONGEST_SECONDS); an attempt sooner gets the same page with the
# seconds left and is not counted, so waiting is always enough. With the defaults a
# person who mistypes three or four times waits a second or two, while a guesser
# needs over two minutes for the ten tries before the lock. The cap keeps the wait
# under the lock's own when the limit is raised. A value at or above the failure
# limit turns the slowdown off. Judged by the handler below from axes' own rows, in
# the same query as the lock; nothing sleeps in the web worker.
AXES_ENABLED = True
AXES_HANDLER = "mlteam.accounts.throttling.SlowdownHandler"
AXES_FAILURE_LIMIT = env_int("SIGN_IN_FAILURE_LIMIT", 10, minimum=1)
SIGN_IN_LOCKOUT_MINUTES = env_int("SIGN_IN_LOCKOUT_MINUTES", 15, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=SIGN_IN_LOCKOUT_MINUTES)
SIGN_IN_SLOWDOWN_AFTER = env_int("SIGN_IN_SLOWDOWN_AFTER", 3, minimum=1)
SIGN_IN_SLOWDOWN_LONGEST_SECONDS = 60
# Per account, and separately per address; an attempt without an account name
# (an API token) is counted per address only (see lockout_parameters).
AXES_LOCKOUT_PARAMETERS = "mlteam.accounts.throttling.lockout_parameters"
AXES_USERNAME_CALLABLE = "mlteam.accounts.throttling.attempt_username"
# The client's address: REMOTE_ADDR, or behind API_NUM_PROXIES trusted proxies the
# address the nearest untrusted hop gave in X-Forwarded-For (the same rule as the
# API's rate limits, so a made-up X-Forwarded-For never escapes the count).
AXES_CLIENT_IP_CALLABLE = "mlteam.accounts.throttling.client_address"
# A sign-in that succeeds leaves the failures before it counted until they expire:
# axes would otherwise clear every failure from the same address too, and one
# attacker signing in to their own account would wipe their count against others.
AXES_RESET_ON_SUCCESS = False
# Attempts while locked out count, and restart the cool-off, so the page's "try
# again in N minutes" is exact.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = True
# The product's own page (429, same words whether the account exists or not).
AXES_LOCKOUT_CALLABLE = "mlteam.accounts.views.locked_out"
# Every failure is also kept in AccessFailureLog (read-only in the admin).
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_VERBOSE = False  # no banner on every manage.py command
# --- end of sign-in throttling ---

# Internationalisation: English source strings, complete Japanese catalogue.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ja", _("Japanese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# One date format and one date-time format per language (mlteam/formats/<lang>).
FORMAT_MODULE_PATH = ["mlteam.formats"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env_time_zone("TIME_ZONE", "UTC")

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Bootstrap comes from the XStatic-Bootstrap package on PyPI, never a CDN.
# Chart.js comes from npm (package-lock.json), installed by `make` into node_modules.
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bootstrap", xstatic.pkg.bootstrap.BASE_DIR),
    ("vendor/chartjs", BASE_DIR / "node_modules" / "chart.js" / "dist"),
    ("vendor/bootstrap-icons", BASE_DIR / "node_modules" / "bootstrap-icons" / "font"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# Content Security Policy: only our own origin, and no inline script or style at all
# (the admin included): scripts are files under static/, values reach them in data-*
# attributes or json_script, and event handlers are bound with addEventListener.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Permissions-Policy (mlteam.middleware): no page uses any of these browser features,
# so none may, neither ours nor a frame's. Clipboard writing (the copy buttons) and
# passkeys are left at the browser's default, this origin only.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "geolocation",
        "gyroscope",
        "hid",
        "idle-detection",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "picture-in-picture",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}

# Email: console locally; SMTP through EMAIL_URL or the EMAIL_* variables, with
# mlteam.mail.EmailBackend (Django's, telling an unanswered send from a failed one).
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "MLTeam <mlteam@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
# Seconds any one exchange with the SMTP server may wait (see REMINDER_SEND_LEASE_SECONDS).
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
_email = env_email("EMAIL_URL")
if _email is None and env_str("EMAIL_HOST", ""):
    EMAIL_BACKEND = "mlteam.mail.EmailBackend"
    EMAIL_HOST = env_str("EMAIL_HOST")
    EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
elif _email is not None:
    globals().update(_email)

# Celery. The broker is Redis in production and CI; kombu's filesystem transport
# serves as an embedded broker for `make run`.
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
DJANGO_CELERY_BEAT_TZ_AWARE = True
# Queues (docs/scale.md, "Queues"): reminder digests and their sweep; outgoing
# deliveries (webhooks, chat), which wait on other people's servers; polling of ML
# artifacts' status; and the default queue for housekeeping (heartbeats, catch-ups,
# purges). A slow endpoint never holds up a digest, and each queue's workers scale
# on their own. Workers consume WORKER_QUEUES (make run, make worker, compose).
CELERY_TASK_DEFAULT_QUEUE = "celery"
WORKER_QUEUES = ("celery", "reminders", "deliveries", "polling")
CELERY_TASK_ROUTES = {
    "deliverables.reminder_sweep": {"queue": "reminders"},
    "deliverables.send_digest": {"queue": "reminders"},
    "notifications.deliver_*": {"queue": "deliveries"},
    "chat.deliver_*": {"queue": "deliveries"},
    "polling.*": {"queue": "polling"},
}
# Time limits: the soft one raises inside the task (it records and lets go of its
# claim), the hard one kills the process. A digest's limit stays below the lease
# on its claim (REMINDER_SEND_LEASE_SECONDS, 600 s by default), so no second worker
# takes a digest that a first is still sending. Everything else: 15 minutes at most.
CELERY_TASK_SOFT_TIME_LIMIT = 600
CELERY_TASK_TIME_LIMIT = 900
CELERY_TASK_ANNOTATIONS = {
    "deliverables.send_digest": {"soft_time_limit": 300, "time_limit": 360},
    "notifications.deliver_webhook": {"soft_time_limit": 60, "time_limit": 90},
    "notifications.deliver_personal": {"soft_time_limit": 60, "time_limit": 90},
    "chat.deliver_message": {"soft_time_limit": 60, "time_limit": 90},
}
# Tasks that acknowledge late (only idempotent ones, which claim their work:
# send_digest, deliver_webhook, deliver_personal, chat's deliver_message) go back to
# the queue when their worker process dies; SIGTERM is a warm shutdown: running
# tasks finish first.
CELERY_TASK_REJECT_ON_WORKER_LOST = True

# Outgoing webhooks (mlteam.notifications, docs/webhooks.md). Production requires
# https (production.py); addresses resolving to private, loopback, link-local or
# metadata hosts are refused unless an admin allows the host (WebhookAllowedHost).
WEBHOOK_REQUIRE_HTTPS = env_bool("WEBHOOK_REQUIRE_HTTPS", False)
# Seconds to connect, and seconds to wait for the answer, per request.
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 5, minimum=1)
# Polling linked ML artifacts (deliverables.artifacts, docs/artifacts.md): seconds to
# connect and to wait for each answer; how long a poll holds its claim on a link
# (longer than the slowest poll: a few requests of at most twice the timeout each).
ARTIFACT_POLL_TIMEOUT_SECONDS = env_int("ARTIFACT_POLL_TIMEOUT_SECONDS", 5, minimum=1)
ARTIFACT_POLL_LEASE_SECONDS = env_int("ARTIFACT_POLL_LEASE_SECONDS", 120, minimum=30)
# A poll is stopped (and records a timeout) well before its lease ends, so no second
# worker takes its link over while it still runs (60 s and 90 s by default).
CELERY_TASK_ANNOTATIONS["polling.artifact_poll"] = {
    "soft_time_limit": ARTIFACT_POLL_LEASE_SECONDS // 2,
    "time_limit": ARTIFACT_POLL_LEASE_SECONDS * 3 // 4,
}
# How many links one sweep hands to the workers at most (the rest wait for the next).
ARTIFACT_POLL_BATCH = env_int("ARTIFACT_POLL_BATCH", 500, minimum=1)
# A system's token goes only to an https:// address (production.py; here also http,
# for servers on this machine): ArtifactSystem.token_refused_over_http.
ARTIFACT_TOKENS_REQUIRE_HTTPS = env_bool("ARTIFACT_TOKENS_REQUIRE_HTTPS", False)
# How often the navbar's inbox bell asks for the unread count (one small query).
INBOX_POLL_SECONDS = env_int("INBOX_POLL_SECONDS", 60, minimum=1)
# An endpoint failing this many attempts in a row, for at least this many hours
# with no success, is disabled and its owner told.
WEBHOOK_DISABLE_AFTER_FAILURES = env_int("WEBHOOK_DISABLE_AFTER_FAILURES", 20, minimum=1)
WEBHOOK_DISABLE_AFTER_HOURS = env_int("WEBHOOK_DISABLE_AFTER_HOURS", 24, minimum=0)
# The history catch-up (notifications.history_catch_up) publishes a history entry only
# once it is this many minutes old: a transaction that wrote an entry and committed
# within this time is never passed over, whatever order the ids committed in.
WEBHOOK_CATCH_UP_LAG_MINUTES = env_int("WEBHOOK_CATCH_UP_LAG_MINUTES", 10, minimum=1)

# The public API (mlteam/api/, docs/api.md): JSON only, problem details for errors,
# session (with CSRF) or personal token (mlteam.accounts.ApiToken, stored hashed by
# django-rest-knox), rate limits counted in the shared cache (CACHE_URL).
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # The token first: its scheme is what a 401 names (WWW-Authenticate).
        "mlteam.api.authentication.TokenAuthentication",
        "mlteam.api.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "mlteam.api.permissions.TokenScope",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "mlteam.api.throttles.TokenRateThrottle",
        "mlteam.api.throttles.PersonRateThrottle",
        "mlteam.api.throttles.AnonymousRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "token": env_str("API_RATE_PER_TOKEN", "600/minute"),
        "person": env_str("API_RATE_PER_PERSON", "1200/minute"),
        "anonymous": env_str("API_RATE_ANONYMOUS", "60/minute"),
    },
    # How many proxies in front of the site append to X-Forwarded-For: the per-address
    # limit counts the address the nearest untrusted hop gave. 0 (the default): the
    # connection's own address; without this, DRF believes whatever X-Forwarded-For
    # a caller sends, and a made-up one on every call escapes the limit.
    "NUM_PROXIES": env_int("API_NUM_PROXIES", 0, minimum=0),
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "mlteam.api.pagination.CursorPagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "mlteam.api.problems.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "MLTeam API",
    "DESCRIPTION": "Projects, teams, roles and deliverables of MLTeam (docs/api.md).",
    "VERSION": "1",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Choice sets that share a field's name get names of their own.
    "ENUM_NAME_OVERRIDES": {
        "LinkKindEnum": "deliverables.models.LinkKind",
        "EventKindEnum": "deliverables.models.EventKind",
        "ProjectStatusEnum": "roles.models.ProjectStatus",
        "DeliverableStatusEnum": "deliverables.models.DeliverableStatus",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "mlteam.api.schema.problem_responses",
        "mlteam.api.schema.operation_links",
    ],
}
# Personal tokens (mlteam.accounts): knox's hashing and lookup on our own model.
KNOX_TOKEN_MODEL = "accounts.ApiToken"
# knox's own AuthToken is swapped out: no migrations for it, so no unused table.
MIGRATION_MODULES = {"knox": None}
REST_KNOX = {"TOKEN_TTL": None, "AUTH_HEADER_PREFIX": "Bearer", "TOKEN_PREFIX": "mlt_"}

# Reminders (deliverables.reminders). Links in emails start with SITE_URL (required in
# production; under `make run`, the address it serves).
SITE_URL = env_site_url("SITE_URL", "http://127.0.0.1:8000")
REMINDER_STALE_DAYS = env_int("REMINDER_STALE_DAYS", 14, minimum=1)
# Days after its own day during which an undelivered digest is still sent (merged
# with the recipient's later ones); after that it is given up as undelivered.
REMINDER_CATCH_UP_DAYS = env_int("REMINDER_CATCH_UP_DAYS", 3, minimum=0)
# How long a worker owns a digest it is sending; must outlast the slowest send
# (deliverables.E003 checks it against EMAIL_TIMEOUT).
REMINDER_SEND_LEASE_SECONDS = env_int("REMINDER_SEND_LEASE_SECONDS", 600, minimum=1)
# After a send the mail server took but never answered, the one repeat waits this
# long, and only happens on the same local day (docs/reminders.md says why 4 hours).
REMINDER_UNKNOWN_REPEAT_DELAY_MINUTES = env_int(
    "REMINDER_UNKNOWN_REPEAT_DELAY_MINUTES", 240, minimum=1
)

# Seconds the health check waits for the broker before calling it down.
HEALTH_BROKER_TIMEOUT = 3

# Prometheus metrics (mlteam/observability.py): /metrics answers only a scraper
# sending "Authorization: Bearer <METRICS_TOKEN>" (404 while it is empty); a Celery
# worker serves its task metrics on CELERY_METRICS_PORT when set.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
CELERY_METRICS_PORT = env_int("CELERY_METRICS_PORT", 0) or None
PROMETHEUS_EXPORT_MIGRATIONS = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        # One JSON object a line (production's default, LOG_FORMAT): what log
        # collectors parse; request_id ties a request's lines and its tasks' together.
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "filters": {
        "client_errors_untraced": {"()": "mlteam.log.ClientErrorsWithoutTraceback"},
        "secrets_redacted": {"()": "mlteam.log.SecretsRedacted"},
        "request_id": {"()": "mlteam.observability.RequestIdFilter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": env_choice("LOG_FORMAT", "plain", {"plain", "json"}),
            "filters": ["secrets_redacted", "request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django gives its `django` logger a console handler of its own (when DEBUG)
        # and mail_admins; records then also reached ours at the root: every line
        # twice. Here everything goes through the root's one handler.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        # A refused or missing page (4xx) is one line; a traceback is for 5xx.
        "django.request": {"filters": ["client_errors_untraced"]},
    },
}


def filesystem_broker_options(folder: Path) -> dict[str, object]:
    """Transport options for kombu's filesystem broker, creating its folders."""
    queue = folder / "queue"
    processed = folder / "processed"
    control = folder / "control"  # broadcast messages (worker control); default is ./control
    for path in (queue, processed, control):
        path.mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(queue),
        "data_folder_out": str(queue),
        "processed_folder": str(processed),
        "control_folder": str(control),
        "store_processed": False,
    }


# Set by CI: checks that would otherwise skip for a missing tool fail instead.
CI = env_bool("CI", False)
