"""Stored scores (ReadinessScore): kept by the services with every change that moves
a score, equal to what the rule computes from the marks, and what the portfolio
counts from."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command

from deliverables.readiness.models import Mark, ReadinessScore
from deliverables.readiness.selectors import portfolio_readiness, scores_for
from deliverables.readiness.services import (
    rubric_item_add,
    rubric_item_remove,
    rubric_mark_save,
    rubric_update,
)
from deliverables.services import deliverable_create
from tests.factories import deliverable_type
from tests.migrations import migrate_to, migrate_to_latest
from tests.readiness.conftest import mark_all


def _stored(deliverable) -> tuple[Decimal | None, bool] | None:
    row = ReadinessScore.objects.filter(deliverable=deliverable).first()
    return None if row is None else (row.overall, row.ready)


def _computed(deliverable) -> tuple[Decimal | None, bool]:
    score = scores_for([(deliverable.pk, deliverable.type_id)])[deliverable.pk]
    return score.overall, score.ready


@pytest.mark.django_db
def test_a_mark_stores_the_score_the_rule_gives(scored):
    d = scored.deliverable
    assert _stored(d) is None  # nothing marked: no row
    mark_all(scored, Mark.AUTOMATED, per_section=1)
    assert _stored(d) == _computed(d) == (Decimal("1"), False)  # 2.0 needed
    mark_all(scored, Mark.AUTOMATED, per_section=2)
    assert _stored(d) == _computed(d) == (Decimal("2"), True)
    item = scored.item(section=0, n=0)
    rubric_mark_save(
        deliverable=d, item=item, actor=scored.world.people["member"], mark="not_done", version=None
    )
    assert _stored(d) == _computed(d) == (Decimal("1"), False)


@pytest.mark.django_db
def test_a_refused_mark_leaves_the_stored_score(scored):
    mark_all(scored, Mark.MANUAL, per_section=1)
    before = _stored(scored.deliverable)
    with pytest.raises(Exception):  # noqa: B017 (a stale version: ValidationError)
        rubric_mark_save(
            deliverable=scored.deliverable,
            item=scored.item(),
            actor=scored.world.people["member"],
            mark="automated",
            evidence_note="by CI",
            version=99,
        )
    assert _stored(scored.deliverable) == before


@pytest.mark.django_db
def test_rubric_changes_score_marked_work_again(scored):
    d = scored.deliverable
    mark_all(scored, Mark.AUTOMATED, per_section=2)
    assert _stored(d) == (Decimal("2"), True)
    rubric = scored.rubric
    rubric_update(rubric=rubric, version=rubric.version, required_score=Decimal("3"))
    assert _stored(d) == _computed(d) == (Decimal("2"), False)
    rubric.refresh_from_db()
    section = rubric.sections.order_by("position").first()
    item = rubric_item_add(rubric=rubric, version=rubric.version, section=section, text="New")
    assert _stored(d) == _computed(d)
    rubric.refresh_from_db()
    rubric_item_remove(item=item, version=rubric.version)
    assert _stored(d) == _computed(d) == (Decimal("2"), False)


@pytest.mark.django_db
def test_the_portfolio_counts_stored_and_unmarked_work(scored):
    project = scored.world.project
    mark_all(scored, Mark.AUTOMATED, per_section=2)  # ready
    for _ in range(2):  # never marked: the rubric's unmarked score, not ready
        deliverable_create(
            project=project,
            type=deliverable_type("deployed-model"),
            owner=scored.world.people["member"],
            actor=scored.world.people["manager"],
        )
    assert portfolio_readiness(project_ids=[project.pk]) == {project.pk: (1, 3)}
    rubric_update(rubric=scored.rubric, version=scored.rubric.version, required_score=Decimal("0"))
    assert portfolio_readiness(project_ids=[project.pk]) == {project.pk: (3, 3)}


@pytest.mark.django_db
def test_the_command_stores_scores_of_marks_written_by_hand(scored):
    mark_all(scored, Mark.AUTOMATED, per_section=2)
    ReadinessScore.objects.all().delete()
    call_command("rescore_readiness", stdout=__import__("io").StringIO())
    assert _stored(scored.deliverable) == (Decimal("2"), True)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_marks_made_before_scores_were_kept_are_scored_by_the_migration(scored):
    mark_all(scored, Mark.MANUAL, per_section=3)
    expected = _computed(scored.deliverable)
    try:
        migrate_to([("readiness", "0004_readiness_score")])
        ReadinessScore.objects.all().delete()
        migrate_to([("readiness", "0005_score_existing_marks")])
        assert _stored(scored.deliverable) == expected
    finally:
        migrate_to_latest()
