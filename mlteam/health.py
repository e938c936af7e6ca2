"""Checks behind /readyz, /healthz/reminders and `check_scheduler`: can we reach
the database, the cache and the broker, are the migrations applied, are reminder
emails getting through, is beat ticking and are workers taking tasks?

/healthz itself checks nothing: a process that answers is alive. It is what a
liveness probe asks, so a database outage makes the web processes unready (out of
the load balancer), never restarted in a loop.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
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


def check_cache() -> str | None:
    """Return None when the cache stores and returns a value, else a short reason."""
    key = f"mlteam:readyz:{secrets.token_hex(4)}"
    try:
        cache.set(key, "1", timeout=10)
        answered = cache.get(key)
        cache.delete(key)
    except Exception as exc:  # each cache backend raises its own errors
        logger.warning("health: cache unreachable: %s", exc)
        return exc.__class__.__name__
    return None if answered == "1" else "no answer"


# Once every migration is applied, a process need not read them from disk again:
# migrations are applied before new processes start (docs), never undone under them.
_migrated = False


def check_migrations() -> str | None:
    """Return None when every migration this code knows is applied to the database,
    else how many are waiting (a pod started before `migrate` ran)."""
    global _migrated
    if _migrated:
        return None
    try:
        executor = MigrationExecutor(connection)
        waiting = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as exc:
        return exc.__class__.__name__
    if waiting:
        return f"{len(waiting)} migration(s) not applied"
    _migrated = True
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


# --- beat and workers (`manage.py check_scheduler`) -----------------------------------------

# The worker heartbeat is scheduled every minute (mlteam/migrations/0002); beat
# writes each task's last run to the database every few minutes (django-celery-beat
# syncs its schedule every 3 minutes), hence the margins.
BEAT_LATE_AFTER = timedelta(minutes=10)
WORKER_LATE_AFTER = timedelta(minutes=5)


# How long `check_scheduler` waits for the live workers to say which queues they take.
QUEUE_REPLY_SECONDS = 3.0


def queue_workers(*, timeout: float = QUEUE_REPLY_SECONDS) -> dict[str, list[str]]:
    """Each queue workers must take (WORKER_QUEUES, plus any other a live worker takes),
    with the live workers taking it now: asked over the broker (Celery's remote
    control, `inspect().active_queues()`), so a worker that answers is running and
    consuming. Raises whatever the broker raises when it cannot be reached."""
    from mlteam.celery import app

    replies = app.control.inspect(timeout=timeout).active_queues() or {}
    queues: dict[str, list[str]] = {name: [] for name in settings.WORKER_QUEUES}
    for worker, consumed in replies.items():
        for queue in consumed or ():
            queues.setdefault(queue["name"], []).append(worker)
    return {name: sorted(workers) for name, workers in queues.items()}


@dataclass(frozen=True)
class SchedulerState:
    """What `check_scheduler` reports: beat's last run of any enabled task, each
    worker's last heartbeat, with which of them are late at `now`, and (when asked)
    which live workers take each queue."""

    now: datetime
    beat_last_tick: datetime | None
    workers: list[tuple[str, datetime]]
    beat_late_after: timedelta
    worker_late_after: timedelta
    # queue -> live workers taking it; None when not asked; `queues_error` when the
    # broker could not be asked.
    queues: dict[str, list[str]] | None = None
    queues_error: str | None = None

    @property
    def beat_problem(self) -> str | None:
        if self.beat_last_tick is None:
            return "beat has never run a task"
        if self.now - self.beat_last_tick > self.beat_late_after:
            return f"beat's last tick was {_minutes(self.now - self.beat_last_tick)} min ago"
        return None

    @property
    def live_workers(self) -> list[str]:
        return [name for name, seen in self.workers if self.now - seen <= self.worker_late_after]

    @property
    def late_workers(self) -> list[str]:
        return [name for name, seen in self.workers if self.now - seen > self.worker_late_after]

    @property
    def worker_problem(self) -> str | None:
        if not self.live_workers:
            return "no worker has taken a heartbeat task lately"
        return None

    @property
    def queues_without_worker(self) -> list[str]:
        return sorted(name for name, workers in (self.queues or {}).items() if not workers)

    @property
    def queue_problem(self) -> str | None:
        if self.queues_error:
            return f"could not ask the workers which queues they take: {self.queues_error}"
        if self.queues_without_worker:
            return "no live worker takes the queue(s): " + ", ".join(self.queues_without_worker)
        return None

    @property
    def problems(self) -> list[str]:
        return [
            problem
            for problem in (self.beat_problem, self.worker_problem, self.queue_problem)
            if problem
        ]

    @property
    def healthy(self) -> bool:
        return not self.problems


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)


def scheduler_state(
    *,
    now: datetime | None = None,
    beat_late_after: timedelta = BEAT_LATE_AFTER,
    worker_late_after: timedelta = WORKER_LATE_AFTER,
    ask_queues: bool = False,
    queue_timeout: float = QUEUE_REPLY_SECONDS,
) -> SchedulerState:
    from django.db.models import Max
    from django_celery_beat.models import PeriodicTask

    last_tick = PeriodicTask.objects.filter(enabled=True).aggregate(last=Max("last_run_at"))
    workers = list(WorkerHeartbeat.objects.order_by("hostname").values_list("hostname", "seen_at"))
    queues = queues_error = None
    if ask_queues:
        try:
            queues = queue_workers(timeout=queue_timeout)
        except Exception as exc:  # kombu raises transport-specific errors
            logger.warning("health: could not ask the workers for their queues: %s", exc)
            queues_error = exc.__class__.__name__
    return SchedulerState(
        now=now or timezone.now(),
        beat_last_tick=last_tick["last"],
        workers=workers,
        beat_late_after=beat_late_after,
        worker_late_after=worker_late_after,
        queues=queues,
        queues_error=queues_error,
    )
