"""Reads for readiness: one deliverable's rubric with its marks, and the scores of
many deliverables at once (project page, portfolio) in a constant number of queries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from django.db.models import Count, Prefetch, QuerySet, Sum, Window
from django.utils.translation import gettext

from deliverables.models import Deliverable, DeliverableStatus
from deliverables.selectors import SORTS
from mlteam.links import row_url

from .models import (
    Mark,
    Rubric,
    RubricItem,
    RubricMark,
    RubricScore,
    RubricSection,
    RubricWaiver,
    format_score,
    points_expression,
    rubric_score,
    section_scores,
)


@dataclass
class RubricView:
    """A deliverable's rubric as its page draws it."""

    rubric: Rubric
    sections: list[RubricSection]  # with `items` prefetched, each item with `.mark_row`
    score: RubricScore
    waiver: RubricWaiver | None  # the latest, while the deliverable is done


def rubric_for_type(type_id: int) -> Rubric | None:
    """The type's rubric with its sections and items (three queries; one for none)."""
    return (
        Rubric.objects.filter(deliverable_type_id=type_id)
        .prefetch_related(
            Prefetch(
                "sections",
                queryset=RubricSection.objects.prefetch_related(
                    Prefetch("items", queryset=RubricItem.objects.order_by("position", "pk"))
                ).order_by("position", "pk"),
            )
        )
        .first()
    )


def deliverable_rubric(*, deliverable: Deliverable) -> RubricView | None:
    """The rubric of the deliverable's type, each item carrying this deliverable's
    mark (`mark_row`, None: not marked), the score, and the waiver shown while done.
    Six queries at most, whatever the rubric holds."""
    rubric = rubric_for_type(deliverable.type_id)
    if rubric is None:
        return None
    rows = {
        row.item_id: row
        for row in RubricMark.objects.filter(deliverable=deliverable).select_related("marked_by")
    }
    sections = list(rubric.sections.all())
    for section in sections:
        for item in section.items.all():
            item.mark_row = rows.get(item.pk)
    score = rubric_score(
        [(section.name, [item.pk for item in section.items.all()]) for section in sections],
        {item_id: row.mark for item_id, row in rows.items()},
        rubric.required_score,
    )
    waiver = None
    if deliverable.status == DeliverableStatus.DONE:
        waiver = (
            RubricWaiver.objects.filter(deliverable=deliverable).select_related("waived_by").first()
        )
    return RubricView(rubric=rubric, sections=sections, score=score, waiver=waiver)


def _structure(type_ids) -> tuple[dict[int, list[tuple[int, str, int]]], dict[int, Decimal]]:
    """The rubrics of these types: their sections (id, name, item count) in order and
    the score each type needs, for the types whose rubric has items (one query)."""
    structure = (
        RubricItem.objects.filter(section__rubric__deliverable_type_id__in=type_ids)
        .order_by("section__position", "section_id")
        .values_list(
            "section__rubric__deliverable_type_id",
            "section__rubric__required_score",
            "section_id",
            "section__name",
        )
        .annotate(n=Count("pk"))
    )
    sections: dict[int, list[tuple[int, str, int]]] = defaultdict(list)
    required: dict[int, Decimal] = {}
    for type_id, needed, section_id, name, count in structure:
        sections[type_id].append((section_id, name, count))
        required[type_id] = needed
    return sections, required


def unmarked_scores(type_ids) -> dict[int, RubricScore]:
    """type -> the score of its deliverables that have no marks yet, for the types
    whose rubric has items (one query)."""
    return _unmarked(*_structure(type_ids))


def _unmarked(sections, required) -> dict[int, RubricScore]:
    return {
        type_id: section_scores(type_sections, {}, required[type_id])
        for type_id, type_sections in sections.items()
    }


