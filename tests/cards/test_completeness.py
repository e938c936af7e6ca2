"""The completeness rule, written once in models: a prompt is answered when it holds
more than white space; a section is the share of its prompts answered, the card the
share of all its prompts. The selectors for one card and for many agree with it."""

from __future__ import annotations

import pytest

from deliverables.cards.models import (
    FREE_ANSWER,
    card_completeness,
    prompt_keys,
    section_completeness,
)
from deliverables.cards.selectors import completeness_for, deliverable_card
from deliverables.cards.services import card_section_add

pytestmark = pytest.mark.django_db


def test_a_section_counts_its_questions_with_text():
    done = section_completeness(
        "Metrics", ["1", "2", "3", "4"], {"1": "AUC", "2": "  \n ", "4": "F1"}
    )
    assert (done.answered, done.prompts, done.percent, done.complete) == (2, 4, 50, False)
    assert section_completeness("Metrics", ["1"], None).answered == 0
    assert section_completeness("Metrics", ["1"], {"1": "yes"}).complete


def test_a_section_without_questions_has_one_free_answer():
    assert prompt_keys([]) == [FREE_ANSWER]
    assert prompt_keys([7, 3]) == ["7", "3"]
    done = section_completeness("Notes", prompt_keys([]), {FREE_ANSWER: "Anything"})
    assert (done.answered, done.prompts) == (1, 1)


def test_answers_to_removed_questions_and_non_text_do_not_count():
    done = section_completeness("Metrics", ["1", "2"], {"1": 42, "9": "kept but removed"})
    assert done.answered == 0


def test_the_card_is_the_share_of_all_its_prompts():
    card = card_completeness(
        [(1, "Use", ["1", "2"]), (2, "Data", ["3", "4", "5"]), (3, "Empty", ["section"])],
        {1: {"1": "a", "2": "b"}, 2: {"3": "c"}},
    )
    assert (card.answered, card.prompts, card.percent, card.complete_sections) == (3, 6, 50, 1)
    assert [section.percent for section in card.sections] == [100, 33, 0]
    assert card_completeness([], {}).percent == 0


def test_the_seeded_model_card_starts_empty_and_fills(cards):
    view = deliverable_card(deliverable=cards.card)
    titles = [section.section.title for section in view.sections]
    assert titles[:3] == ["Intended use", "Out-of-scope use", "Factors"] and len(titles) == 9
    assert view.completeness.answered == 0 and view.completeness.prompts > 9
    cards.answer(0)
    cards.answer(1, every=False)
    view = deliverable_card(deliverable=cards.card)
    first, second = view.completeness.sections[:2]
    assert first.complete and second.answered == 1 and not second.complete
    assert view.completeness.answered == first.prompts + 1
    many = completeness_for(
        [(cards.card.pk, cards.card.type_id), (cards.model.pk, cards.model.type_id)]
    )
    assert list(many) == [cards.card.pk]  # the deployed model has no card template
    assert many[cards.card.pk] == view.completeness


def test_a_section_added_without_questions_counts_once(cards):
    section = card_section_add(
        template=cards.template, version=None, title="Contacts", guidance="", position=99
    )
    view = deliverable_card(deliverable=cards.card)
    last = view.sections[-1]
    assert last.section == section and [p.key for p in last.prompts] == [FREE_ANSWER]
    assert view.completeness.sections[-1].prompts == 1
