"""Asking a system about one linked artifact: the REST calls, and their answers read
into an `Observation` (a status and plain facts), or a `PollError` naming what went
wrong (unauthorized, rate limited, timeout, ...).

Endpoints (their public API documentation's shapes; docs/artifacts.md):
- MLflow: GET /api/2.0/mlflow/registered-models/alias?name=&alias=,
  GET /api/2.0/mlflow/model-versions/get?name=&version=, GET /api/2.0/mlflow/runs/get?run_id=
- GitHub: GET /repos/{owner}/{repo}/pulls/{number},
  GET /repos/{owner}/{repo}/commits/{ref}/status, GET /repos/{owner}/{repo}/commits/{ref}/check-runs
- GitLab: GET /api/v4/projects/{path}/merge_requests/{iid},
  GET /api/v4/projects/{path}/repository/commits/{sha}
- Airflow 2 (stable REST API): GET /api/v1/dags/{dag_id}/dagRuns/{run_id},
  GET /api/v1/dags/{dag_id}/dagRuns?order_by=-execution_date&limit=1

Each request: GET only, short timeouts (ARTIFACT_POLL_TIMEOUT_SECONDS to connect and
per read, and twice that for the whole request, however slowly the answer trickles
in), no retries, no redirects, at most MAX_ANSWER_BYTES read, JSON nested at most as
deep as the parser allows (deeper is MALFORMED, not a crash). Before each request the
host is looked up and refused when any of its addresses is link-local (a cloud
metadata service), and the connection goes to the address checked (no second
lookup): the token never goes there. Identifiers from a link go into the
path one segment each, never "." or "..". The token goes in a header and nowhere
else: not in errors, not in logs.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote, urlencode, urlsplit

import certifi
import urllib3
from django.conf import settings

from deliverables.models import LinkKind
from mlteam.cloud import METADATA_ADDRESSES

from .models import ArtifactStatus, ArtifactSystem, ErrorKind, SystemKind

USER_AGENT = "MLTeam-Artifacts/1"
MAX_ANSWER_BYTES = 1_000_000
READ_CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True)
class Observation:
    status: str
    facts: dict = field(default_factory=dict)
    model_version: str = ""


class PollError(Exception):
    def __init__(self, kind: str, *, retry_at: datetime | None = None):
        super().__init__(kind)
        self.kind = kind
        self.retry_at = retry_at


def _headers(system: ArtifactSystem) -> dict:
    headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
    if system.token_refused_over_http:
        # Saved before https was required: asked without the token (a system that
        # needs it refuses; the sweep logs why, the admin sees it on saving again).
        return headers
    token = system.token
    if not token:
        return headers
    if system.kind == SystemKind.GITLAB:
        headers["PRIVATE-TOKEN"] = token
    elif system.kind in (SystemKind.AIRFLOW, SystemKind.MLFLOW) and ":" in token:
        # "user:password": basic authentication (Airflow's basic_auth backend,
        # MLflow's built-in authentication).
        headers.update(urllib3.make_headers(basic_auth=token))
    else:
        headers["Authorization"] = f"Bearer {token}"
    if system.kind == SystemKind.GITHUB:
        headers["Accept"] = "application/vnd.github+json"
        headers["X-GitHub-Api-Version"] = "2022-11-28"
    return headers


def link_local(address: str) -> bool:
    """Whether an IP address (any notation the system's resolver accepts: IPv6 with a
    zone, IPv4-mapped IPv6, or IPv4's legacy decimal, octal and hex forms) is
    link-local, where cloud metadata services answer, or one of those services'
    other addresses (`mlteam.cloud.METADATA_ADDRESSES`: AWS's over IPv6). False for
    a name."""
    address = address.strip("[]").split("%", 1)[0].rstrip(".")
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        try:  # "2852039166", "0251.0376.0251.0376", "0xa9.254.169.254"...
            ip = ipaddress.IPv4Address(socket.inet_aton(address))
        except (OSError, ValueError):
            return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_link_local or ip in METADATA_ADDRESSES


def _checked_address(parts) -> str:
    """The address to connect to: the host's own if it is an IP address, else the
    first its name resolves to now, after refusing a host any of whose addresses is
    link-local. The request then goes to that very address (no second lookup, so a
    name cannot be re-pointed in between); names are looked up at every request, as
    one may be re-pointed after the system was saved."""
    host = parts.hostname or ""
    if link_local(host):
        raise PollError(ErrorKind.FORBIDDEN_ADDRESS)
    try:
        infos = socket.getaddrinfo(host, parts.port or 443, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise PollError(ErrorKind.UNREACHABLE) from None
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise PollError(ErrorKind.UNREACHABLE)
    if any(link_local(address) for address in addresses):
        raise PollError(ErrorKind.FORBIDDEN_ADDRESS)
    return addresses[0]


def _connection_pool(parts, address: str, timeout: int):
    """A one-connection pool to `address`, the host's name kept for TLS (the
    certificate is checked against it, not against the address)."""
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    options = {
        "timeout": urllib3.Timeout(connect=timeout, read=timeout),
        "retries": False,
        "maxsize": 1,
    }
    if https:
        return urllib3.HTTPSConnectionPool(
            address,
            port,
            cert_reqs="CERT_REQUIRED",
            ca_certs=certifi.where(),
            server_hostname=parts.hostname,
            assert_hostname=parts.hostname,
            **options,
        )
    return urllib3.HTTPConnectionPool(address, port, **options)


def segment(value) -> str:
    """One identifier from a link (an owner, a repository, a DAG, a run) as one path
    segment: every character quoted, and never "." or ".." (which would climb to
    another endpoint of the API with the token)."""
    text = str(value)
    if text in ("", ".", ".."):
        raise PollError(ErrorKind.MALFORMED)
    return quote(text, safe="")


def _read(response, deadline: float) -> bytes:
    """The answer's body, at most MAX_ANSWER_BYTES + 1 of it, read before `deadline`
    (one socket read at a time: a server trickling bytes does not hold the poll)."""
    body = bytearray()
    while len(body) <= MAX_ANSWER_BYTES:
        if time.monotonic() > deadline:
            raise PollError(ErrorKind.TIMEOUT)
        chunk = response.read1(min(READ_CHUNK_BYTES, MAX_ANSWER_BYTES + 1 - len(body)))
        if not chunk:
            break
        body += chunk
    return bytes(body)


def _rate_limit_reset(response, now: datetime) -> datetime | None:
    """When a refusal is the rate limit's, the moment it lifts (GitHub: Retry-After,
    else X-RateLimit-Reset when X-RateLimit-Remaining is 0; 429 anywhere)."""
    headers = response.headers
    retry_after = headers.get("Retry-After", "")
    remaining = headers.get("X-RateLimit-Remaining")
    limited = response.status == 429 or (
        response.status == 403 and (retry_after or remaining == "0")
    )
    if not limited:
        return None
    if retry_after.isdigit():
        return datetime.fromtimestamp(now.timestamp() + min(int(retry_after), 86_400), tz=UTC)
    reset = headers.get("X-RateLimit-Reset", "")
    if reset.isdigit():
        moment = datetime.fromtimestamp(min(int(reset), now.timestamp() + 86_400), tz=UTC)
        return max(moment, now)
    return datetime.fromtimestamp(now.timestamp() + 60, tz=UTC)


def get_json(system: ArtifactSystem, path: str, params: dict | None = None, *, now: datetime):
    """GET `path` (with `params`) from the system's API base; the decoded JSON answer."""
    url = system.base_url.rstrip("/") + path
    if params:
        url += "?" + urlencode(params)
    timeout = settings.ARTIFACT_POLL_TIMEOUT_SECONDS
    deadline = time.monotonic() + 2 * timeout
    parts = urlsplit(url)
    pool = _connection_pool(parts, _checked_address(parts), timeout)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        response = pool.urlopen(
            "GET",
            target,
            headers={**_headers(system), "Host": parts.netloc},
            retries=False,
            redirect=False,
            preload_content=False,
            assert_same_host=False,
        )
    except (urllib3.exceptions.NewConnectionError, urllib3.exceptions.NameResolutionError):
        # Refused or unknown host (urllib3 counts these as connect timeouts too).
        pool.close()
        raise PollError(ErrorKind.UNREACHABLE) from None
    except (urllib3.exceptions.TimeoutError, TimeoutError):
        pool.close()
        raise PollError(ErrorKind.TIMEOUT) from None
    except (urllib3.exceptions.HTTPError, OSError):
        pool.close()
        raise PollError(ErrorKind.UNREACHABLE) from None
    try:
        retry_at = _rate_limit_reset(response, now)
        if retry_at is not None:
            raise PollError(ErrorKind.RATE_LIMITED, retry_at=retry_at)
        if response.status in (401, 403):
            raise PollError(ErrorKind.UNAUTHORIZED)
        if response.status == 404:
            raise PollError(ErrorKind.NOT_FOUND)
        if response.status >= 300:
            raise PollError(ErrorKind.SERVER_ERROR)
        try:
            body = _read(response, deadline)
        except (urllib3.exceptions.TimeoutError, TimeoutError):
            raise PollError(ErrorKind.TIMEOUT) from None
        except (urllib3.exceptions.HTTPError, OSError):
            raise PollError(ErrorKind.UNREACHABLE) from None
        if len(body) > MAX_ANSWER_BYTES:
            raise PollError(ErrorKind.MALFORMED)
        try:
            answer = json.loads(body)
        except (ValueError, RecursionError):  # not JSON, or nested past the parser's depth
            raise PollError(ErrorKind.MALFORMED) from None
        if not isinstance(answer, dict):
            raise PollError(ErrorKind.MALFORMED)
        return answer
    finally:
        response.release_conn()
        pool.close()


