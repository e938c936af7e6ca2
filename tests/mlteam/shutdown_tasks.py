"""A task for the worker shutdown test only (tests/mlteam/test_worker_shutdown.py),
loaded into the worker it starts with `--include`: a slow step that writes down
when it starts and when it ends, acknowledged late like the app's delivery tasks."""

from __future__ import annotations

import time
from pathlib import Path

from celery import shared_task


@shared_task(name="tests.slow_step", acks_late=True)
def slow_step(record: str, label: str, seconds: float) -> None:
    path = Path(record)
    with path.open("a") as out:
        out.write(f"start {label}\n")
    time.sleep(seconds)
    with path.open("a") as out:
        out.write(f"done {label}\n")
