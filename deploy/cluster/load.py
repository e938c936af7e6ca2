"""The harness's load: people using MLTeam through the balancer and through each
web process directly, and the checks made as they go.

Per project, for the given time:
- a member thread moves the members' work along (start, send for review, withdraw)
  and, after each move, reads the member's home dashboard through another process:
  the move must show there at once (the dashboards are cached in Redis, so a
  process that missed a cache version bump would show the old status);
- a manager thread changes team members' allocations and checks each on the
  member's home through another process; reads the portfolio dashboard and the
  project page through the balancer; and now and then opens one deliverable's edit
  form in two sessions, saves both at once through two processes, and checks that
  exactly one save wins and the other is refused as stale;
- extra threads, if any, read dashboards through the balancer.
Sessions are checked at sign-in on every process. Every answer is timed by page kind.
"""

from __future__ import annotations

import faulthandler
import random
import re
import statistics
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests

from tests.html_forms import form_data, page_forms

MAX_FAILURES_KEPT = 40
SIGN_IN_KINDS = {"sign-in", "session check"}  # before the load starts
REQUEST_TIMEOUT = 30  # seconds to connect, and between bytes of the answer
IDLE_CLOSE = 10  # seconds; below the web processes' keep-alive (harness.py)


@dataclass
class Figures:
    """What the run measured, shared by the load threads."""

    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter = field(default_factory=Counter)
    server_errors: Counter = field(default_factory=Counter)
    transport_errors: Counter = field(default_factory=Counter)
    checks: Counter = field(default_factory=Counter)
    deliveries: dict[str, int] = field(default_factory=dict)
    duplicates: dict[str, int] = field(default_factory=dict)
    contested_winner: dict[int, str] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    load_seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, seconds: float, status: int) -> None:
        with self.lock:
            self.times[kind].append(seconds)
            self.statuses[status] += 1
            if status >= 500:
                self.server_errors[kind] += 1

    def count(self, check: str, n: int = 1) -> None:
        with self.lock:
            self.checks[check] += n

    def fail(self, message: str) -> None:
        with self.lock:
            if len(self.failures) < MAX_FAILURES_KEPT:
                self.failures.append(message)
            elif len(self.failures) == MAX_FAILURES_KEPT:
                self.failures.append("(more failures left out)")

    def table(self) -> str:
        requests_total = sum(len(times) for times in self.times.values())
        during_load = sum(
            len(times) for kind, times in self.times.items() if kind not in SIGN_IN_KINDS
        )
        rate = during_load / self.load_seconds if self.load_seconds else 0.0
        lines = [
            f"requests {requests_total} ({rate:.1f}/s during the load, sign-ins aside), "
            f"5xx {sum(self.server_errors.values())}, "
            f"transport errors {sum(self.transport_errors.values())}, "
            f"statuses {dict(sorted(self.statuses.items()))}",
            "",
            f"{'page kind':<22}{'requests':>9}{'5xx':>6}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}",
        ]
        for kind in sorted(self.times):
            times = sorted(self.times[kind])
            p50 = statistics.median(times) * 1000
            p95 = times[min(len(times) - 1, int(len(times) * 0.95))] * 1000
            lines.append(
                f"{kind:<22}{len(times):>9}{self.server_errors[kind]:>6}"
                f"{p50:>9.0f}{p95:>9.0f}{times[-1] * 1000:>9.0f}"
            )
        lines += ["", f"{'checks':<36}{'count':>8}"]
        lines += [f"{check:<36}{n:>8}" for check, n in sorted(self.checks.items())]
        lines += ["", f"{'deliveries':<22}{'received':>9}{'duplicates':>11}"]
        lines += [
            f"{kind:<22}{n:>9}{self.duplicates.get(kind, 0):>11}"
            for kind, n in sorted(self.deliveries.items())
        ]
        return "\n".join(lines)


