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
