"""The API's resources about people on projects (roles/api.py): behaviour,
validation, versions (ETag / If-Match / 412), query counts and agreement with the
web pages. The permission matrix is in test_roles_api_matrix.py."""

from __future__ import annotations

from itertools import count

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from roles.models import Membership, Project, ProjectStatus, RoleAssignment, TeamChange
from roles.services import membership_add, project_archive, project_create, role_assign
from tests.factories import (
    MembershipFactory,
    ProjectFactory,
    RoleAssignmentFactory,
    UserFactory,
    manager_user,
    role,
)

from .conftest import PROBLEM, client_as, fingerprint

pytestmark = pytest.mark.django_db

_names = count()


def _project_url(project, suffix: str = "") -> str:
    return f"/api/v1/projects/{project.pk}/{suffix}"


def _team_url(project, membership=None) -> str:
    return _project_url(project, "team/") + (f"{membership.pk}/" if membership else "")


def _roles_url(membership, assignment=None) -> str:
    url = f"/api/v1/projects/{membership.project_id}/team/{membership.pk}/roles/"
    return url + (f"{assignment.pk}/" if assignment else "")


def _errors(response) -> dict:
    assert response["Content-Type"] == PROBLEM, response.content
    return {error["field"]: error for error in response.json()["errors"]}


def _all(client, url: str) -> list:
    """Every row of a cursor-paginated list."""
    rows = []
    while url:
        body = client.get(url).json()
        rows += body["results"]
        url = body["next"]
    return rows


# --- projects ---------------------------------------------------------------------------


def test_project_list_shows_visible_active_projects(personas):
    client = client_as(personas["member"], "token")
    hidden = ProjectFactory(name="Hidden")
    response = client.get("/api/v1/projects/")
    assert response.status_code == 200
    body = response.json()
    assert [row["name"] for row in body["results"]] == ["API project"]
    assert hidden.name not in str(body)
    row = body["results"][0]
    assert row["status"] == "planning" and row["status_label"] == "Planning"
    assert [m["username"] for m in row["managers"]] == ["api-manager"]
    assert row["version"] == personas["project"].version


def test_project_list_filters(personas):
    admin = client_as(personas["admin"], "token")
    project = personas["project"]
    Project.objects.filter(pk=project.pk).update(status=ProjectStatus.ACTIVE)

    def names(query: str) -> list[str]:
        return [row["name"] for row in admin.get("/api/v1/projects/" + query).json()["results"]]

    assert names("?status=active") == ["API project"]
    assert names("?q=other") == ["Other project"]
    assert names(f"?manager={personas['other_manager'].pk}") == ["Other project"]
    assert names("?archived=true") == []
    project_archive(project=project, actor=None, version=None)
    assert names("?archived=true") == ["API project"]
    assert names("") == ["Other project"]


@pytest.mark.parametrize(
    "query, field",
    [
        ("?status=bogus", "status"),
        ("?archived=maybe", "archived"),
        ("?manager=abc", "manager"),
        ("?manager=99999999999999999999", "manager"),
        ("?q=" + "x" * 201, "q"),
        ("?q=a%00b", "q"),
    ],
)
def test_project_list_bad_filters_are_400_problems(personas, query, field):
    response = client_as(personas["member"], "token").get("/api/v1/projects/" + query)
    assert response.status_code == 400
    assert field in _errors(response)


def test_project_list_is_cursor_paginated(personas):
    admin = client_as(personas["admin"], "token")
    for _ in range(5):
        ProjectFactory()
    first = admin.get("/api/v1/projects/?page_size=3").json()
    assert len(first["results"]) == 3 and first["next"]
    names = [row["name"] for row in _all(admin, "/api/v1/projects/?page_size=3")]
    assert len(names) == len(set(names)) == Project.objects.count()


