"""Webhooks end to end against a real local HTTP receiver: fan-out from the history
the services write, signing, retries, timeouts, redirects, visibility at send time."""

from __future__ import annotations

import json
import threading
import time
from datetime import date, timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from deliverables import services as deliverable_services
from deliverables.models import DeliverableEvent, DeliverableStatus
from mlteam.history import history_written
from mlteam.notifications import delivery as ledger
from mlteam.notifications import services
from mlteam.notifications.models import (
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from roles import services as role_services
from tests.conftest import require
from tests.factories import (
    DeliverableFactory,
    MembershipFactory,
    ProjectFactory,
    UserFactory,
    deliverable_type,
    manager_user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(manager):
    return ProjectFactory(managers=[manager])


def endpoint_for(project, owner, url, events=None) -> WebhookEndpoint:
    return services.endpoint_create(
        actor=owner,
        project=project,
        url=url,
        events=events or [WebhookEvent.DELIVERABLE_CREATED],
    )


def plan(project, actor, django_capture_on_commit_callbacks, **fields):
    """Plan a deliverable through the service and let its history be announced."""
    with django_capture_on_commit_callbacks(execute=True):
        return deliverable_services.deliverable_create(
            project=project, type=deliverable_type("deployed-model"), actor=actor, **fields
        )


def test_signature_verifies_with_the_standard_webhooks_library(
    project, manager, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(project, manager, receiver.url)
    deliverable = plan(project, manager, django_capture_on_commit_callbacks, title="Churn v2")
    (row,) = WebhookDelivery.objects.filter(endpoint=endpoint)

    result = services.delivery_send(delivery_id=row.pk)

    assert result.status == DeliveryStatus.SUCCEEDED
    (request,) = receiver.requests
    payload = Webhook(endpoint.secret).verify(request.body, request.headers)
    assert payload["type"] == "deliverable.created"
    assert payload["data"]["deliverable"]["id"] == deliverable.pk
    assert payload["data"]["deliverable"]["title"] == "Churn v2"
    assert payload["data"]["project"]["id"] == project.pk
    assert request.headers["webhook-id"] == row.event_id
    assert request.headers["webhook-id"].startswith("evt_")
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_response_code) == ("succeeded", 1, 200)
    assert row.duration_ms is not None
    # Another secret does not verify it.
    with pytest.raises(Exception, match="signature"):
        Webhook(services.new_secret()).verify(request.body, request.headers)


def test_a_receiver_failing_twice_then_answering_gets_one_successful_delivery_per_event(
    project, manager, receivers, loopback_allowed, django_capture_on_commit_callbacks
):
    receiver = receivers([500, 503, 200])
    endpoint = endpoint_for(project, manager, receiver.url)
    plan(project, manager, django_capture_on_commit_callbacks)
    (row,) = WebhookDelivery.objects.filter(endpoint=endpoint)
    start = timezone.now()

    outcomes = []
    with time_machine.travel(start, tick=False) as clock:
        for _ in range(6):  # the task as the sweep would run it, every 5 minutes
            outcomes.append(services.delivery_send(delivery_id=row.pk).status)
            clock.shift(timedelta(minutes=5))

    assert outcomes == ["failed", "failed", "succeeded", None, None, None]
    assert len(receiver.requests) == 3
    assert {r.headers["webhook-id"] for r in receiver.requests} == {row.event_id}
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_response_code) == ("succeeded", 3, 200)
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0 and endpoint.active


def test_a_failed_attempt_waits_for_its_backoff(
    project, manager, receivers, loopback_allowed, django_capture_on_commit_callbacks
):
    receiver = receivers([500, 200])
    endpoint = endpoint_for(project, manager, receiver.url)
    plan(project, manager, django_capture_on_commit_callbacks)
    (row,) = WebhookDelivery.objects.filter(endpoint=endpoint)
    now = timezone.now()

    first = services.delivery_send(delivery_id=row.pk, now=now)
    too_soon = services.delivery_send(delivery_id=row.pk, now=now + timedelta(seconds=10))

    assert first.status == "failed"
    assert now + timedelta(seconds=30) <= first.retry_at < now + timedelta(seconds=31)
    assert too_soon.status is None
    assert len(receiver.requests) == 1
    row.refresh_from_db()
    assert row.error.startswith("HTTP 500")


def test_retries_go_on_for_at_least_a_day_then_give_up(
    project, manager, receivers, loopback_allowed, django_capture_on_commit_callbacks, settings
):
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 1000  # not what this test is about
    receiver = receivers([500])
    endpoint = endpoint_for(project, manager, receiver.url)
    plan(project, manager, django_capture_on_commit_callbacks)
    (row,) = WebhookDelivery.objects.filter(endpoint=endpoint)
    first = now = timezone.now()

    statuses = []
    while True:
        result = services.delivery_send(delivery_id=row.pk, now=now)
        statuses.append(result.status)
        if result.retry_at is None:
            break
        now = result.retry_at

    assert now - first >= timedelta(hours=24)
    assert statuses[-1] == "gave_up" and set(statuses[:-1]) == {"failed"}
    assert len(receiver.requests) == ledger.MAX_ATTEMPTS
    row.refresh_from_db()
    assert (row.status, row.attempts, row.next_attempt_at) == ("gave_up", ledger.MAX_ATTEMPTS, None)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_receiver_that_never_answers_does_not_delay_another_endpoint(
    receivers, loopback_allowed, django_capture_on_commit_callbacks, settings
):
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    manager = manager_user(username="patient")
    project = ProjectFactory(managers=[manager])
    silent = receivers([("hang", 5)])
    prompt = receivers([200])
    slow_endpoint = endpoint_for(project, manager, silent.url)
    fast_endpoint = endpoint_for(project, manager, prompt.url)
    plan(project, manager, django_capture_on_commit_callbacks)
    slow = WebhookDelivery.objects.get(endpoint=slow_endpoint)
    fast = WebhookDelivery.objects.get(endpoint=fast_endpoint)
    took, ended = {}, {}

    def send(row):  # each delivery is its own task; workers run them side by side
        started = time.monotonic()
        services.delivery_send(delivery_id=row.pk)
        ended[row.pk] = time.monotonic()
        took[row.pk] = ended[row.pk] - started

    slow_worker = threading.Thread(target=send, args=(slow,))
    slow_worker.start()
    # Once the silent receiver holds the first send, the other endpoint's task runs
    # (not at the very same instant: SQLite's shared in-memory test database refuses
    # two writers at once; test_worker.py runs both at once on PostgreSQL).
    deadline = time.monotonic() + 5
    while not silent.requests and time.monotonic() < deadline:
        time.sleep(0.01)
    send(fast)
    slow_worker.join(timeout=10)

    # Told by order, not by a stopwatch (a busy machine slows both): the prompt
    # endpoint's delivery ended while the silent one's was still waiting.
    assert ended[fast.pk] < ended[slow.pk], "the prompt endpoint waited for the silent one"
    # Cut off by the 1 s timeout, well before the receiver's 5 s.
    assert took[slow.pk] < 4.5, "the silent endpoint was not cut off by the timeout"
    slow.refresh_from_db()
    fast.refresh_from_db()
    assert fast.status == "succeeded"
    assert (slow.status, slow.error) == ("failed", "no answer in time")


def test_deliveries_run_as_separate_tasks_on_the_deliveries_queue():
    from mlteam.celery import app
    from mlteam.notifications.tasks import deliver_webhook

    assert app.amqp.router.route({}, deliver_webhook.name)["queue"].name == "deliveries"


def test_redirects_are_not_followed(
    project, manager, receivers, loopback_allowed, django_capture_on_commit_callbacks
):
    elsewhere = receivers([200])
    redirecting = receivers([("redirect", elsewhere.url)])
    endpoint = endpoint_for(project, manager, redirecting.url)
    plan(project, manager, django_capture_on_commit_callbacks)
    (row,) = WebhookDelivery.objects.filter(endpoint=endpoint)

    result = services.delivery_send(delivery_id=row.pk)

    assert result.status == "failed"
    assert elsewhere.requests == []
    row.refresh_from_db()
    assert row.last_response_code == 302
    assert "redirect" in row.error


def test_an_event_about_a_project_the_owner_lost_access_to_is_not_sent(
    project, manager, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(project, manager, receiver.url)
    plan(project, manager, django_capture_on_commit_callbacks)
    (row,) = WebhookDelivery.objects.filter(endpoint=endpoint)
    project.managers.remove(manager)  # no longer listed, not on the team: cannot see it

    result = services.delivery_send(delivery_id=row.pk)

    assert result.status == DeliveryStatus.SKIPPED
    assert receiver.requests == []
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("skipped", 0)
    assert "no longer see" in row.error


def test_no_delivery_is_made_for_an_owner_who_cannot_see_the_project(
    project, manager, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(project, manager, receiver.url)
    project.managers.remove(manager)

    plan(project, manager, django_capture_on_commit_callbacks)

    assert not WebhookDelivery.objects.filter(endpoint=endpoint).exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_running_the_same_delivery_send_it_once(
    receivers, loopback_allowed, django_capture_on_commit_callbacks
):
    require(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")
    manager = manager_user(username="racer")
    project = ProjectFactory(managers=[manager])
    receiver = receivers([("hang", 0.3), 200])  # slow enough for the second to arrive meanwhile
    receiver.answers = [200]
    endpoint = endpoint_for(project, manager, receiver.url)
    plan(project, manager, django_capture_on_commit_callbacks)
    (row,) = WebhookDelivery.objects.filter(endpoint=endpoint)
    barrier = threading.Barrier(2)
    results = []

    def worker():
        barrier.wait()
        results.append(services.delivery_send(delivery_id=row.pk).status)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert sorted(results, key=str) == [None, "succeeded"]
    assert len(receiver.requests) == 1


def test_a_delivery_another_worker_holds_is_left_alone(
    project, manager, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(project, manager, receiver.url)
    plan(project, manager, django_capture_on_commit_callbacks)
    (row,) = WebhookDelivery.objects.filter(endpoint=endpoint)
    now = timezone.now()
    held = ledger.claim(WebhookDelivery, row.pk, now)  # the first worker's claim

    assert services.delivery_send(delivery_id=row.pk, now=now).status is None
    assert receiver.requests == []
    # Its lease ran out (the worker vanished): the next one takes it over, once.
    later = now + ledger.lease() + timedelta(seconds=1)
    assert services.delivery_send(delivery_id=row.pk, now=later).status == "succeeded"
    assert services.delivery_send(delivery_id=row.pk, now=later).status is None
    assert len(receiver.requests) == 1
    row.refresh_from_db()
    assert (row.attempts, held.attempt) == (2, 1)


def test_announcing_the_same_history_twice_makes_one_delivery(
    project, manager, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(project, manager, receiver.url)
    plan(project, manager, django_capture_on_commit_callbacks)
    entries = list(DeliverableEvent.objects.filter(project=project))

    history_written.send(sender=DeliverableEvent, entries=entries)

    assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 1


def test_only_subscribed_events_of_the_endpoints_project_are_delivered(
    project, manager, receiver, loopback_allowed, django_capture_on_commit_callbacks, admin
):
    created_only = endpoint_for(project, manager, receiver.url)
    status_only = endpoint_for(
        project, manager, receiver.url, events=[WebhookEvent.DELIVERABLE_STATUS_CHANGED]
    )
    other_project = ProjectFactory(managers=[manager])
    elsewhere = endpoint_for(other_project, manager, receiver.url)
    site_wide = services.endpoint_create(
        actor=admin, project=None, url=receiver.url, events=WebhookEvent.values
    )

    deliverable = plan(project, manager, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        deliverable_services.deliverable_transition(
            deliverable=deliverable,
            actor=manager,
            to_status=DeliverableStatus.IN_PROGRESS,
            version=deliverable.version,
        )

    def types(endpoint):
        return sorted(
            WebhookDelivery.objects.filter(endpoint=endpoint).values_list("event_type", flat=True)
        )

    assert types(created_only) == ["deliverable.created"]
    assert types(status_only) == ["deliverable.status_changed"]
    assert types(elsewhere) == []
    assert types(site_wide) == ["deliverable.created", "deliverable.status_changed"]
    change = WebhookDelivery.objects.get(endpoint=status_only).payload["data"]
    assert change["before"]["status"] == "not_started"
    assert change["after"]["status"] == "in_progress"


def test_team_changes_become_person_and_role_events(
    project, manager, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(
        project,
        manager,
        receiver.url,
        events=[WebhookEvent.PERSON_ADDED, WebhookEvent.PERSON_REMOVED],
    )
    person = UserFactory(first_name="Ann", last_name="Lee")
    with django_capture_on_commit_callbacks(execute=True):
        membership = role_services.membership_add(project=project, user=person, actor=manager)
    with django_capture_on_commit_callbacks(execute=True):
        role_services.membership_remove(membership=membership, actor=manager, version=None)

    rows = WebhookDelivery.objects.filter(endpoint=endpoint).order_by("pk")
    assert [row.event_type for row in rows] == ["person.added", "person.removed"]
    assert rows[0].payload["data"]["person"] == {"id": person.pk, "name": "Ann Lee"}


def test_an_endpoint_failing_too_often_is_turned_off_and_its_owner_told(
    project, manager, receivers, loopback_allowed, django_capture_on_commit_callbacks, settings
):
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 2
    settings.WEBHOOK_DISABLE_AFTER_HOURS = 0
    receiver = receivers([500])
    endpoint = endpoint_for(project, manager, receiver.url)
    plan(project, manager, django_capture_on_commit_callbacks)
    plan(project, manager, django_capture_on_commit_callbacks)
    first, second = WebhookDelivery.objects.filter(endpoint=endpoint).order_by("pk")

    services.delivery_send(delivery_id=first.pk)
    endpoint.refresh_from_db()
    assert endpoint.active and mail.outbox == []
    services.delivery_send(delivery_id=second.pk)

    endpoint.refresh_from_db()
    assert not endpoint.active
    assert endpoint.disabled_reason == WebhookEndpoint.DISABLED_FAILING
    (message,) = mail.outbox
    assert message.to == [manager.email]
    assert receiver.url in message.body
    assert "Your webhook" in message.subject
    # Its waiting retries are not sent while it is off.
    later = timezone.now() + timedelta(days=1)
    assert services.delivery_send(delivery_id=first.pk, now=later).status == "skipped"
    assert len(receiver.requests) == 2


def test_replay_sends_a_past_delivery_again_with_the_same_webhook_id(
    project, manager, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(project, manager, receiver.url)
    plan(project, manager, django_capture_on_commit_callbacks)
    (row,) = WebhookDelivery.objects.filter(endpoint=endpoint)
    services.delivery_send(delivery_id=row.pk)

    services.delivery_replay(delivery=row, actor=manager)
    services.delivery_send(delivery_id=row.pk)

    assert [r.headers["webhook-id"] for r in receiver.requests] == [row.event_id] * 2
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("succeeded", 2)


def test_overdue_events_come_once_per_deliverable_and_due_date(
    project, manager, receiver, loopback_allowed
):
    endpoint = endpoint_for(
        project, manager, receiver.url, events=[WebhookEvent.DELIVERABLE_OVERDUE]
    )
    late = DeliverableFactory(project=project, due_date=date(2026, 3, 2))
    DeliverableFactory(project=project, due_date=date(2026, 3, 10))  # not late yet
    DeliverableFactory(project=project, due_date=date(2026, 3, 1), status=DeliverableStatus.DONE)
    hidden = DeliverableFactory(due_date=date(2026, 3, 1))  # another project

    assert services.overdue_fan_out(today=date(2026, 3, 5)) == 1
    assert services.overdue_fan_out(today=date(2026, 3, 6)) == 0  # idempotent
    late.due_date = date(2026, 3, 7)
    late.save()
    assert services.overdue_fan_out(today=date(2026, 3, 8)) == 1  # missed again

    rows = WebhookDelivery.objects.filter(endpoint=endpoint)
    assert [r.payload["data"]["deliverable"]["id"] for r in rows] == [late.pk, late.pk]
    assert len({r.event_id for r in rows}) == 2
    assert not WebhookDelivery.objects.filter(project=hidden.project).exists()


def test_fan_out_without_endpoints_reads_nothing_more(project, manager, django_assert_num_queries):
    deliverable = DeliverableFactory(project=project)
    entry = DeliverableEvent.new(
        actor=manager, deliverable=deliverable, project_id=project.pk, kind="created"
    )
    entry.save()
    # One query: the endpoints of the project and the site-wide ones (none).
    with django_assert_num_queries(1):
        services.history_fan_out(DeliverableEvent, [entry])
    # History kinds webhooks do not carry: no query at all.
    entry.kind = "comment"
    with django_assert_num_queries(0):
        services.history_fan_out(DeliverableEvent, [entry])


def test_a_member_sees_only_what_the_payload_carries(project, manager):
    """The payload holds the project, the deliverable and the people named, nothing else."""
    MembershipFactory(project=project)
    deliverable = DeliverableFactory(project=project, title="x")
    event = services._from_deliverable_event(
        DeliverableEvent.new(
            actor=manager, deliverable=deliverable, project_id=project.pk, kind="created"
        )
    )
    data = event.data()
    assert set(data) == {"project", "deliverable", "actor", "before", "after"}
    assert json.dumps(data)  # plain JSON


def test_the_owner_is_told_in_their_email_language(
    project, manager, receivers, loopback_allowed, django_capture_on_commit_callbacks, settings
):
    from deliverables.models import ReminderPreference

    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 1
    settings.WEBHOOK_DISABLE_AFTER_HOURS = 0
    ReminderPreference.objects.create(user=manager, time_zone="Asia/Tokyo", language="ja")
    receiver = receivers([500])
    endpoint = endpoint_for(project, manager, receiver.url)
    plan(project, manager, django_capture_on_commit_callbacks)
    (row,) = WebhookDelivery.objects.filter(endpoint=endpoint)

    services.delivery_send(delivery_id=row.pk)

    (message,) = mail.outbox
    assert "停止しました" in message.subject
    assert "受信側が復旧したら" in message.body


def test_the_task_makes_one_attempt_and_the_sweep_hands_over_what_is_due(
    project, manager, receivers, loopback_allowed, django_capture_on_commit_callbacks
):
    from mlteam.notifications.tasks import deliver_webhook, delivery_sweep

    receiver = receivers([500, 200])
    endpoint = endpoint_for(project, manager, receiver.url)
    plan(project, manager, django_capture_on_commit_callbacks)
    (row,) = WebhookDelivery.objects.filter(endpoint=endpoint)

    assert deliver_webhook(row.pk) == "failed"
    assert deliver_webhook(row.pk) is None  # not due yet
    assert delivery_sweep() == 0
    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        assert delivery_sweep() == 1
        assert deliver_webhook(row.pk) == "succeeded"
    row.endpoint.delete()
    assert deliver_webhook(row.pk) is None  # gone with its endpoint
