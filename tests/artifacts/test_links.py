"""Link parsing (deliverables/links.py): every typed kind with addresses it reads
and addresses it refuses, detection of the kind, and the form's and API's errors."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from deliverables.forms import LinkForm
from deliverables.links import EXAMPLES, parse_link
from deliverables.models import DeliverableLink, LinkKind

VALID = [
    (LinkKind.MLFLOW_MODEL, "models:/churn/3", {"name": "churn", "version": "3"}),
    (LinkKind.MLFLOW_MODEL, "models:/churn@champion", {"name": "churn", "alias": "champion"}),
    (
        LinkKind.MLFLOW_MODEL,
        "https://mlflow.internal.example/#/models/fraud-score/versions/12",
        {"host": "mlflow.internal.example", "name": "fraud-score", "version": "12"},
    ),
    (
        LinkKind.MLFLOW_RUN,
        "https://mlflow.internal.example/#/experiments/4/runs/0a1b2c3d4e5f60718293a4b5c6d7e8f9",
        {
            "host": "mlflow.internal.example",
            "experiment_id": "4",
            "run_id": "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
        },
    ),
    (LinkKind.MLFLOW_RUN, "runs:/0a1b2c3d4e5f6071/model", {"run_id": "0a1b2c3d4e5f6071"}),
    (
        LinkKind.WANDB_RUN,
        "https://wandb.ai/team-ml/ranker/runs/ab12cd34",
        {"host": "wandb.ai", "entity": "team-ml", "project": "ranker", "run_id": "ab12cd34"},
    ),
    (
        LinkKind.GITHUB_PR,
        "https://github.com/octo/forecast/pull/815",
        {"host": "github.com", "owner": "octo", "repo": "forecast", "number": 815},
    ),
    (
        LinkKind.GITHUB_COMMIT,
        "https://github.com/octo/forecast/commit/A1B2C3D4E5F6",
        {"host": "github.com", "owner": "octo", "repo": "forecast", "sha": "a1b2c3d4e5f6"},
    ),
    (
        LinkKind.GITLAB_MR,
        "https://gitlab.example.org/data/platform/etl/-/merge_requests/9",
        {"host": "gitlab.example.org", "project": "data/platform/etl", "number": 9},
    ),
    (
        LinkKind.GITLAB_COMMIT,
        "https://gitlab.com/data/etl/-/commit/deadbeefcafe",
        {"host": "gitlab.com", "project": "data/etl", "sha": "deadbeefcafe"},
    ),
    (
        LinkKind.AIRFLOW_DAG_RUN,
        "https://airflow.example.org/dags/nightly_scores/grid?dag_run_id=manual__2026-11-30",
        {"host": "airflow.example.org", "dag_id": "nightly_scores", "run_id": "manual__2026-11-30"},
    ),
    (
        LinkKind.AIRFLOW_DAG_RUN,
        "https://airflow.example.org/dags/nightly_scores/grid",
        {"host": "airflow.example.org", "dag_id": "nightly_scores"},
    ),
    (
        LinkKind.AIRFLOW_DAG_RUN,
        "https://airflow.example.org/api/v1/dags/nightly_scores/dagRuns/run_7",
        {"host": "airflow.example.org", "dag_id": "nightly_scores", "run_id": "run_7"},
    ),
    (LinkKind.DASHBOARD, "https://grafana.example.org/d/abc/latency", {}),
    (LinkKind.DOCUMENT, "https://docs.example.org/design", {}),
]

INVALID = [
    (LinkKind.MLFLOW_MODEL, "models:/churn"),
    (LinkKind.MLFLOW_MODEL, "models:/churn/latest-ish"),
    (LinkKind.MLFLOW_MODEL, "https://mlflow.internal.example/#/experiments/1"),
    (LinkKind.MLFLOW_RUN, "https://mlflow.internal.example/#/experiments/4"),
    (LinkKind.MLFLOW_RUN, "runs:/x"),
    (LinkKind.WANDB_RUN, "https://wandb.ai/team-ml/ranker"),
    (LinkKind.GITHUB_PR, "https://github.com/octo/forecast/pull/abc"),
    (LinkKind.GITHUB_PR, "https://github.com/octo/forecast"),
    (LinkKind.GITHUB_COMMIT, "https://github.com/octo/forecast/commit/not-a-sha"),
    (LinkKind.GITLAB_MR, "https://gitlab.com/data/etl/merge_requests/9"),
    (LinkKind.GITLAB_COMMIT, "https://gitlab.com/data/etl/-/commit/xyz"),
    (LinkKind.AIRFLOW_DAG_RUN, "https://airflow.example.org/home"),
    (LinkKind.AIRFLOW_DAG_RUN, "not an address"),
    (LinkKind.DASHBOARD, "mailto:team@example.org"),
    (LinkKind.GITHUB_PR, "ftp://github.com/octo/forecast/pull/815"),
    (LinkKind.DOCUMENT, "models:/churn/3"),
]


@pytest.mark.parametrize(("kind", "url", "target"), VALID, ids=[v[1][:60] for v in VALID])
def test_each_kind_reads_its_addresses(kind, url, target):
    parsed = parse_link(kind, url)
    assert (parsed.kind, parsed.target) == (kind, target)
    # Left to detect, the address comes out as the same kind (plain ones as "other").
    detected = parse_link("", url)
    expected = kind if kind not in (LinkKind.DASHBOARD, LinkKind.DOCUMENT) else LinkKind.OTHER
    assert (detected.kind, detected.target) == (expected, target)


@pytest.mark.parametrize(("kind", "url"), INVALID, ids=[v[1][:60] for v in INVALID])
def test_a_chosen_kind_refuses_addresses_of_another_format(kind, url):
    with pytest.raises(ValidationError) as refused:
        parse_link(kind, url)
    message = " ".join(refused.value.messages)
    if kind in EXAMPLES:
        assert EXAMPLES[kind] in message  # an example of an address that would do
    else:
        assert "http" in message


@pytest.mark.parametrize("kind", list(EXAMPLES))
def test_every_example_in_the_messages_is_itself_valid(kind):
    assert parse_link(kind, EXAMPLES[kind]).kind == kind


@pytest.mark.parametrize(
    "url", ["", " ", "x" * 501, "javascript:alert(1)", "https://user:pw@github.com/a/b/pull/1"]
)
def test_nonsense_is_refused_whatever_the_kind(url):
    for kind in ("", LinkKind.GITHUB_PR, LinkKind.OTHER):
        with pytest.raises(ValidationError):
            parse_link(kind, url)


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValidationError):
        parse_link("poem", "https://example.org")


def test_plain_kinds_still_take_what_the_url_field_took():
    assert parse_link(LinkKind.DOCUMENT, "ftp://files.example.org/x").kind == LinkKind.DOCUMENT
    assert parse_link("", "ftps://files.example.org/x").kind == LinkKind.OTHER


def test_a_bare_host_is_read_as_https():
    assert parse_link("", "docs.example.org/plan").url == "https://docs.example.org/plan"


def test_form_detects_the_kind_and_explains_a_mismatch():
    form = LinkForm({"kind": "", "url": "https://github.com/octo/forecast/pull/1", "label": ""})
    assert form.is_valid() and form.cleaned_data["kind"] == LinkKind.GITHUB_PR
    form = LinkForm(
        {"kind": LinkKind.GITHUB_PR, "url": "https://github.com/octo/forecast/commit/abc1234"}
    )
    assert not form.is_valid()
    assert EXAMPLES[LinkKind.GITHUB_PR] in form.errors["url"][0]


def test_adding_a_mismatched_link_on_the_page_saves_nothing(client, work):
    deliverable = work.deliverable
    before = list(deliverable.links.values_list("pk", flat=True))
    client.force_login(work.world.people["member"])
    response = client.post(
        reverse("deliverables:link_add", args=[deliverable.pk]),
        {"kind": LinkKind.AIRFLOW_DAG_RUN, "url": "https://wandb.ai/a/b/runs/abcdefgh"},
    )
    assert response.status_code == 422
    assert "not an Airflow" in response.content.decode()
    assert list(deliverable.links.values_list("pk", flat=True)) == before
    response = client.post(
        reverse("deliverables:link_add", args=[deliverable.pk]),
        {"kind": "", "url": "models:/churn@production", "label": "Serving model"},
    )
    assert response.status_code == 302
    link = DeliverableLink.objects.filter(deliverable=deliverable).latest("pk")
    assert (link.kind, link.target) == (
        LinkKind.MLFLOW_MODEL,
        {"name": "churn", "alias": "production"},
    )


def test_the_api_takes_typed_links_and_names_a_mismatch(work):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(work.world.people["member"])
    url = f"/api/v1/deliverables/{work.deliverable.pk}/links/"
    bad = client.post(
        url, {"kind": "github_commit", "url": "https://github.com/a/b/pull/3"}, format="json"
    )
    assert bad.status_code == 400, bad.content
    assert "GitHub commit" in bad.content.decode()
    good = client.post(url, {"url": "https://github.com/a/b/pull/3"}, format="json")
    assert good.status_code == 201, good.content
    assert good.json()["kind"] == "github_pr"
    assert good.json()["target"] == {"host": "github.com", "owner": "a", "repo": "b", "number": 3}
