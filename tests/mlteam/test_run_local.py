"""`make run` for real: the runner (run_local) starts web, worker and beat on a free
port with its own data folder; emails link to that port, and every way of stopping
it ends all three.

Each test starts the real runner in its own process group, on SQLite and the
filesystem broker in a temporary folder (a copy of a database migrated and seeded
once per module), and kills whatever is left at the end, by pid."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from urllib.request import urlopen

import pytest
from django.conf import settings

from tests.conftest import require

START_TIMEOUT = 180  # seconds: migrate and seed (no-ops on the copy) and three processes
STOP_TIMEOUT = 60


def local_env(var_dir: Path, **extra: str) -> dict[str, str]:
    """A clean environment with local settings in `var_dir`: no DATABASE_URL,
    CELERY_BROKER_URL or SITE_URL leaks in from the test run."""
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(var_dir),
        "DJANGO_SETTINGS_MODULE": "mlteam.settings.local",
        "MLTEAM_VAR_DIR": str(var_dir),
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def manage(var_dir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=local_env(var_dir),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- processes, by pid (/proc) ------------------------------------------------------


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent pid, start time) of a process, or None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return fields[0], int(fields[1]), int(fields[19])


def descendants(root: int) -> dict[int, int]:
    """Every process below `root` (children, grandchildren...), pid -> start time."""
    children: dict[int, list[tuple[int, int]]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))):
            children.setdefault(stat[1], []).append((int(entry.name), stat[2]))
    found: dict[int, int] = {}
    todo = [root]
    while todo:
        for pid, started in children.get(todo.pop(), []):
            if pid not in found:
                found[pid] = started
                todo.append(pid)
    return found


def running(pid: int, started: int) -> bool:
    """Still running: the same process (same start time), not a zombie."""
    stat = _stat(pid)
    return stat is not None and stat[2] == started and stat[0] not in "ZXx"


# --- the runner ---------------------------------------------------------------------


@dataclass
class Runner:
    process: subprocess.Popen
    port: int
    var_dir: Path
    log: Path
    seen: dict[int, int] = field(default_factory=dict)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, pattern: str, timeout: float) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if match := re.search(pattern, self.output()):
                return match
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        pytest.fail(f"no {pattern!r} from the runner; its output:\n{self.output()[-4000:]}")

    def wait_until_serving(self) -> None:
        """Web answers /healthz, the worker is ready and beat has started."""
        deadline = time.monotonic() + START_TIMEOUT
        self.wait_for(r"celery@\S+ ready\.", START_TIMEOUT)
        self.wait_for(r"beat: Starting", max(1.0, deadline - time.monotonic()))
        while time.monotonic() < deadline:
            try:
                with urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail(f"web never answered; runner output:\n{self.output()[-4000:]}")
        self.seen.update(descendants(self.process.pid))
        # web (with runserver's reloaded child), worker (with its pool) and beat
        assert len(self.seen) >= 5, self.seen


@pytest.fixture(scope="module")
def seeded_database(tmp_path_factory) -> Path:
    """A migrated, seeded SQLite database, built once and copied for each runner."""
    require(Path("/proc/self/stat").exists(), "/proc, to find the runner's processes by pid")
    var_dir = tmp_path_factory.mktemp("seeded")
    manage(var_dir, "migrate", "--verbosity=0")
    manage(var_dir, "seed_demo")
    return var_dir / "db.sqlite3"


def _stop_signals_as_from_a_terminal() -> None:
    """In the runner's process before it starts: the stop signals at their default,
    as a terminal leaves them. What is under test is the runner's own handling, not
    what this test run inherited (a job started with nohup or `&` ignores SIGHUP
    and SIGINT, and the runner keeps ignoring what it was started ignoring)."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)


@pytest.fixture
def start_runner(tmp_path, seeded_database):
    started: list[Runner] = []

    def start(**extra_env: str) -> Runner:
        var_dir = tmp_path / f"var{len(started)}"
        var_dir.mkdir()
        shutil.copy(seeded_database, var_dir / "db.sqlite3")
        port = free_port()
        log = tmp_path / f"runner{len(started)}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "manage.py", "run_local", "--port", str(port)],
                cwd=settings.BASE_DIR,
                env=local_env(var_dir, **extra_env),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_stop_signals_as_from_a_terminal,
            )
        runner = Runner(process=process, port=port, var_dir=var_dir, log=log)
        started.append(runner)
        runner.wait_until_serving()
        return runner

    yield start
    # Whatever a test left behind (a failing stop, a failed assertion) dies here.
    for runner in started:
        leftovers = {**runner.seen, **descendants(runner.process.pid)}
        for pid, begun in leftovers.items():
            if running(pid, begun):
                os.kill(pid, signal.SIGKILL)
        if runner.process.poll() is None:
            os.killpg(runner.process.pid, signal.SIGKILL)
        runner.process.wait(timeout=30)


# --- item 2: links in emails reach the port the runner serves --------------------------


def sweep_until_a_digest_is_sent(runner: Runner) -> None:
    """The real path: a sweep through the broker; the worker builds and sends the
    digests. Waits for one sent (True), not one that found nothing left (False)."""
    subprocess.run(
        [sys.executable, "-m", "celery", "-A", "mlteam", "call", "deliverables.reminder_sweep"],
        cwd=settings.BASE_DIR,
        env=local_env(runner.var_dir),
        capture_output=True,
        timeout=120,
        check=True,
    )
    runner.wait_for(r"Task deliverables\.send_digest\[\S+\] succeeded in \S+: True", 120)