def _dig(answer: dict, *keys, kind=str):
    """answer[k1][k2]... when each step is a dict and the end is a `kind`; else the
    answer does not have the documented shape (MALFORMED)."""
    value = answer
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            raise PollError(ErrorKind.MALFORMED)
        value = value[key]
    if kind is not None and not isinstance(value, kind):
        raise PollError(ErrorKind.MALFORMED)
    return value


def _millis(value) -> str:
    """MLflow's epoch milliseconds as ISO 8601 (UTC), '' when absent."""
    if isinstance(value, int | float) and value > 0:
        return datetime.fromtimestamp(value / 1000, tz=UTC).isoformat()
    return ""


# --- MLflow ------------------------------------------------------------------------------

MLFLOW_VERSION_STATUS = {
    "READY": ArtifactStatus.SUCCESS,
    "PENDING_REGISTRATION": ArtifactStatus.RUNNING,
    "FAILED_REGISTRATION": ArtifactStatus.FAILURE,
}
MLFLOW_RUN_STATUS = {
    "FINISHED": ArtifactStatus.SUCCESS,
    "RUNNING": ArtifactStatus.RUNNING,
    "SCHEDULED": ArtifactStatus.RUNNING,
    "FAILED": ArtifactStatus.FAILURE,
    "KILLED": ArtifactStatus.FAILURE,
}


