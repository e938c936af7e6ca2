"""The rubric's score: half a point by hand, a point automated, a section's sum, the
lowest section's score overall; sections without items left out."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from deliverables.models import DeliverableEvent, EventKind
from deliverables.readiness.models import (
    Mark,
    Rubric,
    RubricMark,
    format_score,
    rubric_score,
    section_scores,
)
from deliverables.readiness.selectors import deliverable_rubric, scores_for
from deliverables.readiness.services import rubric_mark_save
from deliverables.services import deliverable_create
from tests.factories import deliverable_type
from tests.readiness.conftest import mark_all

pytestmark = pytest.mark.django_db


def test_manual_is_half_a_point_and_automated_one():
    score = rubric_score(
        [("Data", [1, 2, 3]), ("Model", [4, 5])],
        {1: Mark.MANUAL, 2: Mark.AUTOMATED, 4: Mark.AUTOMATED, 5: Mark.AUTOMATED},
        Decimal("1"),
    )
    assert [section.points for section in score.sections] == [Decimal("1.5"), Decimal("2")]
    assert score.overall == Decimal("1.5")  # the lowest section, not the sum
    assert score.ready


def test_the_overall_score_is_the_minimum_over_sections():
    score = rubric_score(
        [("Data", [1, 2]), ("Model", [3, 4]), ("Monitoring", [5])],
        {1: Mark.AUTOMATED, 2: Mark.AUTOMATED, 3: Mark.AUTOMATED, 4: Mark.AUTOMATED},
        Decimal("1"),
    )
    assert score.overall == Decimal("0")
    assert not score.ready


def test_a_section_without_items_is_left_out():
    score = rubric_score([("Data", [1]), ("Empty", [])], {1: Mark.MANUAL}, Decimal("0.5"))
    assert score.overall == Decimal("0.5") and score.ready
    assert rubric_score([("Empty", [])], {}, Decimal("2")).overall is None
    assert rubric_score([("Empty", [])], {}, Decimal("2")).ready  # nothing to score: no gate
    assert format_score(None) == "—" and format_score(Decimal("2")) == "2.0"


def test_summed_in_the_database_as_in_python(scored):
    mark_all(scored, Mark.AUTOMATED, per_section=2)
    mark_all(scored, Mark.MANUAL, per_section=1)  # the first item of each: 1 -> 0.5
    d = scored.deliverable
    from_db = scores_for([(d.pk, d.type_id)])[d.pk]
    view = deliverable_rubric(deliverable=d)
    assert from_db.overall == view.score.overall == Decimal("1.5")
    assert [s.points for s in from_db.sections] == [s.points for s in view.score.sections]
    # Same sums from points summed elsewhere.
    assert section_scores([(1, "Data", 3)], {1: Decimal("2")}, Decimal("1")).overall == 2


def test_marked_and_unmarked_work_scored_through_a_query(scored):
    """Read through the query the rows came from (`among`), as the portfolio does:
    the same scores as by ids, a deliverable without marks at zero."""
    from deliverables.models import Deliverable
    from deliverables.readiness.selectors import portfolio_readiness

    mark_all(scored, Mark.AUTOMATED, per_section=2)
    marked = scored.deliverable
    unmarked = deliverable_create(
        project=scored.world.project,
        type=deliverable_type("deployed-model"),
        owner=scored.world.people["member"],
        actor=scored.world.people["manager"],
    )
    rows = [(marked.pk, marked.type_id), (unmarked.pk, unmarked.type_id)]
    among = Deliverable.objects.filter(project=scored.world.project)
    assert scores_for(rows, among=among) == scores_for(rows)
    by_query = scores_for(rows, among=among)
    assert by_query[marked.pk].overall == Decimal("2") and by_query[marked.pk].ready
    assert by_query[unmarked.pk].overall == Decimal("0") and not by_query[unmarked.pk].ready
    assert portfolio_readiness(project_ids=[scored.world.project.pk]) == {
        scored.world.project.pk: (1, 2)
    }


def test_evidence_is_required_above_not_done(scored):
    with pytest.raises(ValidationError) as refused:
        rubric_mark_save(
            deliverable=scored.deliverable,
            item=scored.item(),
            actor=scored.world.people["member"],
            mark=Mark.MANUAL,
            version=0,
        )
    assert "evidence" in " ".join(refused.value.messages)
    assert not RubricMark.objects.exists()
    note = rubric_mark_save(
        deliverable=scored.deliverable,
        item=scored.item(),
        actor=scored.world.people["member"],
        mark=Mark.MANUAL,
        evidence_note="Checked by hand against the schema doc.",
        version=0,
    )
    assert note.version == 1 and note.marked_by == scored.world.people["member"]
    event = DeliverableEvent.objects.filter(kind=EventKind.RUBRIC).get()
    assert "Done manually" in event.display_after


def test_a_stale_mark_is_refused(scored):
    people = scored.world.people
    item = scored.item()
    rubric_mark_save(
        deliverable=scored.deliverable,
        item=item,
        actor=people["member"],
        mark=Mark.MANUAL,
        evidence_note="by hand",
        version=0,
    )
    with pytest.raises(ValidationError) as refused:
        rubric_mark_save(
            deliverable=scored.deliverable,
            item=item,
            actor=people["manager"],
            mark=Mark.AUTOMATED,
            evidence_url="https://ci.example.com/1",
            version=0,
        )
    assert refused.value.code == "stale"
    assert RubricMark.objects.get().mark == Mark.MANUAL


def test_not_done_drops_the_evidence_and_scores_nothing(scored):
    people = scored.world.people
    item = scored.item()
    rubric_mark_save(
        deliverable=scored.deliverable,
        item=item,
        actor=people["member"],
        mark=Mark.AUTOMATED,
        evidence_url="https://ci.example.com/1",
        version=0,
    )
    row = rubric_mark_save(
        deliverable=scored.deliverable,
        item=item,
        actor=people["member"],
        mark=Mark.NOT_DONE,
        evidence_url="https://ci.example.com/1",
        version=1,
    )
    assert (row.mark, row.evidence_url, row.version) == (Mark.NOT_DONE, "", 2)


def test_outsiders_colleagues_and_archived_projects_cannot_mark(scored):
    from roles.services import project_archive

    item = scored.item()
    for person in ("outsider", "colleague"):
        with pytest.raises(ValidationError):
            rubric_mark_save(
                deliverable=scored.deliverable,
                item=item,
                actor=scored.world.people[person],
                mark=Mark.MANUAL,
                evidence_note="x",
                version=0,
            )
    project_archive(
        project=scored.world.project, actor=scored.world.people["manager"], version=None
    )
    scored.deliverable.project.refresh_from_db()
    with pytest.raises(ValidationError):
        rubric_mark_save(
            deliverable=scored.deliverable,
            item=item,
            actor=scored.world.people["manager"],
            mark=Mark.MANUAL,
            evidence_note="x",
            version=0,
        )
    assert not RubricMark.objects.exists()


def test_an_item_of_another_rubric_is_refused(scored):
    other = Rubric.objects.get(deliverable_type__slug="data-pipeline")
    item = other.sections.first().items.first()
    with pytest.raises(ValidationError):
        rubric_mark_save(
            deliverable=scored.deliverable,
            item=item,
            actor=scored.world.people["member"],
            mark=Mark.MANUAL,
            evidence_note="x",
            version=0,
        )


def test_seeded_rubrics():
    deployed = Rubric.objects.get(deliverable_type__slug="deployed-model")
    assert [s.name for s in deployed.sections.all()] == [
        "Data",
        "Model",
        "Infrastructure",
        "Monitoring",
    ]
    assert Rubric.objects.get(deliverable_type__slug="serving-automation").sections.count() == 4
    review = Rubric.objects.get(deliverable_type__slug="data-pipeline")
    assert review.name == "Production readiness review" and review.required_score > 0


def test_demo_has_a_deployed_model_with_a_partly_automated_rubric():
    from django.utils import timezone

    from mlteam.demo import demo_seed

    demo_seed(today=timezone.localdate())
    marks = RubricMark.objects.filter(deliverable__type__slug="deployed-model")
    open_marks = marks.exclude(deliverable__status__in=["done", "cancelled"])
    kinds = set(open_marks.values_list("mark", flat=True))
    assert {Mark.AUTOMATED, Mark.MANUAL} <= kinds
    d = open_marks.first().deliverable
    score = deliverable_rubric(deliverable=d).score
    assert score.overall is not None and not score.ready
