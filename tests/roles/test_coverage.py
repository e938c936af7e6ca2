"""Coverage rules: unfilled required roles, heavy holders, over-allocation, suggestions."""

from __future__ import annotations

import pytest
from django.utils import translation

from mlteam import cache
from mlteam.services import people_deactivate
from roles.models import Project
from roles.selectors import (
    MatrixPerson,
    MatrixSuggestion,
    coverage_matrix,
    portfolio_coverage,
    project_coverage,
    project_get_for_user,
    unfilled_roles,
)
from roles.services import membership_add, project_archive, project_create, role_assign
from tests.factories import UserFactory, admin_user, manager_user, role

pytestmark = pytest.mark.django_db


def _coverage(project, viewer):
    return project_coverage(project=project_get_for_user(user=viewer, pk=project.pk), viewer=viewer)


def _staff(project, user, *assignments):
    membership = membership_add(project=project, user=user)
    for slug, allocation in assignments:
        role_assign(membership=membership, role=role(slug), allocation_percent=allocation)
    return membership


def test_unfilled_required_roles_are_flagged_and_clear_when_filled():
    manager = manager_user()
    project = project_create(
        name="P", managers=[manager], required_roles=[role("data-scientist"), role("ml-engineer")]
    )
    assert [r.slug for r in _coverage(project, manager).gaps] == ["data-scientist", "ml-engineer"]

    _staff(project, UserFactory(), ("data-scientist", 50))
    assert [r.slug for r in _coverage(project, manager).gaps] == ["ml-engineer"]

    _staff(project, UserFactory(), ("ml-engineer", 50))
    assert _coverage(project, manager).gaps == []


def test_optional_roles_someone_holds_appear_as_extra_rows():
    manager = manager_user()
    project = project_create(name="P", managers=[manager], required_roles=[role("ml-engineer")])
    _staff(project, UserFactory(), ("ml-engineer", 50), ("devops-engineer", 20))
    rows = _coverage(project, manager).rows
    assert [(r.role.slug, r.required, r.filled) for r in rows] == [
        ("ml-engineer", True, True),
        ("devops-engineer", False, True),
    ]


def test_three_roles_on_one_project_is_noted():
    manager = manager_user()
    project = project_create(name="P", managers=[manager])
    person = UserFactory()
    _staff(project, person, ("data-scientist", 10), ("ml-engineer", 10))
    assert _coverage(project, manager).notes == []
    role_assign(
        membership=project.memberships.get(user=person),
        role=role("data-engineer"),
        allocation_percent=10,
    )
    (note,) = _coverage(project, manager).notes
    assert note.membership.user == person and note.holds_many_roles and not note.overallocated


def test_more_than_100_percent_across_projects_is_noted():
    manager = manager_user()
    first = project_create(name="A", managers=[manager])
    second = project_create(name="B", managers=[manager])
    person = UserFactory()
    _staff(first, person, ("ml-engineer", 60))
    _staff(second, person, ("ml-engineer", 40))
    assert _coverage(first, manager).notes == []  # exactly 100% is fine
    role_assign(
        membership=second.memberships.get(user=person),
        role=role("data-engineer"),
        allocation_percent=10,
    )
    (note,) = _coverage(first, manager).notes
    assert note.allocation_total == 110 and note.overallocated


def _on_mine_and_a_hidden_project():
    """A manager's project and one they may not see, one person at 60% on each."""
    manager, stranger_manager = manager_user(), manager_user()
    mine = project_create(name="Mine", managers=[manager])
    hidden = project_create(name="Hidden", managers=[stranger_manager])
    person = UserFactory()
    _staff(mine, person, ("ml-engineer", 60))
    _staff(hidden, person, ("ml-engineer", 60))
    return manager, mine


def test_allocation_total_counts_only_projects_the_viewer_may_see():
    manager, mine = _on_mine_and_a_hidden_project()
    (column,) = _coverage(mine, manager).people
    assert column.allocation_total == 60
    (column,) = _coverage(mine, admin_user()).people
    assert column.allocation_total == 120


def test_allocation_totals_read_with_the_team_are_the_viewers_own():
    # project_get_for_user reads the totals with the team for its viewer; another
    # viewer's coverage of the same fetched project reads theirs, not those.
    manager, mine = _on_mine_and_a_hidden_project()
    fetched = project_get_for_user(user=admin_user(), pk=mine.pk)
    (column,) = project_coverage(project=fetched, viewer=manager).people
    assert column.allocation_total == 60
    fetched = project_get_for_user(user=manager, pk=mine.pk, visible=[mine.pk])
    (column,) = project_coverage(project=fetched, viewer=manager).people
    assert column.allocation_total == 60


def test_archived_projects_do_not_count_towards_allocation():
    manager = manager_user()
    live = project_create(name="Live", managers=[manager])
    old = project_create(name="Old", managers=[manager])
    person = UserFactory()
    _staff(live, person, ("ml-engineer", 80))
    _staff(old, person, ("ml-engineer", 80))
    project_archive(project=old, actor=manager, version=None)
    assert _coverage(live, manager).notes == []


