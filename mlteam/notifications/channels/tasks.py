"""Celery entry points for chat channels (they take ids and call `services`).

`deliver_message` runs on the "deliveries" queue (CELERY_TASK_ROUTES), as webhooks
do: it waits on other people's servers. The beat's `summary_sweep` plans the daily
summaries that are due; `delivery_sweep` hands over again whatever is due
(retries, sends whose worker vanished, messages whose first hand-over failed).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from . import services
from .models import ChatDelivery

logger = logging.getLogger(__name__)

# Retries due sooner than this are queued with a countdown; later ones wait for the sweep.
COUNTDOWN_LIMIT = timedelta(minutes=15)
SWEEP_BATCH = 1000


@shared_task(name="chat.deliver_message", acks_late=True)
def deliver_message(delivery_id: int) -> str | None:
    """One attempt of one message; idempotent (the claim), so acks_late is safe."""
    result = services.delivery_send(delivery_id=delivery_id)
    if result.retry_at is not None:
        wait = result.retry_at - timezone.now()
        if wait <= COUNTDOWN_LIMIT:
            deliver_message.apply_async(
                args=[delivery_id], countdown=max(1, int(wait.total_seconds()) + 1)
            )
    return result.status


@shared_task(name="chat.summary_sweep")
def summary_sweep() -> int:
    """Triggered by beat every five minutes: the daily summaries due now, planned
    and handed over (idempotent: one row per channel and local day)."""
    return len(services.summaries_plan())


@shared_task(name="chat.delivery_sweep")
def delivery_sweep() -> int:
    """Triggered by beat every minute: hand over every message that is due."""
    due = ChatDelivery.objects.due(timezone.now()).order_by("next_attempt_at")
    handed = 0
    for delivery_id in due.values_list("pk", flat=True)[:SWEEP_BATCH]:
        try:
            deliver_message.delay(delivery_id)
        except Exception:  # the broker may be down: the next sweep tries again
            logger.exception("Could not hand chat message %s over", delivery_id)
            break
        handed += 1
    return handed
