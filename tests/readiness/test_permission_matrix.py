"""Every readiness URL x every persona, on an active and on an archived project:
status code, and nothing written when refused.

`member` owns the deployed model; `colleague` is on the same project, owning nothing."""

from __future__ import annotations

import pytest
from django.urls import resolve, reverse

from deliverables.models import DeliverableEvent
from deliverables.readiness.models import RubricMark
from roles.services import project_archive

PERSONAS = ["anonymous", "outsider", "member", "colleague", "manager", "other_manager", "admin"]
LOGIN = "login"
READ = {
    "anonymous": LOGIN,
    "outsider": 404,
    "member": 200,
    "colleague": 200,
    "manager": 200,
    "other_manager": 404,
    "admin": 200,
}
MARK = {**READ, "colleague": 403, "member": 302, "manager": 302, "admin": 302}
# An archived project is read-only: its rubric is read, never marked.
ARCHIVED_MARK = {**READ, "member": 403, "colleague": 403, "manager": 403, "admin": 403}


def _urls(scored):
    d = scored.deliverable
    item = scored.item()
    return {
        "rubric": ("get", reverse("readiness:rubric", args=[d.pk]), None, READ, READ),
        "rubric_mark": (
            "post",
            reverse("readiness:rubric_mark", args=[d.pk, item.pk]),
            {
                f"item-{item.pk}-version": 0,
                f"item-{item.pk}-mark": "manual",
                f"item-{item.pk}-evidence_note": "Checked by hand.",
            },
            MARK,
            ARCHIVED_MARK,
        ),
    }


def _snapshot():
    return (
        list(RubricMark.objects.order_by("pk").values_list("pk", "mark", "version")),
        DeliverableEvent.objects.count(),
    )


@pytest.mark.parametrize("archived", [False, True], ids=["active", "archived"])
@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", ["rubric", "rubric_mark"])
def test_permission_matrix(client, scored, name, persona, archived):
    if archived:
        project_archive(
            project=scored.world.project, actor=scored.world.people["manager"], version=None
        )
    method, url, data, active, when_archived = _urls(scored)[name]
    expected = (when_archived if archived else active)[persona]
    user = scored.world.people[persona]
    if user is not None:
        client.force_login(user)
    before = _snapshot()
    response = getattr(client, method)(url, data or {})
    if expected == LOGIN:
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == expected, response.content[:300]
    if method == "post":
        assert (_snapshot() != before) == (expected == 302)


def test_matrix_covers_every_readiness_url(scored):
    from deliverables.readiness import urls

    covered = {resolve(entry[1]).url_name for entry in _urls(scored).values()}
    assert covered == {pattern.name for pattern in urls.urlpatterns}


@pytest.mark.parametrize(
    "value",
    ["a\x00b", "x" * 100_000, str(10**30), "-1", "<script>"],
    ids=lambda value: f"{len(value)}chars",
)
def test_bad_input_is_refused_without_a_500(client, scored, value):
    item = scored.item()
    client.force_login(scored.world.people["member"])
    url = reverse("readiness:rubric_mark", args=[scored.deliverable.pk, item.pk])
    before = _snapshot()
    for field in ("version", "mark", "evidence_url", "evidence_note"):
        data = {
            f"item-{item.pk}-version": 0,
            f"item-{item.pk}-mark": "manual",
            f"item-{item.pk}-evidence_note": "by hand",
            f"item-{item.pk}-{field}": value,
        }
        response = client.post(url, data)
        assert response.status_code in (302, 422), (field, response.status_code)
        if response.status_code == 422:
            assert _snapshot() == before
        RubricMark.objects.all().delete()
    assert (
        client.get(
            reverse("readiness:rubric", args=[scored.deliverable.pk]) + "?page=" + value[:100]
        ).status_code
        == 200
    )
