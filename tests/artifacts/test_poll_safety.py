"""The poller as an attacker would try it: an answer that trickles in forever, JSON
nested past the parser's depth, a link whose identifiers climb out of their path, a
base address written to hide a metadata service, a name that resolves to one, and a
link this code did not foresee. Each ends as an error recorded on the link, with its
claim let go, never a stuck worker or the token sent where it should not go."""

from __future__ import annotations

import socket
import time

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from deliverables.artifacts import clients
from deliverables.artifacts.models import ArtifactState, ErrorKind
from deliverables.artifacts.services import artifact_system_create
from deliverables.models import DeliverableLink
from tests.artifacts.helpers import link, poll_all, state_of, system

pytestmark = pytest.mark.django_db

MLFLOW_ALIAS = "/api/2.0/mlflow/registered-models/alias"


def _polled_once_and_released(added, error: str) -> None:
    state = state_of(added)
    assert state.error == error and state.status == ""
    assert state.claimed_until is None and state.claim_token is None
    assert state.next_poll_at > timezone.now()


def test_an_answer_trickling_in_is_cut_at_the_deadline(work, fake):
    mlflow = fake()
    # A byte every 0.5 s (under the 1 s read timeout), for 20 s in all.
    mlflow.answer(MLFLOW_ALIAS, ("trickle", 0.5, 40))
    system("mlflow", mlflow.url)
    added = link(work.deliverable, work.world.people["member"], "models:/churn@production")
    started = time.monotonic()
    poll_all()
    # Twice the 1 s timeout and a last read, with room for a busy machine: far
    # below the 20 s the answer would take.
    assert time.monotonic() - started < 8
    _polled_once_and_released(added, ErrorKind.TIMEOUT)


def test_json_nested_past_the_parser_depth_is_malformed_not_a_crash(work, fake):
    mlflow = fake()
    mlflow.answer(MLFLOW_ALIAS, ("raw", b"[" * 200_000))
    system("mlflow", mlflow.url)
    added = link(work.deliverable, work.world.people["member"], "models:/churn@production")
    poll_all()
    _polled_once_and_released(added, ErrorKind.MALFORMED)


@pytest.mark.parametrize(
    "url",
    [
        "https://airflow.example.org/dags/../grid?dag_run_id=x",
        "https://airflow.example.org/api/v1/dags/nightly/dagRuns/..",
        "https://airflow.example.org/api/v1/dags/nightly/dagRuns/%2E%2E",
    ],
)
def test_identifiers_never_climb_to_another_endpoint(work, fake, url):
    airflow = fake()
    system("airflow", airflow.url)
    added = link(work.deliverable, work.world.people["member"], url, kind="airflow_dag_run")
    poll_all()
    assert airflow.paths() == []  # nothing asked: not /api/v1/dags, not /api/v1/
    _polled_once_and_released(added, ErrorKind.MALFORMED)


@pytest.mark.parametrize(
    "url",
    [
        "http://2852039166/latest",  # 169.254.169.254 as one decimal number
        "http://0251.0376.0251.0376/",  # in octal
        "http://0xa9.0xfe.0xa9.0xfe/",  # in hex
        "http://169.254.169.254./",  # with the root's dot
        "http://[::ffff:169.254.169.254]/",  # IPv4-mapped IPv6
        "http://[fe80::1%25eth0]:8080/",  # with a zone
    ],
)
def test_a_metadata_address_in_disguise_is_refused_at_save(db, url):
    with pytest.raises(ValidationError) as refused:
        artifact_system_create(kind="mlflow", name="MLflow", base_url=url)
    assert "base_url" in refused.value.message_dict


