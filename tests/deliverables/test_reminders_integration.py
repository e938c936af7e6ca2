"""Reminders through the real pieces: a Celery worker on the broker, and two sweeps
racing on PostgreSQL."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.core import mail
from django.db import connection, connections, transaction
from django.utils import timezone

from deliverables import reminders
from deliverables.models import Deliverable, Digest, DigestStatus, ReminderPreference
from deliverables.services import deliverable_create
from deliverables.tasks import reminder_sweep
from mlteam.celery import app
from roles.services import membership_add, project_create
from tests.conftest import require
from tests.factories import UserFactory, deliverable_type, manager_user

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _late_work(owners, *, escalation_days=30):
    project = project_create(
        name="Late work", managers=[manager_user()], escalation_days=escalation_days
    )
    for owner in owners:
        membership_add(project=project, user=owner)
        # Every hour and day is a digest time for them, so the test never waits.
        ReminderPreference.objects.create(
            user=owner, hour=0, time_zone="UTC", working_days="0,1,2,3,4,5,6"
        )
        deliverable_create(
            project=project,
            type=deliverable_type("analysis-report"),
            title=f"Report of {owner.username}",
            owner=owner,
            due_date=timezone.now().date() - timedelta(days=2),
        )


def test_a_digest_arrives_end_to_end_through_the_worker():
    owner = UserFactory(username="aiko")
    _late_work([owner])
    app.control.purge()
    with start_worker(
        app,
        pool="solo",
        queues=list(settings.WORKER_QUEUES),
        perform_ping_check=False,
        shutdown_timeout=15,
    ):
        reminder_sweep.delay()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not mail.outbox:
            time.sleep(0.2)
    (message,) = mail.outbox
    assert message.to == [owner.email]
    digest = Digest.objects.get(recipient=owner)
    assert digest.status == DigestStatus.SENT
    # Two days late on the day the worker's sweep wrote it (the test's own clock may
    # have passed midnight since it set the due date).
    due = Deliverable.objects.get(owner=owner).due_date
    assert (digest.local_date - due).days in (2, 3)
    late = (digest.local_date - due).days
    assert "Report of aiko" in message.body and f"{late} days late" in message.body


def test_two_sweeps_at_the_same_moment_send_one_email_per_recipient():
    require(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")
    owners = [UserFactory() for _ in range(12)]
    _late_work(owners)
    now = timezone.now()
    barrier = threading.Barrier(2)
    errors = []

    def sweep():
        try:
            barrier.wait(timeout=10)
            reminders.reminder_sweep(
                now=now, send=lambda pk: reminders.digest_send(digest_id=pk, now=now), batch_size=5
            )
        except Exception as error:  # surfaced below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    recipients = sorted(message.to[0] for message in mail.outbox)
    assert recipients == sorted(owner.email for owner in owners)
    assert Digest.objects.filter(status=DigestStatus.SENT).count() == len(owners)


def test_two_workers_sending_two_owed_days_of_one_person_send_one_email():
    """Yesterday's digest (failed) and today's are handed to two workers at once:
    the row lock lets one of them carry both; the other sends nothing."""
    require(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")
    owners = [UserFactory() for _ in range(12)]
    _late_work(owners)
    now = timezone.now()
    yesterday = now - timedelta(days=1)
    reminders.reminder_sweep(now=yesterday, send=lambda pk: None)
    Digest.objects.update(attempts=1, next_attempt_at=yesterday, last_error="refused")
    reminders.reminder_sweep(now=now, send=lambda pk: None)
    days = {
        day: list(
            Digest.objects.filter(local_date=day)
            .order_by("recipient_id")
            .values_list("pk", flat=True)
        )
        for day in (yesterday.date(), now.date())
    }
    barrier = threading.Barrier(2)
    errors = []

    def send_all(digest_ids):
        try:
            barrier.wait(timeout=10)
            for digest_id in digest_ids:
                reminders.digest_send(digest_id=digest_id, now=now)
        except Exception as error:  # surfaced below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send_all, args=[ids]) for ids in days.values()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    recipients = sorted(message.to[0] for message in mail.outbox)
    assert recipients == sorted(owner.email for owner in owners)
    assert Digest.objects.filter(status=DigestStatus.SENT).count() == len(owners)
    assert Digest.objects.filter(status=DigestStatus.MERGED).count() == len(owners)


def test_a_claim_waits_for_another_claim_on_the_same_person():
    """While one worker holds the lock on a person's digests (mid-claim), another
    worker's claim waits, then sees the first one's lease and sends nothing."""
    require(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")
    owner = UserFactory()
    _late_work([owner])
    now = timezone.now()
    yesterday = now - timedelta(days=1)
    reminders.reminder_sweep(now=yesterday, send=lambda pk: None)
    Digest.objects.update(attempts=1, next_attempt_at=yesterday, last_error="refused")
    reminders.reminder_sweep(now=now, send=lambda pk: None)
    today = Digest.objects.get(local_date=now.date())
    locked, errors, results = threading.Event(), [], []

    def first_claim():
        try:
            with transaction.atomic():
                rows = list(Digest.objects.select_for_update().filter(recipient=owner))
                locked.set()
                time.sleep(1)
                Digest.objects.filter(pk__in=[row.pk for row in rows]).update(
                    status=DigestStatus.SENDING, lease_until=now + reminders.lease()
                )
        except Exception as error:  # surfaced below
            errors.append(error)
        finally:
            connections.close_all()

    def second_claim():
        try:
            locked.wait(timeout=10)
            results.append(reminders.digest_send(digest_id=today.pk, now=now))
        except Exception as error:  # surfaced below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first_claim), threading.Thread(target=second_claim)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == [] and results == [False]
    assert mail.outbox == []
