"""Chat messages end to end against a real local HTTP receiver: planned in the
transaction that records the change (none after a rollback), sent once after
commit, retried with backoff, given up on a refusal, and never sent about what the
channel may no longer tell."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from deliverables import services as deliverable_services
from deliverables.models import DeliverableStatus
from mlteam.notifications.channels import services, tasks
from mlteam.notifications.channels.models import ChatChannel, ChatDelivery, ChatEvent
from mlteam.notifications.models import DeliveryStatus
from roles import services as role_services
from roles.models import Project
from tests.factories import (
    DeliverableFactory,
    MembershipFactory,
    RoleAssignmentFactory,
    UserFactory,
    role,
)

from .conftest import add_channel, bodies

pytestmark = pytest.mark.django_db


def _review(deliverable, actor, capture):
    """Send `deliverable` for review through the service, committing its history."""
    with capture(execute=True) as callbacks:
        deliverable_services.deliverable_transition(
            deliverable=deliverable,
            actor=actor,
            to_status=DeliverableStatus.IN_REVIEW,
            version=deliverable.version,
        )
    return callbacks


def _in_progress(project, **fields):
    return DeliverableFactory(project=project, status=DeliverableStatus.IN_PROGRESS, **fields)


def test_an_event_message_is_planned_with_the_change_and_sent_once_after_commit(
    project, manager, receiver, loopback_allowed, django_capture_on_commit_callbacks, monkeypatch
):
    channel = add_channel(project, manager, receiver.url, events=[ChatEvent.SENT_FOR_REVIEW])
    deliverable = _in_progress(project, title="Churn model")
    handed = []
    monkeypatch.setattr(tasks.deliver_message, "delay", handed.append)

    callbacks = _review(deliverable, manager, django_capture_on_commit_callbacks)

    (row,) = ChatDelivery.objects.filter(channel=channel)
    assert handed == [row.pk]  # handed over by an after-commit callback
    assert len(callbacks) >= 1
    # The worker, twice (a redelivered task): one message.
    assert services.delivery_send(delivery_id=row.pk).status == DeliveryStatus.SUCCEEDED
    assert services.delivery_send(delivery_id=row.pk).status is None
    (body,) = bodies(receiver)
    assert body["blocks"][0]["text"]["text"] == "Sent for review: Deployed model: Churn model"
    assert (
        "sent Deployed model: Churn model for review on Churn &amp; &lt;Retention&gt;"
        in (body["text"])
    )
    row.refresh_from_db()
    assert (row.status, row.attempts, row.event_type) == ("succeeded", 1, "deliverable.in_review")


def test_a_change_rolled_back_plans_and_sends_nothing(
    project, manager, receiver, loopback_allowed, django_capture_on_commit_callbacks, monkeypatch
):
    add_channel(project, manager, receiver.url)
    deliverable = _in_progress(project)
    handed = []
    monkeypatch.setattr(tasks.deliver_message, "delay", handed.append)

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        deliverable_services.deliverable_transition(
            deliverable=deliverable,
            actor=manager,
            to_status=DeliverableStatus.IN_REVIEW,
            version=deliverable.version,
        )
        raise RuntimeError("the request failed after the change")

    assert not ChatDelivery.objects.exists()
    assert handed == []
    assert tasks.delivery_sweep() == 0
    assert receiver.requests == []


def test_only_subscribed_events_and_active_channels_get_messages(
    project, manager, receivers, loopback_allowed, django_capture_on_commit_callbacks
):
    review_only = add_channel(project, manager, receivers().url, events=[ChatEvent.SENT_FOR_REVIEW])
    done_only = add_channel(project, manager, receivers().url, events=[ChatEvent.DONE])
    off = add_channel(project, manager, receivers().url)
    services.channel_set_active(channel=off, actor=manager, version=off.version, active=False)
    deliverable = _in_progress(project)

    _review(deliverable, manager, django_capture_on_commit_callbacks)

    assert set(ChatDelivery.objects.values_list("channel_id", "event_type")) == {
        (review_only.pk, "deliverable.in_review")
    }
    assert not ChatDelivery.objects.filter(channel__in=[done_only, off]).exists()


def test_a_receiver_failing_then_recovering_gets_exactly_one_message(
    project, manager, receivers, loopback_allowed, django_capture_on_commit_callbacks
):
    receiver = receivers([500, 503, 200])
    channel = add_channel(project, manager, receiver.url)
    _review(_in_progress(project), manager, django_capture_on_commit_callbacks)
    (row,) = ChatDelivery.objects.filter(channel=channel)

    outcomes = []
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _ in range(6):  # the delivery sweep's tasks, every 5 minutes
            for due in ChatDelivery.objects.due(timezone.now()).values_list("pk", flat=True):
                outcomes.append(services.delivery_send(delivery_id=due).status)
            clock.shift(timedelta(minutes=5))

    assert outcomes == ["failed", "failed", "succeeded"]
    assert len(receiver.requests) == 3
    assert len({request.body for request in receiver.requests}) == 1  # the same message
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_response_code) == ("succeeded", 3, 200)
    channel.refresh_from_db()
    assert channel.consecutive_failures == 0 and channel.active


def test_a_refusal_is_given_up_at_once_and_a_timeout_is_retried(
    project, manager, receivers, loopback_allowed, django_capture_on_commit_callbacks, settings
):
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    gone = receivers([404])
    slow = receivers([("hang", 3), 200])
    gone_channel = add_channel(project, manager, gone.url)
    slow_channel = add_channel(project, manager, slow.url)
    _review(_in_progress(project), manager, django_capture_on_commit_callbacks)

    gone_row = ChatDelivery.objects.get(channel=gone_channel)
    slow_row = ChatDelivery.objects.get(channel=slow_channel)
    refused = services.delivery_send(delivery_id=gone_row.pk)
    timed_out = services.delivery_send(delivery_id=slow_row.pk)

    assert (refused.status, refused.retry_at) == ("gave_up", None)
    assert "HTTP 404" in refused.error
    assert timed_out.status == "failed" and timed_out.retry_at is not None
    assert "no answer in time" in timed_out.error
    gone_row.refresh_from_db()
    assert (gone_row.status, gone_row.last_response_code) == ("gave_up", 404)
    assert services.delivery_send(delivery_id=gone_row.pk).status is None  # not again


def test_a_channel_failing_too_long_is_turned_off(
    project, manager, receivers, loopback_allowed, django_capture_on_commit_callbacks, settings
):
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 2
    settings.WEBHOOK_DISABLE_AFTER_HOURS = 0
    receiver = receivers([500])
    channel = add_channel(project, manager, receiver.url)
    _review(_in_progress(project), manager, django_capture_on_commit_callbacks)
    (row,) = ChatDelivery.objects.filter(channel=channel)
    start = timezone.now()

    services.delivery_send(delivery_id=row.pk, now=start)
    services.delivery_send(delivery_id=row.pk, now=start + timedelta(minutes=1))

    channel.refresh_from_db()
    assert not channel.active and channel.disabled_reason == ChatChannel.DISABLED_FAILING
    assert channel.disabled_label == "turned off after failing too often"


def test_nothing_is_sent_once_the_owner_lost_the_project_or_it_is_archived(
    project, manager, receivers, loopback_allowed, django_capture_on_commit_callbacks
):
    # A member added the channel while they managed the project, then stopped managing.
    lost = receivers()
    former = UserFactory(username="former-manager")
    from django.contrib.auth.models import Group

    former.groups.add(Group.objects.get(name="Managers"))
    project.managers.add(former)
    former_channel = add_channel(project, former, lost.url)
    archived_receiver = receivers()
    kept = add_channel(project, manager, archived_receiver.url)
    _review(_in_progress(project), manager, django_capture_on_commit_callbacks)
    project.managers.remove(former)  # not on the team either: may not see it

    lost_row = ChatDelivery.objects.get(channel=former_channel)
    kept_row = ChatDelivery.objects.get(channel=kept)
    assert services.delivery_send(delivery_id=lost_row.pk).status == "skipped"
    Project.objects.filter(pk=project.pk).update(archived_at=timezone.now())
    assert services.delivery_send(delivery_id=kept_row.pk).status == "skipped"

    assert lost.requests == [] and archived_receiver.requests == []
    lost_row.refresh_from_db()
    assert lost_row.attempts == 0  # a skip is not an attempt
    assert "may no longer see it" in lost_row.error_label


def test_a_deliverable_moved_out_of_sight_is_not_told_of(
    project, manager, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    channel = add_channel(project, manager, receiver.url)
    deliverable = _in_progress(project)
    _review(deliverable, manager, django_capture_on_commit_callbacks)
    (row,) = ChatDelivery.objects.filter(channel=channel)
    # The deliverable now belongs to another project the channel's owner cannot see.
    from tests.factories import ProjectFactory

    type(deliverable).objects.filter(pk=deliverable.pk).update(project=ProjectFactory())

    assert services.delivery_send(delivery_id=row.pk).status == "skipped"
    assert receiver.requests == []


def test_role_gaps_open_when_a_role_is_taken_away_a_holder_leaves_or_a_role_is_required(
    project, manager, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    channel = add_channel(project, manager, receiver.url, events=[ChatEvent.ROLE_GAP_OPENED])
    project.required_roles.set([role("ml-engineer"), role("data-scientist")])
    ann = MembershipFactory(project=project, user=UserFactory(username="ann"))
    bob = MembershipFactory(project=project, user=UserFactory(username="bob"))
    with django_capture_on_commit_callbacks(execute=True):
        for membership, slug in [
            (ann, "ml-engineer"),
            (bob, "data-scientist"),
            (bob, "ml-engineer"),
        ]:
            project.refresh_from_db()
            role_services.role_assign(
                membership=membership, role=role(slug), actor=manager, version=project.version
            )
    assert not ChatDelivery.objects.exists()  # assigning opens no gap

    # Ann loses ML engineer: Bob still holds it, no gap.
    with django_capture_on_commit_callbacks(execute=True):
        project.refresh_from_db()
        role_services.role_unassign(
            assignment=ann.assignments.get(), actor=manager, version=project.version
        )
    assert not ChatDelivery.objects.exists()
    # Bob leaves: both roles he held are unfilled now.
    with django_capture_on_commit_callbacks(execute=True):
        project.refresh_from_db()
        role_services.membership_remove(membership=bob, actor=manager, version=project.version)
    gaps = dict(ChatDelivery.objects.values_list("payload__role_id", "payload__cause"))
    assert gaps == {
        role("ml-engineer").pk: "removed",
        role("data-scientist").pk: "removed",
    }
    # A newly required role nobody holds.
    with django_capture_on_commit_callbacks(execute=True):
        project.refresh_from_db()
        role_services.project_update(
            project=project,
            actor=manager,
            version=project.version,
            required_roles=[role("ml-engineer"), role("data-scientist"), role("data-engineer")],
        )
    required = ChatDelivery.objects.filter(payload__cause="required")
    assert [row.payload["role_id"] for row in required] == [role("data-engineer").pk]
    assert all(row.channel_id == channel.pk for row in ChatDelivery.objects.all())

    # Filled again before sending: nothing to say about it.
    RoleAssignmentFactory(membership=ann, role=role("data-engineer"))
    assert services.delivery_send(delivery_id=required.get().pk).status == "skipped"


def test_the_sweep_hands_over_what_is_due_and_nothing_else(
    project, manager, receiver, loopback_allowed, django_capture_on_commit_callbacks, monkeypatch
):
    add_channel(project, manager, receiver.url)
    _review(_in_progress(project), manager, django_capture_on_commit_callbacks)
    handed = []
    monkeypatch.setattr(tasks.deliver_message, "delay", handed.append)
    assert tasks.delivery_sweep() == 1
    (row,) = ChatDelivery.objects.all()
    services.delivery_send(delivery_id=row.pk)
    assert tasks.delivery_sweep() == 0  # delivered: nothing is due any more
    assert handed == [row.pk]


def test_planning_without_channels_reads_nothing_more(project, manager, django_assert_num_queries):
    from deliverables.models import DeliverableEvent

    deliverable = DeliverableFactory(project=project)
    entry = DeliverableEvent.new(
        actor=manager,
        deliverable=deliverable,
        project_id=project.pk,
        kind="status",
        after={"status": "in_review"},
    )
    entry.save()
    with django_assert_num_queries(1):  # the project's channels (none)
        assert services.history_feed(DeliverableEvent, [entry]) == []
    entry.kind = "comment"
    with django_assert_num_queries(0):
        assert services.history_feed(DeliverableEvent, [entry]) == []
