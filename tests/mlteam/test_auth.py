"""The permission backend answers as ModelBackend does, in one query."""

from __future__ import annotations

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mlteam.auth import PermissionBackend
from tests.factories import UserFactory, admin_user, manager_user

pytestmark = pytest.mark.django_db


def _fresh(user):
    return type(user).objects.get(pk=user.pk)  # no permission cache yet


def test_permissions_match_model_backend_for_every_kind_of_person():
    direct = UserFactory()
    direct.user_permissions.add(Permission.objects.get(codename="view_role"))
    both = manager_user()
    both.user_permissions.add(Permission.objects.get(codename="change_role"))
    superuser = UserFactory(is_superuser=True)
    inactive = manager_user(is_active=False)
    people = [UserFactory(), direct, manager_user(), both, admin_user(), superuser, inactive]
    for person in people:
        expected = ModelBackend().get_all_permissions(_fresh(person))
        assert PermissionBackend().get_all_permissions(_fresh(person)) == expected
    assert "roles.add_project" in PermissionBackend().get_all_permissions(_fresh(both))
    assert "roles.change_role" in PermissionBackend().get_all_permissions(_fresh(both))
    assert PermissionBackend().get_all_permissions(_fresh(inactive)) == set()


def test_a_person_and_their_groups_permissions_take_one_query_per_request():
    person = _fresh(manager_user())
    group = Group.objects.create(name="Extra")
    group.permissions.add(Permission.objects.get(codename="view_deliverable"))
    person.groups.add(group)
    with CaptureQueriesContext(connection) as queries:
        assert person.has_perm("roles.add_project")
        assert person.has_perm("deliverables.view_deliverable")
        assert not person.has_perm("roles.administer_projects")
    assert len(queries) == 1


def test_a_refused_permission_still_takes_one_query_with_axes_backend_listed_too():
    person = _fresh(UserFactory())
    with CaptureQueriesContext(connection) as queries:
        assert not person.has_perm("roles.add_project")  # asks every backend that answers
        assert not person.has_perm("roles.administer_projects")
    assert len(queries) == 1


def test_a_sign_in_is_kept_with_the_one_password_backend(client):
    from django.contrib.auth import BACKEND_SESSION_KEY
    from django.urls import reverse

    person = UserFactory()
    client.post(reverse("login"), {"login": person.username, "password": "correct-horse-battery"})
    assert client.session[BACKEND_SESSION_KEY] == "mlteam.auth.PermissionBackend"
    assert client.get(reverse("home")).status_code == 200