def scores_for(
    rows: list[tuple[int, int]],
    among: QuerySet[Deliverable] | None = None,
    structure: tuple[dict, dict] | None = None,
) -> dict[int, RubricScore]:
    """The scores of these deliverables ((pk, type id) pairs) whose type has a rubric
    with items: two queries whatever the number of rows, items or marks.

    1. The rubrics' sections of these types, with their item counts and the score
       each type needs (`_structure`).
    2. The points of these deliverables' marks, summed per deliverable and section
       in the database (`points_expression`: MARK_POINTS).

    `among`: the query the rows were read from, when there is one: the marks are
    then read through it as a subquery rather than through every row's id bound
    as a parameter. Deliverables without marks share their type's score.
    `structure`: `_structure`'s answer when the caller has read it (one query less).
    """
    if not rows:
        return {}
    sections, required = structure or _structure({type_id for _pk, type_id in rows})
    scored = [(pk, type_id) for pk, type_id in rows if type_id in sections]
    if not scored:
        return {}
    points: dict[int, dict[int, Decimal]] = defaultdict(dict)
    sums = (
        RubricMark.objects.filter(
            deliverable_id__in=[pk for pk, _type in scored] if among is None else among.values("pk")
        )
        .exclude(mark=Mark.NOT_DONE)
        .order_by()
        .values_list("deliverable_id", "item__section_id")
        .annotate(points=Sum(points_expression()))
    )
    for deliverable_id, section_id, total in sums:
        points[deliverable_id][section_id] = total
    unmarked = _unmarked(sections, required)
    return {
        pk: section_scores(sections[type_id], points[pk], required[type_id])
        if pk in points
        else unmarked[type_id]
        for pk, type_id in scored
    }


@dataclass(frozen=True)
class ReadinessRow:
    """One deliverable of the project page's readiness table (plain data: cached)."""

    pk: int
    url: str  # the deliverable's page, at its rubric
    label: str
    status: str
    status_label: str
    sections: tuple[tuple[str, str, int], ...]  # (section name, points, items)
    overall: str
    required: str
    ready: bool
    waived: bool


PROJECT_READINESS_LIMIT = 20


def project_readiness(*, project_id: int, limit: int = PROJECT_READINESS_LIMIT):
    """The scored deliverables of a project (not cancelled), due first: the first
    `limit` rows and how many there are in all (three queries, whatever the project
    holds: the rubrics, the rows with their count, their marks). Only the rows shown
    are scored."""
    structure = _structure(Rubric.objects.values("deliverable_type_id"))
    scored = list(
        Deliverable.objects.filter(project_id=project_id, type_id__in=list(structure[0]))
        .exclude(status=DeliverableStatus.CANCELLED)
        .select_related("type")
        .only("pk", "title", "status", "type__name", "type_id")
        # How many there are in all, with the rows: counted before the LIMIT applies.
        .annotate(total=Window(Count("pk")))
        .order_by(*SORTS["due"])[:limit]
    )
    if not scored:
        return [], 0
    scores = scores_for(
        [(deliverable.pk, deliverable.type_id) for deliverable in scored], structure=structure
    )
    detail_url = row_url("deliverables:detail")
    worded = cache(gettext)  # each section's name once, not once a row
    rows = []
    for deliverable in scored:
        score = scores[deliverable.pk]
        rows.append(
            ReadinessRow(
                pk=deliverable.pk,
                url=f"{detail_url(deliverable.pk)}#readiness",
                label=deliverable.label,
                status=deliverable.status,
                status_label=str(deliverable.status_label),
                sections=tuple(
                    (worded(section.name), format_score(section.points), section.items)
                    for section in score.sections
                    if section.items
                ),
                overall=format_score(score.overall),
                required=format_score(score.required),
                ready=score.ready,
                waived=deliverable.status == DeliverableStatus.DONE and not score.ready,
            )
        )
    return rows, scored[0].total


def portfolio_readiness(*, project_ids: list[int]) -> dict[int, tuple[int, int]]:
    """project -> (scored deliverables ready, scored deliverables), for the open and
    done work of these projects (two queries whatever the page holds): the work
    counted per project, type and stored readiness (`ReadinessScore`, kept by the
    services), work without marks read as its type's unmarked score."""
    groups = (
        Deliverable.objects.filter(project_id__in=project_ids, type__readiness_rubric__isnull=False)
        .exclude(status=DeliverableStatus.CANCELLED)
        .order_by()
        .values_list("project_id", "type_id", "readiness_score__ready")
        .annotate(n=Count("*"))
    )
    groups = list(groups)
    unmarked = unmarked_scores({type_id for _project, type_id, _ready, _n in groups})
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for project_id, type_id, stored, n in groups:
        if type_id not in unmarked:  # a rubric without items scores nothing
            continue
        ready = unmarked[type_id].ready if stored is None else stored
        counts[project_id][1] += n
        counts[project_id][0] += n if ready else 0
    return {project_id: (ready, total) for project_id, (ready, total) in counts.items()}
