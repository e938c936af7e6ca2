"""`make cluster`: MLTeam as a small production on this one machine, under load.

    python -m deploy.cluster.harness [--seconds 60] [--threads 6] [--projects 3]

1. A database of its own (mlteam_cluster_<pid>, dropped at the end), migrated and
   seeded (deploy/cluster/seed.py), with every beat schedule shortened to a few
   seconds so that digests, chat summaries and webhook deliveries fall due.
2. A local SMTP server and an HTTP receiver (webhooks and chat) that count what
   arrives, by message.
3. Debian's PgBouncer in transaction pooling mode in front of PostgreSQL; 3 gunicorn
   processes (production settings, Redis cache and broker) on their own ports
   behind Debian's HAProxy (round robin, no stickiness, health checks on
   /healthz); 3 Celery workers on different queues; 2 Celery beats, deliberately.
4. The load (deploy/cluster/load.py) for the given time: managers staffing teams,
   members moving work, dashboards read, two managers saving the same deliverable
   at once; each write checked on the next dashboard read through another process.
5. Once the queues settle, the checks: no 5xx, sessions valid on every process,
   every change seen at once, each digest and chat or webhook message received
   exactly once and matching the ledgers, exactly one of each conflicting pair
   saved. Figures printed; exit status 1 with the reasons on any failed check.

Everything it starts runs in a process group of its own and is stopped on the way
out, whatever the way out (a failed check, an exception, Ctrl-C, SIGTERM).
"""

from __future__ import annotations

import argparse
import atexit
import faulthandler
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import requests

from deploy.cluster.load import Figures, run_load
from deploy.pgbouncer import free_port, pgbouncer_binary, running_pgbouncer

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
BIN = Path(PYTHON).parent

WEB_PROCESSES = 3
# name, queues, concurrency: every queue has a worker, two have two.
WORKERS = [
    ("worker-reminders", "reminders,celery", 1),
    ("worker-deliveries", "deliveries,celery", 2),
    ("worker-all", "celery,reminders,deliveries,polling", 1),
]
BEATS = 2
# Settings from the caller's environment that the cluster sets itself or must not get.
FOREIGN_SETTINGS = (
    "DJANGO_", "DATABASE_", "EMAIL_", "CACHE_", "CELERY_", "SENTRY_", "SITE_URL", "METRICS_",
    "WEBHOOK_", "REMINDER_",
)  # fmt: skip


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class HarnessError(Exception):
    """A step of the harness could not be done (not a failed check)."""


# --- receivers ------------------------------------------------------------------------


@dataclass
class HttpReceiver:
    """Counts every POST by path (one per webhook endpoint or chat channel) and by
    webhook-id (a webhook message's id); answers 200."""

    by_path: Counter = field(default_factory=Counter)
    by_webhook_id: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0

    def start(self) -> ThreadingHTTPServer:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.by_path[self.path] += 1
                    if self.headers.get("webhook-id"):
                        receiver.by_webhook_id[self.headers["webhook-id"]] += 1
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server


# --- processes ------------------------------------------------------------------------


class Processes:
    """The processes the harness started, each in its own process group, with its
    output in a log file; all stopped (SIGTERM, then SIGKILL) by `stop_all`."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.running: list[tuple[str, subprocess.Popen]] = []
        self._lock = threading.Lock()

    def start(self, name: str, command: list[str], env: dict) -> subprocess.Popen:
        log = (self.folder / f"{name}.log").open("wb")
        process = subprocess.Popen(  # noqa: S603 (our own commands)
            command,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        with self._lock:
            self.running.append((name, process))
        return process

    def dead(self) -> list[str]:
        return [name for name, process in self.running if process.poll() is not None]

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.folder / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def stop_all(self, timeout: float = 30) -> dict[str, int]:
        """SIGTERM to each main process (gunicorn and Celery stop their own children
        gracefully), then SIGKILL to the whole group of any still running after
        `timeout`. Returns each process's exit status (negative: killed by that signal)."""
        with self._lock:
            running, self.running = self.running, []
        for _, process in running:
            if process.poll() is None:
                with suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for _, process in running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        for _, process in running:  # whatever a main process left behind in its group
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        return {name: process.returncode for name, process in running}


