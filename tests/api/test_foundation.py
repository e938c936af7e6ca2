"""The API's wiring: authentication (session with CSRF, personal tokens), scopes,
problem details, the schema and its docs page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from mlteam.accounts.models import ApiToken, TokenScope
from roles.models import Role

from .conftest import bearer, token_for

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def test_anonymous_gets_a_401_problem(api):
    response = api.get("/api/v1/roles/")
    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == 401 and body["title"] == "Unauthorized"
    assert body["instance"] == "/api/v1/roles/" and body["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_token_reads_the_role_catalogue(api, member):
    response = bearer(api, token_for(member, TokenScope.READ)).get("/api/v1/roles/")
    assert response.status_code == 200
    assert [row["slug"] for row in response.json()] == list(
        Role.objects.order_by("position", "name").values_list("slug", flat=True)
    )
    stored = ApiToken.objects.get(user=member)
    assert stored.last_used_at is not None


def test_token_is_stored_hashed(member):
    token = token_for(member)
    stored = ApiToken.objects.get(user=member)
    assert token.startswith("mlt_") and token not in {stored.digest, stored.token_key}
    assert stored.token_key == token[: len(stored.token_key)]


@pytest.mark.parametrize(
    "header",
    ["Bearer mlt_notatoken", "Bearer", "Bearer a b", "Bearer \u00e9\u00e9"],
)
def test_bad_tokens_are_401(api, header):
    api.credentials(HTTP_AUTHORIZATION=header)
    response = api.get("/api/v1/roles/")
    assert response.status_code == 401, response.content
    assert response["Content-Type"] == PROBLEM


def test_expired_and_revoked_tokens_are_401(api, member):
    token = token_for(member)
    ApiToken.objects.filter(user=member).update(expiry=timezone.now() - timedelta(seconds=1))
    assert bearer(api, token).get("/api/v1/roles/").status_code == 401
    assert ApiToken.objects.filter(user=member).exists()  # kept, shown as expired
    revoked = token_for(member, name="revoked")
    ApiToken.objects.filter(user=member).delete()
    assert bearer(api, revoked).get("/api/v1/roles/").status_code == 401


def test_inactive_person_token_is_401(api, member):
    token = token_for(member)
    member.is_active = False
    member.save()
    assert bearer(api, token).get("/api/v1/roles/").status_code == 401


def test_session_reads(api, member):
    api.force_login(member)
    assert api.get("/api/v1/roles/").status_code == 200


def test_unknown_path_is_404_problem(api, member):
    response = bearer(api, token_for(member)).get("/api/v1/roles/999999/")
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM and response.json()["code"] == "not_found"


def test_a_path_without_its_trailing_slash_is_a_404_problem(api, member):
    # docs/api.md: paths end with "/"; the same path without it names nothing.
    client = bearer(api, token_for(member))
    assert client.get("/api/v1/roles/").status_code == 200
    for path in ("/api/v1/roles", "/api/v1/projects", "/api/v1/me/work"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response["Content-Type"] == PROBLEM and response.json()["code"] == "not_found"


def test_writes_on_a_read_only_resource_are_405(api, member):
    response = bearer(api, token_for(member)).post("/api/v1/roles/", {}, format="json")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_schema_is_openapi_31_with_problem_responses(api):
    response = api.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.1")
    operation = schema["paths"]["/api/v1/roles/"]["get"]
    assert operation["responses"]["401"]["content"]["application/problem+json"]
    assert "Problem" in schema["components"]["schemas"]


def test_docs_page_uses_no_cdn(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "cdn" not in html.lower() and "/static/drf_spectacular_sidecar/" in html


@pytest.mark.parametrize("mode", ["session", "token", "read_only_token"])
def test_session_and_token_writes_are_checked(personas, mode):
    """A write path exercised in every way of calling (the catalogue refuses
    writes: 405 for everyone who gets past authentication and the token's scope)."""
    from .conftest import client_as

    client = client_as(personas["member"], mode)
    response = client.post("/api/v1/roles/", {}, format="json")
    assert response.status_code == (403 if mode == "read_only_token" else 405)


def test_session_write_without_csrf_is_403(personas):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(personas["member"])
    response = client.post("/api/v1/roles/", {}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_a_call_reads_the_token_once(api, member, django_assert_num_queries):
    """The token (with its person) in one query; none for the person's other tokens.
    One more for the last-used time (at most once a minute). Before them, one for
    the address's failed authentications (a locked-out address is refused)."""
    token = token_for(member)
    for name in ("a", "b", "c"):
        token_for(member, name=name)
    bearer(api, token).get("/api/v1/roles/")
    with django_assert_num_queries(3):  # the address's failures; the token and person; the roles
        assert api.get("/api/v1/roles/").status_code == 200
