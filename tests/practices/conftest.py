"""A project with a handbook and a review cycle, seen by the six personas of issue 7.

`manager` and `other_manager` both manage "Churn"; `person` and `other_member` are
on it. `manager` wrote `review` about `person` (expectations, a shared
evaluation, a self-assessment), so `other_manager` is a manager who can see the
person and their work but not the review, and `other_member` a colleague.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from deliverables.models import ChecklistItem, Deliverable, DeliverableStatus
from deliverables.practices import services
from deliverables.reviews import services as reviews_services
from deliverables.reviews.models import RATING_FIELDS, Review, ReviewCycle, ReviewEvent
from deliverables.services import deliverable_create
from roles.models import Project
from roles.services import membership_add, project_create, role_assign
from tests.factories import UserFactory, admin_user, deliverable_type, manager_user, role

EXPECTATIONS = "EXPECT-SECRET: own the churn report end to end"
EVALUATION = "EVAL-SECRET: careful, well-documented work"
OUTCOME = "OUTCOME-SECRET: the model missed its target"
SELF = "SELF-SECRET: I learnt a lot about labels"
SECRETS = [EXPECTATIONS, EVALUATION, OUTCOME, SELF]

PERSONAS = ["anonymous", "person", "manager", "other_manager", "other_member", "admin"]


@dataclass
class Practices:
    people: dict
    project: Project
    handbook: Deliverable
    report: Deliverable  # owned by `person`, linked to the expectations
    question: ChecklistItem  # one of the project's own handbook questions
    cycle: ReviewCycle
    review: Review


@pytest.fixture
def practices(db) -> Practices:
    manager = manager_user(username="manager", first_name="Mari", last_name="Kobayashi")
    other_manager = manager_user(username="other_manager", first_name="Otto", last_name="Manner")
    person = UserFactory(username="person", first_name="Kenji", last_name="Ito")
    other_member = UserFactory(username="other_member", first_name="Aiko", last_name="Tanaka")
    people = {
        "anonymous": None,
        "person": person,
        "manager": manager,
        "other_manager": other_manager,
        "other_member": other_member,
        "admin": admin_user(username="admin"),
    }
    project = project_create(name="Churn", managers=[manager, other_manager], actor=manager)
    for user, slug in ((person, "data-scientist"), (other_member, "ml-engineer")):
        role_assign(
            membership=membership_add(project=project, user=user, actor=manager), role=role(slug)
        )
    project.refresh_from_db()
    handbook = deliverable_create(
        project=project,
        type=deliverable_type("process-documentation"),
        title="Team handbook",
        owner=other_member,
        actor=manager,
    )
    report = deliverable_create(
        project=project,
        type=deliverable_type("analysis-report"),
        title="Churn drivers report",
        owner=person,
        actor=manager,
    )
    question = services.handbook_question_add(
        deliverable=handbook,
        actor=manager,
        area="Communication",
        text="Who runs the retention campaigns?",
        answer_kind="text",
        required=False,
    )
    today = timezone.localdate()
    cycle = reviews_services.cycle_create(
        actor=manager,
        name="H2",
        start_date=today - timedelta(days=30),
        end_date=today + timedelta(days=30),
        expectations_due_days=14,
    )
    review = reviews_services.expectations_write(
        cycle=cycle, person=person, actor=manager, text=EXPECTATIONS, deliverables=[report]
    )
    reviews_services.self_assessment_save(
        review=review, actor=person, version=review.version, text=SELF
    )
    reviews_services.evaluation_save(
        review=review,
        actor=manager,
        version=review.evaluation_version,
        ratings=dict.fromkeys(RATING_FIELDS, 4),
        comment=EVALUATION,
        project_outcome=OUTCOME,
        share=True,
    )
    review.refresh_from_db()
    return Practices(people, project, handbook, report, question, cycle, review)


def practices_snapshot() -> tuple:
    """Everything the issue's URLs could change."""
    return (
        list(
            Review.objects.order_by("pk").values_list(
                "pk",
                "expectations",
                "expectations_acknowledged_at",
                "evaluation_comment",
                "evaluation_shared_at",
                "evaluation_acknowledged_at",
                "self_assessment",
                "version",
            )
        ),
        ReviewEvent.objects.count(),
        list(ReviewCycle.objects.order_by("pk").values_list("pk", "name", "end_date")),
        list(
            ChecklistItem.objects.filter(project_question=True)
            .order_by("pk")
            .values_list("pk", "text")
        ),
        list(Project.objects.order_by("pk").values_list("pk", "handbook_review_on")),
    )


def everyday(user) -> None:
    """Digests every day from midnight, so a test does not depend on the weekday."""
    from deliverables.models import ReminderPreference

    ReminderPreference.objects.update_or_create(
        user=user, defaults={"hour": 0, "working_days": "0,1,2,3,4,5,6", "time_zone": "UTC"}
    )


def work_in_every_status(practices: Practices) -> None:
    """Blocked, in-progress (and late) and in-review work owned by `person`, so every
    status badge, overdue mark and count shows (browser checks and screenshots)."""
    manager, person = practices.people["manager"], practices.people["person"]
    today = timezone.localdate()
    for title, status, due in (
        ("Feature store", DeliverableStatus.BLOCKED, today + timedelta(days=2)),
        ("Label audit", DeliverableStatus.IN_PROGRESS, today - timedelta(days=5)),
        ("Model card", DeliverableStatus.IN_REVIEW, today + timedelta(days=20)),
    ):
        deliverable_create(
            project=practices.project,
            type=deliverable_type("analysis-report"),
            title=title,
            owner=person,
            due_date=due,
            status=status,
            blocked_reason="Waiting for access" if status == DeliverableStatus.BLOCKED else "",
            actor=manager,
        )