def _wait_for(what: str, check, *, timeout: float, processes: Processes | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if processes and processes.dead():
            name = processes.dead()[0]
            tail = processes.log_tail(name)
            raise HarnessError(f"{name} stopped while waiting for {what}:\n{tail}")
        time.sleep(0.3)
    raise HarnessError(f"{what}: not ready within {timeout:.0f} s")


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2, headers={"X-Forwarded-Proto": "https"}).ok
    except requests.RequestException:
        return False


def haproxy_config(*, port: int, backends: list[int]) -> str:
    """Round robin over the web processes, no stickiness (so a session really moves
    between processes), health checks on /healthz; HAProxy stands for the TLS
    terminating proxy production has, so it says the request came over https."""
    servers = "\n".join(
        f"    server web{n} 127.0.0.1:{backend} check inter 2s fall 3 rise 1"
        for n, backend in enumerate(backends)
    )
    return f"""global
    maxconn 512

defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout check 5s
    option http-server-close

frontend mlteam
    bind 127.0.0.1:{port}
    http-request set-header X-Forwarded-Proto https
    default_backend web

backend web
    balance roundrobin
    option httpchk
    http-check send meth GET uri /healthz hdr Host 127.0.0.1
{servers}
"""


# --- the run --------------------------------------------------------------------------


def _admin_url() -> str:
    return os.environ.get("CLUSTER_DATABASE_URL") or os.environ.get(
        "DATABASE_URL", "postgres://mlteam@127.0.0.1:5432/mlteam"
    )


def _redis_base() -> str:
    return os.environ.get("CLUSTER_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")


