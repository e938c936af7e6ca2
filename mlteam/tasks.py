from __future__ import annotations

from celery import shared_task

from .services import worker_heartbeat_record


@shared_task(bind=True, name="mlteam.heartbeat")
def heartbeat(self) -> None:
    """Scheduled every minute by beat; shows in the admin which workers are alive."""
    worker_heartbeat_record(hostname=self.request.hostname or "unknown")
