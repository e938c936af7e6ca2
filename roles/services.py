"""Writes for projects and teams. Each validates, saves, and returns the row."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db import transaction

from .models import Membership, Project, ProjectStatus, Role, RoleAssignment


@transaction.atomic
def project_create(
    *,
    name: str,
    business_problem: str = "",
    managers: Iterable = (),
    status: str = ProjectStatus.PLANNING,
    start_date: date | None = None,
    target_date: date | None = None,
    required_roles: Iterable[Role] | None = None,
) -> Project:
    project = Project(
        name=name,
        business_problem=business_problem,
        status=status,
        start_date=start_date,
        target_date=target_date,
    )
    project.full_clean()
    project.save()
    project.managers.set(list(managers))
    if required_roles is None:
        required_roles = Role.objects.filter(required_by_default=True)
    project.required_roles.set(list(required_roles))
    return project


@transaction.atomic
def membership_add(*, project: Project, user) -> Membership:
    membership = Membership(project=project, user=user)
    membership.full_clean()
    membership.save()
    return membership


@transaction.atomic
def role_assign(
    *, membership: Membership, role: Role, allocation_percent: int = 100
) -> RoleAssignment:
    assignment = RoleAssignment(
        membership=membership, role=role, allocation_percent=allocation_percent
    )
    assignment.full_clean()
    assignment.save()
    return assignment
