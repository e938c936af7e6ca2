"""`make run`: migrate, seed the demo, then run web, Celery worker and beat together."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from mlteam.demo import DEMO_PASSWORD


class Command(BaseCommand):
    help = "Run the whole product locally: web server, Celery worker and Celery beat."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--host", default="127.0.0.1")

    def handle(self, *args, host: str, port: int, **options):
        if not 0 < port < 65536:
            raise CommandError(f"PORT must be between 1 and 65535, not {port}.")
        call_command("migrate", interactive=False, verbosity=0)
        call_command("seed_demo")

        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        celery = [sys.executable, "-m", "celery", "-A", "mlteam"]
        pidfile = settings.VAR_DIR / "celerybeat.pid"
        pidfile.unlink(missing_ok=True)
        commands = {
            "web": [*manage, "runserver", f"{host}:{port}"],
            "worker": [*celery, "worker", "--loglevel=INFO", "--concurrency=2"],
            "beat": [*celery, "beat", "--loglevel=INFO", f"--pidfile={pidfile}"],
        }
        # Each child leads its own process group so that stopping it also stops
        # anything it started (runserver's autoreloader, Celery's pool).
        processes = {
            name: subprocess.Popen(command, cwd=settings.BASE_DIR, start_new_session=True)  # noqa: S603
            for name, command in commands.items()
        }
        self.stdout.write(
            self.style.SUCCESS(
                f"\nMLTeam is starting on http://{host}:{port}/\n"
                f"Sign in as manager (or member, admin) with the password {DEMO_PASSWORD!r}.\n"
                "Emails are printed here. Press Ctrl-C to stop everything.\n"
            )
        )
        # `kill` on this process stops everything too, as Ctrl-C does.
        signal.signal(signal.SIGTERM, _interrupt)
        stopped = None
        try:
            stopped = _wait_for_first_exit(processes)
        except KeyboardInterrupt:
            self.stdout.write("Stopping web, worker and beat...")
        finally:
            _stop(processes.values())
        if stopped is not None:
            name, code = stopped
            raise CommandError(
                f"{name} stopped unexpectedly (exit code {code}); see its output above."
            )


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _wait_for_first_exit(processes: dict[str, subprocess.Popen]) -> tuple[str, int]:
    while True:
        for name, process in processes.items():
            if process.poll() is not None:
                return name, process.returncode
        time.sleep(0.5)


def _stop(processes, timeout: float = 10.0) -> None:
    """Ask each leader to stop (Celery shuts its pool down cleanly), then clear the
    rest of its group, such as runserver's reloaded child; kill what lingers."""
    processes = list(processes)
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + timeout
    for process in processes:
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait()
        _signal_group(process, signal.SIGTERM)


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
