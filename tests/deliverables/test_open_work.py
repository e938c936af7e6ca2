"""The open-work tally follows every kind of write to deliverables, is rebuilt once
a day, and heals itself after a write that raced a rebuild."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from datetime import date, timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.db import connection, connections, transaction
from django.db.models import ProtectedError
from django.test.utils import CaptureQueriesContext

from deliverables import tasks
from deliverables.models import (
    CLOSED_STATUSES,
    Deliverable,
    DeliverableEvent,
    DeliverableStatus,
    OpenWork,
)
from deliverables.selectors import open_work_make_current
from deliverables.services import (
    deliverable_create,
    deliverable_transition,
    deliverable_update,
    open_work_is_current,
    open_work_refresh,
)
from mlteam import cache
from roles.services import membership_add, project_create
from tests.conftest import require
from tests.factories import UserFactory, deliverable_type, manager_user

TODAY = date(2026, 6, 10)


def recount(today: date) -> dict[tuple[int, int, int], tuple[int, int]]:
    """What the tally should hold, counted from the deliverables themselves by the
    one rule of open work (`open()`: not in CLOSED_STATUSES)."""
    counts: dict[tuple[int, int, int], list[int]] = defaultdict(lambda: [0, 0])
    for row in Deliverable.objects.open():
        key = (row.project_id, row.owner_id or 0, row.type_id)
        counts[key][0] += 1
        counts[key][1] += bool(row.due_date and row.due_date < today)
    return {key: tuple(value) for key, value in counts.items()}


def tallied() -> dict[tuple[int, int, int], tuple[int, int]]:
    """The tally as readers see it: each group's rows added up."""
    counts: dict[tuple[int, int, int], list[int]] = defaultdict(lambda: [0, 0])
    for row in OpenWork.objects.exclude(project_id=0):
        key = (row.project_id, row.owner_id, row.type_id)
        counts[key][0] += row.open_count
        counts[key][1] += row.overdue_count
    return {key: tuple(value) for key, value in counts.items() if value != [0, 0]}


def assert_tally_matches(today: date = TODAY) -> None:
    assert tallied() == recount(today)
    assert open_work_is_current(today=today)


@pytest.fixture
def team():
    manager = manager_user()
    ada, bo = UserFactory(), UserFactory()
    alpha = project_create(name="Alpha", managers=[manager])
    beta = project_create(name="Beta", managers=[manager])
    for project in (alpha, beta):
        for person in (ada, bo):
            membership_add(project=project, user=person)
    return manager, ada, bo, alpha, beta


def _create(project, owner, slug, due):
    return deliverable_create(
        project=project, type=deliverable_type(slug), title=f"{slug} {due}", owner=owner,
        due_date=due,
    )  # fmt: skip


@pytest.mark.django_db
@time_machine.travel(TODAY, tick=False)
def test_every_kind_of_write_keeps_the_tally_equal_to_a_recount(team):
    manager, ada, bo, alpha, beta = team
    open_work_refresh(today=TODAY)
    late = _create(alpha, ada, "prd", TODAY - timedelta(days=3))
    due_today = _create(alpha, ada, "prd", TODAY)  # due today is not late
    later = _create(alpha, bo, "analysis-report", TODAY + timedelta(days=20))
    undated = _create(beta, None, "data-pipeline", None)
    assert_tally_matches()
    assert tallied()[(alpha.pk, ada.pk, deliverable_type("prd").pk)] == (2, 1)

    # Through the services: done and reopened, owner, due date and type changed.
    deliverable_transition(deliverable=late, actor=ada, to_status="in_progress", version=None)
    assert_tally_matches()
    late.refresh_from_db()
    deliverable_transition(deliverable=late, actor=ada, to_status="in_review", version=None)
    late.refresh_from_db()
    deliverable_transition(
        deliverable=late, actor=manager, to_status="done", version=None,
        override_reason="Accepted as it is.",
    )  # fmt: skip
    assert_tally_matches()
    late.refresh_from_db()
    deliverable_transition(deliverable=late, actor=manager, to_status="in_progress", version=None)
    assert_tally_matches()
    deliverable_update(
        deliverable=Deliverable.objects.get(pk=later.pk), actor=manager, version=None,
        title="Moved", owner=ada, due_date=TODAY - timedelta(days=1),
        type=deliverable_type("design-document"),
    )  # fmt: skip
    assert_tally_matches()

    # Around the services: queryset updates, bulk inserts, raw SQL, deletes.
    Deliverable.objects.filter(pk=due_today.pk).update(due_date=TODAY - timedelta(days=9))
    assert_tally_matches()
    Deliverable.objects.filter(project=alpha).update(status=DeliverableStatus.DONE)
    assert_tally_matches()
    Deliverable.objects.filter(project=alpha).update(status=DeliverableStatus.NOT_STARTED)
    assert_tally_matches()
    Deliverable.objects.bulk_create(
        Deliverable(project=beta, type=deliverable_type("prd"), title=f"Bulk {n}", owner=bo,
                    due_date=TODAY - timedelta(days=n))
        for n in range(5)
    )  # fmt: skip
    assert_tally_matches()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE deliverables_deliverable SET owner_id = %s WHERE project_id = %s",
            [ada.pk, beta.pk],
        )
    assert_tally_matches()
    # Deletes: history PROTECTs deliverables, their owners and projects, so nothing
    # with history can go (tests/mlteam/test_history_kept.py); a database clean-up
    # that removes the history first still counts.
    with pytest.raises(ProtectedError):
        get_user_model().objects.filter(pk=bo.pk).delete()
    with pytest.raises(ProtectedError):
        alpha.delete()
    assert_tally_matches()
    DeliverableEvent.objects.all().delete()
    Deliverable.objects.filter(pk=undated.pk).delete()
    assert_tally_matches()
    Deliverable.objects.filter(project=alpha).delete()
    assert_tally_matches()
    Deliverable.objects.all().delete()
    assert tallied() == {} and open_work_is_current(today=TODAY)


