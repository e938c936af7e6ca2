"""`make run`: migrate, seed the demo, then run web, Celery worker and beat together."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from mlteam.demo import DEMO_PASSWORD

# Ctrl-C, `kill`, and the terminal closing all mean: stop web, worker and beat.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
PR_SET_CHILD_SUBREAPER = 36  # linux/prctl.h


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

        site_url = served_url(host, port)
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        celery = [sys.executable, "-m", "celery", "-A", "mlteam"]
        pidfile = settings.VAR_DIR / "celerybeat.pid"
        pidfile.unlink(missing_ok=True)
        address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        commands = {
            "web": [*manage, "runserver", address],
            "worker": [
                *celery,
                "worker",
                "--loglevel=INFO",
                "--concurrency=2",
                "-Q",
                ",".join(settings.WORKER_QUEUES),
            ],
            "beat": [*celery, "beat", "--loglevel=INFO", f"--pidfile={pidfile}"],
        }
        # All three learn the address web serves, so that links in emails (sent by
        # the worker) lead to it; local settings prefer SITE_URL when it is given.
        # They run with DEBUG off unless DJANGO_DEBUG says otherwise: a mistyped
        # address shows the product's own 404 page, not Django's debug page listing
        # every URL, and errors the 500 page, as in production (WhiteNoise still
        # serves the static files, straight from the finders: local settings).
        env = {"DJANGO_DEBUG": "false", **os.environ, "RUN_LOCAL_URL": site_url}
        # So do commands run beside it in another shell (`send_reminders`): local
        # settings read this file when RUN_LOCAL_URL is not in their environment.
        settings.RUN_LOCAL_URL_FILE.write_text(site_url + "\n")
        _adopt_orphans()
        processes: dict[str, subprocess.Popen] = {}
        stopped = None
        with _stop_requests() as requested:
            try:
                for name, command in commands.items():
                    if requested:
                        break
                    # Each child leads its own process group so that stopping it also
                    # stops anything it started (runserver's reloader, Celery's pool).
                    processes[name] = subprocess.Popen(  # noqa: S603
                        command, cwd=settings.BASE_DIR, env=env, start_new_session=True
                    )
                self._say(
                    self.style.SUCCESS(
                        f"\nMLTeam is starting on {site_url}/\n"
                        f"Sign in as manager (or member, admin) with the password "
                        f"{DEMO_PASSWORD!r}.\n"
                        "Emails are printed here. Press Ctrl-C to stop everything.\n"
                    )
                )
                stopped = _wait_for_first_exit(processes, requested)
            finally:
                # Signals arriving from here on are only recorded: _stop always ends.
                self._say("Stopping web, worker and beat...")
                _stop(list(processes.values()))
        if stopped is not None:
            name, code = stopped
            raise CommandError(
                f"{name} stopped unexpectedly (exit code {code}); see its output above."
            )

    def _say(self, message: str) -> None:
        # After SIGHUP the terminal may be gone; stopping must go on regardless.
        with contextlib.suppress(OSError):
            self.stdout.write(message)


def served_url(host: str, port: int) -> str:
    """The address of the web server `run_local` starts, as a link in an email needs
    it: a wildcard host listens on every interface, this machine's loopback included."""
    link_host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)  # noqa: S104
    if ":" in link_host:
        link_host = f"[{link_host}]"
    return f"http://{link_host}:{port}"


@contextlib.contextmanager
def _stop_requests() -> Iterator[list[int]]:
    """Record stop signals instead of raising KeyboardInterrupt: the runner notices
    the first between two polls, and later ones (a second Ctrl-C, SIGTERM to the
    whole group) cannot break off the stop routine half way. A signal the runner
    was started ignoring (nohup) stays ignored."""
    received: list[int] = []

    def record(signum, frame) -> None:
        received.append(signum)

    previous = {}
    for sig in STOP_SIGNALS:
        if signal.getsignal(sig) is not signal.SIG_IGN:
            previous[sig] = signal.signal(sig, record)
    try:
        yield received
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _wait_for_first_exit(
    processes: dict[str, subprocess.Popen], requested: list[int]
) -> tuple[str, int] | None:
    """The first child to exit (name, code), or None when a stop signal came first."""
    while not requested:
        for name, process in processes.items():
            if process.poll() is not None:
                return name, process.returncode
        time.sleep(0.2)
    return None


def _stop(processes: list[subprocess.Popen], timeout: float = 10.0) -> None:
    """End every child and everything it started.

    1. Ask each leader to stop (SIGTERM): Celery shuts its pool down cleanly,
       runserver's reloader exits.
    2. Wait for the leaders; kill (SIGKILL) the group of any still there at the timeout.
    3. Ask what is left of each group (runserver's reloaded child) to stop, wait for
       the groups to empty, and kill whatever remains at the timeout.
    """
    for process in processes:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
    deadline = time.monotonic() + timeout
    for process in processes:
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _signal_group(process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout)
    groups = [process.pid for process in processes]
    for group in groups:
        _signal_group(group, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _reap_orphans()
        if not any(_group_exists(group) for group in groups):
            return
        time.sleep(0.1)
    for group in groups:
        _signal_group(group, signal.SIGKILL)
    _reap_orphans()


def _adopt_orphans() -> None:
    """On Linux, become the parent of processes our children leave behind, so that
    stopping can reap them and see their group empty: in a container, the init
    process may never reap them, and an unreaped process keeps its group alive."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _reap_orphans() -> None:
    """Collect adopted processes that have exited (call once the leaders are waited)."""
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass


def _group_exists(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a member we may not signal still exists
        pass
    return True


def _signal_group(group: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, sig)
