from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from deliverables.models import (
    Deliverable,
    DeliverableComment,
    DeliverableLink,
    Digest,
    DigestStatus,
    Reminder,
    ReminderKind,
)
from deliverables.reviews.models import Review, ReviewCycle, ReviewReminder, ReviewReminderKind
from deliverables.reviews.services import (
    cycle_create,
    expectations_acknowledge,
    expectations_write,
)
from deliverables.services import (
    ChecklistAnswer,
    checklist_update,
    comment_add,
    deliverable_create,
    deliverable_update,
    link_add,
)
from roles.models import Membership, Project, RoleAssignment
from roles.services import membership_add, project_create, role_assign
from tests.factories import UserFactory, deliverable_type, manager_user, role


@dataclass
class History:
    """A project with a team, a deliverable and a review, where `aiko` wrote or is
    named in every kind of history: what must survive people leaving."""

    root: object  # a superuser, for the admin
    manager: object
    aiko: object
    project: Project
    membership: Membership
    assignment: RoleAssignment
    deliverable: Deliverable
    comment: DeliverableComment
    link: DeliverableLink
    cycle: ReviewCycle
    review: Review
    digest: Digest
    reminder: Reminder
    review_reminder: ReviewReminder


@pytest.fixture
def history(db) -> History:
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    manager = manager_user(username="manager", first_name="Mina", last_name="Mori")
    aiko = UserFactory(username="aiko", first_name="Aiko", last_name="Tanaka")
    project = project_create(name="Churn", managers=[manager], actor=manager)
    membership = membership_add(project=project, user=aiko, actor=manager)
    assignment = role_assign(membership=membership, role=role("data-scientist"), actor=manager)
    deliverable = deliverable_create(
        project=project, type=deliverable_type("analysis-report"), title="Drivers", actor=manager
    )
    # An owner change names Aiko as text ("Aiko Tanaka").
    deliverable_update(
        deliverable=deliverable,
        actor=manager,
        version=None,
        title="Drivers",
        owner=aiko,
        due_date=date(2026, 11, 30),
        type=deliverable.type,
    )
    comment = comment_add(deliverable=deliverable, actor=aiko, body="The draft is up.")
    link = link_add(
        deliverable=deliverable, actor=aiko, kind="document", url="https://docs.example.com/d"
    )
    item = deliverable.checklist_items.order_by("pk").first()
    checklist_update(
        deliverable=deliverable,
        actor=aiko,
        version=None,
        answers={item.pk: ChecklistAnswer(checked=True, answer="Done.", link="https://x.example")},
    )
    cycle = cycle_create(
        actor=manager,
        name="H2",
        start_date=date(2026, 7, 1),
        end_date=date(2026, 12, 31),
        expectations_due_days=14,
    )
    review = expectations_write(
        cycle=cycle, person=aiko, actor=manager, text="Ship the report.", deliverables=[]
    )
    expectations_acknowledge(review=review, actor=aiko, version=review.version)
    digest = Digest.objects.create(
        recipient=aiko,
        local_date=date(2026, 11, 2),
        status=DigestStatus.SENT,
        deliver_by=datetime(2026, 11, 6, tzinfo=UTC),
    )
    reminder = Reminder.objects.create(
        deliverable=deliverable,
        recipient=aiko,
        kind=ReminderKind.DUE_SOON,
        local_date=date(2026, 11, 2),
        digest=digest,
    )
    managers_digest = Digest.objects.create(
        recipient=manager,
        local_date=date(2026, 11, 2),
        status=DigestStatus.SENT,
        deliver_by=datetime(2026, 11, 6, tzinfo=UTC),
    )
    review_reminder = ReviewReminder.objects.create(
        cycle=cycle,
        recipient=manager,
        person=aiko,
        kind=ReviewReminderKind.EVALUATION_MISSING,
        local_date=date(2026, 11, 2),
        digest=managers_digest,
    )
    deliverable.refresh_from_db()
    project.refresh_from_db()
    review.refresh_from_db()
    return History(
        root, manager, aiko, project, membership, assignment, deliverable, comment, link,
        cycle, review, digest, reminder, review_reminder,
    )  # fmt: skip