def test_people_holding_an_unfilled_role_elsewhere_are_suggested():
    manager = manager_user()
    gap = project_create(name="Gap", managers=[manager], required_roles=[role("devops-engineer")])
    staffed = project_create(name="Staffed", managers=[manager])
    hidden = project_create(name="Hidden", managers=[manager_user()])
    ops = UserFactory(username="ops")
    secret_ops = UserFactory(username="secret_ops")
    gone_ops = UserFactory(username="gone_ops")
    _staff(staffed, ops, ("devops-engineer", 50))
    _staff(hidden, secret_ops, ("devops-engineer", 50))
    _staff(staffed, gone_ops, ("devops-engineer", 50))
    people_deactivate(people=[gone_ops], actor=manager)  # left: not a suggestion

    (row,) = _coverage(gap, manager).rows
    assert [(s["user"].username, s["project"].name) for s in row.suggestions] == [
        ("ops", "Staffed")
    ]


def test_the_viewers_visible_ids_give_the_same_coverage_as_their_condition():
    """The project page passes the ids its cache scope read (`visible`): allocation
    totals and suggestions are still those of the visible, active projects only."""
    manager = manager_user()
    gap = project_create(name="Gap", managers=[manager], required_roles=[role("devops-engineer")])
    staffed = project_create(name="Staffed", managers=[manager])
    old = project_create(name="Old", managers=[manager])
    hidden = project_create(name="Hidden", managers=[manager_user()])
    person = UserFactory(username="person")
    _staff(gap, person, ("ml-engineer", 40))
    _staff(staffed, person, ("devops-engineer", 30))
    _staff(old, person, ("ml-engineer", 50))
    _staff(hidden, person, ("ml-engineer", 70))
    project_archive(project=old, actor=manager, version=None)
    visible = list(Project.objects.visible_to(manager).values_list("pk", flat=True))
    assert hidden.pk not in visible and old.pk in visible

    for project in (project_get_for_user(user=manager, pk=gap.pk, with_team=False), None):
        coverage = project_coverage(
            project=project or project_get_for_user(user=manager, pk=gap.pk),
            viewer=manager,
            visible=visible,
        )
        (column,) = coverage.people
        assert column.allocation_total == 70  # 40 here + 30 on Staffed
        gap_row = next(row for row in coverage.rows if not row.filled)
        assert [(s["user"].username, s["project"].name) for s in gap_row.suggestions] == [
            ("person", "Staffed")
        ]
    assert coverage_matrix(coverage) == coverage_matrix(_coverage(gap, manager))


def test_portfolio_sorts_by_gaps_and_lists_unfilled_roles():
    manager = manager_user()
    full = project_create(name="Full", managers=[manager], required_roles=[role("ml-engineer")])
    _staff(full, UserFactory(), ("ml-engineer", 100))
    project_create(name="Empty", managers=[manager])
    project_create(name="Not mine", managers=[manager_user()])

    projects = list(portfolio_coverage(user=manager, sort="-gaps"))
    assert [(p.name, p.gap_count) for p in projects] == [("Empty", 6), ("Full", 0)]
    assert len(unfilled_roles(projects[0])) == 6
    assert unfilled_roles(projects[1]) == []
    assert [p.name for p in portfolio_coverage(user=manager, sort="name")] == ["Empty", "Full"]
    assert Project.objects.count() == 3


def test_the_coverage_matrix_is_the_coverage_in_plain_values_worded_for_the_reader():
    manager = manager_user()
    project = project_create(
        name="Churn",
        managers=[manager],
        required_roles=[role("data-scientist"), role("ml-engineer")],
    )
    other = project_create(name="Other", managers=[manager])
    heavy = UserFactory(first_name="Kenji", last_name="Ito")
    idle = UserFactory(first_name="Zed", last_name="Zero")
    ops = UserFactory(username="ops", first_name="Olga", last_name="Ops")
    _staff(project, heavy, ("data-scientist", 60), ("devops-engineer", 20), ("data-engineer", 10))
    _staff(project, idle, ("data-scientist", 0))  # held at 0%: still held
    _staff(other, heavy, ("data-scientist", 50))
    _staff(other, ops, ("ml-engineer", 30))
    coverage = _coverage(project, manager)
    with translation.override("ja"):
        matrix = coverage_matrix(coverage)
        names = [r.display_name for r in (role("data-scientist"), role("ml-engineer"))]
    people = {person.name: person for person in matrix.people}
    assert list(people) == ["Kenji Ito", "Zed Zero"]
    assert people["Kenji Ito"] == MatrixPerson(
        membership_id=coverage.people[0].membership.pk,
        user_id=heavy.pk,
        name="Kenji Ito",
        role_count=3,
        allocation_here=90,
        allocation_total=140,
        holds_many_roles=True,
        overallocated=True,
    )
    assert matrix.notes == (people["Kenji Ito"],)
    assert [row.role_name for row in matrix.rows][:2] == names  # in the reader's language
    rows = [(row.role_slug, row.required, row.filled, row.cells) for row in matrix.rows]
    assert rows == [
        (
            row.role.slug,
            row.required,
            row.filled,
            tuple(None if cell is None else cell.allocation_percent for cell in row.cells),
        )
        for row in coverage.rows
    ]
    assert rows[:2] == [
        ("data-scientist", True, True, (60, 0)),
        ("ml-engineer", True, False, (None, None)),
    ]
    assert {row[0] for row in rows[2:]} == {"devops-engineer", "data-engineer"}
    assert matrix.gaps == (names[1],)
    assert matrix.rows[1].suggestions == (
        MatrixSuggestion(
            user_id=ops.pk,
            name="Olga Ops",
            project_id=other.pk,
            project_name="Other",
            on_team=False,
        ),
    )
    # What the cache accepts (it refuses model instances under the test settings).
    scope = cache.Scope(projects=[project.pk])
    assert cache.cached("matrix", manager, (), lambda: matrix, scope) == matrix
