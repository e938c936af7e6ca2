"""The daily summary: due at the channel's local hour on its working days (not while
paused), one row and one message per channel and local day however many sweeps
race, about what the channel may still tell when it is sent."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from mlteam.notifications.channels import services, tasks
from mlteam.notifications.channels.models import ChatDelivery
from roles.models import Project
from tests.conftest import require
from tests.factories import DeliverableFactory, ProjectFactory, manager_user, role

from .conftest import add_channel, bodies

# Thursday 3 December 2026, 09:00 in Tokyo.
TOKYO_NINE = datetime(2026, 12, 3, 0, 0, tzinfo=UTC)


def _late_work(project):
    DeliverableFactory(project=project, title="Late", due_date=date(2026, 11, 30))


@pytest.fixture
def tokyo(project, manager, receiver, loopback_allowed):
    _late_work(project)
    return add_channel(
        project,
        manager,
        receiver.url,
        time_zone="Asia/Tokyo",
        hour=9,
        working_days="0,1,2,3,4",
        language="ja",
    )


@pytest.fixture(autouse=True)
def _not_handed(monkeypatch):
    """The tests send themselves: after-commit hand-overs are only counted."""
    handed = []
    monkeypatch.setattr(tasks.deliver_message, "delay", handed.append)
    return handed


@pytest.mark.django_db
def test_a_summary_is_due_from_the_local_hour_on_working_days(tokyo):
    before = TOKYO_NINE - timedelta(minutes=30)  # 08:30 in Tokyo
    assert services.summaries_plan(now=before) == []
    (first,) = services.summaries_plan(now=TOKYO_NINE)
    assert services.summaries_plan(now=TOKYO_NINE + timedelta(hours=5)) == []  # the same day
    row = ChatDelivery.objects.get(pk=first)
    assert row.event_id == f"summary:{tokyo.pk}:2026-12-03"
    # Friday in Tokyo: due again; Saturday and Sunday: not working days.
    assert len(services.summaries_plan(now=TOKYO_NINE + timedelta(days=1))) == 1
    assert services.summaries_plan(now=TOKYO_NINE + timedelta(days=2, hours=3)) == []
    assert services.summaries_plan(now=TOKYO_NINE + timedelta(days=3, hours=3)) == []
    assert ChatDelivery.objects.count() == 2


@pytest.mark.django_db
def test_a_paused_channel_gets_no_summary_until_its_pause_ends(tokyo, manager):
    services.channel_update(
        channel=tokyo,
        actor=manager,
        version=tokyo.version,
        paused_until=date(2026, 12, 4),
        **{
            name: getattr(tokyo, name) for name in services.CHANNEL_FIELDS if name != "paused_until"
        },
    )
    assert services.summaries_plan(now=TOKYO_NINE) == []
    assert services.summaries_plan(now=TOKYO_NINE + timedelta(days=1)) == []
    monday = TOKYO_NINE + timedelta(days=4)
    assert len(services.summaries_plan(now=monday)) == 1


@pytest.mark.django_db
def test_no_summary_for_an_archived_project_an_inactive_or_summary_less_channel(
    project, manager, receivers, loopback_allowed
):
    _late_work(project)
    off = add_channel(project, manager, receivers().url)
    services.channel_set_active(channel=off, actor=manager, version=off.version, active=False)
    add_channel(project, manager, receivers().url, daily_summary=False)
    archived = ProjectFactory(managers=[manager])
    add_channel(archived, manager, receivers().url)
    Project.objects.filter(pk=archived.pk).update(archived_at=timezone.now())

    assert services.summaries_plan(now=TOKYO_NINE + timedelta(hours=10)) == []


@pytest.mark.django_db
def test_a_summary_not_sent_on_its_day_is_dropped_and_an_empty_one_is_not_sent(
    tokyo, receiver, project
):
    (row_id,) = services.summaries_plan(now=TOKYO_NINE)
    next_day = TOKYO_NINE + timedelta(days=1)
    result = services.delivery_send(delivery_id=row_id, now=next_day)
    assert result.status == "skipped"
    assert ChatDelivery.objects.get(pk=row_id).error == "day over"

    project.deliverables.update(status="done")
    (friday,) = services.summaries_plan(now=next_day)
    assert services.delivery_send(delivery_id=friday, now=next_day).status == "skipped"
    assert ChatDelivery.objects.get(pk=friday).error == "nothing to report"
    assert receiver.requests == []


@pytest.mark.django_db
def test_the_summary_groups_work_by_role_and_tells_of_escalations_and_gaps(
    project, manager, receiver, loopback_allowed
):
    project.required_roles.set([role("data-scientist")])
    DeliverableFactory(project=project, title="Very late", due_date=date(2026, 11, 20))
    DeliverableFactory(project=project, title="Bit late", due_date=date(2026, 12, 2))
    DeliverableFactory(project=project, title="Soon", due_date=date(2026, 12, 5))
    DeliverableFactory(project=project, title="Later", due_date=date(2026, 12, 20))
    hidden = ProjectFactory()
    DeliverableFactory(project=hidden, title="Elsewhere", due_date=date(2026, 11, 20))
    add_channel(project, manager, receiver.url, hour=0, time_zone="UTC")

    (row_id,) = services.summaries_plan(now=TOKYO_NINE)
    assert services.delivery_send(delivery_id=row_id, now=TOKYO_NINE).status == "succeeded"

    (body,) = bodies(receiver)
    sections = [
        block["text"]["text"]
        for block in body["blocks"]
        if block["type"] == "section" and "text" in block
    ]
    text = "\n".join(sections)
    escalated, overdue, due_soon, unfilled = (
        next(s for s in sections if s.startswith(f"*{heading}"))
        for heading in ("Escalated", "Overdue", "Due within 3 days", "Unfilled roles")
    )
    assert "Very late" in escalated and "13 days late" in escalated
    assert "Bit late" in overdue and "1 day late" in overdue
    assert "Soon" in due_soon and "due in 2 days" in due_soon
    assert "_ML engineer_" in overdue  # the owning role's name over its work
    assert "Data scientist" in unfilled
    assert "Later" not in text and "Elsewhere" not in text
    assert "2 overdue, 1 due soon, 1 unfilled roles" in body["text"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_racing_sweeps_make_one_summary_and_send_one_message(receiver, loopback_allowed):
    # Several connections inserting at once: SQLite's shared in-memory database refuses that.
    require(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")
    manager = manager_user(username="racing-manager")
    project = ProjectFactory(managers=[manager])
    _late_work(project)
    add_channel(project, manager, receiver.url, hour=9, time_zone="Asia/Tokyo")
    sweeps = 4
    start = threading.Barrier(sweeps)
    planned: list[list[int]] = []
    sent: list[str | None] = []
    errors: list[BaseException] = []

    def sweep() -> None:
        try:
            start.wait(timeout=10)
            ids = services.summaries_plan(now=TOKYO_NINE)
            planned.append(ids)
            for row_id in ids:  # what each sweep handed over, run as its worker would
                sent.append(services.delivery_send(delivery_id=row_id, now=TOKYO_NINE).status)
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweep) for _ in range(sweeps)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert ChatDelivery.objects.count() == 1
    assert sent.count("succeeded") == 1
    assert len(receiver.requests) == 1
    row = ChatDelivery.objects.get()
    assert (row.status, row.attempts) == ("succeeded", 1)
    assert all(ids in ([], [row.pk]) for ids in planned)