def test_digest_links_reach_the_product_on_the_port_make_run_serves(start_runner):
    runner = start_runner()
    sweep_until_a_digest_is_sent(runner)
    links = sorted(set(re.findall(r'href="(https?://[^"]+)"', runner.output())))
    assert links, runner.output()[-4000:]

    for link in links:
        try:
            with urlopen(link, timeout=10) as response:  # noqa: S310 (our own http link)
                landed = response.url
                page = response.read().decode()
        except OSError as error:
            pytest.fail(f"{link} from a digest does not reach the runner on {runner.port}: {error}")
        # Signed out, the product answers with its sign-in page for the linked page.
        assert urlsplit(landed).netloc == f"127.0.0.1:{runner.port}", (link, landed)
        assert parse_qs(urlsplit(landed).query)["next"] == [urlsplit(link).path], (link, landed)
        assert 'name="password"' in page


def test_send_reminders_beside_make_run_links_to_the_port_it_serves(start_runner):
    """`send_reminders` run in another shell, as the README says, sends digests
    whose links lead to the running site, not to the default port."""
    runner = start_runner()
    # A day of its own (a Wednesday a week ahead, midday), so that beat's own sweeps
    # for today cannot have sent these digests first.
    day = date.today() + timedelta(days=7)
    day += timedelta(days=(2 - day.weekday()) % 7)
    moment = f"{day.isoformat()}T12:00+00:00"
    sent = manage(runner.var_dir, "send_reminders", "--now", moment).stdout
    links = set(re.findall(r'href="(https?://[^"]+)"', sent))
    assert links, sent[-4000:]
    assert {urlsplit(link).netloc for link in links} == {f"127.0.0.1:{runner.port}"}


def test_a_digest_link_opens_the_linked_page_in_a_browser(start_runner, page):
    """A person reads their digest, clicks a link, signs in, and lands on the page it
    named, on the port `make run` serves (the issue's browser check of item 2)."""
    runner = start_runner()
    sweep_until_a_digest_is_sent(runner)
    # The console backend prints each email whole: take one digest, its recipient and
    # the first link of its HTML part.
    email = next(
        message
        for message in re.split(r"\n-{79}\n", runner.output())
        if 'href="http' in message and re.search(r"^To: ", message, re.MULTILINE)
    )
    recipient = re.search(r"^To: (\S+)@example\.com", email, re.MULTILINE).group(1)
    link = re.search(r'href="(https?://[^"]+)"', email).group(1)

    page.goto(link)
    assert urlsplit(page.url).netloc == f"127.0.0.1:{runner.port}", page.url
    page.get_by_label("Username").fill(recipient)
    page.get_by_label("Password").fill("mlteam-demo")  # the demo's published password
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    landed = urlsplit(page.url)
    assert (landed.netloc, landed.path) == (f"127.0.0.1:{runner.port}", urlsplit(link).path)
    assert page.locator('input[name="password"]').count() == 0  # signed in, not sent back


# --- issue 16, part 7: make run shows the product's pages, not Django's debug pages ----


def _fetch(url: str) -> tuple[int, str, dict[str, str]]:
    from urllib.error import HTTPError

    try:
        with urlopen(url, timeout=10) as response:  # noqa: S310 (our own http link)
            return response.status, response.read().decode(), dict(response.headers)
    except HTTPError as error:
        return error.code, error.read().decode(), dict(error.headers)


def test_an_unknown_address_under_make_run_shows_the_products_404_page(start_runner):
    """DEBUG is off under make run: no page listing every URL pattern; the static
    files the page links to are still served (WhiteNoise, from the finders)."""
    runner = start_runner()
    base = f"http://127.0.0.1:{runner.port}"

    status, page, _headers = _fetch(f"{base}/no/such/page/")
    assert status == 404
    assert "Page not found" in page
    assert "URLconf" not in page and "DEBUG = True" not in page
    stylesheets = re.findall(r'<link rel="stylesheet" href="(/static/[^"]+)"', page)
    assert stylesheets
    for stylesheet in stylesheets:
        status, _css, headers = _fetch(base + stylesheet)
        assert status == 200, stylesheet
        assert headers["Content-Type"].startswith("text/css")


# --- item 19: every way of stopping ends web, worker and beat ---------------------------


@pytest.mark.parametrize(
    "signals",
    [
        pytest.param([signal.SIGTERM], id="SIGTERM to the group"),
        pytest.param([signal.SIGINT, signal.SIGINT], id="Ctrl-C twice"),
        pytest.param([signal.SIGTERM, signal.SIGINT], id="SIGTERM, then Ctrl-C while stopping"),
        pytest.param([signal.SIGHUP], id="SIGHUP"),
        pytest.param([signal.SIGHUP, signal.SIGTERM], id="SIGHUP, then SIGTERM while stopping"),
    ],
)
def test_stopping_the_runner_ends_web_worker_and_beat(start_runner, signals):
    runner = start_runner()
    first, *more = signals
    os.killpg(runner.process.pid, first)
    if more:
        # Right after stopping began: the moment the old stop routine was interrupted.
        runner.wait_for("Stopping web, worker and beat", 30)
        for sig in more:
            os.killpg(runner.process.pid, sig)
    try:
        runner.process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the runner did not exit; its output:\n{runner.output()[-4000:]}")
    survivors = {pid for pid, begun in runner.seen.items() if running(pid, begun)}
    assert not survivors, f"still running after the runner exited: {survivors}"
    assert "Traceback" not in runner.output(), runner.output()[-4000:]
