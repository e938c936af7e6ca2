"""What a deliverable's link points at: THE parsing and validation of link
addresses, by kind (issue 19, item 3).

Pure functions, no database: `parse_link(kind, url)` returns a `ParsedLink` (the
kind, the address as stored, and its `target`: the parsed identity, such as the
repository and pull request number, the model name and alias, the DAG and its
run) or raises a `ValidationError` worded for the person who typed it, with an
example of an address that would do. The page's form, the API (through the same
form) and the service that saves a link all call it, so a link is read one way.

An empty kind means "detect it from the address"; a chosen kind that the address
does not fit is refused rather than guessed. Kinds without a format of their own
(document, repository, dashboard, model registry, other) take any http(s) address,
as they always have.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext_lazy as _

from .models import LinkKind

MAX_LENGTH = 500

# Examples shown in error messages and the form's help text (made-up names).
EXAMPLES = {
    LinkKind.MLFLOW_MODEL: "models:/churn-classifier@production",
    LinkKind.MLFLOW_RUN: "https://mlflow.example.com/#/experiments/7/runs/4f2a9c0d1e8b4a6c9d3e5f7a1b2c3d4e",
    LinkKind.WANDB_RUN: "https://wandb.ai/acme/churn/runs/1x2y3z4w",
    LinkKind.GITHUB_PR: "https://github.com/acme/churn/pull/42",
    LinkKind.GITHUB_COMMIT: "https://github.com/acme/churn/commit/9fceb02d0ae598e95dc970b74767f19372d61af8",
    LinkKind.GITLAB_MR: "https://gitlab.com/acme/ml/churn/-/merge_requests/17",
    LinkKind.GITLAB_COMMIT: "https://gitlab.com/acme/ml/churn/-/commit/9fceb02d",
    LinkKind.AIRFLOW_DAG_RUN: "https://airflow.example.com/dags/churn_features/grid?dag_run_id=scheduled__2026-12-01T00:00:00+00:00",
}

WRONG_FORMAT = {
    LinkKind.MLFLOW_MODEL: _(
        "This is not an MLflow registered model address. Use models:/name/version, "
        "models:/name@alias or the model version's page in the registry, for example %(example)s."
    ),
    LinkKind.MLFLOW_RUN: _(
        "This is not an MLflow run address. Use the run's page or runs:/<run id>, "
        "for example %(example)s."
    ),
    LinkKind.WANDB_RUN: _(
        "This is not a Weights & Biases run address. Use the run's page, for example %(example)s."
    ),
    LinkKind.GITHUB_PR: _(
        "This is not a GitHub pull request address. Use the pull request's page, "
        "for example %(example)s."
    ),
    LinkKind.GITHUB_COMMIT: _(
        "This is not a GitHub commit address. Use the commit's page, for example %(example)s."
    ),
    LinkKind.GITLAB_MR: _(
        "This is not a GitLab merge request address. Use the merge request's page, "
        "for example %(example)s."
    ),
    LinkKind.GITLAB_COMMIT: _(
        "This is not a GitLab commit address. Use the commit's page, for example %(example)s."
    ),
    LinkKind.AIRFLOW_DAG_RUN: _(
        "This is not an Airflow DAG or DAG run address. Use the DAG's page (its latest run) "
        "or a run's page, for example %(example)s."
    ),
}
NOT_AN_ADDRESS = _("Enter a web address starting with http:// or https://.")
TOO_LONG = _("An address may be at most %(limit)s characters long.")
UNKNOWN_KIND = _("Choose one of the kinds offered.")

_SHA = re.compile(r"^[0-9a-f]{7,40}$")
_NAME = r"[^/?#@\s]+"  # a path segment without separators
_RUN_ID = re.compile(r"^[0-9a-zA-Z_-]{8,64}$")


@dataclass(frozen=True)
class ParsedLink:
    kind: str
    url: str
    target: dict = field(default_factory=dict)


def _wrong(kind: str) -> ValidationError:
    return ValidationError(
        WRONG_FORMAT[kind], code="wrong_format", params={"example": EXAMPLES[kind]}
    )


# What links took before they had formats (Django's URL field); typed kinds take
# http(s) only.
PLAIN_SCHEMES = ["http", "https", "ftp", "ftps"]
WEB = ("http", "https")


def _web_address(url: str) -> tuple:
    """The parts of a web address (PLAIN_SCHEMES), or None when it is not one."""
    try:
        URLValidator(schemes=PLAIN_SCHEMES)(url)
    except ValidationError:
        return None
    parts = urlsplit(url)
    if parts.username or parts.password:
        return None
    return parts


def _segments(path: str) -> list[str]:
    return [unquote(part) for part in path.split("/") if part]


# --- one parser per kind: target dict, or None when the address does not fit ----------


def _mlflow_model(url: str, parts) -> dict | None:
    if url.startswith("models:/"):
        rest = url[len("models:/") :]
        if match := re.fullmatch(rf"({_NAME})/(\d{{1,9}})", rest):
            return {"name": unquote(match[1]), "version": match[2]}
        if match := re.fullmatch(rf"({_NAME})@([A-Za-z0-9_-]{{1,255}})", rest):
            return {"name": unquote(match[1]), "alias": match[2]}
        return None
    if parts is None:
        return None
    # The registry's pages: #/models/<name>/versions/<n> (MLflow's UI routes in the
    # fragment) or /models/<name>/versions/<n> (behind some proxies, Databricks' /ml/).
    route = parts.fragment or parts.path
    match = re.search(rf"/models/({_NAME})/versions/(\d{{1,9}})/?$", route)
    if match:
        return {"host": parts.netloc, "name": unquote(match[1]), "version": match[2]}
    match = re.search(rf"/models/({_NAME})/aliases/([A-Za-z0-9_-]{{1,255}})/?$", route)
    if match:
        return {"host": parts.netloc, "name": unquote(match[1]), "alias": match[2]}
    return None


def _mlflow_run(url: str, parts) -> dict | None:
    if url.startswith("runs:/"):
        run_id = url[len("runs:/") :].split("/", 1)[0]
        return {"run_id": run_id} if _RUN_ID.match(run_id) else None
    if parts is None:
        return None
    route = parts.fragment or parts.path
    match = re.search(rf"/experiments/({_NAME})/runs/([0-9a-zA-Z_-]{{8,64}})(/|$)", route)
    if match:
        return {"host": parts.netloc, "experiment_id": match[1], "run_id": match[2]}
    return None


def _wandb_run(url: str, parts) -> dict | None:
    if parts is None:
        return None
    segments = _segments(parts.path)
    if len(segments) >= 4 and segments[2] == "runs" and _RUN_ID.match(segments[3]):
        return {
            "host": parts.netloc,
            "entity": segments[0],
            "project": segments[1],
            "run_id": segments[3],
        }
    return None


def _github(parts, what: str) -> dict | None:
    if parts is None:
        return None
    segments = _segments(parts.path)
    if len(segments) < 4 or segments[2] != what:
        return None
    owner, repo, _what, ref = segments[:4]
    target = {"host": parts.netloc, "owner": owner, "repo": repo}
    if what == "pull":
        return {**target, "number": int(ref)} if ref.isdigit() and len(ref) < 10 else None
    return {**target, "sha": ref.lower()} if _SHA.match(ref.lower()) else None


def _github_pr(url: str, parts) -> dict | None:
    return _github(parts, "pull")


def _github_commit(url: str, parts) -> dict | None:
    return _github(parts, "commit")


def _gitlab(parts, what: str) -> dict | None:
    if parts is None:
        return None
    segments = _segments(parts.path)
    if "-" not in segments:
        return None
    dash = segments.index("-")
    project, rest = segments[:dash], segments[dash + 1 :]
    if len(project) < 2 or len(rest) < 2 or rest[0] != what:
        return None
    target = {"host": parts.netloc, "project": "/".join(project)}
    if what == "merge_requests":
        ref = rest[1]
        return {**target, "number": int(ref)} if ref.isdigit() and len(ref) < 10 else None
    return {**target, "sha": rest[1].lower()} if _SHA.match(rest[1].lower()) else None


def _gitlab_mr(url: str, parts) -> dict | None:
    return _gitlab(parts, "merge_requests")


def _gitlab_commit(url: str, parts) -> dict | None:
    return _gitlab(parts, "commit")


def _airflow(url: str, parts) -> dict | None:
    if parts is None:
        return None
    segments = _segments(parts.path)
    query = parse_qs(parts.query)
    # The stable REST API's own address: /api/v1/dags/<dag>/dagRuns/<run>.
    if "dags" not in segments:
        return None
    at = segments.index("dags")
    rest = segments[at + 1 :]
    if not rest or not re.fullmatch(r"[A-Za-z0-9_.-]{1,250}", rest[0]):
        return None
    target = {"host": parts.netloc, "dag_id": rest[0]}
    if len(rest) >= 3 and rest[1] in ("dagRuns", "runs"):
        return {**target, "run_id": rest[2]}
    if len(rest) == 1 or rest[1] in ("grid", "graph"):
        run_id = (query.get("dag_run_id") or [""])[0]
        return {**target, "run_id": run_id} if run_id else target
    return None


PARSERS = {
    LinkKind.MLFLOW_MODEL: _mlflow_model,
    LinkKind.MLFLOW_RUN: _mlflow_run,
    LinkKind.WANDB_RUN: _wandb_run,
    LinkKind.GITHUB_PR: _github_pr,
    LinkKind.GITHUB_COMMIT: _github_commit,
    LinkKind.GITLAB_MR: _gitlab_mr,
    LinkKind.GITLAB_COMMIT: _gitlab_commit,
    LinkKind.AIRFLOW_DAG_RUN: _airflow,
}


def _detected(url: str, parts) -> tuple[str, dict]:
    """The kind an address most plausibly is, by its scheme, host and path; plain
    addresses are "other"."""
    if parts is not None and parts.scheme not in WEB:
        return LinkKind.OTHER, {}
    host = parts.hostname or "" if parts is not None else ""
    path = parts.path if parts is not None else ""
    candidates = []
    if url.startswith("models:/"):
        candidates = [LinkKind.MLFLOW_MODEL]
    elif url.startswith("runs:/"):
        candidates = [LinkKind.MLFLOW_RUN]
    elif "github" in host:
        candidates = [LinkKind.GITHUB_PR, LinkKind.GITHUB_COMMIT]
    elif "/-/" in path:
        candidates = [LinkKind.GITLAB_MR, LinkKind.GITLAB_COMMIT]
    elif host == "wandb.ai" or host.startswith("wandb."):
        candidates = [LinkKind.WANDB_RUN]
    elif parts is not None and ("#/models/" in url or "#/experiments/" in url):
        candidates = [LinkKind.MLFLOW_MODEL, LinkKind.MLFLOW_RUN]
    elif "/dags/" in path:
        candidates = [LinkKind.AIRFLOW_DAG_RUN]
    for kind in candidates:
        target = PARSERS[kind](url, parts)
        if target is not None:
            return kind, target
    return LinkKind.OTHER, {}


def parse_link(kind: str | None, url: str) -> ParsedLink:
    """The link `url` makes as `kind` (empty: detected from the address).

    1. Trim (a bare "host/path" gets https://); refuse empty, over-long, or anything
       that is neither an http(s) address nor one of MLflow's `models:/` and `runs:/`
       URIs.
    2. With a kind: its parser must accept the address (kinds without a format take
       any web address); otherwise the refusal names the kind's format.
    3. Without: the first kind whose parser accepts it, else "other".
    """
    url = (url or "").strip()
    kind = (kind or "").strip()
    if kind and kind not in LinkKind.values:
        raise ValidationError(UNKNOWN_KIND, code="invalid_choice")
    if len(url) > MAX_LENGTH:
        raise ValidationError(TOO_LONG, code="max_length", params={"limit": MAX_LENGTH})
    uri = url.startswith(("models:/", "runs:/")) and not any(c.isspace() for c in url)
    if url and not uri and "://" not in url:
        url = f"https://{url}"  # as a URL field would: a bare host means https
    parts = _web_address(url)
    if parts is None and not uri:
        if kind in PARSERS:
            raise _wrong(kind)
        raise ValidationError(NOT_AN_ADDRESS, code="invalid")
    if not kind:
        detected, target = _detected(url, parts)
        return ParsedLink(detected, url, target)
    if kind not in PARSERS:
        if parts is None:  # models:/ or runs:/ under a kind without a format
            raise ValidationError(NOT_AN_ADDRESS, code="invalid")
        return ParsedLink(kind, url, {})
    if parts is not None and parts.scheme not in WEB:
        raise _wrong(kind)
    target = PARSERS[kind](url, parts)
    if target is None:
        raise _wrong(kind)
    return ParsedLink(kind, url, target)


def link_summary(kind: str, target: dict) -> str:
    """A short name for what a link points at (the live-status panel's rows)."""
    if not target:
        return ""
    if kind == LinkKind.MLFLOW_MODEL:
        suffix = f"@{target['alias']}" if target.get("alias") else f" v{target.get('version')}"
        return f"{target.get('name')}{suffix}"
    if kind in (LinkKind.GITHUB_PR, LinkKind.GITHUB_COMMIT):
        repo = f"{target.get('owner')}/{target.get('repo')}"
        return f"{repo}#{target['number']}" if "number" in target else f"{repo}@{target['sha'][:7]}"
    if kind in (LinkKind.GITLAB_MR, LinkKind.GITLAB_COMMIT):
        project = target.get("project")
        if "number" in target:
            return f"{project}!{target['number']}"
        return f"{project}@{target['sha'][:7]}"
    if kind == LinkKind.AIRFLOW_DAG_RUN:
        run = f" / {target['run_id']}" if target.get("run_id") else ""
        return f"{target.get('dag_id')}{run}"
    if kind in (LinkKind.MLFLOW_RUN, LinkKind.WANDB_RUN):
        return target.get("run_id", "")
    return ""
