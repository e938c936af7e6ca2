"""Celery entry points: reminders (they take ids and call `reminders`)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from . import reminders

logger = logging.getLogger(__name__)


@shared_task(name="deliverables.reminder_sweep")
def reminder_sweep() -> dict[str, int]:
    """Triggered by beat; idempotent, so a missed or doubled tick does no harm."""
    return reminders.reminder_sweep(now=timezone.now(), send=send_digest.delay)


@shared_task(bind=True, name="deliverables.send_digest", max_retries=5, acks_late=True)
def send_digest(self, digest_id: int) -> bool:
    """Send one digest (with the others its recipient is owed).

    An SMTP error retries here a few times at the digest's own next-attempt time
    (a second late, so the claim finds it due); after that, and until the
    catch-up window ends, the sweep hands it over again. Running out of retries
    here gives nothing up. An unknown outcome is never retried here: its one
    repeat, if any, comes from the sweep.
    """
    try:
        return reminders.digest_send(digest_id=digest_id)
    except reminders.DigestOutcomeUnknown:
        return False
    except reminders.DigestSendFailed as failure:
        if self.request.retries >= self.max_retries:
            logger.info("Digest %s: left to the sweep's retries (%s)", digest_id, failure)
            return False
        countdown = int(failure.retry_in.total_seconds()) + 1
        raise self.retry(exc=failure, countdown=countdown) from failure
