from __future__ import annotations

from dataclasses import dataclass

import pytest

from roles.models import Membership, Project, RoleAssignment, TeamChange
from roles.services import membership_add, project_create, role_assign
from tests.factories import UserFactory, admin_user, manager_user, role


@dataclass
class World:
    project: Project
    other_project: Project
    membership: Membership
    assignment: RoleAssignment
    people: dict


@pytest.fixture
def world(db) -> World:
    """A project run by `manager` with `member` on it, and a second project run by
    `other_manager`; `outsider` is on neither, `newcomer` is free to be added."""
    manager = manager_user(username="manager")
    other_manager = manager_user(username="other_manager")
    member = UserFactory(username="member")
    people = {
        "anonymous": None,
        "outsider": UserFactory(username="outsider"),
        "member": member,
        "manager": manager,
        "other_manager": other_manager,
        "admin": admin_user(username="admin"),
        "newcomer": UserFactory(username="newcomer"),
    }
    project = project_create(name="Churn", managers=[manager], actor=manager)
    membership = membership_add(project=project, user=member, actor=manager)
    assignment = role_assign(membership=membership, role=role("data-scientist"), actor=manager)
    other = project_create(name="Fraud", managers=[other_manager], actor=other_manager)
    return World(project, other, membership, assignment, people)


def snapshot() -> tuple:
    """Everything a team action could change."""
    return (
        list(
            Project.objects.order_by("pk").values_list(
                "pk", "name", "status", "archived_at", "version"
            )
        ),
        list(Membership.objects.order_by("pk").values_list("pk", "project_id", "user_id")),
        list(
            RoleAssignment.objects.order_by("pk").values_list("pk", "role_id", "allocation_percent")
        ),
        TeamChange.objects.count(),
        list(UserFactory._meta.model.objects.order_by("pk").values_list("pk", "is_active")),
    )
