"""Celery queues and limits (settings CELERY_TASK_ROUTES, CELERY_TASK_ANNOTATIONS):
each task goes to its queue, every queue has workers, acks_late only where the task
claims its work, and a digest's hard limit stays under the lease on its claim."""

from __future__ import annotations

import pytest
from django.conf import settings

from mlteam.celery import app


def _queue(name: str) -> str:
    return app.amqp.router.route({}, name)["queue"].name


@pytest.mark.parametrize(
    ("task", "queue"),
    [
        ("deliverables.reminder_sweep", "reminders"),
        ("deliverables.send_digest", "reminders"),
        ("notifications.deliver_webhook", "deliveries"),
        ("chat.deliver_message", "deliveries"),
        ("notifications.deliver_personal", "deliveries"),
        ("chat.summary_sweep", "celery"),
        ("polling.mlflow_versions", "polling"),
        ("mlteam.heartbeat", "celery"),
        ("notifications.delivery_sweep", "celery"),
        ("notifications.history_catch_up", "celery"),
        ("notifications.inbox_purge", "celery"),
    ],
)
def test_each_task_goes_to_its_queue(task, queue):
    assert _queue(task) == queue
    assert queue in settings.WORKER_QUEUES


def test_only_tasks_that_claim_their_work_acknowledge_late():
    app.loader.import_default_modules()
    late = sorted(
        name
        for name, task in app.tasks.items()
        if not name.startswith("celery.") and getattr(task, "acks_late", False)
    )
    assert set(late) <= {
        "deliverables.send_digest",
        "notifications.deliver_webhook",
        "polling.artifact_poll",  # claims its link (a lease) before calling out
        # Added by later capabilities: each claims its row before sending.
        *(name for name in late if name.startswith(("chat.deliver", "notifications.deliver_"))),
        # Test-only tasks (tests/mlteam/shutdown_tasks.py), registered when imported.
        *(name for name in late if name.startswith("tests.")),
    }
    assert settings.CELERY_TASK_REJECT_ON_WORKER_LOST is True


def test_time_limits():
    app.loader.import_default_modules()
    digest = app.tasks["deliverables.send_digest"]
    assert (digest.soft_time_limit, digest.time_limit) == (300, 360)
    assert digest.time_limit < settings.REMINDER_SEND_LEASE_SECONDS
    webhook = app.tasks["notifications.deliver_webhook"]
    assert (webhook.soft_time_limit, webhook.time_limit) == (60, 90)
    assert settings.CELERY_TASK_SOFT_TIME_LIMIT < settings.CELERY_TASK_TIME_LIMIT
