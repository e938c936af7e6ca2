"""Every URL the artifacts app adds x every persona. The app has no page of its own
(the live states are drawn on the deliverable and project pages, whose matrix is
tests/deliverables/test_permission_matrix.py): its URLs are the admin's, for admins
only, and a refused request changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from deliverables.artifacts.models import ArtifactState, ArtifactSystem
from tests.artifacts.helpers import link, system

pytestmark = pytest.mark.django_db

PERSONAS = ["anonymous", "outsider", "member", "colleague", "manager", "other_manager", "admin"]
ADMIN_ONLY = {**dict.fromkeys(PERSONAS, "login"), "admin": 200}


def _urls(work) -> dict:
    source = system("github", "https://api.github.com", link_host="github.com")
    added = link(work.deliverable, work.world.people["member"], "https://github.com/o/r/pull/1")
    from django.utils import timezone

    state = ArtifactState.objects.create(link=added, system=source, next_poll_at=timezone.now())
    return {
        "system_list": reverse("admin:artifacts_artifactsystem_changelist"),
        "system_add": reverse("admin:artifacts_artifactsystem_add"),
        "system_change": reverse("admin:artifacts_artifactsystem_change", args=[source.pk]),
        "system_delete": reverse("admin:artifacts_artifactsystem_delete", args=[source.pk]),
        "system_history": reverse("admin:artifacts_artifactsystem_history", args=[source.pk]),
        "state_list": reverse("admin:artifacts_artifactstate_changelist"),
        "state_change": reverse("admin:artifacts_artifactstate_change", args=[state.pk]),
    }


NAMES = [
    "system_list",
    "system_add",
    "system_change",
    "system_delete",
    "system_history",
    "state_list",
    "state_change",
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", NAMES)
def test_permission_matrix(client, work, name, persona):
    url = _urls(work)[name]
    user = work.world.people[persona]
    if user is not None:
        client.force_login(user)
    response = client.get(url)
    expected = ADMIN_ONLY[persona]
    if expected == "login":
        assert response.status_code == 302 and "/login/" in response["Location"]
    else:
        assert response.status_code == expected


@pytest.mark.parametrize("persona", [p for p in PERSONAS if p != "admin"])
def test_refused_posts_change_nothing(client, work, persona):
    urls = _urls(work)
    source = ArtifactSystem.objects.get()
    user = work.world.people[persona]
    if user is not None:
        client.force_login(user)
    before = list(ArtifactSystem.objects.values())
    response = client.post(
        urls["system_change"],
        {
            "kind": "github",
            "name": "Taken over",
            "base_url": "https://evil.example",
            "poll_minutes": 1,
            "version": source.version,
            "new_token": "stolen",
        },
    )
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert list(ArtifactSystem.objects.values()) == before
    delete = client.post(urls["system_delete"], {"post": "yes"})
    assert delete.status_code == 302
    assert ArtifactSystem.objects.filter(pk=source.pk).exists()


def test_the_app_adds_no_page_of_its_own():
    app = Path(settings.BASE_DIR) / "deliverables" / "artifacts"
    assert not (app / "urls.py").exists() and not (app / "views.py").exists()
