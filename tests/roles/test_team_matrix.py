"""The team page's matrix: people down the side, roles across; a cell gives, changes
or removes a role; a person joins with a role in one step; suggestions are one-click
adds; gaps and over-allocation come back with every change (htmx, out of band)."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mlteam.people import person_name
from roles.models import Membership, RoleAssignment, TeamChange, TeamChangeAction
from roles.services import membership_add, project_create, role_assign
from tests.factories import UserFactory, role
from tests.roles.conftest import snapshot

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def manager_client(client, world):
    client.force_login(world.people["manager"])
    return client


def _cell(world, membership, slug):
    return reverse("roles:team_cell", args=[world.project.pk, membership.pk, role(slug).pk])


def _elsewhere(world, person, slug, allocation):
    """`person` holds `slug` at `allocation` on another project the manager runs."""
    manager = world.people["manager"]
    other = project_create(name=f"Elsewhere {slug}", managers=[manager], actor=manager)
    membership = membership_add(project=other, user=person, actor=manager)
    role_assign(membership=membership, role=role(slug), allocation_percent=allocation)
    return other


def test_the_team_page_is_the_matrix_people_by_roles(manager_client, world):
    html = manager_client.get(reverse("roles:project_team", args=[world.project.pk])).content
    html = html.decode()
    assert (
        '<table class="table table-sm table-bordered align-middle mb-0 team-matrix" role="grid"'
        in html
    )
    # A held cell and an empty one, each a link to its editor with a spoken label.
    held = _cell(world, world.membership, "data-scientist")
    empty = _cell(world, world.membership, "ml-engineer")
    name = person_name(world.people["member"])
    assert re.search(rf'href="{held}"[^>]*aria-label="{name} as Data scientist: 100%', html)
    assert re.search(rf'href="{empty}"[^>]*aria-label="Give {name} the role ML engineer"', html)
    # No per-person role form any more.
    assert reverse("roles:team_assign", args=[world.project.pk, world.membership.pk]) not in html
    assert 'name="role"' in html  # the add row's role


def test_an_empty_cell_offers_what_is_left_of_the_persons_time(manager_client, world):
    newcomer = world.people["newcomer"]
    _elsewhere(world, newcomer, "data-engineer", 30)
    membership = membership_add(project=world.project, user=newcomer)
    page = manager_client.get(_cell(world, membership, "ml-engineer")).content.decode()
    prefix = f"m{membership.pk}"
    assert f'name="{prefix}-allocation_percent" value="70"' in page
    assert f'name="{prefix}-role" value="{role("ml-engineer").pk}"' in page
    assert reverse("roles:team_assign", args=[world.project.pk, membership.pk]) in page


def test_a_held_cell_changes_the_allocation_or_removes_the_role(manager_client, world):
    page = manager_client.get(_cell(world, world.membership, "data-scientist")).content.decode()
    assert reverse("roles:assignment_edit", args=[world.project.pk, world.assignment.pk]) in page
    unassign = reverse("roles:assignment_remove", args=[world.project.pk, world.assignment.pk])
    assert f'href="{unassign}"' in page  # a confirmation page without JavaScript
    assert "hx-confirm=" in page  # ... and a question with it
    # The editor alone for htmx (the dialog's content).
    fragment = manager_client.get(_cell(world, world.membership, "data-scientist"), **HTMX)
    assert not fragment.content.decode().lstrip().startswith("<!DOCTYPE")
    assert 'id="cell-editor-title"' in fragment.content.decode()


def test_a_cell_of_another_project_or_an_unknown_role_is_not_found(manager_client, world):
    other = membership_add(project=world.other_project, user=world.people["newcomer"])
    url = reverse("roles:team_cell", args=[world.project.pk, other.pk, role("ml-engineer").pk])
    assert manager_client.get(url).status_code == 404
    url = reverse("roles:team_cell", args=[world.project.pk, world.membership.pk, 99999])
    assert manager_client.get(url).status_code == 404


def test_a_person_joins_with_a_role_in_one_step(manager_client, world):
    newcomer = world.people["newcomer"]
    _elsewhere(world, newcomer, "data-engineer", 40)
    response = manager_client.post(
        reverse("roles:team_add", args=[world.project.pk]),
        {"version": world.project.version, "user": newcomer.pk, "role": role("ml-engineer").pk},
        follow=True,
    )
    assert "joined the team as ML engineer." in response.content.decode()
    assignment = RoleAssignment.objects.get(
        membership__project=world.project, membership__user=newcomer
    )
    # No allocation given: what was left of their time.
    assert (assignment.role.slug, assignment.allocation_percent) == ("ml-engineer", 60)
    actions = list(
        TeamChange.objects.filter(project=world.project, person=newcomer).values_list(
            "action", flat=True
        )
    )
    assert sorted(actions) == sorted(
        [TeamChangeAction.MEMBER_ADDED, TeamChangeAction.ROLE_ASSIGNED]
    )


def test_joining_with_a_bad_allocation_saves_nothing(manager_client, world):
    before = snapshot()
    response = manager_client.post(
        reverse("roles:team_add", args=[world.project.pk]),
        {
            "version": world.project.version,
            "user": world.people["newcomer"].pk,
            "role": role("ml-engineer").pk,
            "allocation_percent": "500",
        },
    )
    assert response.status_code == 422
    assert "Ensure this value is less than or equal to 100." in response.content.decode()
    assert snapshot() == before


def test_a_stale_join_with_a_role_saves_neither_part(manager_client, world):
    stale = world.project.version
    manager_client.post(
        reverse("roles:assignment_edit", args=[world.project.pk, world.assignment.pk]),
        {"version": stale, "allocation_percent": 50},
    )
    before = snapshot()
    response = manager_client.post(
        reverse("roles:team_add", args=[world.project.pk]),
        {"version": stale, "user": world.people["newcomer"].pk, "role": role("ml-engineer").pk},
    )
    assert response.status_code == 422
    assert "Someone else changed this project" in response.content.decode()
    assert snapshot() == before


def test_someone_holding_a_missing_role_elsewhere_is_a_one_click_add(manager_client, world):
    newcomer = world.people["newcomer"]
    _elsewhere(world, newcomer, "ml-engineer", 50)
    page = manager_client.get(reverse("roles:project_team", args=[world.project.pk]))
    page = page.content.decode()
    assert (
        f'<span class="visually-hidden">: Add {person_name(newcomer)} as ML engineer</span>' in page
    )
    response = manager_client.post(
        reverse("roles:team_add", args=[world.project.pk]),
        {"version": world.project.version, "user": newcomer.pk, "role": role("ml-engineer").pk},
        **HTMX,
    )
    assert response.status_code == 200
    assert (
        RoleAssignment.objects.get(
            membership__project=world.project, membership__user=newcomer
        ).allocation_percent
        == 50
    )
    # The gap is gone from the summary, out of band.
    summary = response.content.decode().split('<div id="team-summary" hx-swap-oob="innerHTML">')[1]
    assert "ML engineer: holds it elsewhere" not in summary


def test_gaps_and_over_allocation_update_in_place(manager_client, world):
    """The member holds Data scientist at 100%: another role at 20% puts them over,
    said in their row and in the notes; removing it again clears both."""
    response = manager_client.post(
        reverse("roles:team_assign", args=[world.project.pk, world.membership.pk]),
        {
            f"m{world.membership.pk}-version": world.project.version,
            f"m{world.membership.pk}-role": role("ml-engineer").pk,
            f"m{world.membership.pk}-allocation_percent": 20,
        },
        **HTMX,
    )
    html = response.content.decode()
    matrix, summary = html.split('<div id="team-summary" hx-swap-oob="innerHTML">')
    assert "Over-allocated" in matrix
    name = person_name(world.people["member"])
    assert f"{name} is allocated 120% across projects." in summary
    assert "ML engineer" not in summary.split("Unfilled required roles:")[1].split("</div>")[0]

    assignment = RoleAssignment.objects.get(membership=world.membership, role__slug="ml-engineer")
    membership = Membership.objects.get(pk=world.membership.pk)
    response = manager_client.post(
        reverse("roles:assignment_remove", args=[world.project.pk, assignment.pk]),
        {"version": membership.project.version},
        **HTMX,
    )
    html = response.content.decode()
    matrix, summary = html.split('<div id="team-summary" hx-swap-oob="innerHTML">')
    assert "Over-allocated" not in matrix
    assert "across projects" not in summary
    assert "ML engineer" in summary.split("Unfilled required roles:")[1]


def _grow_team(world, size):
    for _ in range(size):
        membership = membership_add(project=world.project, user=UserFactory())
        role_assign(membership=membership, role=role("data-engineer"), allocation_percent=30)


def _matrix_queries(client, world) -> int:
    assignment = RoleAssignment.objects.get(pk=world.assignment.pk)
    version = world.project.__class__.objects.get(pk=world.project.pk).version
    url = reverse("roles:assignment_edit", args=[world.project.pk, assignment.pk])
    new = 40 if assignment.allocation_percent != 40 else 45
    with CaptureQueriesContext(connection) as captured:
        response = client.post(
            url,
            {"version": version, "allocation_percent": new, "initial-allocation_percent": 0},
            **HTMX,
        )
    assert response.status_code == 200
    assert '<div id="team-summary" hx-swap-oob="innerHTML">' in response.content.decode()
    return len(captured)


def test_the_matrix_fragment_does_not_grow_with_the_team(manager_client, world):
    # A change and the matrix it answers with: session, user, permissions, the
    # project (managed?), the assignment, the write (version, save, history),
    # then the team (prefetched), required roles, allocation totals, suggestions,
    # the catalogue. None per person or cell.
    small = _matrix_queries(manager_client, world)
    _grow_team(world, 8)
    assert _matrix_queries(manager_client, world) == small


def test_the_cell_editor_does_not_grow_with_the_team(manager_client, world):
    url = _cell(world, world.membership, "ml-engineer")
    with CaptureQueriesContext(connection) as small:
        manager_client.get(url, **HTMX)
    _grow_team(world, 8)
    with CaptureQueriesContext(connection) as large:
        manager_client.get(url, **HTMX)
    assert len(large) == len(small)
