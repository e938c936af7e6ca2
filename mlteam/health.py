"""Checks behind /healthz: can we reach the database and the broker?"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import DatabaseError, connections
from kombu import Connection

logger = logging.getLogger(__name__)


def check_database() -> str | None:
    """Return None when the default database answers, else a short reason."""
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        logger.warning("health: database unreachable: %s", exc)
        return exc.__class__.__name__
    return None


def check_broker() -> str | None:
    """Return None when the Celery broker accepts a connection, else a short reason."""
    connection = Connection(
        settings.CELERY_BROKER_URL,
        transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
        connect_timeout=settings.HEALTH_BROKER_TIMEOUT,
    )
    try:
        with connection:
            connection.ensure_connection(max_retries=1, timeout=settings.HEALTH_BROKER_TIMEOUT)
    except Exception as exc:  # kombu raises transport-specific errors
        logger.warning("health: broker unreachable: %s", exc)
        return exc.__class__.__name__
    return None
