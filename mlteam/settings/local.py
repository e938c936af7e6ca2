"""Embedded defaults for `make run`: SQLite, filesystem broker, console email.

DEBUG is on for manage.py commands run by hand; `make run` serves with it off
(DJANGO_DEBUG=true brings Django's debug pages back there)."""

from __future__ import annotations

from urllib.parse import urlsplit

from .base import *  # noqa: F403
from .base import ALLOWED_HOSTS, RUN_LOCAL_URL_FILE, VAR_DIR, filesystem_broker_options
from .env import env_bool, env_broker, env_database, env_site_url, env_str

DEBUG = env_bool("DJANGO_DEBUG", True)
SECRET_KEY = env_str("DJANGO_SECRET_KEY", "local-development-only-not-a-secret")

# `make run` (run_local) hands web, worker and beat the address it serves in
# RUN_LOCAL_URL: the web server answers to that host, and links in emails lead
# there (to PORT) unless SITE_URL is given.
# A command started beside it in another shell (send_reminders) finds the address
# in the file make run writes (RUN_LOCAL_URL_FILE), so its links lead there too.
RUN_LOCAL_URL = env_site_url(
    "RUN_LOCAL_URL",
    RUN_LOCAL_URL_FILE.read_text().strip()
    if RUN_LOCAL_URL_FILE.exists()
    else "http://127.0.0.1:8000",
)
SITE_URL = env_site_url("SITE_URL", RUN_LOCAL_URL)
_served_host = urlsplit(RUN_LOCAL_URL).hostname
_served_host = f"[{_served_host}]" if ":" in _served_host else _served_host
if _served_host not in ALLOWED_HOSTS:
    ALLOWED_HOSTS = [*ALLOWED_HOSTS, _served_host]

VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {"default": env_database("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}

CELERY_BROKER_URL = env_broker("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem"):
    CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_broker_options(VAR_DIR / "broker")

# Static files come straight from the finders, with DEBUG on or off (WhiteNoise
# serves them; the folder only keeps it quiet), and edits show on the next request.
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