class Browser:
    """One person's session, sent by hand: the production cookies are Secure and
    __Host- prefixed (HAProxy stands in for TLS), which a cookie jar would not send
    over http. Writes carry the CSRF cookie's secret, as Django accepts."""

    def __init__(self, figures: Figures, username: str):
        self.figures = figures
        self.username = username
        self.cookies: dict[str, str] = {}
        self.http = requests.Session()
        self.last_used = 0.0

    def request(self, method: str, url: str, kind: str, data=None) -> requests.Response | None:
        origin = f"https://{urlsplit(url).netloc}"
        headers = {"X-Forwarded-Proto": "https", "Origin": origin, "Referer": f"{origin}/"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if method == "POST":
            headers["X-CSRFToken"] = self.cookies.get("__Host-csrftoken", "")
        started = time.monotonic()
        if started - self.last_used > IDLE_CLOSE:
            # A browser drops idle connections before the server does: one the
            # server closed as this request went out would fail for no fault of
            # the site (gunicorn keeps them --keep-alive seconds).
            self.http.close()
        self.last_used = started
        try:
            response = self.http.request(
                method,
                url,
                data=data,
                headers=headers,
                allow_redirects=False,
                timeout=REQUEST_TIMEOUT,
            )
        except requests.RequestException as error:
            with self.figures.lock:
                self.figures.transport_errors[kind] += 1
            self.figures.fail(f"{kind}: {method} {url}: {error.__class__.__name__}")
            return None
        self.figures.record(kind, time.monotonic() - started, response.status_code)
        for cookie in response.cookies:
            if cookie.value:
                self.cookies[cookie.name] = cookie.value
            else:
                self.cookies.pop(cookie.name, None)
        self.http.cookies.clear()
        if response.status_code >= 500:
            self.figures.fail(f"{kind}: {method} {urlsplit(url).path}: {response.status_code}")
        return response

    def get(self, url: str, kind: str) -> requests.Response | None:
        """A page this person may read: anything but 200 (a redirect to sign in,
        a 404) is a failure of the run."""
        response = self.request("GET", url, kind)
        if response is not None and response.status_code != 200:
            self.figures.fail(
                f"{kind}: GET {urlsplit(url).path} as {self.username}: {response.status_code}"
            )
        return response

    def post(self, url: str, kind: str, data) -> requests.Response | None:
        return self.request("POST", url, kind, data=data)

    def sign_in(self, balancer: str, backends: list[str], password: str) -> bool:
        page = self.get(f"{balancer}/accounts/login/", "sign-in")
        if page is None or page.status_code != 200:
            self.figures.fail(f"sign-in page for {self.username}: {page and page.status_code}")
            return False
        data = form_data(page.text, action="/accounts/login/")
        data.update(login=[self.username], password=[password])
        answer = self.post(f"{balancer}/accounts/login/", "sign-in", data)
        if answer is None or answer.status_code != 302:
            self.figures.fail(f"{self.username} could not sign in: {answer and answer.status_code}")
            return False
        # The session is good on every process, whichever one made it.
        for backend in backends:
            home = self.get(f"{backend}/", "session check")
            if home is not None and home.status_code == 200:
                self.figures.count("session valid on a process")
            else:
                self.figures.fail(
                    f"{self.username}'s session was refused by {backend}: "
                    f"{home and home.status_code}"
                )
        return True


# --- reading the home dashboard -----------------------------------------------------------

_HOME_ITEM = re.compile(
    r'href="/deliverables/(\d+)/">.*?<span class="badge status-([a-z_]+)">', re.DOTALL
)


def home_statuses(html: str) -> dict[int, str]:
    """The status each deliverable on a member's home dashboard shows."""
    return {int(pk): status for pk, status in _HOME_ITEM.findall(html)}


def home_allocation(html: str, project_id: int) -> int | None:
    """The allocation a member's home dashboard shows for their role on a project."""
    found = re.search(
        rf'href="/projects/{project_id}/">[^<]*</a></span></span>\s*'
        r'<span class="small">(\d+)%</span>',
        html,
    )
    return int(found.group(1)) if found else None


def _form_with(html: str, name: str) -> dict[str, list[str]] | None:
    """The entries of the POST form holding a control called `name` (with its CSRF)."""
    for form in page_forms(html):
        if str(form["attrs"].get("method", "")).lower() != "post":
            continue
        if any(control.get("name") == name for control in form["controls"]):
            action = form["attrs"].get("action")
            try:
                return form_data(html, action=action or None)
            except AssertionError:
                return form_data(html, form_id=form["attrs"].get("id"))
    return None


# --- the people ------------------------------------------------------------------------


class Run:
    """The people's threads, until `deadline` (time.monotonic())."""

    def __init__(self, figures, balancer, backends, seeded, deadline):
        self.figures = figures
        self.balancer = balancer
        self.backends = backends
        self.seeded = seeded
        self.deadline = deadline

    def two_backends(self) -> tuple[str, str]:
        """A process to write through and another one to read through next."""
        first, second = random.sample(self.backends, 2)
        return first, second

    def member_work(self, project: dict, browsers: dict[str, Browser]) -> None:
        """Move each member's first two deliverables (overdue, due soon: both on the
        home dashboard) along, checking each move through another process."""
        turns = [(member, pk) for member in project["members"] for pk in member["work"][:2]]
        n = 0
        while time.monotonic() < self.deadline:
            member, pk = turns[n % len(turns)]
            n += 1
            browser = browsers[member["username"]]
            write, read = self.two_backends()
            page = browser.get(f"{write}/deliverables/{pk}/", "deliverable page")
            if page is None or page.status_code != 200:
                continue
            target = next(
                (
                    status
                    for status in ("in_review", "in_progress")
                    if f'id="status-form-{status}"' in page.text
                ),
                None,
            )
            if target is None:
                self.figures.fail(f"deliverable {pk} offers its owner no move")
                continue
            data = form_data(page.text, form_id=f"status-form-{target}")
            data["to_status"] = [target]
            moved = browser.post(f"{write}/deliverables/{pk}/", "move work", data)
            if moved is None or moved.status_code != 302:
                self.figures.fail(f"moving {pk} to {target}: {moved and moved.status_code}")
                continue
            # Next through another process, then through the balancer (any of them).
            for via in (read, self.balancer):
                home = browser.get(f"{via}/", "home")
                if home is None or home.status_code != 200:
                    continue
                shown = home_statuses(home.text).get(pk)
                if shown == target:
                    self.figures.count("move seen on next read elsewhere")
                else:
                    self.figures.count("STALE read after a move")
                    self.figures.fail(
                        f"deliverable {pk} moved to {target} through {write}; home through "
                        f"{via} shows {shown}"
                    )

    def manager_work(self, project: dict, manager: list[Browser], readers: dict) -> None:
        """Staff, read the dashboards, and every fourth round save one deliverable
        from two sessions at once. `manager`: two sessions of the project's manager;
        `readers`: a session of each member, to read their home with."""
        n = 0
        while time.monotonic() < self.deadline:
            n += 1
            self.staff(project, manager[0], readers)
            for url, kind in (
                ("/dashboard/", "portfolio dashboard"),
                (f"/projects/{project['id']}/", "project page"),
                ("/", "home"),
            ):
                manager[0].get(f"{self.balancer}{url}", kind)
            if n % 4 == 0:
                self.contest(project, manager, n)

    def staff(self, project: dict, browser: Browser, readers: dict) -> None:
        """Change a member's allocation; their home through another process shows it."""
        member = random.choice(project["members"])
        write, read = self.two_backends()
        url = f"/projects/{project['id']}/assignments/{member['assignment']}/edit/"
        page = browser.get(f"{write}{url}", "staffing form")
        if page is None or page.status_code != 200:
            return
        data = _form_with(page.text, "allocation_percent")
        if data is None:
            self.figures.fail(f"no allocation form on {url}")
            return
        current = int((data.get("allocation_percent") or ["0"])[0] or 0)
        allocation = random.choice([n for n in range(5, 65, 5) if n != current])
        data["allocation_percent"] = [str(allocation)]
        saved = browser.post(f"{write}{url}", "staff team", data)
        if saved is None or saved.status_code >= 400:
            self.figures.fail(f"staffing {url}: {saved and saved.status_code}")
            return
        for via in (read, self.balancer):
            home = readers[member["username"]].get(f"{via}/", "home")
            if home is None or home.status_code != 200:
                continue
            shown = home_allocation(home.text, project["id"])
            if shown == allocation:
                self.figures.count("staffing seen on next read elsewhere")
            else:
                self.figures.count("STALE read after staffing")
                self.figures.fail(
                    f"{member['username']}'s allocation set to {allocation}% through {write}; "
                    f"home through {via} shows {shown}"
                )

    def contest(self, project: dict, manager: list[Browser], n: int) -> None:
        """Two sessions open the same edit form, then both save at once through two
        processes: one save must win, the other must be refused as stale."""
        pk = project["contested"]
        url = f"/deliverables/{pk}/edit/"
        first, second, third = random.sample(self.backends, 3)
        forms = []
        for browser, backend in ((manager[0], first), (manager[1], second)):
            page = browser.get(f"{backend}{url}", "edit form")
            if page is None or page.status_code != 200:
                return
            forms.append(form_data(page.text))
        titles = [f"Contested {project['id']} round {n} {side}" for side in "AB"]
        answers: list = [None, None]

        def save(i: int, browser: Browser, backend: str) -> None:
            data = dict(forms[i], title=[titles[i]])
            answers[i] = browser.post(f"{backend}{url}", "conflicting save", data)

        threads = [
            threading.Thread(target=save, args=(0, manager[0], first)),
            threading.Thread(target=save, args=(1, manager[1], second)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        codes = sorted(answer.status_code if answer is not None else 0 for answer in answers)
        if codes != [302, 409]:
            self.figures.count("LOST UPDATE or wrong answer")
            self.figures.fail(f"two saves of deliverable {pk} from one version answered {codes}")
            return
        winner = titles[0] if answers[0].status_code == 302 else titles[1]
        loser = answers[0] if answers[0].status_code == 409 else answers[1]
        if "while you were editing" not in loser.text:
            self.figures.fail(f"the refused save of {pk} does not say it was changed meanwhile")
        with self.figures.lock:
            self.figures.contested_winner[pk] = winner
        page = manager[0].get(f"{third}/deliverables/{pk}/", "deliverable page")
        if page is not None and winner in page.text:
            self.figures.count("conflict: one save won, one refused")
        else:
            self.figures.count("LOST UPDATE or wrong answer")
            self.figures.fail(f"deliverable {pk} does not show the winning title {winner!r}")

    def reader(self, browser: Browser) -> None:
        project_ids = [project["id"] for project in self.seeded["projects"]]
        while time.monotonic() < self.deadline:
            browser.get(f"{self.balancer}/dashboard/", "portfolio dashboard")
            browser.get(f"{self.balancer}/projects/{random.choice(project_ids)}/", "project page")


def run_load(
    *,
    figures: Figures,
    balancer: str,
    backends: list[str],
    seeded: dict,
    password: str,
    seconds: int,
    threads: int,
) -> None:
    def signed_in(username: str) -> Browser:
        browser = Browser(figures, username)
        browser.sign_in(balancer, backends, password)
        return browser

    projects = seeded["projects"]
    run = Run(figures, balancer, backends, seeded, deadline=0)
    # Sessions first (in parallel: each sign-in hashes a password), then the load.
    with ThreadPoolExecutor(max_workers=threads) as pool:

        def sessions(usernames: list[str]) -> list[Browser]:
            return list(pool.map(signed_in, usernames))

        jobs = []
        for project in projects:
            names = [member["username"] for member in project["members"]]
            members = dict(zip(names, sessions(names), strict=True))
            readers = dict(zip(names, sessions(names), strict=True))
            manager = sessions([project["manager"]] * 2)
            jobs.append((run.member_work, (project, members)))
            jobs.append((run.manager_work, (project, manager, readers)))
        extra = max(0, threads - len(jobs))
        for browser in sessions([projects[n % len(projects)]["manager"] for n in range(extra)]):
            jobs.append((run.reader, (browser,)))
    run.deadline = time.monotonic() + seconds

    def guarded(job, *args) -> None:
        try:
            job(*args)
        except Exception as error:  # a broken page or check: a failure, not a hang
            figures.fail(f"{job.__name__} stopped: {error!r}")
            raise

    workers = [
        threading.Thread(target=guarded, args=(job, *args), daemon=True) for job, args in jobs
    ]
    for worker in workers:
        worker.start()
    # A request may take up to its timeout after the deadline; nothing longer.
    give_up = run.deadline + REQUEST_TIMEOUT * 3
    for worker in workers:
        worker.join(timeout=max(0, give_up - time.monotonic()))
    figures.load_seconds = time.monotonic() - (run.deadline - seconds)
    stuck = [worker for worker in workers if worker.is_alive()]
    if stuck:
        faulthandler.dump_traceback(all_threads=True)
        figures.fail(
            f"{len(stuck)} load thread(s) still busy {REQUEST_TIMEOUT * 3} s after the end"
        )
