"""Personal API tokens: token_create's rules and token_revoke's permission."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.utils import timezone
from knox.crypto import hash_token
from rest_framework.test import APIClient

from mlteam.accounts import services
from mlteam.accounts.models import ApiToken, TokenScope
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# Noon in UTC on 2 Dec 2026: the same day in Tokyo (21:00) and in UTC.
NOON = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def codes(error: ValidationError) -> dict[str, list[str]]:
    return {field: [e.code for e in errors] for field, errors in error.error_dict.items()}


def test_create_returns_the_secret_once_and_stores_only_its_hash(member):
    token, secret = services.token_create(user=member, name="  nightly export ")
    stored = ApiToken.objects.get(pk=token.pk)
    assert secret.startswith("mlt_") and len(secret) > 40
    assert stored.digest == hash_token(secret) and secret not in stored.digest
    assert stored.token_key == secret[:15]
    assert (stored.name, stored.scope, stored.expiry) == ("nightly export", TokenScope.READ, None)
    assert stored.user == member


def test_created_token_authenticates_with_its_scope(member):
    _token, secret = services.token_create(user=member, name="ci", scope=TokenScope.READ)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get("/api/v1/roles/").status_code == 200
    assert client.post("/api/v1/roles/", {}, format="json").status_code == 403


@time_machine.travel(NOON, tick=False)
def test_expiry_is_the_end_of_the_chosen_day_in_the_persons_zone(member):
    with timezone.override("Asia/Tokyo"):
        token, _secret = services.token_create(
            user=member, name="laptop", expires_on=date(2026, 12, 31)
        )
        expiry = timezone.localtime(token.expiry)
    assert (expiry.date(), expiry.hour, expiry.minute) == (date(2026, 12, 31), 23, 59)
    assert expiry.utcoffset().total_seconds() == 9 * 3600
    assert ApiToken.objects.usable().filter(pk=token.pk).exists()


@time_machine.travel(NOON, tick=False)
@pytest.mark.parametrize(
    ("expires_on", "code"),
    [
        (date(2026, 12, 2), "expiry_past"),  # today
        (date(2025, 1, 1), "expiry_past"),
        (date(2027, 12, 4), "expiry_too_far"),  # a year and two days
    ],
)
def test_expiry_must_be_after_today_and_within_a_year(member, expires_on, code):
    with pytest.raises(ValidationError) as refused:
        services.token_create(user=member, name="x", expires_on=expires_on)
    assert codes(refused.value) == {"expires_on": [code]}
    assert not ApiToken.objects.exists()


@time_machine.travel(NOON, tick=False)
def test_expiry_a_year_ahead_is_accepted(member):
    token, _secret = services.token_create(user=member, name="x", expires_on=date(2027, 12, 3))
    assert timezone.localdate(token.expiry) == date(2027, 12, 3)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"name": ""}, {"name": ["required"]}),
        ({"name": "   "}, {"name": ["required"]}),
        ({"name": "x" * 101}, {"name": ["max_length"]}),
        ({"name": "ok", "scope": "admin"}, {"scope": ["invalid_choice"]}),
    ],
)
def test_bad_fields_are_refused_by_field(member, fields, expected):
    with pytest.raises(ValidationError) as refused:
        services.token_create(user=member, **fields)
    assert codes(refused.value) == expected
    assert not ApiToken.objects.exists()


def test_a_name_is_unique_among_a_persons_own_tokens(member):
    services.token_create(user=member, name="ci")
    with pytest.raises(ValidationError) as refused:
        services.token_create(user=member, name="ci ")
    assert codes(refused.value) == {"name": ["name_taken"]}
    # Another person may use the same name.
    services.token_create(user=UserFactory(), name="ci")
    assert ApiToken.objects.filter(name="ci").count() == 2


def test_a_person_has_at_most_the_limit_of_tokens(member):
    for number in range(services.TOKENS_PER_PERSON):
        services.token_create(user=member, name=f"token {number}")
    with pytest.raises(ValidationError) as refused:
        services.token_create(user=member, name="one more")
    assert codes(refused.value) == {NON_FIELD_ERRORS: ["too_many_tokens"]}
    assert str(services.TOKENS_PER_PERSON) in refused.value.messages[0]
    assert ApiToken.objects.filter(user=member).count() == services.TOKENS_PER_PERSON
    # Others are not limited by this person's tokens; revoking one makes room.
    services.token_create(user=UserFactory(), name="one more")
    services.token_revoke(token=ApiToken.objects.filter(user=member).first(), actor=member)
    services.token_create(user=member, name="one more")


def test_the_owner_revokes_their_token_and_it_stops_working(member):
    token, secret = services.token_create(user=member, name="ci")
    assert services.token_revoke(token=token, actor=member) is True
    assert not ApiToken.objects.filter(pk=token.pk).exists()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get("/api/v1/roles/").status_code == 401
    # Revoking it again is harmless.
    assert services.token_revoke(token=token, actor=member) is False


@pytest.mark.parametrize("actor", ["other", "manager"])
def test_nobody_else_but_an_admin_revokes_a_token(member, manager, actor):
    token, _secret = services.token_create(user=member, name="ci")
    someone = manager if actor == "manager" else UserFactory()
    with pytest.raises(PermissionDenied):
        services.token_revoke(token=token, actor=someone)
    assert ApiToken.objects.filter(pk=token.pk).exists()


def test_an_admin_or_superuser_revokes_anyones_token(member, admin):
    first, _ = services.token_create(user=member, name="one")
    second, _ = services.token_create(user=member, name="two")
    assert services.token_revoke(token=first, actor=admin)
    superuser = UserFactory(is_superuser=True, is_staff=True)
    assert services.token_revoke(token=second, actor=superuser)
    assert not ApiToken.objects.exists()


def test_revoking_several_refuses_all_when_one_is_not_the_actors(member):
    own, _ = services.token_create(user=member, name="own")
    others, _ = services.token_create(user=UserFactory(), name="others")
    with pytest.raises(PermissionDenied):
        services.tokens_revoke(tokens=[own, others], actor=member)
    assert ApiToken.objects.count() == 2


def test_an_inactive_admin_revokes_nothing(member, admin):
    token, _ = services.token_create(user=member, name="ci")
    admin.is_active = False
    admin.save()
    with pytest.raises(PermissionDenied):
        services.token_revoke(token=token, actor=admin)
