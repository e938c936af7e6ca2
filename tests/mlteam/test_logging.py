"""A refused request (403) is one log line, not a traceback, and not logged twice."""

from __future__ import annotations

import logging

import pytest
from django.test import override_settings
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _forbidden_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "django.request" and r.status_code == 403]


def test_a_403_logs_one_line_without_a_traceback(client, member, caplog):
    client.force_login(member)
    with caplog.at_level(logging.WARNING):
        response = client.get(reverse("roles:project_create"))
    assert response.status_code == 403
    records = _forbidden_records(caplog)
    assert len(records) == 1
    assert records[0].exc_info is None
    assert records[0].getMessage() == "Forbidden (Permission denied): /projects/new/"


def test_server_errors_keep_their_traceback(client, admin, caplog, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("django.urls.resolvers.URLPattern.resolve", _resolve_to(broken))
    client.raise_request_exception = False
    client.force_login(admin)
    with caplog.at_level(logging.ERROR):
        response = client.get(reverse("roles:role_list"))
    assert response.status_code == 500
    [record] = [r for r in caplog.records if r.name == "django.request"]
    assert record.exc_info is not None


def _resolve_to(view):
    from django.urls.resolvers import URLPattern

    original = URLPattern.resolve

    def resolve(self, path):
        match = original(self, path)
        if match is not None and match.url_name == "role_list":
            match.func = view
        return match

    return resolve


@override_settings(DEBUG=True)
def test_django_request_records_reach_one_handler_even_in_debug():
    """Django's own `django` console handler (DEBUG only) plus our root handler
    printed every request warning twice."""
    logger = logging.getLogger("django.request")
    record = logger.makeRecord(
        "django.request", logging.WARNING, __file__, 1, "Forbidden: %s", ("/x/",), None
    )
    handlers = []
    current = logger
    while current is not None:
        handlers += [h for h in current.handlers if record.levelno >= h.level and h.filter(record)]
        current = current.parent if current.propagate else None
    # pytest's caplog adds its own capturing handlers to the root logger.
    ours = [h for h in handlers if type(h).__module__ != "_pytest.logging"]
    assert len(ours) == 1
