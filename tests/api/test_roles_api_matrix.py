"""The permission matrix of the API's resources about people on projects
(roles/api.py): every endpoint x every persona x every way of calling. A refused
call changes nothing (the data's fingerprint is the same after it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from drf_spectacular.generators import SchemaGenerator

from roles.models import Membership, Project, RoleAssignment
from roles.services import project_archive
from tests.factories import RoleAssignmentFactory, UserFactory, role

from .conftest import AUTH_MODES, PERSONAS, client_as, expected_status, fingerprint

pytestmark = pytest.mark.django_db

# Who may do what with the personas' `project` (and its team): those who see it
# (its team, its manager, admins) and those who manage it (its manager, admins).
# Everyone else gets 404 for it (it does not exist for them); those who see it
# but may not change it get 403.
SEES = {"member", "manager", "admin"}
MANAGES = {"manager", "admin"}
SIGNED_IN = {"outsider", "member", "manager", "other_manager", "admin"}
CREATES = {"manager", "other_manager", "admin"}  # can_create_project


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # as the schema writes it
    ok: int  # the status of an allowed call
    allowed: frozenset  # the personas who may
    visible: frozenset  # the personas for whom the object exists (else 404)
    body: Callable[[dict], dict] | None = None
    setup: Callable[[dict], None] | None = None

    @property
    def write(self) -> bool:
        return self.method not in {"get", "head", "options"}

    def url(self, world: dict) -> str:
        return "/api/v1" + self.path.format(
            project_pk=world["project"].pk,
            id=world.get("id", world["project"].pk),
            membership_pk=world["membership"].pk,
        )


def _member_id(world):
    world["id"] = world["membership"].pk


def _assignment_id(world):
    world["id"] = world["assignment"].pk


def _person_id(world):
    world["id"] = world["member"].pk


def _role_id(world):
    world["id"] = role("ml-engineer").pk


def _archived(world):
    project_archive(project=world["project"], actor=None, version=None)


def _e(method, path, ok, allowed, visible=None, body=None, setup=None) -> Endpoint:
    return Endpoint(
        method,
        path,
        ok,
        frozenset(allowed),
        frozenset(visible if visible is not None else allowed),
        body,
        setup,
    )


ENDPOINTS = [
    _e("get", "/projects/", 200, SIGNED_IN),
    _e("post", "/projects/", 201, CREATES, SIGNED_IN, body=lambda w: {"name": "Brand new"}),
    _e("get", "/projects/{id}/", 200, SEES),
    _e("patch", "/projects/{id}/", 200, MANAGES, SEES, body=lambda w: {"name": "Renamed"}),
    _e("post", "/projects/{id}/archive/", 200, MANAGES, SEES),
    _e("post", "/projects/{id}/restore/", 200, MANAGES, SEES, setup=_archived),
    _e("get", "/projects/{id}/coverage/", 200, SEES),
    _e("get", "/projects/{project_pk}/team/", 200, SEES),
    _e(
        "post",
        "/projects/{project_pk}/team/",
        201,
        MANAGES,
        SEES,
        body=lambda w: {"person": w["newcomer"].pk},
    ),
    _e("get", "/projects/{project_pk}/team/{id}/", 200, SEES, setup=_member_id),
    _e("delete", "/projects/{project_pk}/team/{id}/", 204, MANAGES, SEES, setup=_member_id),
    _e("get", "/projects/{project_pk}/team/{membership_pk}/roles/", 200, SEES),
    _e(
        "post",
        "/projects/{project_pk}/team/{membership_pk}/roles/",
        201,
        MANAGES,
        SEES,
        body=lambda w: {"role": role("data-engineer").pk, "allocation_percent": 20},
    ),
    _e(
        "get",
        "/projects/{project_pk}/team/{membership_pk}/roles/{id}/",
        200,
        SEES,
        setup=_assignment_id,
    ),
    _e(
        "patch",
        "/projects/{project_pk}/team/{membership_pk}/roles/{id}/",
        200,
        MANAGES,
        SEES,
        body=lambda w: {"allocation_percent": 70},
        setup=_assignment_id,
    ),
    _e(
        "delete",
        "/projects/{project_pk}/team/{membership_pk}/roles/{id}/",
        204,
        MANAGES,
        SEES,
        setup=_assignment_id,
    ),
    _e("get", "/people/", 200, SIGNED_IN),
    # The member is seen by themselves and by those who see their project's team.
    _e("get", "/people/{id}/", 200, SEES, setup=_person_id),
    _e("get", "/roles/", 200, SIGNED_IN),
    _e("get", "/roles/{id}/", 200, SIGNED_IN, setup=_role_id),
]


def _world(personas) -> dict:
    project = personas["project"]
    membership = Membership.objects.get(project=project, user=personas["member"])
    assignment = RoleAssignmentFactory(
        membership=membership, role=role("ml-engineer"), allocation_percent=50
    )
    return {
        **personas,
        "membership": membership,
        "assignment": assignment,
        "newcomer": UserFactory(username="api-newcomer"),
    }


def _send(client, endpoint: Endpoint, world: dict):
    url = endpoint.url(world)
    if endpoint.body is None:
        return getattr(client, endpoint.method)(url)
    return getattr(client, endpoint.method)(url, endpoint.body(world), format="json")


@pytest.mark.parametrize("mode", AUTH_MODES)
@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.method} {e.path}")
def test_permission_matrix(personas, endpoint, persona, mode):
    world = _world(personas)
    if endpoint.setup:
        endpoint.setup(world)
    client = client_as(world[persona], mode)
    refused = 403 if persona in endpoint.visible else 404
    allowed = endpoint.ok if persona in endpoint.allowed else 0
    expected = expected_status(persona, mode, allowed, refused, write=endpoint.write)
    before = fingerprint()
    response = _send(client, endpoint, world)
    assert response.status_code == expected, response.content
    if expected >= 400:
        assert response["Content-Type"] == "application/problem+json"
        assert fingerprint() == before
    elif endpoint.write:
        assert fingerprint() != before  # the allowed write did happen


def _outcome(world, endpoint):
    """What an allowed write left behind, read back from the database."""
    project = Project.objects.get(pk=world["project"].pk)
    return {
        "name": project.name,
        "archived": project.is_archived,
        "team": set(Membership.objects.filter(project=project).values_list("user_id", flat=True)),
        "assignments": set(
            RoleAssignment.objects.filter(membership__project=project).values_list(
                "role__slug", "allocation_percent"
            )
        ),
        "projects": set(Project.objects.values_list("name", flat=True)),
    }


@pytest.mark.parametrize("persona", sorted(MANAGES))
@pytest.mark.parametrize(
    "endpoint", [e for e in ENDPOINTS if e.write], ids=lambda e: f"{e.method} {e.path}"
)
def test_allowed_writes_do_what_they_say(personas, endpoint, persona):
    world = _world(personas)
    if endpoint.setup:
        endpoint.setup(world)
    before = _outcome(world, endpoint)
    response = _send(client_as(world[persona], "session"), endpoint, world)
    assert response.status_code == endpoint.ok, response.content
    after = _outcome(world, endpoint)
    changed = {key for key in before if before[key] != after[key]}
    expected = {
        ("post", "/projects/"): {"projects"},
        ("patch", "/projects/{id}/"): {"name", "projects"},
        ("post", "/projects/{id}/archive/"): {"archived"},
        ("post", "/projects/{id}/restore/"): {"archived"},
        ("post", "/projects/{project_pk}/team/"): {"team"},
        ("delete", "/projects/{project_pk}/team/{id}/"): {"team", "assignments"},
        ("post", "/projects/{project_pk}/team/{membership_pk}/roles/"): {"assignments"},
        ("patch", "/projects/{project_pk}/team/{membership_pk}/roles/{id}/"): {"assignments"},
        ("delete", "/projects/{project_pk}/team/{membership_pk}/roles/{id}/"): {"assignments"},
    }[(endpoint.method, endpoint.path)]
    assert changed == expected


def test_matrix_covers_every_operation_of_the_roles_resources():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = {
        (method, path.removeprefix("/api/v1"))
        for path, methods in schema["paths"].items()
        for method in methods
        if path.startswith(("/api/v1/projects", "/api/v1/people", "/api/v1/roles"))
    }
    covered = {(e.method, e.path) for e in ENDPOINTS}
    assert operations == covered