@pytest.mark.django_db
@time_machine.travel(TODAY, tick=False)
def test_cancelling_and_restoring_keep_the_tally_equal_to_a_recount(team):
    manager, ada, bo, alpha, beta = team
    open_work_refresh(today=TODAY)
    late = _create(alpha, ada, "prd", TODAY - timedelta(days=3))
    blocked = _create(alpha, bo, "analysis-report", TODAY + timedelta(days=5))
    deliverable_transition(
        deliverable=blocked, actor=bo, to_status="blocked", version=None, reason="No data."
    )
    assert_tally_matches()
    for deliverable in (late, Deliverable.objects.get(pk=blocked.pk)):
        deliverable_transition(
            deliverable=deliverable, actor=manager, to_status="cancelled", version=None,
            reason="Out of scope.",
        )  # fmt: skip
        assert_tally_matches()
    assert (alpha.pk, ada.pk, deliverable_type("prd").pk) not in tallied()
    # Changes to cancelled work count nowhere, and restoring counts it again.
    cancelled = Deliverable.objects.get(pk=late.pk)
    deliverable_update(
        deliverable=cancelled, actor=manager, version=None, title="", owner=bo,
        due_date=TODAY - timedelta(days=9), type=deliverable_type("design-document"),
    )  # fmt: skip
    assert_tally_matches()
    deliverable_transition(
        deliverable=Deliverable.objects.get(pk=late.pk), actor=manager, to_status="not_started",
        version=None,
    )  # fmt: skip
    assert_tally_matches()
    assert tallied()[(alpha.pk, bo.pk, deliverable_type("design-document").pk)] == (1, 1)
    # Around the services too: bulk inserts of cancelled rows, updates, deletes.
    Deliverable.objects.bulk_create(
        Deliverable(project=beta, type=deliverable_type("prd"), owner=ada, status="cancelled",
                    cancelled_reason="Dropped.", due_date=TODAY - timedelta(days=n))
        for n in range(3)
    )  # fmt: skip
    assert_tally_matches()
    Deliverable.objects.filter(project=beta).update(owner=bo, due_date=TODAY)
    assert_tally_matches()
    Deliverable.objects.filter(project=beta).delete()
    assert_tally_matches()


@pytest.mark.django_db
@time_machine.travel(TODAY, tick=False)
def test_the_triggers_count_every_status_as_closed_statuses_says(team):
    """The triggers (written in a migration) and the rebuild agree with CLOSED_STATUSES
    for every status: a status added to it without new triggers fails here."""
    _manager, ada, bo, alpha, beta = team
    open_work_refresh(today=TODAY)
    for n, project in enumerate((alpha, beta, alpha)):
        _create(project, ada if n % 2 else bo, "prd", TODAY - timedelta(days=n))
    for status in [*DeliverableStatus.values, DeliverableStatus.NOT_STARTED]:
        Deliverable.objects.update(
            status=status, blocked_reason="Waiting.", cancelled_reason="Dropped."
        )
        assert_tally_matches()
        expected_open = 0 if status in CLOSED_STATUSES else 3
        assert sum(count for count, _late in tallied().values()) == expected_open, status
        OpenWork.objects.all().delete()  # rebuilt from the deliverables: the same count
        assert open_work_refresh(today=TODAY)
        assert_tally_matches()