def _mlflow_model(system, target: dict, now) -> Observation:
    if target.get("alias"):
        answer = get_json(
            system,
            "/api/2.0/mlflow/registered-models/alias",
            {"name": target["name"], "alias": target["alias"]},
            now=now,
        )
    else:
        answer = get_json(
            system,
            "/api/2.0/mlflow/model-versions/get",
            {"name": target["name"], "version": target["version"]},
            now=now,
        )
    model_version = _dig(answer, "model_version", kind=dict)
    version = str(_dig(model_version, "version", kind=str | int))
    aliases = model_version.get("aliases") or []
    facts = {
        "version": version,
        "alias": target.get("alias", ""),
        "aliases": [str(a) for a in aliases if isinstance(a, str)][:10],
        "stage": str(model_version.get("current_stage") or ""),
        "at": _millis(model_version.get("last_updated_timestamp")),
    }
    status = MLFLOW_VERSION_STATUS.get(str(model_version.get("status")), ArtifactStatus.UNKNOWN)
    return Observation(status, facts, model_version=version)


def _mlflow_run(system, target: dict, now) -> Observation:
    answer = get_json(system, "/api/2.0/mlflow/runs/get", {"run_id": target["run_id"]}, now=now)
    info = _dig(answer, "run", "info", kind=dict)
    state = str(info.get("status") or "")
    facts = {
        "run_state": state.lower(),
        "at": _millis(info.get("end_time")) or _millis(info.get("start_time")),
    }
    return Observation(MLFLOW_RUN_STATUS.get(state, ArtifactStatus.UNKNOWN), facts)


