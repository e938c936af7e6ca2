"""Benchmark: the reminder sweep over 100,000 deliverables with 20,000 overdue.

Prints the sweep's median time, peak Python memory and query count, next to a
floor measured in the same run: one SQL query that selects the same overdue rows;
then the sending of the digests that sweep built (in-memory email): how many,
their queries in all and per digest, and the time.
Runs on PostgreSQL, in a database of its own named after DATABASE_URL's:
mlteam_bench_reminder_sweep by default (created if missing; see
_database.use_database_of). BENCH_SCALE=0.01 runs it on a hundredth of the data.
Asserts nothing about time.

    make bench            # or: .venv/bin/python bench/reminder_sweep.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mlteam.settings.test")
os.environ.setdefault("CELERY_BROKER_URL", "memory://")

from _database import bench_scale, scaled, use_database_of  # noqa: E402 (after sys.path)

DATABASE = use_database_of("reminder_sweep")
SCALE = bench_scale()
PEOPLE, PROJECTS, DELIVERABLES, OVERDUE = (
    scaled(size, SCALE) for size in (2_000, 200, 100_000, 20_000)
)
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)  # a Monday, after everyone's digest hour
TODAY = NOW.date()


def build_data() -> None:
    """Bulk-insert the data set once, all or nothing; later runs reuse it."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import transaction

    from deliverables.models import Deliverable, DeliverableStatus, DeliverableType
    from roles.models import Membership, Project

    call_command("migrate", verbosity=0)
    if Deliverable.objects.count() >= DELIVERABLES:
        return
    print(f"Building {DELIVERABLES:,} deliverables ({OVERDUE:,} overdue); once per database...")
    with transaction.atomic():
        User = get_user_model()
        User.objects.bulk_create(
            [
                User(username=f"bench{n}", email=f"bench{n}@example.com", password="!")  # noqa: S106
                for n in range(PEOPLE)
            ],
            batch_size=1000,
        )
        people = list(User.objects.filter(username__startswith="bench").order_by("pk"))
        Project.objects.bulk_create(
            [Project(name=f"Bench project {n}") for n in range(PROJECTS)], batch_size=500
        )
        projects = list(Project.objects.filter(name__startswith="Bench project").order_by("pk"))
        per_project = PEOPLE // PROJECTS
        Membership.objects.bulk_create(
            [
                Membership(project=projects[n // per_project], user=person)
                for n, person in enumerate(people)
            ],
            batch_size=2000,
        )
        Project.managers.through.objects.bulk_create(
            [
                Project.managers.through(project_id=project.pk, user_id=people[n * per_project].pk)
                for n, project in enumerate(projects)
            ]
        )
        types = list(DeliverableType.objects.all())
        overdue_every = DELIVERABLES // OVERDUE
        rows = []
        for n in range(DELIVERABLES):
            project_index = n % PROJECTS
            owner = people[project_index * per_project + (n // PROJECTS) % per_project]
            late = n % overdue_every == 0
            rows.append(
                Deliverable(
                    project=projects[project_index],
                    type=types[n % len(types)],
                    title=f"Deliverable {n}",
                    owner=owner,
                    due_date=TODAY - timedelta(days=1 + n % 30)
                    if late
                    else TODAY + timedelta(days=60 + n % 200),
                    status=DeliverableStatus.IN_PROGRESS if late else DeliverableStatus.NOT_STARTED,
                )
            )
            if len(rows) == 5000:
                Deliverable.objects.bulk_create(rows)
                rows = []
        Deliverable.objects.bulk_create(rows)


def median_ms(run, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    import django

    django.setup()
    from _database import ensure_database, settle

    ensure_database()
    print(f"Database: {DATABASE}")
    from django.conf import settings
    from django.core import mail
    from django.db import connection

    from deliverables import reminders
    from deliverables.models import Deliverable, Digest, Reminder

    build_data()
    settle(connection.introspection.table_names())

    # The overdue rows as DeliverableQuerySet.overdue selects them, run as plain SQL
    # (no model instances): the least any sweep must read.
    floor_sql, floor_params = (
        Deliverable.objects.overdue(TODAY)
        .values_list("id", "owner_id", "project_id", "due_date")
        .query.sql_with_params()
    )

    def floor() -> None:
        with connection.cursor() as cursor:
            cursor.execute(floor_sql, floor_params)
            rows = cursor.fetchall()
        assert len(rows) == OVERDUE, len(rows)

    queries = []
    handed = []

    def count_queries(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    def sweep() -> None:
        Reminder.objects.all().delete()
        Digest.objects.all().delete()
        queries.clear()
        handed.clear()
        with connection.execute_wrapper(count_queries):
            start = time.perf_counter()
            reminders.reminder_sweep(now=NOW, send=handed.append)
            sweep.ms.append((time.perf_counter() - start) * 1000)

    sweep.ms = []
    floor_ms = median_ms(floor, repeat=7)
    for _ in range(3):
        sweep()
    sweep_ms = statistics.median(sweep.ms)
    sweep_queries = len(queries)
    # The same sweep again, as beat runs it every 15 minutes: everything is built.
    repeat_ms = median_ms(lambda: reminders.reminder_sweep(now=NOW, send=handed.append), repeat=3)
    # Memory on a separate run: tracing allocations slows Python down.
    tracemalloc.start()
    sweep()
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    reminder_count = Reminder.objects.count()
    # Sending the day's digests that sweep built, into the in-memory outbox.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    digests = list(handed)
    queries.clear()
    with connection.execute_wrapper(count_queries):
        start = time.perf_counter()
        for digest_id in digests:
            reminders.digest_send(digest_id=digest_id, now=NOW)
        send_ms = (time.perf_counter() - start) * 1000
    send_queries = len(queries)
    sent = len(mail.outbox)

    print()
    print(
        f"Reminder sweep, {DELIVERABLES:,} deliverables, {OVERDUE:,} overdue, {PEOPLE:,} people "
        f"({connection.vendor}, {date.today()})"
    )
    print(f"{'measure':<44} {'median ms':>10} {'x floor':>8} {'queries':>8}")
    print(f"{'floor: one SELECT of the overdue rows':<44} {floor_ms:>10.1f} {1:>8.1f} {1:>8}")
    label = "first sweep of the day: plan and insert all"
    print(f"{label:<44} {sweep_ms:>10.1f} {sweep_ms / floor_ms:>8.1f} {sweep_queries:>8}")
    label = "later sweeps the same day: nothing new"
    print(f"{label:<44} {repeat_ms:>10.1f} {repeat_ms / floor_ms:>8.1f} {'':>8}")
    print(
        f"digests built: {len(handed):,}; ledger lines: {reminder_count:,}; batch size: "
        f"{reminders.BATCH_SIZE}; peak Python memory during sweeps: {peak / 2**20:.1f} MiB"
    )
    per_digest = send_queries / len(digests) if digests else 0
    print(
        f"sending the day's digests (locmem email): {len(digests):,} digests, {sent:,} sent, "
        f"{send_queries:,} queries ({per_digest:.1f} per digest), {send_ms:,.0f} ms "
        f"({send_ms / max(len(digests), 1):.1f} ms per digest)"
    )


if __name__ == "__main__":
    main()
