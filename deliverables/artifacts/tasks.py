"""Celery entry points for artifact polling (names `polling.*`: the `polling` queue,
CELERY_TASK_ROUTES). They take ids and call `services`."""

from __future__ import annotations

import logging

from celery import shared_task

from . import services

logger = logging.getLogger(__name__)


@shared_task(name="polling.artifact_poll", acks_late=True)
def artifact_poll(state_id: int) -> bool:
    """Poll one link's artifact; idempotent (the claim), so acks_late is safe."""
    return services.artifact_poll(state_id=state_id)


@shared_task(name="polling.artifacts_sweep")
def artifacts_sweep() -> int:
    """Triggered by beat every minute: hand every due link to a poll. A missed or
    doubled tick is harmless (each poll claims its link first)."""
    handed = 0
    for state_id in services.artifacts_sweep():
        try:
            artifact_poll.delay(state_id)
        except Exception:  # the broker may be down: the next sweep tries again
            logger.exception("Could not hand artifact state %s to a poll", state_id)
            break
        handed += 1
    return handed
