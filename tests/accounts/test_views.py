"""Settings > API tokens: a person lists, creates (the secret shown once) and
revokes their own tokens; nobody reaches another person's here."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from knox.crypto import hash_token

from mlteam.accounts import services
from mlteam.accounts.models import ApiToken, TokenScope
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LIST = reverse("accounts:token_list")


def revoke_url(token: ApiToken) -> str:
    return reverse("accounts:token_revoke", args=[token.token_key])


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(LIST)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_menu_leads_to_the_tokens_beside_reminder_settings(client, member):
    client.force_login(member)
    page = client.get(reverse("home")).content.decode()
    assert page.index(reverse("deliverables:reminder_preferences")) < page.index(LIST)


def test_no_tokens_shows_the_empty_state_and_the_form(client, member):
    client.force_login(member)
    response = client.get(LIST)
    assert response.status_code == 200
    page = response.content.decode()
    assert "You have no API tokens" in page
    assert 'name="name"' in page and 'name="expires_on"' in page
    # Read-only is chosen unless the person asks for more.
    assert response.context["form"]["scope"].value() == TokenScope.READ


def test_the_list_shows_ones_own_tokens_only(client, member):
    mine, _ = services.token_create(user=member, name="nightly export")
    services.token_create(user=UserFactory(), name="someone else's")
    client.force_login(member)
    page = client.get(LIST).content.decode()
    assert "nightly export" in page and f"{mine.token_key}…" in page
    assert "someone else" not in page
    assert mine.digest not in page
    assert "Read only" in page and "Never used" in page


def test_create_shows_the_secret_once_and_never_caches_it(client, member):
    client.force_login(member)
    response = client.post(LIST, {"name": "ci", "scope": TokenScope.READ_WRITE})
    assert response.status_code == 201
    secret = response.context["secret"]
    token = ApiToken.objects.get(user=member)
    assert token.digest == hash_token(secret) and token.scope == TokenScope.READ_WRITE
    page = response.content.decode()
    assert f'value="{secret}"' in page and "will not be shown again" in page
    assert "no-store" in response["Cache-Control"]
    # Not kept anywhere the person (or anyone) could fetch it again.
    assert secret not in str(dict(client.session))
    assert secret not in client.get(LIST).content.decode()


def test_an_invalid_form_says_why_and_creates_nothing(client, member):
    services.token_create(user=member, name="ci")
    client.force_login(member)
    response = client.post(LIST, {"name": "ci", "scope": "read", "expires_on": "2020-01-01"})
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert "already have a token with this name" in errors["name"][0]
    assert ApiToken.objects.filter(user=member).count() == 1
    response = client.post(LIST, {"name": "", "scope": "everything", "expires_on": "soon"})
    assert response.status_code == 422
    assert set(response.context["form"].errors) == {"name", "scope", "expires_on"}


def test_a_past_expiry_is_refused_on_its_field(client, member):
    client.force_login(member)
    response = client.post(LIST, {"name": "ci", "scope": "read", "expires_on": "2020-01-01"})
    assert response.status_code == 422
    assert response.context["form"].errors["expires_on"] == ["Choose an expiry date after today."]
    assert not ApiToken.objects.exists()


def test_revoke_asks_then_revokes(client, member):
    token, _ = services.token_create(user=member, name="ci")
    client.force_login(member)
    response = client.get(revoke_url(token))
    assert response.status_code == 200 and "cannot be undone" in response.content.decode()
    assert ApiToken.objects.filter(pk=token.pk).exists()
    response = client.post(revoke_url(token), follow=True)
    assert response.redirect_chain[-1][0] == LIST
    assert "Token “ci” revoked" in response.content.decode()
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize("persona", ["member", "admin"])
def test_another_persons_token_is_not_found_here(client, member, admin, persona):
    """Even an admin revokes others' tokens in the Django admin, not on this page."""
    token, _ = services.token_create(user=UserFactory(), name="theirs")
    client.force_login(member if persona == "member" else admin)
    assert client.get(revoke_url(token)).status_code == 404
    assert client.post(revoke_url(token)).status_code == 404
    assert ApiToken.objects.filter(pk=token.pk).exists()


def test_an_unknown_token_is_not_found(client, member):
    client.force_login(member)
    assert client.post(reverse("accounts:token_revoke", args=["mlt_nothing"])).status_code == 404


def test_expired_tokens_are_listed_as_expired(client, member):
    from datetime import timedelta

    from django.utils import timezone

    token, _ = services.token_create(user=member, name="old")
    ApiToken.objects.filter(pk=token.pk).update(expiry=timezone.now() - timedelta(days=1))
    client.force_login(member)
    response = client.get(LIST)
    assert "Expired" in response.content.decode()
    assert [t.usable for t in response.context["tokens"]] == [False]


def _list_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(LIST).status_code == 200
    return len(queries)


def test_the_list_costs_the_same_queries_for_few_or_many_tokens(client, member):
    """Session, person, the tokens (one query), and the layout's own; not one per token."""
    client.force_login(member)
    services.token_create(user=member, name="first")
    few = _list_queries(client)
    for number in range(12):
        services.token_create(user=member, name=f"token {number}")
    assert _list_queries(client) == few
    assert few <= 6, few


def test_the_page_reads_in_japanese(client, member):
    services.token_create(user=member, name="ci")
    client.force_login(member)
    response = client.get(LIST, headers={"accept-language": "ja"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "APIトークン" in page and "トークンを作成" in page


@pytest.mark.parametrize(
    "data",
    [
        {"name": "a\x00b", "scope": "read"},
        {"name": "x" * 100_000, "scope": "read"},
        {"name": "ci", "scope": "read", "expires_on": "9999-12-31"},
        {"name": "ci", "scope": "read", "expires_on": "2026-02-30"},
        {"name": "ci", "scope": ["read", "read_write", "x" * 1000]},
        {},
    ],
    ids=["nul", "long", "calendar-edge", "no-such-day", "many-scopes", "empty"],
)
def test_bad_input_is_refused_without_a_server_error(client, member, data):
    client.force_login(member)
    response = client.post(LIST, data)
    assert response.status_code == 422
    assert response.context["form"].errors
    assert not ApiToken.objects.exists()
