from __future__ import annotations

from dataclasses import dataclass

import pytest

from deliverables.cards.models import CardSection, CardTemplate
from deliverables.cards.services import card_answer_save
from deliverables.models import Deliverable
from deliverables.services import deliverable_create
from roles.services import membership_add, role_assign
from tests.factories import UserFactory, deliverable_type, role
from tests.roles.conftest import World, world  # noqa: F401 (fixture)


@dataclass
class Cards:
    world: World
    card: Deliverable  # a model card owned by `member`
    model: Deliverable  # the deployed model it may describe
    template: CardTemplate

    def section(self, n: int = 0) -> CardSection:
        return list(self.template.sections.order_by("position", "pk"))[n]

    def answer(self, n: int = 0, text: str = "Scores churn risk weekly.", *, every=True):
        """Answer the n-th section: every question, or only its first."""
        section = self.section(n)
        keys = [
            str(pk) for pk in section.questions.order_by("position").values_list("pk", flat=True)
        ]
        answers = dict.fromkeys(keys if every else keys[:1], text)
        return card_answer_save(
            deliverable=self.card,
            section=section,
            actor=self.world.people["member"],
            answers=answers,
            version=None,
        )


@pytest.fixture
def cards(world) -> Cards:  # noqa: F811
    colleague = UserFactory(username="colleague")
    world.people["colleague"] = colleague
    role_assign(
        membership=membership_add(project=world.project, user=colleague), role=role("ml-engineer")
    )
    manager = world.people["manager"]
    model = deliverable_create(
        project=world.project,
        type=deliverable_type("deployed-model"),
        title="Churn v2",
        owner=colleague,
        actor=manager,
    )
    card = deliverable_create(
        project=world.project,
        type=deliverable_type("model-card"),
        title="Churn v2",
        owner=world.people["member"],
        actor=manager,
    )
    template = CardTemplate.objects.get(deliverable_type__slug="model-card")
    return Cards(world, card, model, template)