def test_project_retrieve_has_etag_and_404_when_hidden(personas):
    client = client_as(personas["member"], "token")
    project = personas["project"]
    response = client.get(_project_url(project))
    assert response.status_code == 200
    assert response["ETag"] == f'"{project.version}"'
    assert response.json()["required_roles"] == []
    assert client.get(_project_url(personas["other_project"])).status_code == 404
    assert client.get("/api/v1/projects/99999999999999999999/").status_code == 404


def test_manager_creates_a_project(personas):
    manager = personas["manager"]
    client = client_as(manager, "token")
    response = client.post(
        "/api/v1/projects/",
        {"name": "  Churn model ", "start_date": "2026-01-01", "status": "active"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    project = Project.objects.get(pk=body["id"])
    assert project.name == "Churn model" and project.status == "active"
    assert [m["id"] for m in body["managers"]] == [manager.pk]  # the web form's default
    assert {r["slug"] for r in body["required_roles"]} == set(
        project.required_roles.values_list("slug", flat=True)
    )
    assert response["ETag"] == f'"{project.version}"'
    assert response["Location"] == f"/api/v1/projects/{project.pk}/"
    assert TeamChange.objects.filter(project=project, action="project_created").exists()


@pytest.mark.parametrize(
    "data, field",
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "api PROJECT"}, "name"),  # taken, whatever the case
        ({"name": "New", "status": "done"}, "status"),
        ({"name": "New", "start_date": "2026-02-01", "target_date": "2026-01-01"}, "target_date"),
        ({"name": "New", "start_date": "01/02/2026"}, "start_date"),
        ({"name": "New", "escalation_days": 366}, "escalation_days"),
        ({"name": "New", "managers": []}, "managers"),
        ({"name": "New", "managers": ["x"]}, "managers"),
        ({"name": "New", "managers": [99999999999999999999]}, "managers"),
        ({"name": "New", "required_roles": [True]}, "required_roles"),
        ({"name": "New", "required_roles": 5}, "required_roles"),
    ],
)
def test_project_create_validation(personas, data, field):
    client = client_as(personas["manager"], "token")
    before = fingerprint()
    response = client.post("/api/v1/projects/", data, format="json")
    assert response.status_code == 400, response.content
    assert field in _errors(response)
    assert fingerprint() == before


def test_project_managers_must_be_able_to_manage(personas):
    """Only people the web form offers (managers, admins) may be made managers."""
    client = client_as(personas["manager"], "token")
    response = client.post(
        "/api/v1/projects/",
        {"name": "New", "managers": [personas["member"].pk]},
        format="json",
    )
    assert response.status_code == 400 and "managers" in _errors(response)
    response = client.post(
        "/api/v1/projects/",
        {"name": "New", "managers": [personas["other_manager"].pk, personas["admin"].pk]},
        format="json",
    )
    assert response.status_code == 201


def test_body_that_is_not_json_is_a_problem(personas):
    client = client_as(personas["manager"], "token")
    response = client.post("/api/v1/projects/", "{not json", content_type="application/json")
    assert response.status_code == 400 and response["Content-Type"] == PROBLEM
    response = client.post("/api/v1/projects/", "name=x", content_type="text/plain")
    assert response.status_code == 415
    response = client.post("/api/v1/projects/", [1, 2], format="json")
    assert response.status_code == 400 and response["Content-Type"] == PROBLEM


