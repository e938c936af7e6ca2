"""Reads for cards: one deliverable's card with its answers, and the completeness of
many cards at once (the project page) in a constant number of queries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache

from django.db.models import Count, Prefetch, Window
from django.utils.translation import gettext

from deliverables.models import Deliverable, DeliverableStatus
from deliverables.selectors import SORTS
from mlteam.links import row_url
from roles.models import choice_label

from .models import (
    CardAnswer,
    CardCompleteness,
    CardKind,
    CardLink,
    CardQuestion,
    CardSection,
    CardTemplate,
    card_completeness,
    prompt_keys,
)


@dataclass
class Prompt:
    """One thing a section asks: a guiding question (None for a section's free
    answer), the key its answer is kept under, and the answer saved now."""

    key: str
    question: CardQuestion | None
    answer: str


@dataclass
class SectionView:
    section: CardSection
    row: CardAnswer | None  # the saved answers (None: not answered yet)
    prompts: list[Prompt] = field(default_factory=list)

    @property
    def version(self) -> int:
        return self.row.version if self.row is not None else 0


@dataclass
class CardView:
    """A deliverable's card as its pages draw it."""

    template: CardTemplate
    sections: list[SectionView]
    completeness: CardCompleteness
    link: CardLink | None  # with `subject` (and its type) loaded

    @property
    def rows(self):
        return list(zip(self.sections, self.completeness.sections, strict=True))


def template_for_type(type_id: int) -> CardTemplate | None:
    """The type's card template with its sections and their questions (three queries;
    one for none)."""
    return (
        CardTemplate.objects.filter(deliverable_type_id=type_id)
        .select_related("subject_type")
        .prefetch_related(
            Prefetch(
                "sections",
                queryset=CardSection.objects.prefetch_related(
                    Prefetch("questions", queryset=CardQuestion.objects.order_by("position", "pk"))
                ).order_by("position", "pk"),
            )
        )
        .first()
    )


def deliverable_card(*, deliverable: Deliverable) -> CardView | None:
    """The card of the deliverable's type, each section carrying this deliverable's
    answers, its completeness, and the link with its review flag. Five queries,
    whatever the template or the answers hold."""
    template = template_for_type(deliverable.type_id)
    if template is None:
        return None
    rows = {
        row.section_id: row
        for row in CardAnswer.objects.filter(deliverable=deliverable).select_related("answered_by")
    }
    link = (
        CardLink.objects.filter(card=deliverable)
        .select_related("subject__type", "reviewed_by")
        .first()
    )
    sections = []
    for section in template.sections.all():
        row = rows.get(section.pk)
        questions = list(section.questions.all())
        keys = prompt_keys([question.pk for question in questions])
        view = SectionView(section=section, row=row)
        for key, question in zip(keys, questions or [None], strict=True):
            view.prompts.append(
                Prompt(key=key, question=question, answer=row.answer(key) if row else "")
            )
        sections.append(view)
    completeness = card_completeness(
        [
            (view.section.pk, view.section.title, [prompt.key for prompt in view.prompts])
            for view in sections
        ],
        {pk: row.answers for pk, row in rows.items()},
    )
    return CardView(template=template, sections=sections, completeness=completeness, link=link)


def subject_choices(*, user, deliverable: Deliverable, template: CardTemplate):
    """What a card may link to: the deliverables of its template's subject type in
    the card's project that `user` may see."""
    if template.subject_type_id is None:
        return Deliverable.objects.none()
    return (
        Deliverable.objects.visible_to(user)
        .filter(project_id=deliverable.project_id, type_id=template.subject_type_id)
        .exclude(pk=deliverable.pk)
        .exclude(status=DeliverableStatus.CANCELLED)
        .select_related("type")
        .order_by("due_date", "pk")
    )


