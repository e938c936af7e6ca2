"""`make bench` with DATABASE_URL set: each benchmark still gets data of its own.

Both scripts run for real, at BENCH_SCALE=0.01, one after the other on the same
DATABASE_URL (a database name of this test's own on the PostgreSQL server the
suite uses, or on 127.0.0.1); every database they create is dropped afterwards."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings

from tests.conftest import require


@pytest.fixture
def bench_database_url():
    import psycopg
    from psycopg import sql

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("postgresql"):
        host, port, user = db["HOST"] or "127.0.0.1", db["PORT"] or 5432, db["USER"]
    else:
        host, port, user = "127.0.0.1", 5432, "mlteam"
    try:
        admin = psycopg.connect(
            host=host, port=port, user=user, dbname="postgres", autocommit=True, connect_timeout=5
        )
    except psycopg.OperationalError as error:
        require(False, f"PostgreSQL at {host}:{port} as {user}, for the benchmarks: {error}")
    name = f"mlteam_benchtest_{os.getpid()}"
    yield f"postgres://{user}@{host}:{port}/{name}"
    with admin:
        created = admin.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", [name + "%"]
        ).fetchall()
        for (database,) in created:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(database)))


def run_benchmark(script: str, database_url: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, f"bench/{script}"],
        cwd=settings.BASE_DIR,
        env={"PATH": "/usr/bin:/bin", "DATABASE_URL": database_url, "BENCH_SCALE": "0.01"},
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_each_benchmark_works_after_the_other_on_one_database_url(bench_database_url):
    # The pages benchmark fills the URL's database first; the sweep used to find its
    # people and projects there and crash (IndexError) building its own.
    pages = run_benchmark("pages.py", bench_database_url)
    assert pages.returncode == 0, pages.stderr[-3000:]
    assert "Pages at 500 deliverables" in pages.stdout, pages.stdout
    assert "reference: admin changelist of deliverables" in pages.stdout, pages.stdout
    assert "CSV export (admin: every row)" in pages.stdout, pages.stdout

    sweep = run_benchmark("reminder_sweep.py", bench_database_url)
    assert sweep.returncode == 0, sweep.stderr[-3000:]
    assert "Reminder sweep, 1,000 deliverables, 200 overdue" in sweep.stdout, sweep.stdout
    assert "sending the day's digests (locmem email)" in sweep.stdout, sweep.stdout