def _django(env: dict, *args: str, timeout: float = 600) -> str:
    result = subprocess.run(  # noqa: S603 (our own commands)
        [PYTHON, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0:
        raise HarnessError(f"{' '.join(args[:3])} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def run(options: argparse.Namespace) -> int:
    haproxy = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin")
    for binary, found in (("haproxy", haproxy), ("pgbouncer", pgbouncer_binary())):
        if not found:
            raise HarnessError(f"{binary} is not installed (apt-get install {binary})")

    admin = urlsplit(_admin_url())
    db_user = admin.username or "mlteam"
    db_login = f"{db_user}:{admin.password}" if admin.password else db_user
    db_host, db_port = admin.hostname or "127.0.0.1", admin.port or 5432
    database = f"mlteam_cluster_{os.getpid()}"
    redis = _redis_base()
    cache_url, broker_url = f"{redis}/{options.cache_db}", f"{redis}/{options.broker_db}"

    folder = Path(tempfile.mkdtemp(prefix="mlteam-cluster-"))
    processes = Processes(folder)
    stack = ExitStack()
    if options.keep_logs:
        print(f"cluster: logs in {folder}")
    else:
        stack.callback(shutil.rmtree, folder, ignore_errors=True)
    atexit.register(stack.close)
    with stack:
        # 1. the database, and Redis dbs of our own, emptied
        def admin_connection():
            # the maintenance database: the one DATABASE_URL names may not exist
            return psycopg.connect(_admin_url(), dbname="postgres", autocommit=True)

        with admin_connection() as conn:
            conn.execute(f'CREATE DATABASE "{database}"')

        def drop_database() -> None:
            with admin_connection() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

        stack.callback(drop_database)
        import redis as redis_client

        for url in {cache_url, broker_url}:
            redis_client.Redis.from_url(url).flushdb()

        # 2. the receivers
        from tests.mail_server import MailServer

        mail = stack.enter_context(MailServer())
        receiver = HttpReceiver()
        server = receiver.start()
        stack.callback(server.shutdown)

        # 3. settings as production reads them
        lb_port = free_port()
        backends = [free_port() for _ in range(WEB_PROCESSES)]
        env = {
            # the caller's own settings stay out (an EMAIL_URL would win over EMAIL_HOST)
            **{k: v for k, v in os.environ.items() if not k.startswith(FOREIGN_SETTINGS)},
            "DJANGO_SETTINGS_MODULE": "mlteam.settings.production",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(48),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": f"postgres://{db_login}@{db_host}:{db_port}/{database}",
            "CELERY_BROKER_URL": broker_url,
            "CACHE_URL": cache_url,
            "SITE_URL": f"https://127.0.0.1:{lb_port}",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(mail.port),
            "EMAIL_USE_TLS": "false",
            "WEBHOOK_REQUIRE_HTTPS": "false",
            "LOG_FORMAT": "plain",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
        # The harness's own reads go straight to PostgreSQL, outside the pool.
        direct_env = dict(env)
        password = secrets.token_urlsafe(12)
        started = time.monotonic()
        first_day = datetime.now(UTC).date()  # the seeded people's digest day (UTC)
        say(f"database {database}: migrating and seeding")
        _django(env, "manage.py", "migrate", "--no-input", "-v", "0")
        _django(env, "manage.py", "collectstatic", "--no-input", "-v", "0")
        seeded = json.loads(
            _django(
                env,
                "-m",
                "deploy.cluster.seed",
                json.dumps(
                    {
                        "password": password,
                        "projects": options.projects,
                        "members": options.members,
                        "receiver_port": receiver.port,
                        "receiver_url": f"http://127.0.0.1:{receiver.port}",
                        "beat_seconds": options.beat_seconds,
                    }
                ),
            )
        )
        setup_seconds = time.monotonic() - started

        # 4. PgBouncer, then everything that talks to the database goes through it
        bouncer = stack.enter_context(
            running_pgbouncer(
                user=db_user,
                server_host=db_host,
                server_port=db_port,
                pool_size=options.pool_size,
                max_client_conn=200,
            )
        )
        env["DATABASE_URL"] = f"postgres://{db_user}@127.0.0.1:{bouncer}/{database}"
        env["DATABASE_TRANSACTION_POOLING"] = "true"
        stack.callback(processes.stop_all)

        say("starting PgBouncer, 3 web processes, 3 workers, 2 beats and HAProxy")
        for n, port in enumerate(backends):
            processes.start(
                f"web-{n}",
                [
                    str(BIN / "gunicorn"),
                    "mlteam.wsgi",
                    f"--bind=127.0.0.1:{port}",
                    f"--workers={options.web_workers}",
                    "--threads=2",
                    "--timeout=60",
                    "--graceful-timeout=10",
                    "--keep-alive=30",  # longer than the load's idle connections
                    # three servers on one machine: no shared control socket
                    "--no-control-socket",
                ],
                env,
            )
        for name, queues, concurrency in WORKERS:
            processes.start(
                name,
                [
                    str(BIN / "celery"),
                    "-A",
                    "mlteam",
                    "worker",
                    f"--hostname={name}@%h",
                    "-Q",
                    queues,
                    f"--concurrency={concurrency}",
                    "--loglevel=WARNING",
                    "--without-mingle",
                    "--without-gossip",
                ],
                env,
            )
        for n in range(BEATS):
            processes.start(
                f"beat-{n}",
                [
                    str(BIN / "celery"),
                    "-A",
                    "mlteam",
                    "beat",
                    "--loglevel=INFO",  # a line per task sent: counted below
                    f"--pidfile={folder / f'beat-{n}.pid'}",
                    f"--schedule={folder / f'beat-{n}.schedule'}",
                ],
                env,
            )
        config = folder / "haproxy.cfg"
        config.write_text(haproxy_config(port=lb_port, backends=backends))
        processes.start("haproxy", [haproxy, "-db", "-f", str(config)], env)
        for port in backends:
            _wait_for(
                f"web on {port}",
                lambda port=port: _answers(f"http://127.0.0.1:{port}/readyz"),
                timeout=90,
                processes=processes,
            )
        _wait_for(
            "the balancer",
            lambda: _answers(f"http://127.0.0.1:{lb_port}/readyz"),
            timeout=30,
            processes=processes,
        )

        # 5. the load
        say(f"load: {options.threads} threads for {options.seconds} s")
        figures = Figures()
        run_load(
            figures=figures,
            balancer=f"http://127.0.0.1:{lb_port}",
            backends=[f"http://127.0.0.1:{port}" for port in backends],
            seeded=seeded,
            password=password,
            seconds=options.seconds,
            threads=options.threads,
        )
        dead = processes.dead()

        # 6. let the queues settle: every delivery due sent, every digest out
        # Each member owns overdue and due-soon work: each is owed today's digest
        # (a manager is owed one only once work is late enough to escalate).
        expected_people = options.projects * options.members
        contested = [project["contested"] for project in seeded["projects"]]
        say("waiting for the queues to settle")

        state = json.loads(
            _django(
                direct_env,
                "-m",
                "deploy.cluster.ledgers",
                json.dumps(
                    {
                        "contested": contested,
                        "people": expected_people,
                        "settle_seconds": options.settle_seconds,
                    }
                ),
            )
        )
        if not state["settled"]:
            figures.fail(
                f"queues did not settle within {options.settle_seconds} s: digests "
                f"{state['digest_status']}, webhooks {state['webhook_status']}, chat "
                f"{state['chat_status']}"
            )
        scheduler = subprocess.run(  # noqa: S603
            [PYTHON, "manage.py", "check_scheduler", "--json"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        stopped = processes.stop_all()
        # A SIGTERM is a graceful stop: web processes and workers finish and exit 0.
        for name, status in stopped.items():
            if name.startswith(("web-", "worker-")) and status != 0 and name not in dead:
                figures.fail(
                    f"{name} exited with {status} after SIGTERM:\n{processes.log_tail(name)}"
                )
        # What the receivers hold must now match the ledgers, message by message.
        # A run across midnight (UTC, the seeded people's zone) owes a second digest to
        # each: one message a person is then not the rule, so the digests go unjudged.
        crossed_midnight = datetime.now(UTC).date() != first_day
        _check_deliveries(
            figures, state, receiver, mail, expected_people, judge_digests=not crossed_midnight
        )
        for name in dead:
            figures.fail(f"{name} stopped during the load:\n{processes.log_tail(name)}")
        # Both beats triggered the sweeps (else the exactly-once checks proved less).
        for n in range(BEATS):
            log = (folder / f"beat-{n}.log").read_text(errors="replace")
            sent = log.count("Sending due task")
            figures.count(f"tasks sent by beat-{n}", sent)
            if not sent:
                figures.fail(f"beat-{n} sent no task: only one beat was at work")
        if scheduler.returncode != 0:
            figures.fail(f"check_scheduler: {scheduler.stdout.strip()} {scheduler.stderr[-500:]}")
        _print(figures, options, setup_seconds)
        if figures.failures:
            print("\nFAILED:", file=sys.stderr)
            for failure in figures.failures:
                print(f"- {failure}", file=sys.stderr)
            return 1
        print("\nAll checks passed.")
        return 0


def _check_deliveries(
    figures: Figures,
    state: dict,
    receiver: HttpReceiver,
    mail,
    people: int,
    *,
    judge_digests: bool = True,
) -> None:
    # Digests: one message per person (today's), and the ledger agrees.
    recipients = Counter(message["To"] for message in mail.received)
    figures.deliveries["digest emails"] = sum(recipients.values())
    sent_digests = state["digest_status"].get("sent", 0)
    if not judge_digests:
        print("Digests not judged: the run crossed midnight UTC (a second day's digest is due).")
    else:
        figures.duplicates["digest emails"] = sum(n - 1 for n in recipients.values() if n > 1)
    if judge_digests and (len(recipients) != sent_digests or sent_digests < people):
        figures.fail(
            f"digests: {len(recipients)} people received mail, the ledger sent {sent_digests}, "
            f"at least {people} are owed one"
        )
    # Webhooks: each message id received once, and exactly the ones the ledger sent.
    received = receiver.by_webhook_id
    figures.deliveries["webhook messages"] = sum(received.values())
    figures.duplicates["webhook messages"] = sum(n - 1 for n in received.values() if n > 1)
    sent = set(state["webhook_sent"])
    if set(received) != sent:
        figures.fail(
            f"webhooks: {len(received)} message ids received, the ledger sent {len(sent)} "
            f"({len(set(received) ^ sent)} differ)"
        )
    if not state["webhook_sent"]:
        figures.fail("webhooks: nothing was sent during the load")
    # Chat: per channel, as many messages received as the ledger sent (its rows are
    # unique per event, so more received than sent is a duplicate).
    chat_received = {path: n for path, n in receiver.by_path.items() if path.startswith("/chat/")}
    chat_sent = {urlsplit(url).path: n for url, n in state["chat_sent_by_url"].items()}
    figures.deliveries["chat messages"] = sum(chat_received.values())
    figures.duplicates["chat messages"] = sum(
        max(0, n - chat_sent.get(path, 0)) for path, n in chat_received.items()
    )
    if chat_received != chat_sent:
        figures.fail(f"chat: received {chat_received}, the ledger sent {chat_sent}")
    for kind, duplicates in figures.duplicates.items():
        if duplicates:
            figures.fail(f"{kind}: {duplicates} sent more than once")
    # Lost updates: each contested deliverable ends with the title of the save that won.
    for pk, title in state["contested"].items():
        expected = figures.contested_winner.get(int(pk))
        if expected is not None and title != expected:
            figures.fail(f"deliverable {pk} is titled {title!r}, the winning save was {expected!r}")


def _print(figures: Figures, options: argparse.Namespace, setup_seconds: float) -> None:
    print(
        f"\nMLTeam cluster: {WEB_PROCESSES} web x {options.web_workers} gunicorn workers x 2 "
        f"threads behind HAProxy, {len(WORKERS)} Celery workers, {BEATS} beats, PgBouncer "
        f"(pool {options.pool_size}); {options.threads} load threads for {options.seconds} s "
        f"(setup {setup_seconds:.0f} s)"
    )
    print(figures.table())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("CLUSTER_SECONDS", "60")))
    parser.add_argument("--threads", type=int, default=int(os.environ.get("CLUSTER_THREADS", "6")))
    parser.add_argument("--projects", type=int, default=3)
    parser.add_argument("--members", type=int, default=3)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--pool-size", type=int, default=10)
    parser.add_argument("--beat-seconds", type=int, default=5)
    parser.add_argument("--settle-seconds", type=int, default=90)
    parser.add_argument("--keep-logs", action="store_true", help="keep the processes' logs")
    parser.add_argument("--cache-db", type=int, default=13)
    parser.add_argument("--broker-db", type=int, default=14)
    options = parser.parse_args(argv)
    if options.seconds < 5 or options.threads < 2 or options.projects < 1 or options.members < 1:
        parser.error("at least 5 seconds, 2 threads, 1 project and 1 member")

    # SIGTERM (a CI runner giving up) leaves through the same clean-up as Ctrl-C.
    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    # `kill -USR1` prints where every thread of the harness is (a stuck run).
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    try:
        return run(options)
    except HarnessError as error:
        print(f"cluster: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("cluster: interrupted; everything it started is stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
