from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test import override_settings
from django.urls import reverse

from tests.conftest import require


@pytest.mark.django_db
def test_healthz_is_200_when_database_and_broker_answer(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "ok", "status": "ok"}
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
def test_healthz_needs_no_sign_in(client):
    assert client.get("/healthz").status_code == 200
    assert client.get("/healthz/reminders").status_code == 200


@pytest.mark.django_db
def test_reminders_have_their_own_check_so_a_mail_outage_keeps_the_site_in_service(client):
    """The reminders' check is green with nothing failing; its red states are in
    tests/deliverables/test_reminder_delivery.py, where /healthz stays 200."""
    response = client.get(reverse("healthz_reminders"))
    assert response.status_code == 200
    assert response.json() == {"reminders": "ok", "status": "ok"}


@pytest.mark.django_db
@override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0", CELERY_BROKER_TRANSPORT_OPTIONS={})
def test_healthz_is_503_naming_the_broker_when_it_is_down(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["database"] == "ok"
    assert body["broker"].startswith("error")


def test_healthz_is_503_naming_the_database_when_it_is_down(client, django_db_blocker):
    """Point the connection at a database that does not exist: a real failed connect."""
    with django_db_blocker.unblock():
        saved = dict(connection.settings_dict)
        connection.close()
        if connection.vendor == "sqlite":
            require(False, "SQLite's in-memory test database cannot be made unreachable")
        connection.settings_dict["PORT"] = "1"  # nothing listens there
        try:
            response = client.get(reverse("healthz"))
        finally:
            connection.close()
            connection.settings_dict.clear()
            connection.settings_dict.update(saved)
    assert response.status_code == 503
    body = json.loads(response.content)
    assert body["database"].startswith("error")
    assert body["status"] == "error"
