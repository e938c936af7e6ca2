"""The permission matrix of the deliverables API: every endpoint x every persona x
every way of calling, with the status each should get, and nothing changed when
the call is refused (something changed when a write is allowed)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from deliverables.services import deliverable_create, link_add
from tests.factories import deliverable_type

from .conftest import AUTH_MODES, PERSONAS, client_as, expected_status, fingerprint

pytestmark = pytest.mark.django_db

VISIBLE = {"member", "manager", "admin"}  # see `project`; the outsider and other manager do not


def _seen(allowed: int) -> dict[str, int]:
    """`allowed` for those who see the project, 404 for the others."""
    return {p: allowed if p in VISIBLE else 404 for p in PERSONAS}


def _managed(allowed: int) -> dict[str, int]:
    """`allowed` for the project's manager and admins, 403 for its member (the owner),
    404 for those who do not see it."""
    return {**_seen(allowed), "member": 403}


EVERYONE = dict.fromkeys(PERSONAS, 200)


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: Callable[[dict], str]
    statuses: dict[str, int]  # by persona, once authenticated (and allowed to write)
    body: Callable[[dict], dict] | None = None

    @property
    def write(self) -> bool:
        return self.method != "get"


def _d(tail: str = "") -> Callable[[dict], str]:
    return lambda w: f"/api/v1/deliverables/{w['deliverable'].pk}/{tail}"


ENDPOINTS = [
    Endpoint("types", "get", lambda w: "/api/v1/deliverable-types/", EVERYONE),
    Endpoint(
        "type",
        "get",
        lambda w: f"/api/v1/deliverable-types/{deliverable_type('analysis-report').pk}/",
        EVERYONE,
    ),
    Endpoint("list", "get", lambda w: "/api/v1/deliverables/", EVERYONE),
    Endpoint("my work", "get", lambda w: "/api/v1/me/work/", EVERYONE),
    Endpoint("detail", "get", _d(), _seen(200)),
    Endpoint(
        "create",
        "post",
        lambda w: "/api/v1/deliverables/",
        # Those who do not see the project find none (404), as when they read it.
        _managed(201),
        lambda w: {"project": w["project"].pk, "type": deliverable_type("data-pipeline").pk},
    ),
    Endpoint("edit", "patch", _d(), _managed(200), lambda w: {"title": "Renamed"}),
    Endpoint(
        "transition", "post", _d("transition/"), _seen(200), lambda w: {"status": "in_progress"}
    ),
    Endpoint("cancel", "post", _d("cancel/"), _managed(200), lambda w: {"reason": "Dropped."}),
    Endpoint("checklist", "get", _d("checklist/"), _seen(200)),
    Endpoint(
        "checklist item",
        "patch",
        lambda w: f"{_d('checklist/')(w)}{w['tick'].pk}/",
        _seen(200),
        lambda w: {"done": True},
    ),
    Endpoint("links", "get", _d("links/"), _seen(200)),
    Endpoint(
        "link add",
        "post",
        _d("links/"),
        _seen(201),
        lambda w: {"kind": "document", "url": "https://docs.example.com/x"},
    ),
    Endpoint("link remove", "delete", lambda w: f"{_d('links/')(w)}{w['link'].pk}/", _seen(204)),
    Endpoint("comments", "get", _d("comments/"), _seen(200)),
    Endpoint("comment add", "post", _d("comments/"), _seen(201), lambda w: {"body": "Done?"}),
    Endpoint("history", "get", _d("history/"), _seen(200)),
]


@pytest.fixture
def matrix_world(personas):
    deliverable = deliverable_create(
        project=personas["project"],
        type=deliverable_type("analysis-report"),
        owner=personas["member"],
        actor=personas["manager"],
    )
    link = link_add(
        deliverable=deliverable,
        actor=personas["member"],
        kind="document",
        url="https://docs.example.com/a",
    )
    tick = deliverable.checklist_items.filter(answer_kind="tick").first()
    return {**personas, "deliverable": deliverable, "link": link, "tick": tick}


@pytest.mark.parametrize("mode", AUTH_MODES)
@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_deliverables_api_matrix(matrix_world, endpoint, persona, mode):
    world = matrix_world
    client = client_as(world[persona], mode)
    status = endpoint.statuses[persona]
    expected = expected_status(
        persona,
        mode,
        allowed=status if status < 400 else 0,
        refused=status,
        write=endpoint.write,
    )
    url = endpoint.path(world)
    before = fingerprint()
    body = endpoint.body(world) if endpoint.body else None
    response = getattr(client, endpoint.method)(url, body, format="json")
    assert response.status_code == expected, (response.status_code, response.content)
    if expected >= 400:
        assert response["Content-Type"] == "application/problem+json"
        assert fingerprint() == before, "a refused call changed data"
    elif endpoint.write:
        assert fingerprint() != before, "an allowed write changed nothing"
    else:
        assert fingerprint() == before
