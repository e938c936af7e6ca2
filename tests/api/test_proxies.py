"""Security review findings: the API (rate limits)."""

from __future__ import annotations

import pytest
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from .conftest import client_as

pytestmark = pytest.mark.django_db

SCHEMA = "/api/v1/schema/"


def test_the_per_address_limit_is_not_reset_by_a_made_up_x_forwarded_for(monkeypatch):
    """DRF takes X-Forwarded-For as the client's address unless NUM_PROXIES says how
    many proxies to trust: any caller could name a new address on every call."""
    merged = {**api_settings.DEFAULT_THROTTLE_RATES, "anonymous": "2/minute"}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", merged)
    client = client_as(None, "session")
    for _ in range(2):
        assert client.get(SCHEMA).status_code == 200
    assert client.get(SCHEMA).status_code == 429
    spoofed = client.get(SCHEMA, HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert spoofed.status_code == 429, "a made-up X-Forwarded-For escapes the limit"
