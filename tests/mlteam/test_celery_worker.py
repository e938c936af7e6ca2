"""A real task through a real worker on the configured broker (Redis in CI), not eager mode."""

from __future__ import annotations

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from mlteam.celery import app
from mlteam.models import WorkerHeartbeat
from mlteam.tasks import heartbeat


def test_ci_runs_against_postgresql_and_redis():
    from django.db import connection

    if not settings.CI:
        pytest.skip("only CI promises PostgreSQL and Redis")
    assert connection.vendor == "postgresql"
    assert settings.CELERY_BROKER_URL.startswith("redis://")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_heartbeat_task_runs_on_a_real_worker_and_writes_its_row():
    assert not app.conf.task_always_eager
    app.control.purge()  # leftovers of an earlier run must not count
    with start_worker(
        app,
        pool="solo",
        queues=list(settings.WORKER_QUEUES),
        perform_ping_check=False,
        shutdown_timeout=15,
    ) as worker:
        heartbeat.delay()
        heartbeat.delay()
        deadline = time.monotonic() + 30
        row = None
        while time.monotonic() < deadline:
            row = WorkerHeartbeat.objects.filter(beats=2).first()
            if row:
                break
            time.sleep(0.2)
    assert row is not None, "the worker did not run both heartbeats within 30 s"
    assert row.hostname and row.hostname in worker.hostname