def test_manager_changes_a_project_with_if_match(personas):
    project = personas["project"]
    client = client_as(personas["manager"], "token")
    etag = client.get(_project_url(project))["ETag"]
    response = client.patch(
        _project_url(project),
        {"status": "active", "required_roles": [role("ml-engineer").pk]},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert response.status_code == 200, response.content
    project.refresh_from_db()
    assert project.status == "active"
    assert list(project.required_roles.values_list("slug", flat=True)) == ["ml-engineer"]
    assert response["ETag"] == f'"{project.version}"' != etag
    change = TeamChange.objects.filter(project=project, action="project_updated").get()
    assert set(change.changes) == {"status", "required_roles"}


def test_stale_if_match_is_412_with_the_current_project(personas):
    project = personas["project"]
    client = client_as(personas["manager"], "token")
    old = client.get(_project_url(project))["ETag"]
    assert (
        client.patch(_project_url(project), {"name": "Renamed"}, format="json").status_code == 200
    )
    before = fingerprint()
    response = client.patch(
        _project_url(project), {"name": "Mine"}, format="json", HTTP_IF_MATCH=old
    )
    assert response.status_code == 412
    body = response.json()
    assert body["code"] == "stale" and body["current"]["name"] == "Renamed"
    assert response["ETag"] == f'"{body["current"]["version"]}"'
    assert fingerprint() == before
    # Nothing to change: no write, but a stale If-Match is still refused.
    response = client.patch(
        _project_url(project), {"name": "Renamed"}, format="json", HTTP_IF_MATCH=old
    )
    assert response.status_code == 412


def test_unchanged_patch_writes_nothing(personas):
    project = personas["project"]
    client = client_as(personas["manager"], "token")
    before = fingerprint()
    response = client.patch(
        _project_url(project),
        {"name": project.name, "managers": [personas["manager"].pk]},
        format="json",
        HTTP_IF_MATCH=f'"{project.version}"',
    )
    assert response.status_code == 200 and response.json()["version"] == project.version
    assert fingerprint() == before


@pytest.mark.parametrize("header", ["3", '"abc"', '"1", "2"', 'W/"x"'])
def test_malformed_if_match_is_400(personas, header):
    client = client_as(personas["manager"], "token")
    before = fingerprint()
    response = client.patch(
        _project_url(personas["project"]), {"name": "X"}, format="json", HTTP_IF_MATCH=header
    )
    assert response.status_code == 400 and response["Content-Type"] == PROBLEM
    assert fingerprint() == before


def test_huge_if_match_is_412_not_500(personas):
    client = client_as(personas["manager"], "token")
    response = client.patch(
        _project_url(personas["project"]),
        {"name": "X"},
        format="json",
        HTTP_IF_MATCH='"999999999999999999"',
    )
    assert response.status_code == 412


def test_archive_and_restore(personas):
    project = personas["project"]
    client = client_as(personas["manager"], "token")
    response = client.post(_project_url(project, "archive/"), HTTP_IF_MATCH=f'"{project.version}"')
    assert response.status_code == 200 and response.json()["is_archived"] is True
    # Archived: not changed until restored (as the web's edit page says).
    response = client.patch(_project_url(project), {"name": "X"}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["code"] == "archived"
    again = client.post(_project_url(project, "archive/"))
    assert again.status_code == 200 and again.json()["version"] == response_version(project)
    response = client.post(_project_url(project, "restore/"))
    assert response.status_code == 200 and response.json()["is_archived"] is False
    actions = list(TeamChange.objects.filter(project=project).values_list("action", flat=True))
    assert "project_archived" in actions and "project_unarchived" in actions


def response_version(project) -> int:
    project.refresh_from_db()
    return project.version


def test_archive_with_stale_version_is_412(personas):
    project = personas["project"]
    client = client_as(personas["manager"], "token")
    response = client.post(
        _project_url(project, "archive/"), HTTP_IF_MATCH=f'"{project.version + 1}"'
    )
    assert response.status_code == 412
    assert response.json()["current"]["is_archived"] is False


def test_coverage(personas):
    project = personas["project"]
    membership = Membership.objects.get(project=project, user=personas["member"])
    RoleAssignmentFactory(membership=membership, role=role("ml-engineer"), allocation_percent=60)
    project.required_roles.set([role("ml-engineer"), role("data-engineer")])
    response = client_as(personas["member"], "token").get(_project_url(project, "coverage/"))
    assert response.status_code == 200
    body = response.json()
    rows = {row["role"]["slug"]: row for row in body["roles"]}
    assert rows["ml-engineer"]["filled"] and not rows["data-engineer"]["filled"]
    assert rows["ml-engineer"]["holders"] == [
        {
            "membership_id": membership.pk,
            "person_id": personas["member"].pk,
            "display_name": personas["member"].get_full_name(),
            "allocation_percent": 60,
        }
    ]
    assert [gap["slug"] for gap in body["gaps"]] == ["data-engineer"]
    assert {p["person_id"] for p in body["people"]} == {
        personas["member"].pk,
        personas["manager"].pk,
    }


def test_role_names_follow_accept_language(personas):
    client = client_as(personas["member"], "token")
    response = client.get(_project_url(personas["project"]), HTTP_ACCEPT_LANGUAGE="ja")
    body = response.json()
    assert body["status_label"] != "Planning"
    english = client.get(_project_url(personas["project"]), HTTP_ACCEPT_LANGUAGE="en").json()
    assert english["status_label"] == "Planning"
    personas["project"].required_roles.set([role("data-scientist")])
    roles = client.get(_project_url(personas["project"]), HTTP_ACCEPT_LANGUAGE="ja").json()
    assert roles["required_roles"][0]["name"] not in {"", "Data Scientist"}


# --- team -------------------------------------------------------------------------------


def test_team_lists_people_roles_and_allocation(personas):
    project = personas["project"]
    membership = Membership.objects.get(project=project, user=personas["member"])
    RoleAssignmentFactory(membership=membership, role=role("ml-engineer"), allocation_percent=60)
    response = client_as(personas["member"], "token").get(_team_url(project))
    assert response.status_code == 200
    body = response.json()
    assert body["version"] == project.version and response["ETag"] == f'"{project.version}"'
    members = {m["person"]["username"]: m for m in body["members"]}
    assert set(members) == {"api-member", "api-manager"}
    row = members["api-member"]
    assert row["id"] == membership.pk and row["account"] == "active"
    assert row["person"]["display_name"] == personas["member"].get_full_name()
    assert [(r["role"]["slug"], r["allocation_percent"]) for r in row["roles"]] == [
        ("ml-engineer", 60)
    ]
    assert row["allocation_here"] == 60 and row["allocation_total"] == 60


def test_manager_adds_and_removes_a_person(personas):
    project = personas["project"]
    newcomer = UserFactory(username="newcomer")
    client = client_as(personas["manager"], "token")
    response = client.post(
        _team_url(project),
        {"person": newcomer.pk},
        format="json",
        HTTP_IF_MATCH=f'"{project.version}"',
    )
    assert response.status_code == 201, response.content
    membership = Membership.objects.get(project=project, user=newcomer)
    assert response.json()["id"] == membership.pk
    assert response["Location"] == _team_url(project, membership)
    assert response["ETag"] == f'"{response_version(project)}"'
    response = client.delete(_team_url(project, membership), HTTP_IF_MATCH=response["ETag"])
    assert response.status_code == 204
    assert not Membership.objects.filter(pk=membership.pk).exists()
    actions = set(TeamChange.objects.filter(project=project).values_list("action", flat=True))
    assert {"member_added", "member_removed"} <= actions


@pytest.mark.parametrize("who", ["on_team", "inactive", "unknown", "huge", "missing", "text"])
def test_add_person_validation(personas, who):
    project = personas["project"]
    inactive = UserFactory(is_active=False)
    person = {
        "on_team": personas["member"].pk,
        "inactive": inactive.pk,
        "unknown": 999999,
        "huge": 99999999999999999999,
        "text": "abc",
    }
    data = {"person": person[who]} if who in person else {}
    before = fingerprint()
    response = client_as(personas["manager"], "token").post(_team_url(project), data, format="json")
    assert response.status_code == 400
    assert "person" in _errors(response)
    assert fingerprint() == before


def test_stale_team_write_is_412_with_the_current_team(personas):
    project = personas["project"]
    client = client_as(personas["manager"], "token")
    etag = f'"{project.version}"'
    membership_add(project=project, user=UserFactory(), actor=None)
    before = fingerprint()
    response = client.post(
        _team_url(project), {"person": UserFactory().pk}, format="json", HTTP_IF_MATCH=etag
    )
    assert response.status_code == 412
    current = response.json()["current"]
    assert current["version"] == response_version(project) and len(current["members"]) == 3
    membership = Membership.objects.get(project=project, user=personas["member"])
    before = fingerprint()
    response = client.delete(_team_url(project, membership), HTTP_IF_MATCH=etag)
    assert response.status_code == 412
    assert response.json()["current"]["id"] == membership.pk
    assert fingerprint() == before


def test_membership_of_another_project_is_404(personas):
    other = Membership.objects.get(project=personas["other_project"])
    client = client_as(personas["admin"], "token")
    url = f"/api/v1/projects/{personas['project'].pk}/team/{other.pk}/"
    assert client.get(url).status_code == 404
    assert client.delete(url).status_code == 404
    assert Membership.objects.filter(pk=other.pk).exists()


# --- role assignments -------------------------------------------------------------------


def test_assign_change_and_unassign_a_role(personas):
    project = personas["project"]
    membership = Membership.objects.get(project=project, user=personas["member"])
    client = client_as(personas["manager"], "token")
    response = client.post(
        _roles_url(membership),
        {"role": role("data-scientist").pk, "allocation_percent": 40},
        format="json",
        HTTP_IF_MATCH=f'"{project.version}"',
    )
    assert response.status_code == 201, response.content
    assignment = RoleAssignment.objects.get(membership=membership)
    assert assignment.allocation_percent == 40 and response.json()["id"] == assignment.pk
    assert response["Location"] == _roles_url(membership, assignment)
    etag = response["ETag"]
    assert etag == f'"{response_version(project)}"'
    response = client.patch(
        _roles_url(membership, assignment),
        {"allocation_percent": 70},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert response.status_code == 200 and response.json()["allocation_percent"] == 70
    assignment.refresh_from_db()
    assert assignment.allocation_percent == 70
    listed = client.get(_roles_url(membership)).json()
    assert [row["id"] for row in listed] == [assignment.pk]
    response = client.delete(_roles_url(membership, assignment), HTTP_IF_MATCH=response["ETag"])
    assert response.status_code == 204
    assert not RoleAssignment.objects.filter(pk=assignment.pk).exists()
    actions = set(TeamChange.objects.filter(project=project).values_list("action", flat=True))
    assert {"role_assigned", "assignment_changed", "role_unassigned"} <= actions


@pytest.mark.parametrize(
    "data, field",
    [
        ({}, "role"),
        ({"role": 999999}, "role"),
        ({"role": "x"}, "role"),
        ({"role": "held"}, "role"),
        ({"role": "new", "allocation_percent": 101}, "allocation_percent"),
        ({"role": "new", "allocation_percent": -1}, "allocation_percent"),
        ({"role": "new", "allocation_percent": "half"}, "allocation_percent"),
    ],
)
def test_assign_role_validation(personas, data, field):
    project = personas["project"]
    membership = Membership.objects.get(project=project, user=personas["member"])
    RoleAssignmentFactory(membership=membership, role=role("ml-engineer"))
    data = dict(data)
    if data.get("role") == "held":
        data["role"] = role("ml-engineer").pk
    elif data.get("role") == "new":
        data["role"] = role("data-engineer").pk
    before = fingerprint()
    response = client_as(personas["manager"], "token").post(
        _roles_url(membership), data, format="json"
    )
    assert response.status_code == 400, response.content
    assert field in _errors(response)
    assert fingerprint() == before


def test_deactivated_person_takes_on_no_new_role(personas):
    project = personas["project"]
    membership = Membership.objects.get(project=project, user=personas["member"])
    personas["member"].is_active = False
    personas["member"].save()
    response = client_as(personas["manager"], "token").post(
        _roles_url(membership), {"role": role("ml-engineer").pk}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "inactive"
    assert not RoleAssignment.objects.filter(membership=membership).exists()


def test_allocation_validation_and_stale(personas):
    project = personas["project"]
    membership = Membership.objects.get(project=project, user=personas["member"])
    assignment = RoleAssignmentFactory(membership=membership, allocation_percent=50)
    client = client_as(personas["manager"], "token")
    url = _roles_url(membership, assignment)
    for bad in ({}, {"allocation_percent": 200}, {"allocation_percent": None}):
        response = client.patch(url, bad, format="json")
        assert response.status_code == 400 and "allocation_percent" in _errors(response)
    old = f'"{project.version}"'
    assert client.patch(url, {"allocation_percent": 60}, format="json").status_code == 200
    response = client.patch(url, {"allocation_percent": 80}, format="json", HTTP_IF_MATCH=old)
    assert response.status_code == 412
    assert response.json()["current"]["allocation_percent"] == 60
    response = client.delete(url, HTTP_IF_MATCH=old)
    assert response.status_code == 412
    assert RoleAssignment.objects.filter(pk=assignment.pk).exists()


def test_assignment_of_another_member_is_404(personas):
    project = personas["project"]
    member = Membership.objects.get(project=project, user=personas["member"])
    manager = Membership.objects.get(project=project, user=personas["manager"])
    assignment = RoleAssignmentFactory(membership=manager)
    client = client_as(personas["admin"], "token")
    assert client.get(_roles_url(member, assignment)).status_code == 404
    assert client.delete(_roles_url(member, assignment)).status_code == 404
    assert RoleAssignment.objects.filter(pk=assignment.pk).exists()


# --- people -----------------------------------------------------------------------------


def test_people_are_those_the_caller_may_see(personas):
    outsider = personas["outsider"]
    membership = Membership.objects.get(project=personas["project"], user=personas["member"])
    RoleAssignmentFactory(membership=membership, role=role("ml-engineer"), allocation_percent=30)
    member = client_as(personas["member"], "token")
    people = {row["username"]: row for row in _all(member, "/api/v1/people/")}
    assert set(people) == {"api-member", "api-manager"}
    row = people["api-member"]
    assert row["total_allocation"] == 30
    assert row["projects"] == [
        {
            "project_id": personas["project"].pk,
            "project_name": "API project",
            "roles": [
                {
                    "role": {
                        "id": role("ml-engineer").pk,
                        "slug": "ml-engineer",
                        "name": role("ml-engineer").display_name,
                    },
                    "allocation_percent": 30,
                }
            ],
        }
    ]
    assert member.get(f"/api/v1/people/{outsider.pk}/").status_code == 404
    assert member.get(f"/api/v1/people/{personas['member'].pk}/").status_code == 200
    assert member.get("/api/v1/people/99999999999999999999/").status_code == 404
    mine = [row["username"] for row in _all(client_as(outsider, "token"), "/api/v1/people/")]
    assert mine == ["api-outsider"]


def test_people_search(personas):
    client = client_as(personas["admin"], "token")
    names = [row["username"] for row in _all(client, "/api/v1/people/?q=api-m")]
    assert sorted(names) == ["api-manager", "api-member"]
    response = client.get("/api/v1/people/?q=" + "x" * 201)
    assert response.status_code == 400 and "q" in _errors(response)


# --- the web and the API agree ----------------------------------------------------------


@pytest.mark.parametrize("persona", ["outsider", "member", "manager", "other_manager", "admin"])
@pytest.mark.parametrize("archived", [False, True])
def test_api_lists_the_projects_the_web_list_shows(client, personas, persona, archived):
    user = personas[persona]
    for n in range(3):
        project = ProjectFactory(name=f"Extra {n}", managers=[personas["other_manager"]])
        MembershipFactory(project=project, user=personas["member"]) if n == 0 else None
    ProjectFactory(name="Nobody's")
    project_archive(project=personas["project"], actor=None, version=None)
    query = "&archived=true" if archived else ""
    client.force_login(user)
    web = client.get(reverse("roles:project_list") + ("?archived=on" if archived else ""))
    assert web.status_code == 200
    web_ids = {project.pk for project in web.context["page_obj"].paginator.object_list}
    api_ids = {
        row["id"]
        for row in _all(
            client_as(user, "token"),
            "/api/v1/projects/?page_size=2" + query,  # several pages
        )
    }
    assert api_ids == web_ids


# --- query counts -----------------------------------------------------------------------

ROLE_SLUGS = ["ml-product-manager", "data-scientist", "ml-engineer", "data-engineer"]


def _grow(manager, *, projects: int, people: int) -> list[Project]:
    created = []
    for _ in range(projects):
        project = project_create(name=f"Grown {next(_names)}", managers=[manager])
        membership_add(project=project, user=manager)
        for k in range(people):
            membership = membership_add(project=project, user=UserFactory())
            role_assign(membership=membership, role=role(ROLE_SLUGS[k % 4]), allocation_percent=30)
            if k % 2:
                role_assign(
                    membership=membership, role=role("devops-engineer"), allocation_percent=5
                )
        created.append(project)
    return created


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(captured)


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/projects/",
        "/api/v1/projects/{project}/",
        "/api/v1/projects/{project}/team/",
        "/api/v1/projects/{project}/team/{membership}/",
        "/api/v1/projects/{project}/team/{membership}/roles/",
        "/api/v1/projects/{project}/coverage/",
        "/api/v1/people/",
        "/api/v1/people/{person}/",
    ],
)
@pytest.mark.parametrize("mode", ["session", "token"])
def test_query_counts_do_not_grow_with_data(url, mode):
    # Queries: the caller (session and user, or the token and its user), their
    # permissions (own and groups'), then the resource's rows and one per prefetch
    # (managers, required roles; team memberships, their assignments; people's
    # memberships and assignments; coverage: the suggestions). None per row.
    manager = manager_user()
    client = client_as(manager, mode)
    first = _grow(manager, projects=1, people=1)[0]
    membership = Membership.objects.filter(project=first).exclude(user=manager).first()

    def address() -> str:
        return url.format(project=first.pk, membership=membership.pk, person=membership.user_id)

    client.get(address())  # a token's first call notes when it was used (once a minute)
    small = _queries(client, address())
    _grow(manager, projects=6, people=5)
    for k in range(5):  # the first project grows too
        extra = membership_add(project=first, user=UserFactory())
        role_assign(membership=extra, role=role(ROLE_SLUGS[k % 4]), allocation_percent=20)
    role_assign(membership=membership, role=role("devops-engineer"), allocation_percent=5)
    first.required_roles.add(role("data-engineer"), role("ml-engineer"))
    assert _queries(client, address()) == small


def test_schema_has_no_warnings(tmp_path):
    """drf-spectacular documents every roles resource without guessing."""
    from django.core.management import call_command

    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = target.read_text()
    assert "/api/v1/projects/{project_pk}/team/{membership_pk}/roles/{id}/" in schema


def test_manager_hands_a_project_over(personas):
    """A manager may make someone else its manager; the answer is the project as
    saved, though they no longer see it."""
    project = personas["project"]
    client = client_as(personas["manager"], "token")
    Membership.objects.filter(project=project, user=personas["manager"]).delete()
    response = client.patch(
        _project_url(project), {"managers": [personas["other_manager"].pk]}, format="json"
    )
    assert response.status_code == 200, response.content
    assert [m["id"] for m in response.json()["managers"]] == [personas["other_manager"].pk]
    assert client.get(_project_url(project)).status_code == 404


def test_field_errors_follow_accept_language(personas):
    client = client_as(personas["manager"], "token")
    response = client.post(
        "/api/v1/projects/", {"name": "API project"}, format="json", HTTP_ACCEPT_LANGUAGE="ja"
    )
    assert response.status_code == 400
    assert _errors(response)["name"]["detail"] == "この名前のプロジェクトはすでに存在します。"
