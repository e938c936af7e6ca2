"""Fast settings for the test suite.

Without DATABASE_URL and CELERY_BROKER_URL the suite runs on SQLite and the
filesystem broker; CI sets both to PostgreSQL and Redis.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import filesystem_broker_options
from .env import env_broker, env_database

DEBUG = False
SECRET_KEY = "test-only-not-a-secret"
DATABASES = {"default": env_database("DATABASE_URL", "sqlite:///:memory:")}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
LANGUAGE_CODE = "en"
# Refuse, rather than log, a dashboard result that is not plain data (mlteam/cache.py).
CACHE_PLAIN_DATA_ONLY = True

CELERY_BROKER_URL = env_broker("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem"):
    CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_broker_options(
        Path(tempfile.mkdtemp(prefix="mlteam-test-broker-"))
    )
