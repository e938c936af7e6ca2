"""A system's token crosses the network over https only, where that is required
(ARTIFACT_TOKENS_REQUIRE_HTTPS, production's default): saving a token with a plain
http address is refused, from the services and the admin; a system saved before
is polled without its token."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import escape

from deliverables.artifacts.models import ArtifactSystem
from deliverables.artifacts.services import (
    HTTPS_FOR_TOKEN_MESSAGE,
    artifact_system_create,
    artifact_system_update,
)
from mlteam.forms import WRITE_ONLY_RETYPE
from tests.artifacts import servers
from tests.artifacts.helpers import link, poll_all, state_of, system
from tests.factories import admin_user

pytestmark = pytest.mark.django_db

MLFLOW_ALIAS = "/api/2.0/mlflow/registered-models/alias"


@pytest.fixture
def https_required(settings):
    settings.ARTIFACT_TOKENS_REQUIRE_HTTPS = True


def test_a_token_with_an_http_address_is_refused(https_required):
    with pytest.raises(ValidationError) as refused:
        artifact_system_create(
            kind="mlflow", name="MLflow", base_url="http://mlflow.internal", token="tok"
        )
    assert refused.value.message_dict == {"base_url": [str(HTTPS_FOR_TOKEN_MESSAGE)]}
    assert not ArtifactSystem.objects.exists()


@pytest.mark.parametrize(
    ("base_url", "token"),
    [("https://mlflow.example.com", "tok"), ("http://mlflow.internal", "")],
)
def test_https_with_a_token_or_http_without_one_is_saved(https_required, base_url, token):
    saved = artifact_system_create(kind="mlflow", name="MLflow", base_url=base_url, token=token)
    assert saved.pk and saved.has_token == bool(token)


def test_moving_a_system_with_a_token_to_http_is_refused_and_changes_nothing(https_required):
    saved = artifact_system_create(
        kind="github", name="GitHub", base_url="https://api.github.com", token="tok"
    )
    with pytest.raises(ValidationError):
        artifact_system_update(
            system=ArtifactSystem.objects.get(pk=saved.pk),
            version=saved.version,
            base_url="http://api.github.com",
        )
    kept = ArtifactSystem.objects.get(pk=saved.pk)
    assert (kept.base_url, kept.version, kept.token) == ("https://api.github.com", 1, "tok")
    # Removing the token at the same time is allowed: nothing secret goes in clear.
    moved = artifact_system_update(
        system=kept, version=kept.version, base_url="http://api.github.com", token=""
    )
    assert moved.base_url == "http://api.github.com" and not moved.has_token


def test_where_http_is_allowed_a_token_is_saved_and_sent(settings):
    settings.ARTIFACT_TOKENS_REQUIRE_HTTPS = False
    saved = artifact_system_create(
        kind="mlflow", name="MLflow", base_url="http://127.0.0.1:5000", token="tok"
    )
    assert saved.has_token and not saved.token_refused_over_http


def test_a_system_saved_with_http_before_is_polled_without_its_token(work, fake, settings, caplog):
    mlflow = fake()
    mlflow.answer(MLFLOW_ALIAS, servers.mlflow_model_version("churn", "7", aliases=["production"]))
    settings.ARTIFACT_TOKENS_REQUIRE_HTTPS = False
    system("mlflow", mlflow.url, token="tok-in-clear")  # saved before the rule
    settings.ARTIFACT_TOKENS_REQUIRE_HTTPS = True
    added = link(work.deliverable, work.world.people["member"], "models:/churn@production")
    poll_all()
    (request,) = mlflow.requests
    assert "authorization" not in request.headers
    assert "tok-in-clear" not in caplog.text
    assert caplog.text.count("its token is not sent to a plain http address") == 1
    assert state_of(added).status == "success"  # this server asks for no token


def test_the_admin_says_why_and_keeps_what_was_typed(https_required, client):
    client.force_login(admin_user())
    response = client.post(
        reverse("admin:artifacts_artifactsystem_add"),
        {
            "kind": "mlflow",
            "name": "Team MLflow",
            "base_url": "http://mlflow.internal",
            "link_host": "",
            "scopes": "",
            "active": "on",
            "poll_minutes": "10",
            "new_token": "tok",
        },
    )
    assert response.status_code == 200
    assert escape(str(HTTPS_FOR_TOKEN_MESSAGE)) in response.content.decode()
    assert "Team MLflow" in response.content.decode()
    assert not ArtifactSystem.objects.exists()


def _add_form(**changes) -> dict:
    return {
        "kind": "airflow",
        "name": "Airflow prod",
        "base_url": "https://airflow.example.com",
        "link_host": "",
        "scopes": "",
        "active": "on",
        "poll_minutes": "10",
        "new_token": "airflow:secret",
        **changes,
    }


@pytest.mark.parametrize(
    "changes",
    [
        {"base_url": "http://user@airflow.internal:8080"},  # the form's own check
        {"poll_minutes": "0"},  # the field's range
        {"remove_token": "on"},  # the form's clean()
    ],
)
def test_a_typed_token_is_asked_again_when_the_form_comes_back(client, changes):
    """The token field is never drawn back: after an error, the page says to type it
    again, rather than saving the fixed form without it."""
    client.force_login(admin_user())
    url = reverse("admin:artifacts_artifactsystem_add")
    response = client.post(url, _add_form(**changes))
    assert response.status_code == 200
    html = response.content.decode()
    assert escape(str(WRITE_ONLY_RETYPE)) in html
    assert "airflow:secret" not in html
    assert not ArtifactSystem.objects.exists()


def test_poll_minutes_out_of_range_get_a_field_message(client):
    client.force_login(admin_user())
    url = reverse("admin:artifacts_artifactsystem_add")
    for minutes in ("0", "5000"):
        response = client.post(url, _add_form(poll_minutes=minutes))
        html = response.content.decode()
        assert "artifact_system_poll_minutes_range" not in html
        assert "Ensure this value is" in html
    assert not ArtifactSystem.objects.exists()
    # The services refuse it too (a path without the form), in the reader's words.
    with pytest.raises(ValidationError) as refused:
        artifact_system_create(
            kind="mlflow", name="MLflow", base_url="https://mlflow.example.com", poll_minutes=0
        )
    assert "poll_minutes" in refused.value.message_dict
