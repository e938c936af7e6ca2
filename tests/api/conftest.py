from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from mlteam.accounts.models import ApiToken, TokenScope


def token_for(user, scope=TokenScope.READ_WRITE, **fields) -> str:
    """A personal token of `user` (the secret string, as shown once)."""
    _instance, token = ApiToken.objects.create(
        user=user, expiry=None, name=fields.pop("name", "test"), scope=scope, **fields
    )
    return token


@pytest.fixture
def api():
    """An API client that speaks JSON and, like a browser, checks CSRF."""
    return APIClient(enforce_csrf_checks=True)


def bearer(client: APIClient, token: str) -> APIClient:
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client