def completeness_for(rows: list[tuple[int, int]]) -> dict[int, CardCompleteness]:
    """The completeness of these deliverables ((pk, type id) pairs) whose type has a
    card template: two queries whatever the number of cards, sections or answers.

    1. The templates' sections of these types in order, each with its guiding
       questions in order (a section's prompts: `prompt_keys`; a section without
       questions asks for one free answer).
    2. These deliverables' answers.
    """
    if not rows:
        return {}
    type_ids = {type_id for _pk, type_id in rows}
    found: dict[int, dict[int, tuple[str, list[int]]]] = defaultdict(dict)
    for type_id, section_id, title, question_id in (
        CardSection.objects.filter(template__deliverable_type_id__in=type_ids)
        .order_by("position", "pk", "questions__position", "questions__pk")
        .values_list("template__deliverable_type_id", "pk", "title", "questions__pk")
    ):
        _title, questions = found[type_id].setdefault(section_id, (title, []))
        if question_id is not None:
            questions.append(question_id)
    if not found:
        return {}
    sections = {
        type_id: [
            (section_id, title, prompt_keys(questions))
            for section_id, (title, questions) in type_sections.items()
        ]
        for type_id, type_sections in found.items()
    }
    scored = [(pk, type_id) for pk, type_id in rows if type_id in sections]
    answers: dict[int, dict[int, dict]] = defaultdict(dict)
    for deliverable_id, section_id, saved in CardAnswer.objects.filter(
        deliverable_id__in=[pk for pk, _type in scored]
    ).values_list("deliverable_id", "section_id", "answers"):
        answers[deliverable_id][section_id] = saved
    return {pk: card_completeness(sections[type_id], answers[pk]) for pk, type_id in scored}


@dataclass(frozen=True)
class CardRow:
    """One card of the project page's table (plain data: the page is cached)."""

    pk: int
    url: str
    label: str
    kind: str
    status_label: str
    percent: int
    answered: int
    prompts: int
    sections: tuple[tuple[str, int, int], ...]  # (title, answered, prompts)
    needs_review: bool


PROJECT_CARDS_LIMIT = 20


def project_cards(*, project_id: int, limit: int = PROJECT_CARDS_LIMIT):
    """The model cards and datasheets of a project (not cancelled), due first: the
    first `limit` rows and how many there are in all (five queries, whatever the
    project holds: the rows with their count, then `completeness_for`'s two and the
    review flags). Only the rows shown are loaded and measured."""
    shown = list(
        Deliverable.objects.filter(project_id=project_id, type__card_template__isnull=False)
        .exclude(status=DeliverableStatus.CANCELLED)
        .select_related("type__card_template")
        .only("pk", "title", "status", "type__name", "type__card_template__kind", "type_id")
        # How many there are in all, with the rows: a count over the whole selection
        # before the LIMIT applies.
        .annotate(total=Window(Count("pk")))
        .order_by(*SORTS["due"])[:limit]
    )
    if not shown:
        return [], 0
    found = completeness_for([(deliverable.pk, deliverable.type_id) for deliverable in shown])
    flagged = set(
        CardLink.objects.filter(
            card_id__in=[deliverable.pk for deliverable in shown], needs_review=True
        ).values_list("card_id", flat=True)
    )
    card_url = row_url("cards:card")
    worded = cache(gettext)  # each section's title once, not once a row
    rows = []
    for deliverable in shown:
        completeness = found.get(deliverable.pk)
        if completeness is None:
            continue
        rows.append(
            CardRow(
                pk=deliverable.pk,
                url=card_url(deliverable.pk),
                label=deliverable.label,
                kind=choice_label(CardKind, deliverable.type.card_template.kind),
                status_label=str(deliverable.status_label),
                percent=completeness.percent,
                answered=completeness.answered,
                prompts=completeness.prompts,
                sections=tuple(
                    (worded(section.title), section.answered, section.prompts)
                    for section in completeness.sections
                ),
                needs_review=deliverable.pk in flagged,
            )
        )
    return rows, shown[0].total
