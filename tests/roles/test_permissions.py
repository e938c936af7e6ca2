from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from roles.models import Project
from roles.permissions import (
    can_create_project,
    can_manage_project,
    can_view_project,
    is_admin,
    is_manager,
)
from tests.factories import MembershipFactory, ProjectFactory, UserFactory, manager_user

pytestmark = pytest.mark.django_db


def test_groups_carry_the_documented_permissions():
    assert Group.objects.get(name="Managers").permissions.filter(codename="add_project").exists()
    admins = Group.objects.get(name="Admins").permissions
    assert admins.filter(codename="administer_projects").exists()
    assert admins.filter(codename="change_deliverabletype").exists()
    assert admins.filter(codename="change_periodictask").exists()


def test_personas(admin, manager, member):
    superuser = UserFactory(is_superuser=True, is_staff=True)
    assert is_admin(admin) and is_admin(superuser)
    assert is_manager(manager) and not is_admin(manager)
    assert not is_manager(member) and not is_admin(member)
    assert can_create_project(manager) and can_create_project(admin)
    assert not can_create_project(member)


def test_project_visibility_follows_management_and_membership(admin, manager, member):
    project = ProjectFactory(managers=[manager])
    other_manager = manager_user()
    MembershipFactory(project=project, user=member)
    outsider = UserFactory()

    assert can_manage_project(manager, project) and can_manage_project(admin, project)
    assert not can_manage_project(other_manager, project)
    assert not can_manage_project(member, project)
    assert can_view_project(member, project)
    assert not can_view_project(outsider, project)

    assert list(Project.objects.visible_to(member)) == [project]
    assert list(Project.objects.visible_to(outsider)) == []
    assert list(Project.objects.visible_to(other_manager)) == []
    assert list(Project.objects.visible_to(admin)) == [project]


def test_inactive_manager_loses_rights(manager):
    project = ProjectFactory(managers=[manager])
    manager.is_active = False
    manager.save()
    assert not is_manager(manager)
    assert not can_manage_project(manager, project)


def test_object_checks_and_lists_follow_one_rule(admin, manager, member):
    """`can_view_project` / `can_manage_project` answer for one project what
    `visible_to` / `managed_by` answer for the list, for every kind of viewer."""
    from django.utils import timezone

    managed = ProjectFactory(managers=[manager])
    MembershipFactory(project=managed, user=member)
    archived = ProjectFactory(managers=[manager], archived_at=timezone.now())
    elsewhere = ProjectFactory(managers=[manager_user()])
    demoted = manager_user()
    listed_only = ProjectFactory(managers=[demoted])
    demoted.groups.clear()
    demoted = type(demoted).objects.get(pk=demoted.pk)
    superuser = UserFactory(is_superuser=True)
    projects = [managed, archived, elsewhere, listed_only]
    for viewer in [admin, superuser, manager, member, demoted, UserFactory()]:
        visible = set(Project.objects.visible_to(viewer))
        managed_by = set(Project.objects.managed_by(viewer))
        for project in projects:
            assert can_view_project(viewer, project) == (project in visible), (viewer, project)
            assert can_manage_project(viewer, project) == (project in managed_by), viewer
            with_managers = Project.objects.prefetch_related("managers").get(pk=project.pk)
            assert can_manage_project(viewer, with_managers) == (project in managed_by)
            assert can_view_project(viewer, with_managers) == (project in visible)
    assert not can_view_project(demoted, listed_only)


def test_a_prefetched_listed_manager_is_answered_without_a_query(
    manager, django_assert_num_queries
):
    project = Project.objects.prefetch_related("managers").get(
        pk=ProjectFactory(managers=[manager]).pk
    )
    manager = type(manager).objects.get(pk=manager.pk)
    manager.has_perm("roles.add_project")  # permissions cached on the user first
    with django_assert_num_queries(0):
        assert can_manage_project(manager, project)
        assert can_view_project(manager, project)


