"""Benchmark: server time of every dashboard and list page at 50,000 deliverables.

Prints, for each page, its query count and median server time (Django's test
client, in process: no network) and the ratio to a floor page measured in the
same run: a trivial signed-in page (the password change form), requested
before every request of the page, so that both are timed under the same
conditions of a shared machine. Each page is timed twice: as the first request
after a change (every cache version moved, so cached dashboards recompute) and
with nothing changed (served from the cache; pages that cache nothing cost the
same both ways). Runs on PostgreSQL, in a database of its own named after
DATABASE_URL's: mlteam_bench_pages by default (created and filled with
`generate_load_data` once, then vacuumed; see _database.use_database_of).
BENCH_SCALE=0.01 runs it on a hundredth of the data. Asserts nothing about time.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mlteam.settings.test")
os.environ.setdefault("CELERY_BROKER_URL", "memory://")

from _database import bench_scale, scaled, use_database_of  # noqa: E402 (after sys.path)

DATABASE = use_database_of("pages")

# generate_load_data's defaults, times BENCH_SCALE; a reduced scale only shows that
# the script works, so it repeats each request less.
SCALE = bench_scale()
REPEAT = 15 if SCALE == 1 else 2
PROJECTS, PEOPLE, DELIVERABLES = (scaled(size, SCALE) for size in (200, 2_000, 50_000))


def main() -> None:
    import django

    django.setup()
    from _database import ensure_database, settle

    ensure_database()
    print(f"Database: {DATABASE}")
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from deliverables.models import Deliverable
    from mlteam import cache
    from roles.models import Project

    call_command("migrate", verbosity=0)
    if Deliverable.objects.count() < DELIVERABLES:
        print(f"Building the data set once (generate_load_data, scale {SCALE:g})...")
        call_command(
            "generate_load_data",
            "--force",
            f"--projects={PROJECTS}",
            f"--people={PEOPLE}",
            f"--deliverables={DELIVERABLES}",
        )
    settle(connection.introspection.table_names())

    User = get_user_model()
    admin, _ = User.objects.get_or_create(
        username="bench-admin", defaults={"is_superuser": True, "is_staff": True}
    )
    busiest = Project.objects.order_by("-pk").first()
    manager = busiest.managers.first()
    member = (
        Deliverable.objects.filter(project=busiest, owner__isnull=False)
        .values_list("owner", flat=True)
        .first()
    )
    member = User.objects.get(pk=member)

    floor_page = ("floor: password change form", admin, "/accounts/password_change/")
    pages = [
        ("portfolio dashboard (admin: all projects)", admin, "/dashboard/"),
        ("portfolio dashboard (manager)", manager, "/dashboard/"),
        ("project page / dashboard", manager, f"/projects/{busiest.pk}/"),
        ("home (member)", member, "/"),
        ("my work (member)", member, "/my-work/"),
        ("deliverables list (admin)", admin, "/deliverables/"),
        ("deliverables list, overdue (admin)", admin, "/deliverables/?overdue=on&sort=status"),
        ("projects list (admin)", admin, "/projects/"),
        ("portfolio coverage (admin)", admin, "/coverage/"),
        ("people (admin)", admin, "/people/"),
        ("team page (manager)", manager, f"/projects/{busiest.pk}/team/"),
    ]

    def client_for(user, url) -> Client:
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        client.get(url)  # warm Python, database and template caches
        return client

    def timed(client, url) -> tuple[float, int]:
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = client.get(url)
            elapsed = (time.perf_counter() - start) * 1000
        assert response.status_code == 200, (url, response.status_code)
        return elapsed, len(captured)

    floor_client = client_for(floor_page[1], floor_page[2])
    floor_times: list[float] = []
    results = []
    for label, user, url in pages:
        client = client_for(user, url)
        measured = []
        for cold in (True, False):
            times, floors = [], []
            for _ in range(REPEAT):
                # The floor is timed between every two requests of the page, so
                # each ratio compares requests made under the same conditions.
                floors.append(timed(floor_client, floor_page[2])[0])
                if cold:
                    cache.bump()  # as after a change: dashboards recompute
                elapsed, queries = timed(client, url)
                times.append(elapsed)
            floor_times += floors
            median = statistics.median(times)
            measured += [queries, median, median / statistics.median(floors)]
        results.append((label, *measured))

    floor = statistics.median(floor_times)
    floor_queries = timed(floor_client, floor_page[2])[1]
    print()
    print(
        f"Pages at {Deliverable.objects.count():,} deliverables, "
        f"{Project.objects.count():,} projects, {User.objects.count():,} people "
        f"({connection.vendor}); median of {REPEAT} requests, each after a floor request."
    )
    print(
        "'after a change': the first request after any write (dashboards recompute); "
        "'unchanged': nothing changed since the last request (cached dashboards). "
        "x floor: the page's median over the median of the floor requests made between its own."
    )
    print(
        f"{'page':<44} {'queries':>8} {'after a change ms':>18} {'x floor':>8} "
        f"{'queries':>8} {'unchanged ms':>13} {'x floor':>8}"
    )
    print(
        f"{floor_page[0]:<44} {floor_queries:>8} {'':>18} {'':>8} "
        f"{floor_queries:>8} {floor:>13.1f} {1.0:>8.1f}"
    )
    for label, cold_queries, cold_ms, cold_ratio, warm_queries, warm_ms, warm_ratio in results:
        print(
            f"{label:<44} {cold_queries:>8} {cold_ms:>18.1f} {cold_ratio:>8.1f} "
            f"{warm_queries:>8} {warm_ms:>13.1f} {warm_ratio:>8.1f}"
        )


if __name__ == "__main__":
    main()
