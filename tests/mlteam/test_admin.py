"""The Django admin: our favicon on its pages, and the catalogue forms admins use."""

from __future__ import annotations

import pytest
from django.templatetags.static import static
from django.urls import reverse
from django_celery_beat.models import CrontabSchedule

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def _favicon() -> str:
    return f'<link rel="icon" href="{static("favicon.svg")}" type="image/svg+xml">'


@pytest.mark.parametrize(
    "url",
    [
        lambda: reverse("admin:index"),
        lambda: reverse("admin:roles_role_changelist"),
        lambda: reverse("admin:roles_role_add"),
        lambda: reverse("admin:deliverables_reminderpreference_add"),
        lambda: reverse("admin:django_celery_beat_periodictask_add"),
        lambda: reverse(
            "admin:django_celery_beat_crontabschedule_change",
            args=[CrontabSchedule.objects.create(minute="30", hour="9").pk],
        ),
    ],
    ids=["index", "changelist", "add", "reminder", "periodic-task", "crontab"],
)
def test_admin_pages_link_our_favicon(client, superuser, url):
    client.force_login(superuser)
    response = client.get(url())
    assert response.status_code == 200
    assert _favicon() in response.content.decode()


def test_admin_sign_in_page_links_our_favicon(client):
    response = client.get(reverse("admin:login"))
    assert response.status_code == 200
    assert _favicon() in response.content.decode()
