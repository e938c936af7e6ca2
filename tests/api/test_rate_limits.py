"""Rate limits: per token, per person (all their tokens and their session
together) and per address without credentials; over a limit, 429 problem details
with Retry-After. Counted in the shared cache (CACHE_URL: Redis in production)."""

from __future__ import annotations

import pytest
import redis
from django.test import override_settings
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from tests.conftest import require
from tests.factories import UserFactory

from .conftest import PROBLEM, client_as, token_for

pytestmark = pytest.mark.django_db

ROLES = "/api/v1/roles/"
SCHEMA = "/api/v1/schema/"
REDIS_URL = "redis://127.0.0.1:6379/13"


@pytest.fixture
def rates(monkeypatch):
    """Set the limits for a test. DRF reads the rates into SimpleRateThrottle's class
    attribute once, at import: the test patches that attribute (and the settings, so
    that both say the same), and monkeypatch puts both back afterwards."""

    def set_rates(**rates: str) -> None:
        merged = {**api_settings.DEFAULT_THROTTLE_RATES, **rates}
        monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", merged)

    return set_rates


def assert_throttled(response) -> None:
    assert response.status_code == 429, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == 429 and body["code"] == "throttled"
    assert 1 <= int(response["Retry-After"]) <= 60


def test_a_token_gets_429_with_retry_after_past_its_limit(rates, member):
    rates(token="3/minute", person="100/minute")
    client = client_as(member, "token")
    for _ in range(3):
        assert client.get(ROLES).status_code == 200
    assert_throttled(client.get(ROLES))
    # The person's other token has its own count.
    assert client_as(member, "read_only_token").get(ROLES).status_code == 200


def test_the_person_limit_counts_all_their_tokens_and_their_session(rates, member):
    rates(token="100/minute", person="4/minute")
    first, second = client_as(member, "token"), client_as(member, "read_only_token")
    session = client_as(member, "session")
    assert first.get(ROLES).status_code == 200
    assert second.get(ROLES).status_code == 200
    assert session.get(ROLES).status_code == 200
    assert first.get(ROLES).status_code == 200
    for client in (first, second, session):
        assert_throttled(client.get(ROLES))


def test_another_person_is_not_affected(rates, member):
    rates(token="2/minute", person="2/minute")
    busy = client_as(member, "token")
    for _ in range(2):
        busy.get(ROLES)
    assert_throttled(busy.get(ROLES))
    other = UserFactory(username="other")
    assert client_as(other, "token").get(ROLES).status_code == 200
    assert client_as(other, "session").get(ROLES).status_code == 200


def test_writes_count_too_and_are_refused_before_anything_happens(rates, member):
    rates(token="1/minute", person="100/minute")
    client = client_as(member, "token")
    client.get(ROLES)
    assert_throttled(client.post(ROLES, {}, format="json"))


def test_calls_without_credentials_are_limited_per_address(rates):
    """Only what answers without sign-in counts here (the schema): elsewhere a call
    without credentials is refused (401) before any limit is looked at."""
    rates(anonymous="2/minute")
    client = client_as(None, "session")
    # The schema answers YAML unless asked for JSON; its refusals are JSON problems.
    for _ in range(2):
        assert client.get(SCHEMA).status_code == 200
    assert_throttled(client.get(SCHEMA))
    assert client.get(SCHEMA, REMOTE_ADDR="192.0.2.7").status_code == 200


def _redis_available() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def _forget_counts() -> None:
    """Delete the throttles' counts only: this Redis database may also be the test
    broker's, which a FLUSHDB (cache.clear) would empty."""
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter("*throttle_*"):
        client.delete(key)


def test_limits_are_counted_in_a_real_redis_cache(rates, member):
    """As in production: the counts live in Redis, where every web process sees them."""
    require(_redis_available(), f"Redis at {REDIS_URL}")
    redis_cache = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
    rates(token="2/minute", person="100/minute")
    with override_settings(CACHES=redis_cache):
        _forget_counts()
        try:
            token = token_for(member, name="redis")
            client = client_as(None, "session")
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
            for _ in range(2):
                assert client.get(ROLES).status_code == 200
            assert_throttled(client.get(ROLES))
            # The count is in Redis itself, not in this process's memory.
            stored = redis.Redis.from_url(REDIS_URL).keys("*throttle_token_*")
            assert len(stored) == 1
        finally:
            _forget_counts()
