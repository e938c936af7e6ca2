"""Celery entry points: reminders (they take ids and call `reminders`) and the
open-work tally's daily rebuild."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from . import reminders, services


@shared_task(name="deliverables.reminder_sweep")
def reminder_sweep() -> dict[str, int]:
    """Triggered by beat; idempotent, so a missed or doubled tick does no harm."""
    return reminders.reminder_sweep(now=timezone.now(), send=send_digest.delay)


@shared_task(bind=True, name="deliverables.send_digest", max_retries=8, acks_late=True)
def send_digest(self, digest_id: int) -> bool:
    """Send one digest; SMTP errors retry with back-off (the sweep also retries)."""
    try:
        return reminders.digest_send(digest_id=digest_id)
    except reminders.DigestSendFailed as failure:
        raise self.retry(exc=failure, countdown=int(failure.retry_in.total_seconds())) from failure


@shared_task(name="deliverables.open_work_refresh")
def open_work_refresh() -> bool:
    """Triggered by beat every few minutes: rebuilds the open-work tally once a day
    has begun, or when writes have appended many rows to it since; otherwise two
    cheap queries."""
    return services.open_work_refresh(today=timezone.localdate(), fold=True)