# --- GitHub ------------------------------------------------------------------------------

GITHUB_FAILED_CONCLUSIONS = {"failure", "timed_out", "action_required", "startup_failure"}


def _github_ci(system, target: dict, sha: str, now) -> tuple[str, str]:
    """The commit's CI: the combined status and the check runs together. Any failing
    one makes it failing, any unfinished one (with none failing) in progress."""
    repo = f"/repos/{segment(target['owner'])}/{segment(target['repo'])}"
    ref = segment(sha)
    combined = get_json(system, f"{repo}/commits/{ref}/status", now=now)
    checks = get_json(system, f"{repo}/commits/{ref}/check-runs", {"per_page": 100}, now=now)
    combined_state = _dig(combined, "state")
    has_statuses = bool(combined.get("total_count") or combined.get("statuses"))
    runs = _dig(checks, "check_runs", kind=list)
    failing = running = False
    if has_statuses:
        failing |= combined_state in ("failure", "error")
        running |= combined_state == "pending"
    for run in runs:
        if not isinstance(run, dict):
            raise PollError(ErrorKind.MALFORMED)
        if run.get("status") != "completed":
            running = True
        elif run.get("conclusion") in GITHUB_FAILED_CONCLUSIONS:
            failing = True
    if failing:
        return ArtifactStatus.FAILURE, "failure"
    if running:
        return ArtifactStatus.RUNNING, "pending"
    if has_statuses or runs:
        return ArtifactStatus.SUCCESS, "success"
    return ArtifactStatus.UNKNOWN, ""


def _github_commit(system, target: dict, now) -> Observation:
    status, ci = _github_ci(system, target, target["sha"], now)
    return Observation(status, {"ci": ci, "sha": target["sha"][:12]})


def _github_pr(system, target: dict, now) -> Observation:
    repo = f"/repos/{segment(target['owner'])}/{segment(target['repo'])}"
    pull = get_json(system, f"{repo}/pulls/{int(target['number'])}", now=now)
    sha = _dig(pull, "head", "sha")
    state = _dig(pull, "state")
    pr_state = "merged" if pull.get("merged") or pull.get("merged_at") else state
    status, ci = _github_ci(system, target, sha, now)
    return Observation(status, {"pr_state": pr_state, "ci": ci, "sha": sha[:12]})


# --- GitLab ------------------------------------------------------------------------------

GITLAB_PIPELINE_STATUS = {
    "success": ArtifactStatus.SUCCESS,
    "failed": ArtifactStatus.FAILURE,
    "running": ArtifactStatus.RUNNING,
    "pending": ArtifactStatus.RUNNING,
    "created": ArtifactStatus.RUNNING,
    "waiting_for_resource": ArtifactStatus.RUNNING,
    "preparing": ArtifactStatus.RUNNING,
    "scheduled": ArtifactStatus.RUNNING,
}