@pytest.mark.django_db
def test_a_new_day_rebuilds_the_tally_once_and_counts_what_became_overdue(team):
    _manager, ada, _bo, alpha, _beta = team
    with time_machine.travel(TODAY, tick=False):
        assert open_work_refresh(today=TODAY)
        assert not open_work_refresh(today=TODAY)  # another call finds it current
        _create(alpha, ada, "prd", TODAY + timedelta(days=1))
        assert tallied() == {(alpha.pk, ada.pk, deliverable_type("prd").pk): (1, 0)}
    later = TODAY + timedelta(days=3)
    assert not open_work_is_current(today=later)
    with CaptureQueriesContext(connection) as first:
        open_work_make_current(today=later)
    assert tallied() == {(alpha.pk, ada.pk, deliverable_type("prd").pk): (1, 1)}
    assert_tally_matches(later)
    with CaptureQueriesContext(connection) as second:
        open_work_make_current(today=later)
    # The first read of the day rebuilds; later reads only check the day (one query).
    assert len(second) == 1 and len(first) > len(second)


@pytest.mark.django_db
def test_writes_append_rows_that_the_beat_task_folds_back_in(team, monkeypatch):
    from deliverables import services

    _manager, ada, bo, alpha, _beta = team
    with time_machine.travel(TODAY, tick=False):
        open_work_refresh(today=TODAY)
        rows = [_create(alpha, ada, "prd", TODAY - timedelta(days=n)) for n in range(3)]
        Deliverable.objects.filter(pk__in=[d.pk for d in rows]).update(owner=bo)
        # 3 created (+1 each), then each moved: -1 for Ada's group, +1 for Bo's.
        assert OpenWork.objects.filter(delta=True).count() == 9
        assert_tally_matches()
        monkeypatch.setattr(services, "OPEN_WORK_FOLD_AFTER", 10)
        assert tasks.open_work_refresh.apply().get() is False  # 9 appended: not yet
        Deliverable.objects.filter(pk=rows[0].pk).update(owner=ada)
        assert tasks.open_work_refresh.apply().get() is True  # 11: folded back in
        assert not OpenWork.objects.filter(delta=True).exists()
        assert_tally_matches()


@pytest.mark.django_db
def test_a_request_from_before_midnight_does_not_turn_the_tally_back(team):
    _manager, ada, _bo, alpha, _beta = team
    _create(alpha, ada, "prd", TODAY)
    tomorrow = TODAY + timedelta(days=1)
    assert open_work_refresh(today=tomorrow)
    assert not open_work_refresh(today=TODAY)
    assert open_work_is_current(today=tomorrow)
    assert open_work_refresh(today=TODAY - timedelta(days=5))  # a clock set back: rebuild


@pytest.mark.django_db
def test_an_empty_tally_is_built_at_first_read_and_stays_current_with_nothing_open():
    assert not open_work_is_current(today=TODAY)
    assert open_work_refresh(today=TODAY)
    assert OpenWork.objects.count() == 1  # the day's mark, with nothing open
    assert open_work_is_current(today=TODAY)


@pytest.mark.django_db
def test_writes_before_the_first_rebuild_leave_the_tally_stale_until_rebuilt(team):
    _manager, ada, _bo, alpha, _beta = team
    OpenWork.objects.all().delete()
    _create(alpha, ada, "prd", TODAY - timedelta(days=1))
    assert not open_work_is_current(today=TODAY)
    assert open_work_refresh(today=TODAY)
    assert_tally_matches()


@pytest.mark.django_db
def test_a_row_counted_against_another_day_makes_the_next_read_rebuild(team):
    """The net under the rebuild's lock (and SQLite, which has none): a row last
    written against another day than the rest keeps the tally from being current."""
    _manager, ada, _bo, alpha, _beta = team
    open_work_refresh(today=TODAY)
    _create(alpha, ada, "prd", TODAY - timedelta(days=1))
    OpenWork.objects.exclude(project_id=0).update(as_of=TODAY - timedelta(days=1), overdue_count=0)
    assert not open_work_is_current(today=TODAY)
    open_work_make_current(today=TODAY)
    assert_tally_matches()


@pytest.mark.django_db
def test_rebuilding_moves_no_dashboard_cache_version(monkeypatch):
    moved = []
    monkeypatch.setattr(cache, "_move", moved.append)
    open_work_refresh(today=TODAY)
    assert moved == []


