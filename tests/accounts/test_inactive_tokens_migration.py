"""Migration accounts 0004: the tokens of people switched off before a deactivation
revoked them (mlteam.accounts.services.people_tokens_revoke) are revoked now, so that
reactivating such a person does not bring their old tokens back to life (knox only
refuses them while the account is inactive). Active people keep theirs."""

from __future__ import annotations

import pytest

from tests.migrations import migrate_to, migrate_to_latest

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

BEFORE = [("accounts", "0003_admins_revoke_tokens")]
AFTER = [("accounts", "0004_revoke_inactive_peoples_tokens")]


def _token(ApiToken, user, key: str):
    return ApiToken.objects.create(
        user=user, digest=key * 8, token_key=f"mlt_{key}", name=key, scope="read"
    )


def test_the_tokens_of_people_switched_off_before_are_revoked_and_no_others():
    apps = migrate_to(BEFORE)
    try:
        User = apps.get_model("auth", "User")
        ApiToken = apps.get_model("accounts", "ApiToken")
        active = User.objects.create(username="still-here")
        gone = User.objects.create(username="switched-off", is_active=False)
        _token(ApiToken, active, "aaaaaaaa")
        _token(ApiToken, gone, "bbbbbbbb")
        _token(ApiToken, gone, "cccccccc")

        apps = migrate_to(AFTER)
        ApiToken = apps.get_model("accounts", "ApiToken")
        assert list(ApiToken.objects.values_list("user__username", flat=True)) == ["still-here"]

        migrate_to(BEFORE)  # back: nothing to restore, and no error
    finally:
        migrate_to_latest()
