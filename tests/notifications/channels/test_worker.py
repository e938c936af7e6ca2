"""A chat message through a real Celery worker on the "deliveries" queue (the
configured broker: Redis in CI): the change commits, the task is queued after
commit, the worker sends it, once."""

from __future__ import annotations

import time

import pytest
from django.db import connection

from deliverables import services as deliverable_services
from deliverables.models import DeliverableStatus
from mlteam.celery import app
from mlteam.notifications.channels.models import ChatDelivery
from tests.conftest import require
from tests.factories import DeliverableFactory, ProjectFactory, manager_user
from tests.notifications.test_worker import delivery_worker

from .conftest import add_channel


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_sends_the_message_of_a_committed_change_once(receiver, loopback_allowed):
    require(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")
    assert not app.conf.task_always_eager
    app.control.purge()
    manager = manager_user(username="chat-worker-test")
    project = ProjectFactory(managers=[manager])
    add_channel(project, manager, receiver.url, daily_summary=False)
    deliverable = DeliverableFactory(project=project, status=DeliverableStatus.IN_PROGRESS)

    with delivery_worker():
        deliverable_services.deliverable_transition(
            deliverable=deliverable,
            actor=manager,
            to_status=DeliverableStatus.IN_REVIEW,
            version=deliverable.version,
        )  # commits (autocommit): the task is queued after it
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if ChatDelivery.objects.filter(status="succeeded").exists():
                break
            time.sleep(0.05)
        time.sleep(0.5)  # a second send, were there one, would land meanwhile

    row = ChatDelivery.objects.get()
    assert (row.status, row.attempts) == ("succeeded", 1)
    assert len(receiver.requests) == 1
