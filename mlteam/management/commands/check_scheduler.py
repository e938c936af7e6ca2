"""Is beat ticking and are workers taking tasks? For monitoring: exits non-zero when not.

    python manage.py check_scheduler [--beat-minutes 10] [--worker-minutes 5]
                                     [--queue-seconds 3 | --no-queues] [--json]

Beat's last tick is the latest run it recorded of any enabled periodic task;
a worker's is the last time it ran the every-minute heartbeat task
(`mlteam.heartbeat`). A late worker beside live ones is reported, not failed:
after a scale-down its last heartbeat stays behind.

The heartbeat runs on the default queue only, so the live workers are also asked,
over the broker, which queues they take: a queue of WORKER_QUEUES that no live
worker takes (its workers scaled to zero or crashed) fails the check by name.
"""

from __future__ import annotations

import json
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from mlteam.health import (
    BEAT_LATE_AFTER,
    QUEUE_REPLY_SECONDS,
    WORKER_LATE_AFTER,
    scheduler_state,
)


class Command(BaseCommand):
    help = "Check that Celery beat ticks and workers take tasks (non-zero exit when not)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--beat-minutes",
            type=int,
            default=int(BEAT_LATE_AFTER.total_seconds() // 60),
            help="Beat is late when its last tick is older than this (default %(default)s).",
        )
        parser.add_argument(
            "--worker-minutes",
            type=int,
            default=int(WORKER_LATE_AFTER.total_seconds() // 60),
            help="A worker is late when its last heartbeat is older (default %(default)s).",
        )
        parser.add_argument(
            "--queue-seconds",
            type=float,
            default=QUEUE_REPLY_SECONDS,
            help="How long to wait for the workers to say which queues they take "
            "(default %(default)s).",
        )
        parser.add_argument(
            "--no-queues",
            action="store_true",
            help="Do not ask the workers which queues they take (heartbeats only).",
        )
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(
        self, *args, beat_minutes: int, worker_minutes: int, queue_seconds: float, **options
    ) -> None:
        if beat_minutes < 1 or worker_minutes < 1:
            raise CommandError("--beat-minutes and --worker-minutes must be at least 1.")
        if not 0 < queue_seconds <= 60:
            raise CommandError("--queue-seconds must be more than 0 and at most 60.")
        state = scheduler_state(
            beat_late_after=timedelta(minutes=beat_minutes),
            worker_late_after=timedelta(minutes=worker_minutes),
            ask_queues=not options["no_queues"],
            queue_timeout=queue_seconds,
        )
        problems = state.problems
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "status": "ok" if state.healthy else "error",
                        "beat_last_tick": _iso(state.beat_last_tick),
                        "workers": {name: _iso(seen) for name, seen in state.workers},
                        "live_workers": state.live_workers,
                        "late_workers": state.late_workers,
                        "queues": state.queues,
                        "queues_without_worker": state.queues_without_worker,
                        "problems": problems,
                    }
                )
            )
        else:
            self.stdout.write(f"beat: last tick {_iso(state.beat_last_tick) or 'never'}")
            for name, seen in state.workers:
                late = " (late)" if name in state.late_workers else ""
                self.stdout.write(f"worker {name}: last heartbeat {_iso(seen)}{late}")
            for queue, workers in (state.queues or {}).items():
                self.stdout.write(f"queue {queue}: {', '.join(workers) or 'no live worker'}")
        if problems:
            raise CommandError("; ".join(problems))


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None
