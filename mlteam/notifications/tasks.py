"""Celery entry points for webhooks (they take ids and call `services`).

`deliver_webhook` runs on the "deliveries" queue (CELERY_TASK_ROUTES): sends wait
on other people's servers, and must never hold up the digests. Each delivery is
its own task, and each request has short timeouts, so one slow endpoint delays
no other. The beat's `delivery_sweep` hands over again whatever is due (retries,
sends whose worker vanished, deliveries whose first hand-over failed), and
`history_catch_up` publishes the history entries whose after-commit fan-out never ran.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from . import personal, services
from .models import PersonalDelivery, WebhookDelivery

logger = logging.getLogger(__name__)

# Retries due sooner than this are queued with a countdown; later ones wait for the sweep.
COUNTDOWN_LIMIT = timedelta(minutes=15)
SWEEP_BATCH = 1000


@shared_task(name="notifications.deliver_webhook", acks_late=True)
def deliver_webhook(delivery_id: int) -> str | None:
    """One attempt of one delivery; idempotent (the claim), so acks_late is safe."""
    result = services.delivery_send(delivery_id=delivery_id)
    if result.retry_at is not None:
        wait = result.retry_at - timezone.now()
        if wait <= COUNTDOWN_LIMIT:
            deliver_webhook.apply_async(
                args=[delivery_id], countdown=max(1, int(wait.total_seconds()) + 1)
            )
    return result.status


@shared_task(name="notifications.deliver_personal", acks_late=True)
def deliver_personal(delivery_id: int) -> str | None:
    """One attempt of one personal delivery (a person's chat or email); idempotent
    (the claim), so acks_late is safe."""
    result = personal.delivery_send(delivery_id=delivery_id)
    if result.retry_at is not None:
        wait = result.retry_at - timezone.now()
        if wait <= COUNTDOWN_LIMIT:
            deliver_personal.apply_async(
                args=[delivery_id], countdown=max(1, int(wait.total_seconds()) + 1)
            )
    return result.status


@shared_task(name="notifications.delivery_sweep")
def delivery_sweep() -> int:
    """Triggered by beat every minute: hand over every delivery that is due, the
    webhooks' and the personal ones (personal_delivery_due_idx)."""
    now = timezone.now()
    handed = 0
    for model, task in ((WebhookDelivery, deliver_webhook), (PersonalDelivery, deliver_personal)):
        due = model.objects.due(now).order_by("next_attempt_at")
        for delivery_id in due.values_list("pk", flat=True)[:SWEEP_BATCH]:
            try:
                task.delay(delivery_id)
            except Exception:  # the broker may be down: the next sweep tries again
                logger.exception("Could not hand %s %s over", model._meta.model_name, delivery_id)
                return handed
            handed += 1
    return handed


@shared_task(name="notifications.history_catch_up")
def history_catch_up() -> int:
    """Triggered by beat every minute: the history entries whose after-commit fan-out
    never ran, published (idempotent; two at once publish each entry once)."""
    return services.history_catch_up()


@shared_task(name="notifications.overdue_sweep")
def overdue_sweep() -> int:
    """Triggered by beat every hour: `deliverable.overdue` events (idempotent)."""
    return services.overdue_fan_out(today=timezone.localdate())


@shared_task(name="notifications.inbox_purge")
def inbox_purge() -> int:
    """Triggered by beat daily: inbox entries older than 90 days, deleted (idempotent)."""
    return services.inbox_purge()
