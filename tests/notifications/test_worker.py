"""Deliveries through a real Celery worker consuming the "deliveries" queue (the
configured broker: Redis in CI), not eager mode."""

from __future__ import annotations

import time
from contextlib import contextmanager

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import connection

from mlteam.celery import app
from mlteam.notifications.models import WebhookDelivery
from tests.conftest import require
from tests.factories import ProjectFactory, manager_user
from tests.notifications.test_delivery import endpoint_for, plan


@contextmanager
def delivery_worker():
    """A real Celery worker (two threads) on this app's broker, consuming the queues
    production workers do (settings.WORKER_QUEUES). Naming the queues narrows what
    this process's app consumes from for good, so the default one is named too."""
    with start_worker(
        app,
        pool="threads",
        concurrency=2,
        queues=list(settings.WORKER_QUEUES),
        perform_ping_check=False,
        shutdown_timeout=15,
    ) as worker:
        yield worker


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_on_the_deliveries_queue_sends_each_endpoint_its_own_task(
    receivers, loopback_allowed, django_capture_on_commit_callbacks, settings
):
    # Two tasks writing at once: SQLite's shared in-memory test database refuses that.
    require(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")
    settings.WEBHOOK_TIMEOUT_SECONDS = 2
    assert not app.conf.task_always_eager
    app.control.purge()
    manager = manager_user(username="worker-test")
    project = ProjectFactory(managers=[manager])
    silent = receivers([("hang", 6)])
    prompt = receivers([200])
    silent_endpoint = endpoint_for(project, manager, silent.url)
    prompt_endpoint = endpoint_for(project, manager, prompt.url)

    with delivery_worker():
        started = time.monotonic()
        plan(project, manager, django_capture_on_commit_callbacks)  # enqueues after commit
        prompt_done = silent_done = None
        deadline = started + 20
        while time.monotonic() < deadline and not (prompt_done and silent_done):
            statuses = dict(WebhookDelivery.objects.values_list("endpoint_id", "status"))
            if prompt_done is None and statuses.get(prompt_endpoint.pk) == "succeeded":
                prompt_done = time.monotonic() - started
            if silent_done is None and statuses.get(silent_endpoint.pk) == "failed":
                silent_done = time.monotonic() - started
            time.sleep(0.05)

    assert prompt_done is not None, "the prompt endpoint got nothing"
    assert silent_done is not None, "the silent endpoint's attempt never ended"
    assert prompt_done < silent_done, "the prompt endpoint waited for the silent one"
    assert len(prompt.requests) == 1
