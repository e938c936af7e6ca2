from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from roles.models import Membership, Project, RoleAssignment
from roles.services import membership_add, project_create, role_assign
from tests.factories import MembershipFactory, ProjectFactory, UserFactory, role

pytestmark = pytest.mark.django_db


def test_same_role_twice_on_a_project_is_refused():
    membership = MembershipFactory()
    role_assign(membership=membership, role=role("data-scientist"), allocation_percent=50)

    with pytest.raises(ValidationError) as excinfo:
        role_assign(membership=membership, role=role("data-scientist"), allocation_percent=20)
    assert "already holds this role" in str(excinfo.value)

    # The database refuses it too, for writes that skip validation.
    with pytest.raises(IntegrityError), transaction.atomic():
        RoleAssignment.objects.create(membership=membership, role=role("data-scientist"))
    assert RoleAssignment.objects.filter(membership=membership).count() == 1


def test_one_person_may_hold_several_roles_on_a_project():
    membership = MembershipFactory()
    for slug in ("data-scientist", "ml-engineer", "data-engineer"):
        role_assign(membership=membership, role=role(slug), allocation_percent=30)
    assert membership.assignments.count() == 3


def test_two_people_may_hold_the_same_role_on_a_project():
    project = ProjectFactory()
    for _ in range(2):
        role_assign(membership=MembershipFactory(project=project), role=role("data-engineer"))
    assert RoleAssignment.objects.filter(membership__project=project).count() == 2


@pytest.mark.parametrize("allocation", [-1, 101, 250])
def test_allocation_outside_0_to_100_is_refused(allocation):
    membership = MembershipFactory()
    with pytest.raises(ValidationError) as excinfo:
        role_assign(membership=membership, role=role("ml-engineer"), allocation_percent=allocation)
    assert "allocation_percent" in excinfo.value.message_dict
    assert not RoleAssignment.objects.exists()


def test_allocation_check_constraint_holds_in_the_database():
    membership = MembershipFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        RoleAssignment.objects.create(
            membership=membership, role=role("ml-engineer"), allocation_percent=101
        )
    assert not RoleAssignment.objects.exists()


@pytest.mark.parametrize("allocation", [0, 100])
def test_allocation_bounds_are_accepted(allocation):
    assignment = role_assign(
        membership=MembershipFactory(), role=role("ml-engineer"), allocation_percent=allocation
    )
    assert assignment.allocation_percent == allocation


def test_person_cannot_join_a_project_twice():
    membership = MembershipFactory()
    with pytest.raises(ValidationError):
        membership_add(project=membership.project, user=membership.user)
    assert Membership.objects.count() == 1


def test_project_names_are_unique_ignoring_case():
    project_create(name="Churn model")
    with pytest.raises(ValidationError) as excinfo:
        project_create(name="churn MODEL")
    assert "already exists" in str(excinfo.value)
    assert Project.objects.count() == 1


def test_project_target_date_cannot_precede_start():
    with pytest.raises(ValidationError) as excinfo:
        project_create(name="Backwards", start_date=date(2026, 5, 1), target_date=date(2026, 4, 1))
    assert "before the start date" in str(excinfo.value)
    assert not Project.objects.exists()


def test_new_project_requires_the_default_roles():
    manager = UserFactory()
    project = project_create(name="New", managers=[manager])
    assert project.required_roles.count() == 6
    assert list(project.managers.all()) == [manager]