def test_people_visibility_is_one_rule(admin, manager, member):
    """People on the teams of the projects one may see (archived ones too) and
    oneself; everyone for admins; `can_view_person` says the same for one person."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from roles.models import people_visible_to
    from roles.permissions import can_view_person
    from roles.selectors import people_visible_to as person_choices

    managed = ProjectFactory(managers=[manager])
    MembershipFactory(project=managed, user=member)
    archived = ProjectFactory(managers=[manager], archived_at=timezone.now())
    on_archived_only = UserFactory()
    MembershipFactory(project=archived, user=on_archived_only)
    stranger = MembershipFactory(project=ProjectFactory(managers=[manager_user()])).user
    inactive = UserFactory(is_active=False)
    MembershipFactory(project=managed, user=inactive)
    loner = UserFactory()

    seen = set(people_visible_to(manager))
    assert {manager, member, on_archived_only, inactive} <= seen
    assert stranger not in seen and loner not in seen
    assert set(people_visible_to(loner)) == {loner}
    assert set(people_visible_to(admin)) == set(get_user_model().objects.all())
    # The choices offered in filters: the same people, active ones only.
    assert set(person_choices(user=manager)) == seen - {inactive}
    for viewer in [admin, manager, member, loner]:
        visible = set(people_visible_to(viewer))
        for person in [manager, member, on_archived_only, stranger, inactive, loner]:
            assert can_view_person(viewer, person) == (person in visible), (viewer, person)


def _kinds_of_people(project, team_project):
    """One person of each kind the project rule tells apart, keyed by a label."""
    from django.contrib.auth.models import Permission

    from tests.factories import admin_user

    listed_admin = admin_user()
    demoted = manager_user()
    inactive_manager = manager_user(is_active=False)
    inactive_member = UserFactory(is_active=False)
    by_own_permission = UserFactory()
    by_own_permission.user_permissions.add(Permission.objects.get(codename="add_project"))
    people = {
        "admin": admin_user(),
        "listed admin": listed_admin,
        "superuser": UserFactory(is_superuser=True),
        "listed manager": manager_user(),
        "manager by own permission": by_own_permission,
        "manager not listed": manager_user(),
        "listed manager who lost the permission": demoted,
        "inactive listed manager": inactive_manager,
        "member": UserFactory(),
        "inactive member": inactive_member,
        "outsider": UserFactory(),
    }
    project.managers.add(
        listed_admin,
        people["superuser"],
        people["listed manager"],
        by_own_permission,
        demoted,
        inactive_manager,
    )
    for label in ["member", "inactive member", "listed manager", "listed admin"]:
        MembershipFactory(project=team_project, user=people[label])
    MembershipFactory(project=project, user=people["member"])
    demoted.groups.clear()
    User = type(demoted)
    # Fresh rows: no permissions cached from before the changes above.
    return {label: User.objects.get(pk=person.pk) for label, person in people.items()}


def test_batched_and_per_person_forms_of_the_project_rule_agree():
    """`project_access_links` (many people, one query) lists, for each person and
    ground, the projects of `restrict(person, action)` that the ground relates them
    to: both read GROUND_RULES and `project_links`."""
    from roles.models import (
        GROUND_RULES,
        LISTED_MANAGER,
        MANAGE,
        ON_TEAM,
        VIEW,
        project_access_condition,
        project_access_links,
        project_ground_condition,
    )
    from roles.models import Membership as MembershipModel

    project, team_project = ProjectFactory(), ProjectFactory()
    ProjectFactory(managers=[manager_user()])  # a project nobody below relates to
    people = _kinds_of_people(project, team_project)
    ids = [person.pk for person in people.values()]
    grounds = {ground for _action, ground in GROUND_RULES}
    for action in [VIEW, MANAGE]:
        for ground in grounds:
            batched = set(
                project_access_links(action, ground, ids).values_list("project_id", "user_id")
            )
            per_person = {
                (project_id, person.pk)
                for person in people.values()
                for project_id in Project.objects.restrict(person, action)
                .filter(project_ground_condition(person, ground))
                .values_list("pk", flat=True)
            }
            assert batched == per_person, (action, ground)
            # The condition form, over rows carrying a project and a person: the
            # team rows whose person the ground lets `action` the project.
            on_rows = set(
                MembershipModel.objects.filter(
                    project_access_condition(action, ground, person="user")
                ).values_list("project_id", "user_id")
            )
            on_teams = set(MembershipModel.objects.values_list("project_id", "user_id"))
            assert on_rows == batched & on_teams, (action, ground)
    # What the reminders rely on, spelled out.
    managing = {
        label
        for label, person in people.items()
        if (project.pk, person.pk)
        in set(
            project_access_links(MANAGE, LISTED_MANAGER, ids).values_list("project_id", "user_id")
        )
    }
    assert managing == {"listed admin", "superuser", "listed manager", "manager by own permission"}
    on_team = {
        label
        for label, person in people.items()
        if (team_project.pk, person.pk)
        in set(project_access_links(VIEW, ON_TEAM, ids).values_list("project_id", "user_id"))
    }
    assert on_team == {"member", "inactive member", "listed manager", "listed admin"}


def test_holding_a_permission_reads_the_same_for_one_person_and_for_many():
    """`holds` (per person, through the authentication backends) and
    `holders_condition` (a query over many) agree for every way of holding one."""
    from django.contrib.auth import get_user_model

    from roles.permissions import ADMIN_PERMISSION, MANAGER_PERMISSION, holders_condition, holds

    project, team_project = ProjectFactory(), ProjectFactory()
    people = _kinds_of_people(project, team_project)
    User = get_user_model()
    for permissions in [
        (ADMIN_PERMISSION,),
        (MANAGER_PERMISSION,),
        (ADMIN_PERMISSION, MANAGER_PERMISSION),
    ]:
        holding = set(
            User.objects.filter(
                holders_condition(*permissions), pk__in=[p.pk for p in people.values()]
            )
        )
        for label, person in people.items():
            expected = any(holds(person, permission) for permission in permissions)
            assert (person in holding) == expected, (label, permissions)
    assert is_manager(people["manager by own permission"])
    assert not is_manager(people["inactive listed manager"])
    assert is_admin(people["superuser"]) and not is_admin(people["listed manager"])


def test_a_project_looked_up_among_the_visible_ids_read_already_answers_the_same():
    from roles.selectors import project_get_for_user

    member = UserFactory()
    mine, other = ProjectFactory(), ProjectFactory()
    MembershipFactory(project=mine, user=member)
    visible = Project.objects.visible_to(member).values_list("pk", flat=True)
    for project in (mine, other):
        expected = project_get_for_user(user=member, pk=project.pk, with_team=False)
        found = project_get_for_user(
            user=member, pk=project.pk, with_team=False, visible=list(visible)
        )
        assert found == expected
    assert project_get_for_user(user=member, pk=mine.pk, visible=[mine.pk]) == mine
    assert project_get_for_user(user=member, pk=other.pk, visible=[mine.pk]) is None
