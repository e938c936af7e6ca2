"""Every URL of the team feature x every persona: status code, and nothing changed
when the request is refused."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.roles.conftest import snapshot

PERSONAS = ["anonymous", "outsider", "member", "manager", "other_manager", "admin"]

# What each persona gets. "login" = redirect to sign-in.
EVERYONE = {"anonymous": "login", **dict.fromkeys(PERSONAS[1:], 200)}
PROJECT_READ = {
    "anonymous": "login",
    "outsider": 404,
    "member": 200,
    "manager": 200,
    "other_manager": 404,
    "admin": 200,
}
PROJECT_MANAGE_GET = {**PROJECT_READ, "member": 403}
PROJECT_MANAGE_POST = {**PROJECT_MANAGE_GET, "manager": 302, "admin": 302}
CREATE_GET = {
    "anonymous": "login",
    "outsider": 403,
    "member": 403,
    "manager": 200,
    "other_manager": 200,
    "admin": 200,
}
CREATE_POST = {**CREATE_GET, "manager": 302, "other_manager": 302, "admin": 302}


def _urls(world):
    p, m, a = world.project.pk, world.membership.pk, world.assignment.pk
    newcomer = world.people["newcomer"].pk
    version = world.project.version
    return {
        "project_list": ("get", reverse("roles:project_list"), None, EVERYONE),
        "portfolio": ("get", reverse("roles:portfolio_coverage"), None, EVERYONE),
        "role_list": ("get", reverse("roles:role_list"), None, EVERYONE),
        "role_detail": (
            "get",
            reverse("roles:role_detail", args=["data-scientist"]),
            None,
            EVERYONE,
        ),
        "people": ("get", reverse("roles:people_list"), None, EVERYONE),
        "create_form": ("get", reverse("roles:project_create"), None, CREATE_GET),
        "create": (
            "post",
            reverse("roles:project_create"),
            {"name": "Brand new", "status": "planning", "managers": [world.people["manager"].pk]},
            CREATE_POST,
        ),
        "detail": ("get", reverse("roles:project_detail", args=[p]), None, PROJECT_READ),
        "activity": ("get", reverse("roles:project_activity", args=[p]), None, PROJECT_READ),
        "panels": ("get", reverse("roles:project_panels", args=[p]), None, PROJECT_READ),
        "edit_form": ("get", reverse("roles:project_edit", args=[p]), None, PROJECT_MANAGE_GET),
        "edit": (
            "post",
            reverse("roles:project_edit", args=[p]),
            {
                "version": version,
                "name": "Renamed",
                "status": "active",
                "managers": [world.people["manager"].pk],
            },
            PROJECT_MANAGE_POST,
        ),
        "archive_confirm": (
            "get",
            reverse("roles:project_archive", args=[p]),
            None,
            PROJECT_MANAGE_GET,
        ),
        "archive": (
            "post",
            reverse("roles:project_archive", args=[p]),
            {"version": version},
            PROJECT_MANAGE_POST,
        ),
        "team": ("get", reverse("roles:project_team", args=[p]), None, PROJECT_MANAGE_GET),
        "team_candidates": (
            "get",
            reverse("roles:team_candidates", args=[p]),
            {"find": "newcomer"},
            PROJECT_MANAGE_GET,
        ),
        "team_add": (
            "post",
            reverse("roles:team_add", args=[p]),
            {"version": version, "user": newcomer},
            PROJECT_MANAGE_POST,
        ),
        "team_invite": (
            "post",
            reverse("roles:team_invite", args=[p]),
            {"version": version, "email": "new.person@example.com"},
            PROJECT_MANAGE_POST,
        ),
        "remove_confirm": (
            "get",
            reverse("roles:team_remove", args=[p, m]),
            None,
            PROJECT_MANAGE_GET,
        ),
        "remove": (
            "post",
            reverse("roles:team_remove", args=[p, m]),
            {"version": version},
            PROJECT_MANAGE_POST,
        ),
        "assign": (
            "post",
            reverse("roles:team_assign", args=[p, m]),
            {
                f"m{m}-version": version,
                f"m{m}-role": _role_pk("ml-engineer"),
                f"m{m}-allocation_percent": 40,
            },
            PROJECT_MANAGE_POST,
        ),
        # The matrix's cells: an empty one (give the role) and a held one.
        "cell_empty": (
            "get",
            reverse("roles:team_cell", args=[p, m, _role_pk("ml-engineer")]),
            None,
            PROJECT_MANAGE_GET,
        ),
        "cell_held": (
            "get",
            reverse("roles:team_cell", args=[p, m, _role_pk("data-scientist")]),
            None,
            PROJECT_MANAGE_GET,
        ),
        # Adding a person with a role in one step (the matrix's add row, a suggestion).
        "team_add_with_role": (
            "post",
            reverse("roles:team_add", args=[p]),
            {"version": version, "user": newcomer, "role": _role_pk("ml-engineer")},
            PROJECT_MANAGE_POST,
        ),
        "allocation_form": (
            "get",
            reverse("roles:assignment_edit", args=[p, a]),
            None,
            PROJECT_MANAGE_GET,
        ),
        "allocation": (
            "post",
            reverse("roles:assignment_edit", args=[p, a]),
            {"version": version, "allocation_percent": 70},
            PROJECT_MANAGE_POST,
        ),
        "unassign_confirm": (
            "get",
            reverse("roles:assignment_remove", args=[p, a]),
            None,
            PROJECT_MANAGE_GET,
        ),
        "unassign": (
            "post",
            reverse("roles:assignment_remove", args=[p, a]),
            {"version": version},
            PROJECT_MANAGE_POST,
        ),
    }


def _role_pk(slug):
    from roles.models import Role

    return Role.objects.get(slug=slug).pk


URL_NAMES = [
    "project_list", "portfolio", "role_list", "role_detail", "people", "create_form", "create",
    "detail", "activity", "edit_form", "edit", "archive_confirm", "archive", "team",
    "team_candidates", "team_add", "team_invite",
    "remove_confirm", "remove", "assign", "cell_empty", "cell_held", "team_add_with_role",
    "allocation_form", "allocation", "unassign_confirm",
    "unassign",
]  # fmt: skip


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", URL_NAMES)
def test_permission_matrix(client, world, name, persona):
    method, url, data, expected = _urls(world)[name]
    expected = expected[persona]
    user = world.people[persona]
    if user is not None:
        client.force_login(user)
    before = snapshot()

    response = getattr(client, method)(url, data or {})

    if expected == "login":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == expected, response.content[:500]
    changed = snapshot() != before
    assert changed is (method == "post" and expected == 302), (
        f"{name} as {persona}: changed={changed}"
    )


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("method", ["get", "post"])
def test_permission_matrix_for_restoring_an_archived_project(client, world, persona, method):
    from roles.services import project_archive

    project = project_archive(project=world.project, actor=world.people["manager"], version=None)
    expected = (PROJECT_MANAGE_POST if method == "post" else PROJECT_MANAGE_GET)[persona]
    if world.people[persona] is not None:
        client.force_login(world.people[persona])
    before = snapshot()
    response = getattr(client, method)(
        reverse("roles:project_unarchive", args=[project.pk]), {"version": project.version}
    )
    if expected == "login":
        assert response.status_code == 302 and "/login/" in response["Location"]
    else:
        assert response.status_code == expected
    assert (snapshot() != before) is (method == "post" and expected == 302)


def test_matrix_covers_every_url_of_the_roles_app(world):
    from django.urls import get_resolver, resolve

    # The `roles:` namespace: roles' own patterns and the pages deliverables serves
    # under it (mlteam/urls.py joins them).
    _, namespace = get_resolver().namespace_dict["roles"]
    covered = {resolve(entry[1]).url_name for entry in _urls(world).values()} | {
        "project_unarchive"
    }
    assert {pattern.name for pattern in namespace.url_patterns} == covered
