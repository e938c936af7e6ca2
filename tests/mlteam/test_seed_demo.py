from __future__ import annotations

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import override_settings

from deliverables.models import Deliverable, DeliverableStatus
from roles.models import Project, RoleAssignment
from roles.permissions import is_admin, is_manager

pytestmark = pytest.mark.django_db


def test_seed_demo_refuses_without_debug():
    with pytest.raises(CommandError, match="DJANGO_DEBUG"):
        call_command("seed_demo")
    assert not Project.objects.exists()


@override_settings(DEBUG=True)
def test_seed_demo_builds_a_complete_demo_once():
    call_command("seed_demo")
    counts = (
        get_user_model().objects.count(),
        Project.objects.count(),
        RoleAssignment.objects.count(),
        Deliverable.objects.count(),
    )
    call_command("seed_demo")
    assert (
        get_user_model().objects.count(),
        Project.objects.count(),
        RoleAssignment.objects.count(),
        Deliverable.objects.count(),
    ) == counts

    User = get_user_model()
    assert is_admin(User.objects.get(username="admin"))
    assert is_manager(User.objects.get(username="manager"))
    member = User.objects.get(username="member")
    assert not is_manager(member) and member.check_password("mlteam-demo")

    statuses = set(Deliverable.objects.values_list("status", flat=True))
    assert statuses == set(DeliverableStatus.values)
    today = datetime.date.today()
    assert Deliverable.objects.overdue(today).exists()
    assert not Deliverable.objects.filter(status="blocked", blocked_reason="").exists()

    # A project with a gap, and a person holding several roles on one project.
    search = Project.objects.get(name="Search ranking")
    held = set(
        RoleAssignment.objects.filter(membership__project=search).values_list(
            "role__slug", flat=True
        )
    )
    assert {"data-engineer", "devops-engineer"}.isdisjoint(held)
    assert (
        RoleAssignment.objects.filter(
            membership__project__name="Demand forecasting", membership__user=member
        ).count()
        == 3
    )
