"""Is beat ticking and are workers taking tasks? For monitoring: exits non-zero when not.

    python manage.py check_scheduler [--beat-minutes 10] [--worker-minutes 5] [--json]

Beat's last tick is the latest run it recorded of any enabled periodic task;
a worker's is the last time it ran the every-minute heartbeat task
(`mlteam.heartbeat`). A late worker beside live ones is reported, not failed:
after a scale-down its last heartbeat stays behind.
"""

from __future__ import annotations

import json
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from mlteam.health import BEAT_LATE_AFTER, WORKER_LATE_AFTER, scheduler_state


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
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args, beat_minutes: int, worker_minutes: int, **options) -> None:
        if beat_minutes < 1 or worker_minutes < 1:
            raise CommandError("--beat-minutes and --worker-minutes must be at least 1.")
        state = scheduler_state(
            beat_late_after=timedelta(minutes=beat_minutes),
            worker_late_after=timedelta(minutes=worker_minutes),
        )
        problems = [problem for problem in (state.beat_problem, state.worker_problem) if problem]
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "status": "ok" if state.healthy else "error",
                        "beat_last_tick": _iso(state.beat_last_tick),
                        "workers": {name: _iso(seen) for name, seen in state.workers},
                        "live_workers": state.live_workers,
                        "late_workers": state.late_workers,
                        "problems": problems,
                    }
                )
            )
        else:
            self.stdout.write(f"beat: last tick {_iso(state.beat_last_tick) or 'never'}")
            for name, seen in state.workers:
                late = " (late)" if name in state.late_workers else ""
                self.stdout.write(f"worker {name}: last heartbeat {_iso(seen)}{late}")
        if problems:
            raise CommandError("; ".join(problems))


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None
