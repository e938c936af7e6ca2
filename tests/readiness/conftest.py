from __future__ import annotations

from dataclasses import dataclass

import pytest

from deliverables.models import Deliverable
from deliverables.readiness.models import Rubric, RubricItem
from deliverables.services import deliverable_create
from roles.services import membership_add, role_assign
from tests.factories import deliverable_type, role
from tests.roles.conftest import World, world  # noqa: F401 (fixture)


@dataclass
class Scored:
    world: World
    deliverable: Deliverable  # a deployed model owned by `member`
    rubric: Rubric

    def item(self, section: int = 0, n: int = 0) -> RubricItem:
        return list(self.rubric.sections.order_by("position")[section].items.order_by("position"))[
            n
        ]


@pytest.fixture
def scored(world) -> Scored:  # noqa: F811
    from tests.factories import UserFactory

    colleague = UserFactory(username="colleague")
    world.people["colleague"] = colleague
    role_assign(
        membership=membership_add(project=world.project, user=colleague), role=role("ml-engineer")
    )
    deliverable = deliverable_create(
        project=world.project,
        type=deliverable_type("deployed-model"),
        owner=world.people["member"],
        actor=world.people["manager"],
    )
    rubric = Rubric.objects.get(deliverable_type__slug="deployed-model")
    return Scored(world, deliverable, rubric)


def mark_all(scored: Scored, mark: str, *, per_section: int, actor=None) -> None:
    """Mark the first `per_section` items of every section."""
    from deliverables.readiness.services import rubric_mark_save

    actor = actor or scored.world.people["member"]
    for section in scored.rubric.sections.all():
        for item in list(section.items.order_by("position"))[:per_section]:
            rubric_mark_save(
                deliverable=scored.deliverable,
                item=item,
                actor=actor,
                mark=mark,
                evidence_url="https://ci.example.com/run/1",
                version=None,
            )
