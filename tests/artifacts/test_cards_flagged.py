"""The polling and the cards wired together: when the version a deployed model's
MLflow alias points at moves on, the cards describing that model are flagged for
review, once; the first sighting of a version flags nothing."""

from __future__ import annotations

import pytest

from deliverables.cards.models import CardLink
from deliverables.cards.services import card_link_set
from tests.artifacts import servers
from tests.artifacts.helpers import later, link, poll_all, system
from tests.cards.conftest import cards  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

MLFLOW_ALIAS = "/api/2.0/mlflow/registered-models/alias"


def test_a_new_model_version_flags_the_card_once(
    cards,  # noqa: F811
    fake,
    django_capture_on_commit_callbacks,
):
    member = cards.world.people["member"]
    card_link_set(deliverable=cards.card, actor=member, subject=cards.model, version=1)
    mlflow = fake()
    mlflow.answer(MLFLOW_ALIAS, servers.mlflow_model_version("churn", "7", aliases=["production"]))
    system("mlflow", mlflow.url)
    link(cards.model, cards.world.people["colleague"], "models:/churn@production")

    with django_capture_on_commit_callbacks(execute=True):
        assert len(poll_all()) == 1
    assert not CardLink.objects.get().needs_review  # version 7 first seen: no change

    mlflow.answer(MLFLOW_ALIAS, servers.mlflow_model_version("churn", "8"))
    with django_capture_on_commit_callbacks(execute=True):
        poll_all(later(25))
    flagged = CardLink.objects.get()
    assert flagged.needs_review
    assert "7" in flagged.review_reason and "8" in flagged.review_reason
    version = flagged.version
    with django_capture_on_commit_callbacks(execute=True):  # the same answer again
        poll_all(later(50))
    assert CardLink.objects.get().version == version
