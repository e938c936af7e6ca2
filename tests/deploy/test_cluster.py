"""The multi-instance harness (`make cluster`, deploy/cluster/harness.py), shorter:
3 gunicorn processes behind HAProxy, 3 Celery workers and 2 beats on PgBouncer
and Redis, 20 seconds of load. It exits non-zero when any of its checks fails
(a 5xx, a session refused by another process, a stale dashboard read, a message
sent twice or never, a lost update), and prints its figures."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from deploy.pgbouncer import pgbouncer_binary
from tests.conftest import require

ROOT = Path(settings.BASE_DIR)

pytestmark = pytest.mark.cluster


def test_the_cluster_passes_its_checks_under_load():
    require(connection.vendor == "postgresql", "the harness runs on PostgreSQL")
    require(pgbouncer_binary() is not None, "pgbouncer (Debian's package)")
    require(
        (shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin")) is not None,
        "haproxy (Debian's package)",
    )
    require(settings.CELERY_BROKER_URL.startswith("redis://"), "Redis (CELERY_BROKER_URL)")
    db = connection.settings_dict
    env = {
        **os.environ,
        # where the harness creates (and drops) its own database
        "CLUSTER_DATABASE_URL": (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/postgres"
        ),
        "CLUSTER_REDIS_URL": settings.CELERY_BROKER_URL.rsplit("/", 1)[0],
    }
    result = subprocess.run(
        [sys.executable, "-m", "deploy.cluster.harness", "--seconds", "20", "--members", "2"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    for figure in (
        "requests ",
        "p50 ms",
        "move seen on next read elsewhere",
        "staffing seen on next read elsewhere",
        "conflict: one save won, one refused",
        "session valid on a process",
        "digest emails",
        "webhook messages",
        "chat messages",
        "All checks passed.",
    ):
        assert figure in output, output[-6000:]
    assert "5xx 0," in output
