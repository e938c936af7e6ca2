"""Benchmark: server time of every dashboard and list page at 50,000 deliverables.

Prints, for each page, its query count and median server time (Django's test
client, in process: no network) and the ratio to a floor page measured in the
same run: a trivial signed-in page (the password change form), requested
before every request of the page, so that both are timed under the same
conditions of a shared machine. Each page is timed twice: as the first request
after a change (every cache version moved, so cached dashboards recompute) and
with nothing changed (served from the cache; pages that cache nothing cost the
same both ways). The Django admin's changelist of deliverables is a second
reference: each page's ratio to it is printed too. The CSV export is timed to its
last byte (a manager's project, and the admin's every row, whose peak Python
memory is printed below the table). Runs on PostgreSQL, in a database of its own named after
DATABASE_URL's: mlteam_bench_pages by default (created and filled with
`generate_load_data` once, then vacuumed; see _database.use_database_of).
BENCH_SCALE=0.01 runs it on a hundredth of the data. BENCH_SIZES=5000,50000,200000
runs it at each deliverable count (see compare_sizes). Asserts nothing about time.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mlteam.settings.test")
os.environ.setdefault("CELERY_BROKER_URL", "memory://")

from _database import bench_scale, scaled, use_database_of  # noqa: E402 (after sys.path)

# BENCH_SIZES=5000,50000,200000 runs this script once per deliverable count, each in
# a database of its own (`_size_<count>` added to the name; 50,000 keeps the plain
# name), then compares the lists across sizes (`compare_sizes`). BENCH_SIZE, set by
# that run for each child, is the count of one run.
DEFAULT_SIZE = 50_000
SIZE = int(os.environ.get("BENCH_SIZE") or DEFAULT_SIZE)
SIZES = [int(size) for size in os.environ.get("BENCH_SIZES", "").split(",") if size.strip()]
# (Not in the run that compares sizes: its children inherit DATABASE_URL unchanged.)
if not SIZES:
    DATABASE = use_database_of("pages" if SIZE == DEFAULT_SIZE else f"pages_size_{SIZE}")

# generate_load_data's defaults, times BENCH_SCALE; a reduced scale only shows that
# the script works, so it repeats each request less.
SCALE = bench_scale()
REPEAT = 15 if SCALE == 1 else 2
EXPORT_REPEAT = 3 if SCALE == 1 else 1  # the admin's export of every row takes seconds
PROJECTS, PEOPLE, DELIVERABLES = (scaled(size, SCALE) for size in (200, 2_000, SIZE))
# Pages whose cost must not grow with the data (compared across BENCH_SIZES).
LISTS = (
    "deliverables list (admin)",
    "deliverables list, overdue (admin)",
    "portfolio coverage (admin)",
    "team page (manager)",
    "API deliverables list (admin, token)",
)
API_LIST_ADMIN = "API deliverables list (admin, token)"
BOARD = "board (project of 250 deliverables)"  # the project nearest 250: count printed below
ADMIN_CHANGELIST = "reference: admin changelist of deliverables"
# The project page's readiness, cards and artifacts sections, which the page fetches
# with htmx once drawn: timed as that request (the fragment, HX-Request set).
PROJECT_PANELS = "project page panels (fetched by the page)"
# The portfolio's workload and recent activity, fetched by the portfolio once drawn
# (HX-Request set, as the page asks for them).
PORTFOLIO_ACTIVITY_ADMIN = "portfolio workload, activity (admin)"
PORTFOLIO_ACTIVITY_MANAGER = "portfolio workload, activity (manager)"
FETCHED = {PROJECT_PANELS, PORTFOLIO_ACTIVITY_ADMIN, PORTFOLIO_ACTIVITY_MANAGER}


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

    # The board draws every card of a project: measured on the project whose count is
    # nearest 250 (the average project at 50,000 deliverables over 200 projects).
    from django.db.models import Count, F, Func

    board_project = (
        Project.objects.annotate(n=Count("deliverables"))
        .order_by(Func(F("n") - 250, function="ABS"), "pk")
        .first()
    )
    board_manager = board_project.managers.first() or admin
    board_cards = Deliverable.objects.filter(project=board_project).count()

    floor_page = ("floor: password change form", admin, "/accounts/password_change/")
    pages = [
        # The second reference: Django's own admin list of the same rows.
        (ADMIN_CHANGELIST, admin, "/admin/deliverables/deliverable/"),
        ("portfolio dashboard (admin: all projects)", admin, "/dashboard/"),
        (PORTFOLIO_ACTIVITY_ADMIN, admin, "/dashboard/activity/"),
        ("portfolio dashboard (manager)", manager, "/dashboard/"),
        (PORTFOLIO_ACTIVITY_MANAGER, manager, "/dashboard/activity/"),
        ("project page / dashboard", manager, f"/projects/{busiest.pk}/"),
        (PROJECT_PANELS, manager, f"/projects/{busiest.pk}/panels/"),
        ("home (member)", member, "/"),
        ("my work (member)", member, "/my-work/"),
        ("deliverables list (admin)", admin, "/deliverables/"),
        ("deliverables list, overdue (admin)", admin, "/deliverables/?overdue=on&sort=status"),
        ("projects list (admin)", admin, "/projects/"),
        ("portfolio coverage (admin)", admin, "/coverage/"),
        ("people (admin)", admin, "/people/"),
        ("team page (manager)", manager, f"/projects/{busiest.pk}/team/"),
        # The search box (mlteam/search): a word in every fourth deliverable's title
        # ("Part n", generate_load_data), ranked across all of them; one title's words.
        ("search, a common word (admin)", admin, "/search/?q=part"),
        ("search, one title (member)", member, f"/search/?q=part+{DELIVERABLES // 2}"),
        (BOARD, board_manager, f"/projects/{board_project.pk}/board/"),
        # The API's list (deliverables/api.py): the admin with a personal token, a
        # manager with their session.
        (API_LIST_ADMIN, admin, "/api/v1/deliverables/"),
        ("API deliverables list (manager)", manager, "/api/v1/deliverables/"),
        ("CSV export (manager: their project)", manager, "/deliverables/export.csv"),
        ("CSV export (admin: every row)", admin, "/deliverables/export.csv"),
    ]

    from mlteam.accounts.models import ApiToken

    ApiToken.objects.filter(user=admin, name="bench").delete()  # the last run's
    admin_token = ApiToken.objects.create(user=admin, expiry=None, name="bench")[1]

    def client_for(user, url, label="") -> Client:
        if label == API_LIST_ADMIN:  # a personal token, as scripts call the API
            client = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Bearer {admin_token}")
        else:
            headers = {"HTTP_HX_REQUEST": "true"} if label in FETCHED else {}
            client = Client(HTTP_HOST="localhost", **headers)
            client.force_login(user)
        client.get(url)  # warm Python, database and template caches
        return client

    def timed(client, url) -> tuple[float, int]:
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = client.get(url)
            if response.streaming:  # the CSV: consumed as a download would be
                for _chunk in response.streaming_content:
                    pass
            elapsed = (time.perf_counter() - start) * 1000
        assert response.status_code == 200, (url, response.status_code)
        return elapsed, len(captured)

    floor_client = client_for(floor_page[1], floor_page[2])
    floor_times: list[float] = []
    results = []
    for label, user, url in pages:
        client = client_for(user, url, label)
        measured = []
        repeat = EXPORT_REPEAT if "every row" in label else REPEAT
        for cold in (True, False):
            times, floors = [], []
            for _ in range(repeat):
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
    changelist = next(row for row in results if row[0] == ADMIN_CHANGELIST)
    changelist_cold, changelist_warm = changelist[2], changelist[5]
    export_client = client_for(admin, "/deliverables/export.csv")
    # Peak Python memory of the admin's export on a run of its own (tracing slows it).
    tracemalloc.start()
    export_ms, _queries = timed(export_client, "/deliverables/export.csv")
    export_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print()
    print(
        f"Pages at {Deliverable.objects.count():,} deliverables, "
        f"{Project.objects.count():,} projects, {User.objects.count():,} people "
        f"({connection.vendor}); median of {REPEAT} requests, each after a floor request."
    )
    print(
        "'after a change': the first request after any write (dashboards recompute); "
        "'unchanged': nothing changed since the last request (cached dashboards). "
        "x floor: the page's median over the median of the floor requests made between its own; "
        "x admin: over the admin changelist's median, measured the same way."
    )
    print(
        f"{'page':<44} {'queries':>8} {'after a change ms':>18} {'x floor':>8} {'x admin':>8} "
        f"{'queries':>8} {'unchanged ms':>13} {'x floor':>8} {'x admin':>8}"
    )
    print(
        f"{floor_page[0]:<44} {floor_queries:>8} {'':>18} {'':>8} {'':>8} "
        f"{floor_queries:>8} {floor:>13.1f} {1.0:>8.1f} {'':>8}"
    )
    figures = {}
    for label, cold_queries, cold_ms, cold_ratio, warm_queries, warm_ms, warm_ratio in results:
        figures[label] = {
            "after a change ms": cold_ms,
            "after a change x floor": cold_ratio,
            "unchanged ms": warm_ms,
        }
        print(
            f"{label:<44} {cold_queries:>8} {cold_ms:>18.1f} {cold_ratio:>8.1f} "
            f"{cold_ms / changelist_cold:>8.2f} {warm_queries:>8} {warm_ms:>13.1f} "
            f"{warm_ratio:>8.1f} {warm_ms / changelist_warm:>8.2f}"
        )
    print(f"The board's project holds {board_cards:,} deliverables.")
    print(
        f"CSV export (admin: every row): {export_ms:,.0f} ms with allocations traced; "
        f"peak Python memory {export_peak / 2**20:.1f} MiB while streaming it."
    )
    if os.environ.get("BENCH_RESULTS_FILE"):
        Path(os.environ["BENCH_RESULTS_FILE"]).write_text(
            json.dumps({"deliverables": Deliverable.objects.count(), "pages": figures})
        )


def compare_sizes() -> None:
    """Run this script once per BENCH_SIZES count (each in its own database and
    process), then print each page's figure per size and, for the lists, how much it
    grew from 50,000: its ratio to the floor over that ratio at 50,000. The runs
    are minutes apart, and each one's floor, measured beside its pages, takes out
    what the machine was doing meanwhile (raw milliseconds of two runs differed by
    a third on a shared machine for the same page)."""
    runs = {}
    for size in SIZES:
        with tempfile.NamedTemporaryFile(suffix=".json") as results:
            env = {**os.environ, "BENCH_SIZE": str(size), "BENCH_RESULTS_FILE": results.name}
            env.pop("BENCH_SIZES")
            subprocess.run([sys.executable, __file__], env=env, check=True)  # noqa: S603 (itself)
            runs[size] = json.loads(Path(results.name).read_text())
    base = runs.get(DEFAULT_SIZE)
    print()
    print(
        "Pages by data size, 'after a change' median ms and x floor"
        + (" (lists: growth = x floor over x floor at 50,000)" if base else "")
    )
    header = "".join(f"{runs[size]['deliverables']:>26,}" for size in SIZES)
    print(f"{'page':<44}{header}")
    ratio = "after a change x floor"
    for label in runs[SIZES[0]]["pages"]:
        cells = []
        for size in SIZES:
            figure = runs[size]["pages"][label]
            cell = f"{figure['after a change ms']:.1f} {figure[ratio]:.1f}x"
            if base and label in LISTS:
                cell += f" ({figure[ratio] / base['pages'][label][ratio]:.2f})"
            cells.append(f"{cell:>26}")
        print(f"{label:<44}{''.join(cells)}")


if __name__ == "__main__":
    if SIZES:
        compare_sizes()
    else:
        main()
