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
    assert flagged.review_change == {"old": "7", "new": "8"}
    version = flagged.version
    with django_capture_on_commit_callbacks(execute=True):  # the same answer again
        poll_all(later(50))
    assert CardLink.objects.get().version == version


def test_a_flag_that_fails_is_not_lost_the_change_is_seen_again(
    cards,  # noqa: F811
    fake,
    settings,
):
    """The version seen and the cards' flags commit together: a receiver failing
    (a database hiccup) leaves the old version recorded, so the poll after the
    claim's lease sees the change again and flags the card then."""
    from datetime import timedelta

    from deliverables.signals import model_version_changed

    member = cards.world.people["member"]
    card_link_set(deliverable=cards.card, actor=member, subject=cards.model, version=1)
    mlflow = fake()
    mlflow.answer(MLFLOW_ALIAS, servers.mlflow_model_version("churn", "7", aliases=["production"]))
    system("mlflow", mlflow.url)
    added = link(cards.model, cards.world.people["colleague"], "models:/churn@production")
    poll_all()
    mlflow.answer(MLFLOW_ALIAS, servers.mlflow_model_version("churn", "8"))

    def hiccup(**kwargs):
        raise RuntimeError("database hiccup")

    model_version_changed.connect(hiccup, dispatch_uid="test-hiccup")
    try:
        with pytest.raises(RuntimeError):
            poll_all(later(25))
    finally:
        model_version_changed.disconnect(dispatch_uid="test-hiccup")
    from deliverables.artifacts.models import ArtifactState

    assert ArtifactState.objects.get(link=added).model_version == "7"
    assert not CardLink.objects.get().needs_review
    after_lease = later(25) + timedelta(seconds=settings.ARTIFACT_POLL_LEASE_SECONDS + 1)
    poll_all(after_lease)
    assert ArtifactState.objects.get(link=added).model_version == "8"
    flagged = CardLink.objects.get()
    assert flagged.needs_review and "8" in flagged.review_words
