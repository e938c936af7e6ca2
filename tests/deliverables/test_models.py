from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from deliverables.models import Deliverable, DeliverableStatus
from deliverables.services import deliverable_create
from tests.factories import (
    DeliverableFactory,
    MembershipFactory,
    ProjectFactory,
    UserFactory,
    deliverable_type,
)

pytestmark = pytest.mark.django_db


def test_owner_must_be_on_the_project():
    project = ProjectFactory()
    outsider = UserFactory()
    with pytest.raises(ValidationError) as excinfo:
        deliverable_create(
            project=project, type=deliverable_type("prd"), title="PRD", owner=outsider
        )
    assert excinfo.value.message_dict["owner"] == ["The owner must be a member of the project."]
    assert not Deliverable.objects.exists()


def test_owner_on_another_project_is_still_refused():
    membership = MembershipFactory()
    with pytest.raises(ValidationError):
        deliverable_create(
            project=ProjectFactory(),
            type=deliverable_type("prd"),
            title="PRD",
            owner=membership.user,
        )


def test_member_of_the_project_can_own_a_deliverable():
    membership = MembershipFactory()
    deliverable = deliverable_create(
        project=membership.project,
        type=deliverable_type("prd"),
        title="PRD",
        owner=membership.user,
        due_date=date(2026, 12, 1),
    )
    assert deliverable.owner == membership.user
    assert deliverable.status == DeliverableStatus.NOT_STARTED


def test_blocked_deliverable_needs_a_reason():
    project = ProjectFactory()
    with pytest.raises(ValidationError) as excinfo:
        deliverable_create(
            project=project,
            type=deliverable_type("prd"),
            title="PRD",
            status=DeliverableStatus.BLOCKED,
        )
    assert "Say why" in str(excinfo.value)


def test_overdue_means_open_and_past_due():
    today = date(2026, 11, 27)
    late = DeliverableFactory(due_date=date(2026, 11, 26))
    DeliverableFactory(due_date=date(2026, 11, 26), status=DeliverableStatus.DONE)
    DeliverableFactory(due_date=today)
    DeliverableFactory(due_date=None)
    assert list(Deliverable.objects.overdue(today)) == [late]
    assert late.is_overdue(today)
