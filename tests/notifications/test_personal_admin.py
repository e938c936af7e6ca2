"""Personal deliveries in the admin: listed read only, the same queries however many."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mlteam.notifications.models import DeliveryStatus, PersonalChannel, PersonalDelivery
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _deliveries(n: int) -> None:
    for _ in range(n):
        person = UserFactory()
        PersonalDelivery.objects.create(
            person=person,
            channel=PersonalChannel.CHAT,
            event_id=f"digest:{person.pk}:2026-12-04",
            event_type="digest",
            status=DeliveryStatus.SUCCEEDED,
            attempts=1,
            last_response_code=200,
        )


def test_admins_read_personal_deliveries_and_change_nothing(client, admin):
    _deliveries(2)
    client.force_login(admin)
    url = reverse("admin:notifications_personaldelivery_changelist")
    with CaptureQueriesContext(connection) as few:
        page = client.get(url)
    assert page.status_code == 200
    listed = page.content.decode()
    for row in PersonalDelivery.objects.select_related("person"):
        assert row.person.username in listed
    _deliveries(8)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few)
    assert client.get(reverse("admin:notifications_personaldelivery_add")).status_code == 403
    row = PersonalDelivery.objects.first()
    change = client.get(reverse("admin:notifications_personaldelivery_change", args=[row.pk]))
    assert change.status_code == 200
    assert 'name="_save"' not in change.content.decode()


def test_members_cannot_open_it(client, member):
    client.force_login(member)
    response = client.get(reverse("admin:notifications_personaldelivery_changelist"))
    assert response.status_code == 302  # to the admin's sign-in
