from __future__ import annotations

from dataclasses import dataclass

import pytest

from deliverables.models import (
    ChecklistItem,
    Deliverable,
    DeliverableComment,
    DeliverableEvent,
    DeliverableLink,
)
from deliverables.services import deliverable_create, link_add
from roles.services import membership_add, role_assign
from tests.factories import deliverable_type, role
from tests.roles.conftest import World, world  # noqa: F401 (fixture)


@dataclass
class Work:
    world: World
    deliverable: Deliverable  # owned by `member`
    colleagues: Deliverable  # owned by `colleague`, on the same project
    link: DeliverableLink


@pytest.fixture
def work(world) -> Work:  # noqa: F811
    from tests.factories import UserFactory

    colleague = UserFactory(username="colleague")
    world.people["colleague"] = colleague
    role_assign(
        membership=membership_add(project=world.project, user=colleague), role=role("ml-engineer")
    )
    world.project.refresh_from_db()
    mine = deliverable_create(
        project=world.project,
        type=deliverable_type("analysis-report"),
        title="Churn drivers report",
        owner=world.people["member"],
        actor=world.people["manager"],
    )
    theirs = deliverable_create(
        project=world.project,
        type=deliverable_type("data-pipeline"),
        title="Events pipeline",
        owner=colleague,
        actor=world.people["manager"],
    )
    link = link_add(
        deliverable=mine,
        actor=world.people["member"],
        kind="document",
        url="https://docs.example.com/r",
    )
    return Work(world, mine, theirs, link)


def deliverable_snapshot() -> tuple:
    return (
        list(
            Deliverable.objects.order_by("pk").values_list(
                "pk", "title", "status", "owner_id", "due_date", "version"
            )
        ),
        list(ChecklistItem.objects.order_by("pk").values_list("pk", "checked", "answer", "link")),
        list(DeliverableLink.objects.order_by("pk").values_list("pk", "url")),
        list(DeliverableComment.objects.order_by("pk").values_list("pk", "body", "deleted_at")),
        DeliverableEvent.objects.count(),
    )
