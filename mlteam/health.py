"""Checks behind /healthz: can we reach the database and the broker, and are
reminder emails getting through?"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone
from kombu import Connection

from deliverables.selectors import digest_trouble
from mlteam.models import WorkerHeartbeat

logger = logging.getLogger(__name__)


def check_database() -> str | None:
    """Return None when the default database answers, else a short reason."""
    try:
        WorkerHeartbeat.objects.using("default").exists()
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


def check_reminders() -> str | None:
    """None while reminder digests get through, else what is wrong: digests failing
    for a while (DIGEST_FAILING_AFTER), or given up on in the last day. Counts only:
    /healthz is public, so no address or server message appears here."""
    now = timezone.now()
    try:
        trouble = digest_trouble(now=now)
    except DatabaseError as exc:
        return exc.__class__.__name__
    if not trouble.alarming:
        return None
    parts = []
    if trouble.failing:
        minutes = int((now - trouble.failing_since).total_seconds() // 60)
        parts.append(f"{trouble.failing} digest(s) failing for {minutes} min")
    if trouble.undelivered:
        parts.append(f"{trouble.undelivered} digest(s) undelivered in the last day")
    reason = ", ".join(parts)
    logger.warning("health: reminder emails are not getting through: %s", reason)
    return reason
