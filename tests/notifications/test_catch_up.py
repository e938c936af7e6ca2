"""The history catch-up: events whose after-commit fan-out never ran are published
later, once, through the same `events_publish` (a real local HTTP receiver; the
races on PostgreSQL, with real concurrent transactions)."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
import time_machine
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from deliverables import services as deliverable_services
from deliverables.models import DeliverableEvent
from mlteam.history import history_written
from mlteam.notifications import services
from mlteam.notifications.models import HistoryFanOutMark, WebhookDelivery, WebhookEvent
from roles import services as role_services
from roles.models import TeamChange
from tests.conftest import require
from tests.factories import ProjectFactory, UserFactory, deliverable_type, manager_user
from tests.notifications.test_delivery import endpoint_for, plan

LAG = timedelta(minutes=10)  # WEBHOOK_CATCH_UP_LAG_MINUTES' default


@contextmanager
def fan_out_off():
    """The after-commit fan-out does not run (as when its receiver is not there)."""
    history_written.disconnect(dispatch_uid="webhook_fan_out")
    try:
        yield
    finally:
        history_written.connect(services.history_fan_out, dispatch_uid="webhook_fan_out")


def plan_unannounced(project, actor, django_capture_on_commit_callbacks, **fields):
    """Plan a deliverable whose commit happens but whose history fan-out does not."""
    with fan_out_off():
        return plan(project, actor, django_capture_on_commit_callbacks, **fields)


def send_all(now=None) -> list[str]:
    """One attempt of every delivery, at `now` (the catch-up's time in these tests)."""
    return [
        services.delivery_send(delivery_id=pk, now=now).status
        for pk in WebhookDelivery.objects.order_by("pk").values_list("pk", flat=True)
    ]


@pytest.mark.django_db
def test_an_entry_whose_fan_out_did_not_run_is_delivered_exactly_once_by_the_catch_up(
    manager, receiver, loopback_allowed, django_capture_on_commit_callbacks, settings
):
    assert settings.WEBHOOK_CATCH_UP_LAG_MINUTES == 10
    project = ProjectFactory(managers=[manager])
    endpoint = endpoint_for(project, manager, receiver.url)
    assert services.history_catch_up() == 0  # the first run sets the mark at the present
    deliverable = plan_unannounced(project, manager, django_capture_on_commit_callbacks)
    assert not WebhookDelivery.objects.exists()
    written = DeliverableEvent.objects.get(deliverable=deliverable).created_at

    # Not settled yet: the catch-up leaves it (and its mark) alone.
    assert services.history_catch_up(now=written + LAG - timedelta(seconds=1)) == 0
    mark = HistoryFanOutMark.objects.get(history="deliverables.deliverableevent")
    assert mark.last_id == 0
    with django_capture_on_commit_callbacks(execute=True) as enqueued:
        assert services.history_catch_up(now=written + LAG) == 1
    assert len(enqueued) == 1  # handed to the worker after commit, as the normal path does

    (row,) = WebhookDelivery.objects.filter(endpoint=endpoint)
    assert row.event_id == services.event_id_for(
        f"deliverables.deliverableevent:{DeliverableEvent.objects.get().pk}"
    )
    assert send_all(now=written + LAG) == ["succeeded"]
    (request,) = receiver.requests
    assert request.headers["webhook-id"] == row.event_id
    mark.refresh_from_db()
    assert mark.last_id == DeliverableEvent.objects.get().pk
    # Again, and much later: nothing new, nothing sent twice.
    assert services.history_catch_up(now=written + LAG) == 0
    assert services.history_catch_up(now=written + 10 * LAG) == 0
    assert WebhookDelivery.objects.count() == 1
    assert send_all(now=written + 10 * LAG) == [None]
    assert len(receiver.requests) == 1


@pytest.mark.django_db
def test_an_entry_fanned_out_after_commit_is_not_published_again_by_the_catch_up(
    manager, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    project = ProjectFactory(managers=[manager])
    endpoint_for(project, manager, receiver.url)
    services.history_catch_up()
    plan(project, manager, django_capture_on_commit_callbacks)  # the normal path
    assert WebhookDelivery.objects.count() == 1

    assert services.history_catch_up(now=timezone.now() + LAG) == 0
    assert WebhookDelivery.objects.count() == 1
    assert send_all() == ["succeeded"]
    assert len(receiver.requests) == 1


@pytest.mark.django_db
def test_a_crash_after_commit_loses_no_team_event_either(manager, receiver, loopback_allowed):
    """The process died after the commit: its on-commit callbacks never ran (in this
    test's transaction they are never run at all)."""
    project = ProjectFactory(managers=[manager])
    endpoint_for(project, manager, receiver.url, events=[WebhookEvent.PERSON_ADDED])
    services.history_catch_up()
    person = UserFactory()
    role_services.membership_add(project=project, user=person, actor=manager)
    assert not WebhookDelivery.objects.exists()

    later = timezone.now() + LAG
    assert services.history_catch_up(now=later) == 1
    (row,) = WebhookDelivery.objects.all()
    assert row.event_type == "person.added"
    assert row.payload["data"]["person"]["id"] == person.pk
    assert send_all(now=later) == ["succeeded"]
    assert len(receiver.requests) == 1
    mark = HistoryFanOutMark.objects.get(history="roles.teamchange")
    assert mark.last_id == TeamChange.objects.latest("pk").pk


@pytest.mark.django_db
def test_changes_recorded_before_an_endpoint_existed_are_not_sent_to_it(
    manager, receivers, loopback_allowed, django_capture_on_commit_callbacks
):
    """The decision (docs/webhooks.md): an endpoint receives the changes recorded after
    it was added, by either path; the catch-up sends an older change only to the
    endpoints that were there when it was recorded."""
    project = ProjectFactory(managers=[manager])
    earlier, later = receivers(), receivers()
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        earlier_endpoint = endpoint_for(project, manager, earlier.url)
        services.history_catch_up()
        clock.shift(timedelta(seconds=5))
        plan_unannounced(project, manager, django_capture_on_commit_callbacks)
        clock.shift(timedelta(seconds=5))
        later_endpoint = endpoint_for(project, manager, later.url)
        clock.shift(LAG)
        assert services.history_catch_up() == 1
        assert list(WebhookDelivery.objects.values_list("endpoint_id", flat=True)) == [
            earlier_endpoint.pk
        ]
        # A change recorded now reaches both, by the normal path.
        plan(project, manager, django_capture_on_commit_callbacks)
        assert WebhookDelivery.objects.filter(endpoint=later_endpoint).count() == 1
        clock.shift(LAG)
        assert services.history_catch_up() == 0
        send_all()
    assert (len(earlier.requests), len(later.requests)) == (2, 1)


@pytest.mark.django_db
def test_changes_recorded_while_an_endpoint_was_off_are_not_sent_when_it_is_on_again(
    manager, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    """Turning an endpoint off stops what happens meanwhile for good: the catch-up,
    which re-reads every entry after its mark, must not send a change recorded while
    the endpoint was off once it is on again (the normal path had skipped it)."""
    project = ProjectFactory(managers=[manager])
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        endpoint = endpoint_for(project, manager, receiver.url)
        services.history_catch_up()
        clock.shift(timedelta(seconds=5))
        endpoint = services.endpoint_set_active(
            endpoint=endpoint, actor=manager, version=endpoint.version, active=False
        )
        clock.shift(timedelta(seconds=5))
        plan(project, manager, django_capture_on_commit_callbacks)  # while it is off
        assert not WebhookDelivery.objects.exists()
        clock.shift(timedelta(seconds=5))
        endpoint = services.endpoint_set_active(
            endpoint=endpoint, actor=manager, version=endpoint.version, active=True
        )
        clock.shift(LAG)
        assert services.history_catch_up() == 0
        assert not WebhookDelivery.objects.exists()
        # What is recorded after it is on again reaches it, by either path.
        plan_unannounced(project, manager, django_capture_on_commit_callbacks)
        clock.shift(LAG)
        assert services.history_catch_up() == 1
        assert send_all() == ["succeeded"]
    assert len(receiver.requests) == 1


@pytest.mark.django_db
def test_the_mark_never_passes_an_entry_that_has_not_settled(
    manager, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    """A lower id written at a later time (another machine's clock runs ahead): the
    catch-up waits for it rather than moving the mark past it with the next one."""
    project = ProjectFactory(managers=[manager])
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        endpoint_for(project, manager, receiver.url)
        services.history_catch_up()
        clock.move_to(start + timedelta(minutes=1))
        first = plan_unannounced(project, manager, django_capture_on_commit_callbacks)
        clock.move_to(start + timedelta(seconds=1))
        second = plan_unannounced(project, manager, django_capture_on_commit_callbacks)
    assert first.pk < second.pk

    assert services.history_catch_up(now=start + timedelta(seconds=1) + LAG) == 0
    mark = HistoryFanOutMark.objects.get(history="deliverables.deliverableevent")
    assert mark.last_id == 0
    assert services.history_catch_up(now=start + timedelta(minutes=1) + LAG) == 2


@pytest.mark.django_db
def test_history_written_before_the_first_run_is_not_replayed(
    manager, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    project = ProjectFactory(managers=[manager])
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        endpoint_for(project, manager, receiver.url)
        plan_unannounced(project, manager, django_capture_on_commit_callbacks)
        clock.shift(LAG + timedelta(seconds=1))
        assert services.history_catch_up() == 0  # the first run: the mark starts here
        clock.shift(LAG)
        assert services.history_catch_up() == 0
    assert not WebhookDelivery.objects.exists()


@pytest.mark.django_db
def test_the_catch_up_reads_in_batches_with_a_fixed_number_of_queries(
    manager, receiver, loopback_allowed, django_capture_on_commit_callbacks, monkeypatch
):
    project = ProjectFactory(managers=[manager])
    endpoint_for(project, manager, receiver.url)
    services.history_catch_up()
    monkeypatch.setattr(services, "CATCH_UP_BATCH", 2)
    for _ in range(5):
        plan_unannounced(project, manager, django_capture_on_commit_callbacks)

    assert services.history_catch_up(now=timezone.now() + LAG) == 5
    assert WebhookDelivery.objects.count() == 5
    assert services.history_catch_up(now=timezone.now() + LAG) == 0


def _count_queries(run) -> int:
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        run()
    return len(queries)


@pytest.mark.django_db
def test_a_catch_up_batch_makes_the_same_queries_for_few_or_many_entries(
    manager, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    """Per table and batch: the mark's lock, the settled entries with what their
    events need (one query), the endpoints, one visibility check per owner and
    project, what exists, the insert, the new ids, the mark's update."""
    project = ProjectFactory(managers=[manager])
    endpoint_for(project, manager, receiver.url)
    services.history_catch_up()
    counts = []
    for size in (1, 6):
        for _ in range(size):
            plan_unannounced(project, manager, django_capture_on_commit_callbacks)
        counts.append(_count_queries(lambda: services.history_catch_up(now=timezone.now() + LAG)))
    assert WebhookDelivery.objects.count() == 7
    assert counts[0] == counts[1]


# --- on PostgreSQL: real concurrent transactions ----------------------------------------


def _in_thread(target, *args):
    outcome: dict = {}

    def run():
        try:
            outcome["value"] = target(*args)
        except Exception as error:  # reported by the test
            outcome["error"] = error
        finally:
            close_old_connections()
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_run_finding_the_mark_locked_skips_the_table_instead_of_waiting(
    receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    require(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")
    manager = manager_user(username="catch-up-lock")
    project = ProjectFactory(managers=[manager])
    endpoint_for(project, manager, receiver.url)
    services.history_catch_up()
    plan_unannounced(project, manager, django_capture_on_commit_callbacks)
    later = timezone.now() + LAG
    holding, release = threading.Event(), threading.Event()

    def hold_the_mark():
        with transaction.atomic():
            HistoryFanOutMark.objects.select_for_update().get(
                history="deliverables.deliverableevent"
            )
            holding.set()
            release.wait(10)

    thread, outcome = _in_thread(hold_the_mark)
    assert holding.wait(10)
    started = time.monotonic()
    assert services.history_catch_up(now=later) == 0
    assert time.monotonic() - started < 8  # skipped, not waited for the 10 s hold
    release.set()
    thread.join(10)
    assert "error" not in outcome
    assert not WebhookDelivery.objects.exists()
    assert services.history_catch_up(now=later) == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_catch_ups_racing_publish_each_event_once(
    receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    require(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")
    manager = manager_user(username="catch-up-race")
    project = ProjectFactory(managers=[manager])
    endpoint_for(project, manager, receiver.url)
    services.history_catch_up()
    for _ in range(30):
        plan_unannounced(project, manager, django_capture_on_commit_callbacks)
    later = timezone.now() + LAG
    start = threading.Barrier(4)

    def run():
        start.wait(10)
        return services.history_catch_up(now=later)

    runs = [_in_thread(run) for _ in range(4)]
    for thread, _outcome in runs:
        thread.join(30)
    outcomes = [outcome for _thread, outcome in runs]
    assert all("error" not in outcome for outcome in outcomes), outcomes
    assert sum(outcome["value"] for outcome in outcomes) == 30
    assert WebhookDelivery.objects.count() == 30
    assert services.history_catch_up(now=later) == 0


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_running_the_beat_task_delivers_a_missed_event(
    receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    """The beat's task, run by a real Celery worker (the configured broker): the
    missed event reaches the receiver once."""
    from mlteam.celery import app
    from mlteam.notifications.tasks import history_catch_up
    from tests.notifications.test_worker import delivery_worker

    require(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")
    app.control.purge()
    manager = manager_user(username="catch-up-worker")
    project = ProjectFactory(managers=[manager])
    with time_machine.travel(timezone.now() - LAG - timedelta(minutes=1), tick=False):
        endpoint_for(project, manager, receiver.url)
        services.history_catch_up()
        with fan_out_off():  # committed at once (no test transaction), never fanned out
            deliverable_services.deliverable_create(
                project=project, type=deliverable_type("deployed-model"), actor=manager
            )
    assert not WebhookDelivery.objects.exists()

    with delivery_worker():
        history_catch_up.delay()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not receiver.requests:
            time.sleep(0.05)
        time.sleep(0.5)
    assert len(receiver.requests) == 1
    (row,) = WebhookDelivery.objects.all()
    assert row.status == "succeeded"