def _gitlab_pipeline(pipeline) -> tuple[str, str]:
    if not isinstance(pipeline, dict):
        return ArtifactStatus.UNKNOWN, ""
    state = str(pipeline.get("status") or "")
    return GITLAB_PIPELINE_STATUS.get(state, ArtifactStatus.UNKNOWN), state


def _gitlab_commit(system, target: dict, now) -> Observation:
    project = segment(target["project"])
    commit = get_json(
        system, f"/api/v4/projects/{project}/repository/commits/{segment(target['sha'])}", now=now
    )
    status, ci = _gitlab_pipeline(commit.get("last_pipeline"))
    return Observation(status, {"ci": ci, "sha": target["sha"][:12]})


def _gitlab_mr(system, target: dict, now) -> Observation:
    project = segment(target["project"])
    merge_request = get_json(
        system, f"/api/v4/projects/{project}/merge_requests/{int(target['number'])}", now=now
    )
    state = _dig(merge_request, "state")
    status, ci = _gitlab_pipeline(merge_request.get("head_pipeline"))
    sha = str(merge_request.get("sha") or "")
    return Observation(status, {"pr_state": state, "ci": ci, "sha": sha[:12]})


# --- Airflow -----------------------------------------------------------------------------

AIRFLOW_RUN_STATUS = {
    "success": ArtifactStatus.SUCCESS,
    "failed": ArtifactStatus.FAILURE,
    "running": ArtifactStatus.RUNNING,
    "queued": ArtifactStatus.RUNNING,
}


def _airflow(system, target: dict, now) -> Observation:
    dag = segment(target["dag_id"])
    if target.get("run_id"):
        run = get_json(system, f"/api/v1/dags/{dag}/dagRuns/{segment(target['run_id'])}", now=now)
    else:
        answer = get_json(
            system,
            f"/api/v1/dags/{dag}/dagRuns",
            {"order_by": "-execution_date", "limit": 1},
            now=now,
        )
        runs = _dig(answer, "dag_runs", kind=list)
        if not runs:
            return Observation(ArtifactStatus.UNKNOWN, {"run_state": ""})
        run = runs[0]
        if not isinstance(run, dict):
            raise PollError(ErrorKind.MALFORMED)
    state = str(_dig(run, "state", kind=None) or "")
    facts = {
        "run_id": str(run.get("dag_run_id") or "")[:250],
        "run_state": state,
        "at": str(run.get("end_date") or run.get("start_date") or run.get("execution_date") or ""),
    }
    return Observation(AIRFLOW_RUN_STATUS.get(state, ArtifactStatus.UNKNOWN), facts)


OBSERVERS = {
    LinkKind.MLFLOW_MODEL: _mlflow_model,
    LinkKind.MLFLOW_RUN: _mlflow_run,
    LinkKind.GITHUB_PR: _github_pr,
    LinkKind.GITHUB_COMMIT: _github_commit,
    LinkKind.GITLAB_MR: _gitlab_mr,
    LinkKind.GITLAB_COMMIT: _gitlab_commit,
    LinkKind.AIRFLOW_DAG_RUN: _airflow,
}


# What is kept of a system's answer: facts are short words and times (a longer one is
# cut), a model version fits its column (a longer one is not a version: MALFORMED).
FACT_LIMIT = 200
MODEL_VERSION_LIMIT = 40


def _short(value):
    if isinstance(value, str):
        return value[:FACT_LIMIT]
    if isinstance(value, list):
        return [_short(item) for item in value[:10]]
    return value


def observe(system: ArtifactSystem, kind: str, target: dict, *, now: datetime) -> Observation:
    """What `system` says now about the artifact `target` of a link of `kind`."""
    observation = OBSERVERS[kind](system, target, now)
    if len(observation.model_version) > MODEL_VERSION_LIMIT:
        raise PollError(ErrorKind.MALFORMED)
    return Observation(
        observation.status,
        {key: _short(value) for key, value in observation.facts.items()},
        model_version=observation.model_version,
    )