def test_a_name_resolving_to_a_metadata_address_gets_no_request_and_no_token(
    work, fake, monkeypatch
):
    mlflow = fake()
    port = mlflow.url.rsplit(":", 1)[1]
    system("mlflow", f"http://mlflow.internal.test:{port}", token="tok-metadata")
    real = socket.getaddrinfo

    def resolver(host, *args, **kwargs):
        if host == "mlflow.internal.test":  # re-pointed after the system was saved
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", 80))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    added = link(work.deliverable, work.world.people["member"], "models:/churn@production")
    poll_all()
    assert mlflow.requests == []
    _polled_once_and_released(added, ErrorKind.FORBIDDEN_ADDRESS)


def test_a_link_the_code_did_not_foresee_is_recorded_and_let_go(work, fake, caplog):
    github = fake()
    system("github", github.url, token="tok-unforeseen")
    added = link(
        work.deliverable, work.world.people["member"], "https://github.com/octo/forecast/pull/7"
    )
    DeliverableLink.objects.filter(pk=added.pk).update(target={"host": "github.com"})
    poll_all()
    _polled_once_and_released(added, ErrorKind.MALFORMED)
    assert "tok-unforeseen" not in caplog.text
    assert ArtifactState.objects.filter(claim_token__isnull=False).count() == 0


def test_the_link_local_check_reads_every_notation():
    for address in ("169.254.1.1", "2852039166", "0xa9fea9fe", "[fe80::1]", "::ffff:169.254.0.9"):
        assert clients.link_local(address), address
    # AWS's metadata service over IPv6 is a unique local address, not link-local.
    for address in ("fd00:ec2::254", "[fd00:ec2::254]", "[FD00:EC2:0::254]"):
        assert clients.link_local(address), address
    for address in ("10.0.0.5", "127.0.0.1", "mlflow.internal", "[::1]", "8.8.8.8"):
        assert not clients.link_local(address), address


def test_a_poll_stops_before_its_lease_ends(settings):
    limits = settings.CELERY_TASK_ANNOTATIONS["polling.artifact_poll"]
    assert limits["soft_time_limit"] < limits["time_limit"] < settings.ARTIFACT_POLL_LEASE_SECONDS


def test_an_oversized_answer_is_cut_or_refused_never_a_failed_save(work, fake):
    """A version longer than its column was a database error inside the poll's save
    (the claim held, the task failing at every poll); long words are cut."""
    from tests.artifacts import servers

    mlflow = fake()
    answer = servers.mlflow_model_version("churn", "7", aliases=["production"])
    answer["model_version"]["current_stage"] = "S" * 100_000
    mlflow.answer(MLFLOW_ALIAS, answer)
    system("mlflow", mlflow.url)
    added = link(work.deliverable, work.world.people["member"], "models:/churn@production")
    poll_all()
    state = state_of(added)
    assert state.model_version == "7" and len(state.facts["stage"]) == clients.FACT_LIMIT
    answer["model_version"]["version"] = "9" * 41
    mlflow.answer(MLFLOW_ALIAS, answer)
    ArtifactState.objects.update(next_poll_at=timezone.now())
    poll_all()
    state = state_of(added)
    assert state.model_version == "7" and state.error == ErrorKind.MALFORMED
    assert state.claimed_until is None


def test_the_request_goes_to_the_address_checked_not_a_second_lookup(work, fake, monkeypatch):
    """DNS rebinding: a name that answers a harmless address to the check and the
    metadata service right after gets the request at the harmless one."""
    mlflow = fake()
    mlflow.answer(MLFLOW_ALIAS, {"model_version": {"version": "4", "status": "READY"}})
    port = mlflow.url.rsplit(":", 1)[1]
    system("mlflow", f"http://rebinding.test:{port}")
    real = socket.getaddrinfo
    lookups = []

    def resolver(host, *args, **kwargs):
        if host == "rebinding.test":
            lookups.append(host)
            address = "127.0.0.1" if len(lookups) == 1 else "169.254.169.254"
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port)))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    added = link(work.deliverable, work.world.people["member"], "models:/churn@production")
    poll_all()
    assert lookups == ["rebinding.test"]
    assert mlflow.requests[0].headers["host"] == f"rebinding.test:{port}"
    assert state_of(added).model_version == "4"
