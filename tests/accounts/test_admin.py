"""API tokens in the Django admin: admins list and search everyone's, and revoke
them (one or many) through the service; nobody adds or edits a token there."""

from __future__ import annotations

import logging

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mlteam.accounts import services
from mlteam.accounts.models import ApiToken
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:accounts_apitoken_changelist")


@pytest.fixture
def tokens(member):
    ada = UserFactory(username="ada", first_name="Ada", last_name="Lovelace")
    return {
        "member": services.token_create(user=member, name="member's ci")[0],
        "ada": services.token_create(user=ada, name="ada's laptop")[0],
    }


def test_admin_lists_everyones_tokens_without_their_hash(client, admin, tokens):
    """The hash is the row's key (in links and checkboxes) but never a column."""
    client.force_login(admin)
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    page = response.content.decode()
    for token in tokens.values():
        assert token.name.replace("'", "&#x27;") in page and f"{token.token_key}…" in page
    assert "field-digest" not in page


def test_admin_searches_by_person(client, admin, tokens):
    client.force_login(admin)
    response = client.get(CHANGELIST, {"q": "lovelace"})
    names = [token.name for token in response.context["cl"].result_list]
    assert names == ["ada's laptop"]


def test_nobody_adds_or_edits_a_token_in_the_admin(client, admin, tokens):
    client.force_login(admin)
    assert client.get(reverse("admin:accounts_apitoken_add")).status_code == 403
    change = reverse("admin:accounts_apitoken_change", args=[tokens["ada"].pk])
    response = client.get(change)
    assert response.status_code == 200  # read-only view
    page = response.content.decode()
    assert 'name="name"' not in page and "field-digest" not in page
    client.post(change, {"name": "renamed", "scope": "read_write"})
    assert ApiToken.objects.get(pk=tokens["ada"].pk).name == "ada's laptop"


def test_admin_revokes_one_token_through_the_service(client, admin, tokens, caplog):
    client.force_login(admin)
    delete = reverse("admin:accounts_apitoken_delete", args=[tokens["ada"].pk])
    with caplog.at_level(logging.INFO, logger="mlteam.accounts.services"):
        response = client.post(delete, {"post": "yes"})
    assert response.status_code == 302
    assert not ApiToken.objects.filter(pk=tokens["ada"].pk).exists()
    assert ApiToken.objects.filter(pk=tokens["member"].pk).exists()
    assert f"revoked by person {admin.pk}" in caplog.text


def test_admin_revokes_several_tokens_at_once_through_the_service(client, admin, tokens, caplog):
    client.force_login(admin)
    chosen = [token.pk for token in tokens.values()]
    confirm = client.post(CHANGELIST, {"action": "delete_selected", ACTION_CHECKBOX_NAME: chosen})
    assert confirm.status_code == 200  # Django's confirmation page
    assert ApiToken.objects.count() == 2
    with caplog.at_level(logging.INFO, logger="mlteam.accounts.services"):
        response = client.post(
            CHANGELIST,
            {"action": "delete_selected", ACTION_CHECKBOX_NAME: chosen, "post": "yes"},
        )
    assert response.status_code == 302
    assert not ApiToken.objects.exists()
    assert caplog.text.count(f"revoked by person {admin.pk}") == 2


def test_staff_without_the_permission_cannot_see_or_revoke_tokens(client, tokens):
    staff = UserFactory(is_staff=True)
    client.force_login(staff)
    assert client.get(CHANGELIST).status_code == 403
    delete = reverse("admin:accounts_apitoken_delete", args=[tokens["ada"].pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert ApiToken.objects.count() == 2


def _changelist_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(CHANGELIST).status_code == 200
    return len(queries)


def test_the_admin_list_costs_the_same_queries_for_few_or_many_tokens(client, admin):
    """The people come with their tokens (list_select_related), not one query each."""
    client.force_login(admin)
    services.token_create(user=UserFactory(), name="first")
    few = _changelist_queries(client)
    for number in range(8):
        services.token_create(user=UserFactory(), name=f"token {number}")
    assert _changelist_queries(client) == few
