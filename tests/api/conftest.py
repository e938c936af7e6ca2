"""Shared parts of the API tests: clients for each persona and way of calling,
and a fingerprint of the data to show that a refused call changed nothing."""

from __future__ import annotations

from datetime import timedelta
from itertools import count

import pytest
from django.apps import apps
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from mlteam.accounts.models import ApiToken, TokenScope

PROBLEM = "application/problem+json"
CSRF_SECRET = "a" * 32

# Who calls (see `personas`) and how (see `client_as`).
PERSONAS = ("anonymous", "outsider", "member", "manager", "other_manager", "admin")
AUTH_MODES = ("session", "token", "read_only_token", "revoked_token", "expired_token")
# Ways of calling that never get past authentication.
REFUSED_MODES = ("revoked_token", "expired_token")


_token_numbers = count(1)


def token_for(user, scope=TokenScope.READ_WRITE, **fields) -> str:
    """A personal token of `user` (the secret string, as shown once). Names are
    unique per person (accounts.ApiToken's constraint): each gets its own by default."""
    name = fields.pop("name", None) or f"test {next(_token_numbers)}"
    _instance, token = ApiToken.objects.create(
        user=user, expiry=None, name=name, scope=scope, **fields
    )
    return token


@pytest.fixture
def api():
    """An API client that speaks JSON and, like a browser, checks CSRF."""
    return APIClient(enforce_csrf_checks=True)


def bearer(client: APIClient, token: str) -> APIClient:
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def client_as(user, mode: str) -> APIClient:
    """A client for `user` (None: anonymous) calling in `mode` (AUTH_MODES). A
    session client sends the CSRF token with every request, as the browser would."""
    client = APIClient(enforce_csrf_checks=True)
    if user is None:
        return client
    if mode == "session":
        client.force_login(user)
        client.cookies[settings.CSRF_COOKIE_NAME] = CSRF_SECRET
        client.credentials(HTTP_X_CSRFTOKEN=CSRF_SECRET)
        return client
    scope = TokenScope.READ if mode == "read_only_token" else TokenScope.READ_WRITE
    token = token_for(user, scope, name=mode)
    if mode == "revoked_token":
        ApiToken.objects.filter(user=user, name=mode).delete()
    elif mode == "expired_token":
        ApiToken.objects.filter(user=user, name=mode).update(
            expiry=timezone.now() - timedelta(minutes=1)
        )
    return bearer(client, token)


def expected_status(persona: str, mode: str, allowed: int, refused: int, *, write: bool) -> int:
    """The status a call should get: `allowed` when the persona may (the caller
    says), else `refused` (403 or 404); 401 when not authenticated at all; 403
    for a read-only token that writes."""
    if persona == "anonymous" or mode in REFUSED_MODES:
        return 401
    if write and mode == "read_only_token" and allowed < 400:
        return 403
    return allowed if allowed else refused


_UNTRACKED = {"accounts.apitoken", "sessions.session", "admin.logentry"}


def fingerprint() -> dict:
    """Every row of the product's own tables (and people), to compare before and
    after a refused call. Small test data only."""
    rows = {}
    for model in apps.get_models():
        label = model._meta.label_lower
        if label in _UNTRACKED or model._meta.app_label not in {
            "auth",
            "roles",
            "deliverables",
            "reviews",
            "notifications",
            "accounts",
        }:
            continue
        rows[label] = list(model._default_manager.order_by("pk").values_list())
    return rows


@pytest.fixture
def personas(db):
    """The six personas around one project (`project`): an outsider, a member of
    its team, its manager, the manager of another project, an admin."""
    from tests.factories import (
        MembershipFactory,
        ProjectFactory,
        UserFactory,
        admin_user,
        manager_user,
    )

    manager = manager_user(username="api-manager")
    other_manager = manager_user(username="api-other-manager")
    project = ProjectFactory(name="API project", managers=[manager])
    other = ProjectFactory(name="Other project", managers=[other_manager])
    member = UserFactory(username="api-member")
    MembershipFactory(project=project, user=member)
    MembershipFactory(project=project, user=manager)
    MembershipFactory(project=other, user=other_manager)
    return {
        "anonymous": None,
        "outsider": UserFactory(username="api-outsider"),
        "member": member,
        "manager": manager,
        "other_manager": other_manager,
        "admin": admin_user(username="api-admin"),
        "project": project,
        "other_project": other,
    }
