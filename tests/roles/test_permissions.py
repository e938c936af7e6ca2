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


def test_the_sql_twins_of_visibility_agree_with_the_orm(admin, manager, member):
    """`visible_projects_sql` and `visible_people_sql` (hand-written dashboard queries)
    say what `visible_to` and `people_visible_to` say, for every kind of viewer."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from roles.selectors import people_visible_to, select, visible_people_sql, visible_projects_sql

    managed = ProjectFactory(managers=[manager])
    MembershipFactory(project=managed, user=member)
    archived = ProjectFactory(managers=[manager], archived_at=timezone.now())
    on_archived_only = UserFactory()
    MembershipFactory(project=archived, user=on_archived_only)
    elsewhere = ProjectFactory(managers=[manager_user()])
    MembershipFactory(project=elsewhere)
    demoted = manager_user()
    ProjectFactory(managers=[demoted])
    demoted.groups.clear()
    demoted = get_user_model().objects.get(pk=demoted.pk)
    inactive = UserFactory(is_active=False)
    MembershipFactory(project=managed, user=inactive)
    superuser = UserFactory(is_superuser=True)
    viewers = [admin, superuser, manager, member, demoted, UserFactory(), on_archived_only]
    for viewer in viewers:
        condition, params = visible_projects_sql(viewer)
        projects = {
            pk
            for (pk,) in select(
                f"SELECT p.id FROM roles_project p WHERE {condition}",  # noqa: S608
                params,
            )
        }
        assert projects == set(
            Project.objects.visible_to(viewer).active().values_list("pk", flat=True)
        ), viewer
        condition, params = visible_people_sql(viewer, "u.id")
        people = {
            pk
            for (pk,) in select(
                f"SELECT u.id FROM auth_user u WHERE u.is_active AND {condition}",  # noqa: S608
                params,
            )
        }
        assert people == set(people_visible_to(user=viewer).values_list("pk", flat=True)), viewer
    assert on_archived_only.pk in set(people_visible_to(user=manager).values_list("pk", flat=True))
