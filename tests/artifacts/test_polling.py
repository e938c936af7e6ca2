"""Polling against real local servers imitating MLflow, GitHub, GitLab and Airflow:
answers read into states, errors (401, rate limits, timeouts, malformed, 404)
recorded, the version-change signal, and one poll per link however many workers."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from deliverables.artifacts import services
from deliverables.artifacts.models import ArtifactState, ArtifactSystem, ErrorKind
from deliverables.signals import model_version_changed
from tests.artifacts import servers
from tests.artifacts.helpers import later, link, poll_all, state_of, system

pytestmark = pytest.mark.django_db

SHA = "9fceb02d0ae598e95dc970b74767f19372d61af8"
MLFLOW_ALIAS = "/api/2.0/mlflow/registered-models/alias"
MLFLOW_VERSION = "/api/2.0/mlflow/model-versions/get"
REPO = "/repos/octo/forecast"


@pytest.fixture
def signals_seen():
    seen = []

    def receiver(sender, **kwargs):
        seen.append((kwargs["deliverable"].pk, kwargs["old"], kwargs["new"]))

    model_version_changed.connect(receiver)
    yield seen
    model_version_changed.disconnect(receiver)


def test_nothing_is_polled_without_a_system(work, fake):
    link(work.deliverable, work.world.people["member"], "models:/churn@production")
    assert poll_all() == []
    assert not ArtifactState.objects.exists()


def test_an_mlflow_alias_reports_its_version_and_signals_each_change_once(
    work, fake, signals_seen, django_capture_on_commit_callbacks
):
    mlflow = fake()
    mlflow.answer(MLFLOW_ALIAS, servers.mlflow_model_version("churn", "7", aliases=["production"]))
    system("mlflow", mlflow.url)
    added = link(work.deliverable, work.world.people["member"], "models:/churn@production")
    with django_capture_on_commit_callbacks(execute=True):
        assert len(poll_all()) == 1
    state = state_of(added)
    assert state.status == "success"
    assert state.facts["version"] == "7" and state.facts["alias"] == "production"
    assert mlflow.requests[0].path == f"{MLFLOW_ALIAS}?name=churn&alias=production"
    assert mlflow.requests[0].headers["authorization"] == "Bearer s3cret-token"
    assert signals_seen == [(work.deliverable.pk, None, "7")]

    # Not due again before its interval: nothing asked.
    with django_capture_on_commit_callbacks(execute=True):
        assert poll_all() == []
    assert len(mlflow.requests) == 1
    # Due again, same answer: no signal.
    with django_capture_on_commit_callbacks(execute=True):
        poll_all(later())
    assert len(signals_seen) == 1
    # The alias moves to version 8: one signal.
    mlflow.answer(MLFLOW_ALIAS, servers.mlflow_model_version("churn", "8"))
    with django_capture_on_commit_callbacks(execute=True):
        poll_all(later(25))
    assert signals_seen == [(work.deliverable.pk, None, "7"), (work.deliverable.pk, "7", "8")]
    assert state_of(added).model_version == "8"


def test_a_model_version_and_an_mlflow_run(work, fake):
    mlflow = fake()
    mlflow.answer(
        MLFLOW_VERSION, servers.mlflow_model_version("fraud", "3", status="FAILED_REGISTRATION")
    )
    run_id = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
    mlflow.answer("/api/2.0/mlflow/runs/get", servers.mlflow_run(run_id, "FAILED"))
    system("mlflow", mlflow.url, link_host="mlflow.internal.example")
    member = work.world.people["member"]
    version = link(
        work.deliverable, member, "https://mlflow.internal.example/#/models/fraud/versions/3"
    )
    run = link(
        work.deliverable, member, f"https://mlflow.internal.example/#/experiments/3/runs/{run_id}"
    )
    other_host = link(
        work.deliverable, member, f"https://mlflow.elsewhere.example/#/experiments/3/runs/{run_id}"
    )
    poll_all()
    assert state_of(version).status == "failure"
    assert state_of(run).status == "failure" and state_of(run).facts["run_state"] == "failed"
    assert not ArtifactState.objects.filter(link=other_host).exists()  # not this system's host


def test_github_pull_request_and_commit_ci(work, fake):
    github = fake()
    head = "a" * 40
    github.answer(f"{REPO}/pulls/815", servers.github_pull(815, head))
    github.answer(
        f"{REPO}/commits/{head}/status",
        servers.github_combined_status(head, "success", [("lint", "success")]),
    )
    github.answer(
        f"{REPO}/commits/{head}/check-runs",
        servers.github_check_runs(
            ("tests", "completed", "success"), ("build", "in_progress", None)
        ),
    )
    github.answer(f"{REPO}/commits/{SHA}/status", servers.github_combined_status(SHA, "pending"))
    github.answer(
        f"{REPO}/commits/{SHA}/check-runs",
        servers.github_check_runs(("tests", "completed", "failure")),
    )
    system("github", github.url, link_host="github.com")
    member = work.world.people["member"]
    pull = link(work.deliverable, member, "https://github.com/octo/forecast/pull/815")
    commit = link(work.deliverable, member, f"https://github.com/octo/forecast/commit/{SHA}")
    poll_all()
    assert state_of(pull).status == "running"
    assert state_of(pull).facts == {"pr_state": "open", "ci": "pending", "sha": head[:12]}
    assert state_of(commit).status == "failure" and state_of(commit).facts["ci"] == "failure"
    assert github.requests[0].headers["accept"] == "application/vnd.github+json"


def test_gitlab_merge_request_pipeline(work, fake):
    gitlab = fake()
    gitlab.answer(
        "/api/v4/projects/data%2Fetl/merge_requests/9",
        {"iid": 9, "state": "opened", "sha": SHA, "head_pipeline": {"id": 1, "status": "failed"}},
    )
    system("gitlab", gitlab.url)
    added = link(
        work.deliverable,
        work.world.people["member"],
        "https://gitlab.com/data/etl/-/merge_requests/9",
    )
    poll_all()
    assert state_of(added).status == "failure"
    assert gitlab.requests[0].headers["private-token"] == "s3cret-token"


def test_airflow_latest_run_and_a_named_run(work, fake):
    airflow = fake()
    airflow.answer(
        "/api/v1/dags/nightly_scores/dagRuns",
        {
            "dag_runs": [servers.airflow_dag_run("nightly_scores", "scheduled__1", "failed")],
            "total_entries": 40,
        },
    )
    airflow.answer(
        "/api/v1/dags/nightly_scores/dagRuns/manual__2",
        servers.airflow_dag_run("nightly_scores", "manual__2", "success"),
    )
    system("airflow", airflow.url, token="reader:pa55")
    member = work.world.people["member"]
    latest = link(work.deliverable, member, "https://airflow.example.org/dags/nightly_scores/grid")
    named = link(
        work.deliverable,
        member,
        "https://airflow.example.org/dags/nightly_scores/grid?dag_run_id=manual__2",
    )
    poll_all()
    assert state_of(latest).status == "failure"
    assert state_of(latest).facts["run_state"] == "failed"
    assert state_of(latest).facts["at"] == "2026-12-01T00:35:00+00:00"
    assert state_of(named).status == "success"
    assert any(
        seen.path == "/api/v1/dags/nightly_scores/dagRuns?order_by=-execution_date&limit=1"
        for seen in airflow.requests
    )
    assert airflow.requests[0].headers["authorization"].startswith("Basic ")


def test_a_401_is_recorded_on_the_link_and_the_system_and_the_last_state_kept(work, fake):
    mlflow = fake()
    mlflow.answer(MLFLOW_ALIAS, servers.mlflow_model_version("churn", "7"))
    source = system("mlflow", mlflow.url)
    added = link(work.deliverable, work.world.people["member"], "models:/churn@production")
    poll_all()
    mlflow.answer(MLFLOW_ALIAS, {"error_code": "UNAUTHENTICATED"}, status=401)
    poll_all(later())
    state = state_of(added)
    assert state.error == ErrorKind.UNAUTHORIZED and state.status == "success"
    assert state.facts["version"] == "7"
    source.refresh_from_db()
    assert source.last_error == ErrorKind.UNAUTHORIZED


@pytest.mark.parametrize(
    "headers",
    [
        {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": None},
        {"Retry-After": "900"},
    ],
    ids=["x-ratelimit-reset", "retry-after"],
)
def test_a_rate_limit_holds_every_poll_of_the_system_until_it_resets(work, fake, headers):
    github = fake()
    reset = timezone.now() + timedelta(minutes=15)
    headers = {
        name: (str(int(reset.timestamp())) if value is None else value)
        for name, value in headers.items()
    }
    github.answer(
        f"{REPO}/commits/{SHA}/status",
        {"message": "API rate limit exceeded", "documentation_url": "https://docs.github.com"},
        status=403,
        headers=headers,
    )
    source = system("github", github.url)
    member = work.world.people["member"]
    first = link(work.deliverable, member, f"https://github.com/octo/forecast/commit/{SHA}")
    poll_all()
    assert state_of(first).error == ErrorKind.RATE_LIMITED
    source.refresh_from_db()
    assert abs((source.backoff_until - reset).total_seconds()) < 5
    asked = len(github.requests)
    # A new link and the next ticks: nothing is sent before the reset.
    link(work.deliverable, member, "https://github.com/octo/forecast/pull/2")
    assert poll_all(later(11)) == []
    assert len(github.requests) == asked
    assert state_of(first).next_poll_at >= source.backoff_until - timedelta(seconds=1)
    assert len(poll_all(reset + timedelta(minutes=1))) == 2  # after it, both are polled


def test_a_429_is_a_rate_limit_too(work, fake):
    mlflow = fake()
    mlflow.answer(MLFLOW_ALIAS, {"error_code": "REQUEST_LIMIT_EXCEEDED"}, status=429)
    system("mlflow", mlflow.url)
    added = link(work.deliverable, work.world.people["member"], "models:/churn@production")
    poll_all()
    assert state_of(added).error == ErrorKind.RATE_LIMITED


def test_a_system_that_never_answers_times_out_quickly(work, fake):
    airflow = fake()
    airflow.answer("/api/v1/dags/nightly_scores/dagRuns", ("hang", 15))
    system("airflow", airflow.url)
    added = link(
        work.deliverable,
        work.world.people["member"],
        "https://airflow.example.org/dags/nightly_scores",
    )
    started = time.monotonic()
    poll_all()
    # The client's timeout (1 s here), not the server's 15 s; room for a busy machine.
    assert time.monotonic() - started < 6
    assert state_of(added).error == ErrorKind.TIMEOUT


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        (("raw", b"<html>proxy error</html>"), 200, ErrorKind.MALFORMED),
        ({"unexpected": True}, 200, ErrorKind.MALFORMED),
        ({"error_code": "RESOURCE_DOES_NOT_EXIST"}, 404, ErrorKind.NOT_FOUND),
        ({"error_code": "INTERNAL_ERROR"}, 500, ErrorKind.SERVER_ERROR),
    ],
    ids=["not-json", "wrong-shape", "404", "500"],
)
def test_bad_answers_are_recorded_not_raised(work, fake, body, status, error):
    mlflow = fake()
    mlflow.answer(MLFLOW_ALIAS, body, status=status)
    system("mlflow", mlflow.url)
    added = link(work.deliverable, work.world.people["member"], "models:/churn@production")
    poll_all()
    state = state_of(added)
    assert state.error == error and state.status == ""
    assert state.claimed_until is None and state.next_poll_at > timezone.now()


def test_an_unreachable_system(work):
    system("mlflow", "http://127.0.0.1:9")  # the discard port: nothing listens
    added = link(work.deliverable, work.world.people["member"], "models:/churn@production")
    poll_all()
    assert state_of(added).error == ErrorKind.UNREACHABLE


def test_the_token_never_reaches_the_log_or_the_state(work, fake, caplog):
    mlflow = fake()
    mlflow.answer(MLFLOW_ALIAS, {"error_code": "UNAUTHENTICATED"}, status=401)
    source = system("mlflow", mlflow.url, token="tok-do-not-leak")
    link(work.deliverable, work.world.people["member"], "models:/churn@production")
    poll_all()
    assert "tok-do-not-leak" not in caplog.text
    assert "tok-do-not-leak" not in repr(source)
    assert "tok-do-not-leak" not in str(list(ArtifactState.objects.values()))


def test_archived_projects_and_inactive_systems_are_not_polled(work, fake):
    from roles.services import project_archive

    mlflow = fake()
    mlflow.answer(MLFLOW_ALIAS, servers.mlflow_model_version("churn", "7"))
    source = system("mlflow", mlflow.url)
    link(work.deliverable, work.world.people["member"], "models:/churn@production")
    services.artifact_system_update(system=source, version=None, active=False)
    assert poll_all() == []
    services.artifact_system_update(system=ArtifactSystem.objects.get(), version=None, active=True)
    project_archive(project=work.world.project, actor=work.world.people["manager"], version=None)
    assert poll_all() == []
    assert mlflow.requests == []


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_polling_the_same_link_ask_the_system_once(work, fake):
    github = fake()
    github.answer(
        f"{REPO}/commits/{SHA}/status",
        servers.github_combined_status(SHA, "success", [("ci", "success")]),
    )
    github.answer(
        f"{REPO}/commits/{SHA}/check-runs",
        servers.github_check_runs(("tests", "completed", "success")),
    )
    system("github", github.url)
    added = link(
        work.deliverable,
        work.world.people["member"],
        f"https://github.com/octo/forecast/commit/{SHA}",
    )
    (state_id,) = services.artifacts_sweep()
    barrier = threading.Barrier(2)
    results = []

    def worker():
        from django.db import connection

        barrier.wait()
        try:
            results.append(services.artifact_poll(state_id=state_id))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(results) == [False, True]
    assert len(github.requests) == 2  # one poll: the combined status and the check runs
    assert state_of(added).status == "success" and state_of(added).version == 2


def test_the_tasks_route_to_the_polling_queue_and_beat_schedules_the_sweep(db):
    from django_celery_beat.models import PeriodicTask

    from deliverables.artifacts import tasks
    from mlteam.celery import app

    for task in (tasks.artifact_poll, tasks.artifacts_sweep):
        assert app.amqp.router.route({}, task.name)["queue"].name == "polling"
    assert PeriodicTask.objects.filter(task="polling.artifacts_sweep", enabled=True).exists()


def test_the_sweep_task_hands_due_links_to_polls(work, fake, settings):
    from deliverables.artifacts import tasks

    settings.CELERY_TASK_ALWAYS_EAGER = True
    mlflow = fake()
    mlflow.answer(MLFLOW_ALIAS, servers.mlflow_model_version("churn", "7"))
    system("mlflow", mlflow.url)
    added = link(work.deliverable, work.world.people["member"], "models:/churn@production")
    from mlteam.celery import app

    app.conf.task_always_eager = True
    try:
        assert tasks.artifacts_sweep() == 1
    finally:
        app.conf.task_always_eager = False
    assert state_of(added).status == "success"


def test_a_gitlab_commit_and_a_run_uri_without_a_host(work, fake):
    gitlab, mlflow = fake(), fake()
    gitlab.answer(
        f"/api/v4/projects/data%2Fetl/repository/commits/{SHA[:12]}",
        {"id": SHA, "short_id": SHA[:8], "last_pipeline": {"id": 4, "status": "running"}},
    )
    run_id = "0a1b2c3d4e5f6071"
    mlflow.answer("/api/2.0/mlflow/runs/get", servers.mlflow_run(run_id, "FINISHED"))
    system("gitlab", gitlab.url, link_host="gitlab.com")
    system("mlflow", mlflow.url, link_host="mlflow.internal.example")
    member = work.world.people["member"]
    commit = link(work.deliverable, member, f"https://gitlab.com/data/etl/-/commit/{SHA[:12]}")
    run = link(work.deliverable, member, f"runs:/{run_id}/model")
    poll_all()
    assert state_of(commit).status == "running" and state_of(commit).facts["ci"] == "running"
    # runs:/ names no host: any MLflow system serves it.
    assert state_of(run).status == "success"
    assert mlflow.requests[0].path == f"/api/2.0/mlflow/runs/get?run_id={run_id}"


def test_a_claim_whose_worker_died_is_taken_over_when_its_lease_ends(work, fake, settings):
    mlflow = fake()
    mlflow.answer(MLFLOW_ALIAS, servers.mlflow_model_version("churn", "7"))
    system("mlflow", mlflow.url)
    added = link(work.deliverable, work.world.people["member"], "models:/churn@production")
    now = timezone.now()
    (state_id,) = services.artifacts_sweep(now=now)
    assert services._claim(state_id, now) is not None  # a worker took it, then died
    assert services.artifact_poll(state_id=state_id, now=now) is False
    assert services.artifacts_sweep(now=now) == []
    after_lease = now + timedelta(seconds=settings.ARTIFACT_POLL_LEASE_SECONDS + 1)
    assert services.artifacts_sweep(now=after_lease) == [state_id]
    assert services.artifact_poll(state_id=state_id, now=after_lease) is True
    assert state_of(added).status == "success" and state_of(added).claimed_until is None


def test_removing_a_link_removes_its_state(work, fake):
    from deliverables.services import link_remove

    mlflow = fake()
    mlflow.answer(MLFLOW_ALIAS, servers.mlflow_model_version("churn", "7"))
    system("mlflow", mlflow.url)
    added = link(work.deliverable, work.world.people["member"], "models:/churn@production")
    poll_all()
    link_remove(link=added, actor=work.world.people["member"])
    assert not ArtifactState.objects.exists()


def test_a_system_with_scopes_polls_only_what_they_list(work, fake):
    """An organisation's token can read repositories a member cannot open: with
    scopes listed, a link to anything else is never sent to the system, so its
    state cannot be learned through the token. Changing the scopes matches the
    links again at the next sweep."""
    github = fake()
    github.answer(f"{REPO}/commits/{SHA}/status", servers.github_combined_status(SHA, "success"))
    github.answer(
        f"{REPO}/commits/{SHA}/check-runs",
        servers.github_check_runs(("tests", "completed", "success")),
    )
    source = system("github", github.url, link_host="github.com", scopes="  Octo/*\n\nacme/churn ")
    assert source.scopes == "octo/*\nacme/churn"  # trimmed, lower-cased
    member = work.world.people["member"]
    listed = link(work.deliverable, member, f"https://github.com/octo/forecast/commit/{SHA}")
    private = link(work.deliverable, member, f"https://github.com/secret-org/vault/commit/{SHA}")
    poll_all()
    assert state_of(listed).status == "success"
    assert not ArtifactState.objects.filter(link=private).exists()
    assert all("/secret-org/" not in request.path for request in github.requests)
    # The deliverable page says the unlisted link is not polled.
    from deliverables.artifacts.selectors import link_statuses

    shown = link_statuses(user=member, deliverable=work.deliverable, links=[listed, private])
    assert shown[listed.pk].polled and not shown[private.pk].polled

    # The admin's form sends the same scopes with \r\n line breaks: no change, the
    # states stay (a rename alone does not send every link to be polled afresh).
    source = services.artifact_system_update(
        system=source, version=source.version, name="GitHub", scopes="octo/*\r\nacme/churn\r\n"
    )
    assert ArtifactState.objects.filter(link=listed).exists()
    services.artifact_system_update(system=source, version=source.version, scopes="acme/*")
    poll_all(later())
    assert not ArtifactState.objects.filter(link__in=[listed, private]).exists()
    assert all("/secret-org/" not in request.path for request in github.requests)


@pytest.mark.parametrize(
    ("scopes", "target", "served"),
    [
        ("", {"owner": "any", "repo": "thing"}, True),
        ("octo/*", {"owner": "Octo", "repo": "forecast"}, True),
        ("octo/forecast", {"owner": "octo", "repo": "forecast-2"}, False),
        ("data/*", {"project": "data/etl/jobs"}, True),
        ("nightly_*", {"dag_id": "nightly_scores"}, True),
        ("churn", {"name": "churn"}, True),
        ("churn", {"name": "fraud"}, False),
        ("churn", {"run_id": "abc"}, False),  # nothing to match: not polled
    ],
)
def test_scopes_match_the_links_name(scopes, target, served):
    assert ArtifactSystem(kind="github", scopes=scopes).serves(target) is served