@pytest.mark.django_db
def test_the_beat_task_rebuilds_once_a_day_and_is_scheduled():
    from django_celery_beat.models import PeriodicTask

    today = date.today()
    with time_machine.travel(today, tick=False):
        assert tasks.open_work_refresh.apply().get() is True
        assert tasks.open_work_refresh.apply().get() is False
    scheduled = PeriodicTask.objects.get(name="Open work tally")
    assert scheduled.task == "deliverables.open_work_refresh" and scheduled.enabled


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_writes_to_different_groups_in_opposite_orders_do_not_deadlock(team):
    """Each write appends tally rows and updates none, so two transactions that
    touch the same groups in opposite orders neither wait for nor block each other."""
    require(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")
    _manager, ada, bo, alpha, _beta = team
    open_work_refresh(today=TODAY)
    a1, a2 = (_create(alpha, ada, "prd", TODAY) for _ in range(2))
    b1, b2 = (_create(alpha, bo, "prd", TODAY) for _ in range(2))
    halfway, errors = threading.Barrier(2, timeout=10), []

    def write(first, second):
        with transaction.atomic():
            Deliverable.objects.filter(pk=first.pk).update(due_date=TODAY - timedelta(days=1))
            halfway.wait()
            Deliverable.objects.filter(pk=second.pk).update(due_date=TODAY - timedelta(days=1))

    threads = [_in_thread(lambda: write(a1, b1), errors), _in_thread(lambda: write(b2, a2), errors)]
    for thread in threads:
        thread.join(timeout=20)
    assert not errors, errors
    assert tallied()[(alpha.pk, ada.pk, deliverable_type("prd").pk)] == (2, 2)
    assert_tally_matches()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_truncating_the_deliverables_empties_the_tally_for_a_rebuild(team):
    require(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")
    _manager, ada, _bo, alpha, _beta = team
    _create(alpha, ada, "prd", TODAY)
    open_work_refresh(today=TODAY)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE deliverables_deliverable CASCADE")
    assert not OpenWork.objects.exists() and not open_work_is_current(today=TODAY)


def _in_thread(target, errors: list) -> threading.Thread:
    def run():
        try:
            target()
        except Exception as error:  # reported by the test, not lost in the thread
            errors.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_rebuild_waits_for_a_write_in_progress_and_counts_it(team):
    require(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")
    _manager, ada, _bo, alpha, _beta = team
    deliverable = _create(alpha, ada, "prd", TODAY - timedelta(days=1))
    written, release, errors = threading.Event(), threading.Event(), []

    def write():
        with transaction.atomic():
            Deliverable.objects.filter(pk=deliverable.pk).update(status="done")
            written.set()
            release.wait(timeout=10)

    writer = _in_thread(write, errors)
    assert written.wait(timeout=10)
    rebuilt: list[bool] = []
    rebuilder = _in_thread(lambda: rebuilt.append(open_work_refresh(today=TODAY)), errors)
    time.sleep(0.5)
    assert rebuilder.is_alive()  # waiting for the writer's lock on the tally
    release.set()
    writer.join(timeout=10)
    rebuilder.join(timeout=10)
    assert not errors and rebuilt == [True]
    assert_tally_matches()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_write_made_during_a_rebuild_waits_and_counts_against_the_new_day(team):
    require(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")
    _manager, ada, _bo, alpha, _beta = team
    yesterday = TODAY - timedelta(days=1)
    open_work_refresh(today=yesterday)
    deliverable = _create(alpha, ada, "prd", yesterday)  # late today, not yesterday
    rebuilding, release, errors = threading.Event(), threading.Event(), []

    def rebuild():
        with transaction.atomic():  # the rebuild's lock is held until this commits
            open_work_refresh(today=TODAY)
            rebuilding.set()
            release.wait(timeout=10)

    rebuilder = _in_thread(rebuild, errors)
    assert rebuilding.wait(timeout=10)
    writer = _in_thread(
        lambda: Deliverable.objects.filter(pk=deliverable.pk).update(owner=None), errors
    )
    time.sleep(0.5)
    assert writer.is_alive()  # waiting for the rebuild, even to read the tally's day
    release.set()
    rebuilder.join(timeout=10)
    writer.join(timeout=10)
    assert not errors
    assert tallied() == {(alpha.pk, 0, deliverable_type("prd").pk): (1, 1)}
    assert_tally_matches()


@pytest.mark.django_db
def test_the_system_check_reports_missing_triggers():
    from deliverables import checks

    assert checks.installed_triggers(connection) >= checks.TRIGGERS
    assert checks.open_work_triggers(databases=["default"]) == []
    with connection.cursor() as cursor:  # as a table rebuild on SQLite would
        on_table = " ON deliverables_deliverable" if connection.vendor == "postgresql" else ""
        cursor.execute(f"DROP TRIGGER deliverables_open_work_update{on_table}")
    (error,) = checks.open_work_triggers(databases=["default"])
    assert error.id == "deliverables.E001" and "deliverables_open_work_update" in error.msg
