"""A worker stopped with SIGTERM (a deploy, a scale-down) loses no task and runs
none twice: a real `celery worker` process on the real Redis broker, stopped in
the middle of a task, then a second worker started.

The running task finishes before the first worker exits (SIGTERM is Celery's warm
shutdown); the task it had taken but not started goes back to the queue (it is
acknowledged late, or only once started) and the second worker runs it once.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from django.conf import settings

from mlteam.celery import app
from tests.conftest import require
from tests.mlteam.shutdown_tasks import slow_step

ROOT = Path(settings.BASE_DIR)


def _worker(queue: str, name: str) -> subprocess.Popen:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "mlteam.settings.test"}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "mlteam",
            "worker",
            "--include=tests.mlteam.shutdown_tasks",
            "-Q",
            queue,
            "--pool=prefork",
            "--concurrency=1",
            f"--hostname={name}@%h",
            "--without-mingle",
            "--without-gossip",
            "--loglevel=INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _lines(record: Path) -> Counter:
    return Counter(record.read_text().splitlines()) if record.exists() else Counter()


def _wait_for(record: Path, line: str, timeout: float, worker: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout
    while line not in _lines(record):
        if time.monotonic() > deadline or worker.poll() is not None:
            worker.kill()
            output = worker.communicate()[0].decode(errors="replace")
            raise AssertionError(f"no {line!r} within {timeout} s:\n{output[-3000:]}")
        time.sleep(0.1)


def _stop(worker: subprocess.Popen) -> str:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
    try:
        return worker.communicate(timeout=60)[0].decode(errors="replace")
    except subprocess.TimeoutExpired:
        worker.kill()
        return worker.communicate()[0].decode(errors="replace")


def test_sigterm_during_a_task_loses_nothing_and_repeats_nothing(tmp_path):
    require(
        settings.CELERY_BROKER_URL.startswith("redis://"),
        "a Redis broker (CELERY_BROKER_URL=redis://...)",
    )
    record = tmp_path / "steps.txt"
    queue = f"shutdown-test-{secrets.token_hex(4)}"  # nobody else's messages
    first = _worker(queue, "first")
    try:
        slow_step.apply_async(args=[str(record), "A", 4], queue=queue)
        slow_step.apply_async(args=[str(record), "B", 0.1], queue=queue)
        _wait_for(record, "start A", 60, first)
        first.send_signal(signal.SIGTERM)  # in the middle of A; B waits its turn
        output = _stop(first)
        assert first.returncode == 0, output[-3000:]
        assert _lines(record) == Counter({"start A": 1, "done A": 1}), output[-3000:]

        second = _worker(queue, "second")
        try:
            _wait_for(record, "done B", 60, second)
            time.sleep(2)  # room for a wrong second run of A or B to show
        finally:
            output = _stop(second)
        assert second.returncode == 0, output[-3000:]
        assert _lines(record) == Counter({"start A": 1, "done A": 1, "start B": 1, "done B": 1}), (
            output[-3000:]
        )
    finally:
        for worker in (first,):
            if worker.poll() is None:
                worker.kill()
                worker.wait()
        with app.connection_for_write() as connection:
            connection.default_channel.queue_delete(queue)
