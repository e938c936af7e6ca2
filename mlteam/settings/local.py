"""Embedded defaults for `make run`: SQLite, filesystem broker, console email, DEBUG."""

from __future__ import annotations

from .base import *  # noqa: F403
from .base import VAR_DIR, filesystem_broker_options
from .env import env_bool, env_broker, env_database, env_str

DEBUG = env_bool("DJANGO_DEBUG", True)
SECRET_KEY = env_str("DJANGO_SECRET_KEY", "local-development-only-not-a-secret")

VAR_DIR.mkdir(exist_ok=True)
DATABASES = {"default": env_database("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}

CELERY_BROKER_URL = env_broker("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem"):
    CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_broker_options(VAR_DIR / "broker")

# Static files come straight from the finders; the folder only keeps WhiteNoise quiet.
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
