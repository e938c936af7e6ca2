"""Writes for cards: answers with their version, links within the project, the
review flag raised by a model change and cleared by a person, history entries."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from deliverables.cards.models import CardAnswer, CardLink
from deliverables.cards.receivers import on_model_version_changed
from deliverables.cards.services import (
    card_answer_save,
    card_link_set,
    card_review_confirm,
    flag_for_review,
)
from deliverables.models import DeliverableEvent, EventKind
from deliverables.services import deliverable_create
from roles.services import project_archive
from tests.factories import deliverable_type

pytestmark = pytest.mark.django_db


def _keys(section):
    return [str(pk) for pk in section.questions.order_by("position").values_list("pk", flat=True)]


def test_answers_are_saved_with_history_and_a_version(cards):
    section = cards.section(0)
    keys = _keys(section)
    row = card_answer_save(
        deliverable=cards.card,
        section=section,
        actor=cards.world.people["member"],
        answers={keys[0]: "Weekly churn scores.  \n", keys[1]: "   ", "999": "not a prompt"},
        version=0,
    )
    assert row.answers == {keys[0]: "Weekly churn scores."} and row.version == 1
    event = DeliverableEvent.objects.filter(deliverable=cards.card, kind=EventKind.CARD).get()
    assert event.display_after == "Intended use (1 of 3 answered)"
    # Kept as the source title and counts: worded in the reader's language at display.
    assert event.payload["after"] == {"card_section": "Intended use", "answered": 1, "prompts": 3}
    # The same answers again: nothing written.
    same = card_answer_save(
        deliverable=cards.card,
        section=section,
        actor=cards.world.people["member"],
        answers={keys[0]: "Weekly churn scores."},
        version=0,
    )
    assert same.version == 1 and DeliverableEvent.objects.filter(kind=EventKind.CARD).count() == 1
    # Blank answers to a section nobody answered: no row, no history.
    blank = card_answer_save(
        deliverable=cards.card,
        section=cards.section(1),
        actor=cards.world.people["member"],
        answers=dict.fromkeys(_keys(cards.section(1)), "  "),
        version=0,
    )
    assert blank.pk is None and CardAnswer.objects.count() == 1
    assert DeliverableEvent.objects.filter(kind=EventKind.CARD).count() == 1


def test_a_stale_save_is_refused_and_nothing_of_it_is_saved(cards):
    section = cards.section(0)
    keys = _keys(section)
    manager, member = cards.world.people["manager"], cards.world.people["member"]
    card_answer_save(
        deliverable=cards.card,
        section=section,
        actor=manager,
        answers={keys[0]: "Theirs"},
        version=0,
    )
    with pytest.raises(ValidationError) as refused:
        card_answer_save(
            deliverable=cards.card,
            section=section,
            actor=member,
            answers={keys[0]: "Mine"},
            version=0,
        )
    assert refused.value.code == "stale"
    row = CardAnswer.objects.get()
    assert row.answers == {keys[0]: "Theirs"} and row.version == 1
    # Saved again over the version now shown: it replaces theirs.
    card_answer_save(
        deliverable=cards.card, section=section, actor=member, answers={keys[0]: "Mine"}, version=1
    )
    assert CardAnswer.objects.get().answers == {keys[0]: "Mine"}


@pytest.mark.parametrize("who", ["colleague", "outsider", "other_manager"])
def test_only_the_owner_and_managers_edit_the_card(cards, who):
    with pytest.raises(ValidationError) as refused:
        card_answer_save(
            deliverable=cards.card,
            section=cards.section(0),
            actor=cards.world.people[who],
            answers={_keys(cards.section(0))[0]: "x"},
            version=None,
        )
    assert refused.value.code == "permission" and not CardAnswer.objects.exists()


def test_an_archived_project_or_another_types_section_is_refused(cards):
    datasheet = deliverable_create(
        project=cards.world.project,
        type=deliverable_type("datasheet"),
        owner=cards.world.people["member"],
        actor=cards.world.people["manager"],
    )
    with pytest.raises(ValidationError) as refused:
        card_answer_save(
            deliverable=datasheet,
            section=cards.section(0),  # a model card's section
            actor=cards.world.people["member"],
            answers={},
            version=None,
        )
    assert refused.value.code == "section"
    project_archive(project=cards.world.project, actor=cards.world.people["manager"], version=None)
    cards.card.project.refresh_from_db()
    with pytest.raises(ValidationError):
        cards.answer(0)
    assert not CardAnswer.objects.exists()


def test_a_card_links_only_to_a_visible_deliverable_of_its_subject_type(cards):
    member = cards.world.people["member"]
    elsewhere = deliverable_create(
        project=cards.world.other_project,
        type=deliverable_type("deployed-model"),
        owner=None,
        actor=cards.world.people["other_manager"],
    )
    for wrong in (elsewhere, cards.card):
        with pytest.raises(ValidationError) as refused:
            card_link_set(deliverable=cards.card, actor=member, subject=wrong, version=1)
        assert refused.value.code == "subject"
    link = card_link_set(deliverable=cards.card, actor=member, subject=cards.model, version=1)
    assert link.subject == cards.model and link.version == 2
    event = DeliverableEvent.objects.get(kind=EventKind.CARD_LINK)
    assert event.display_after == "Deployed model: Churn v2" and event.display_before == ""
    with pytest.raises(ValidationError) as stale:
        card_link_set(deliverable=cards.card, actor=member, subject=None, version=1)
    assert stale.value.code == "stale" and CardLink.objects.get().subject == cards.model


def test_a_model_change_flags_its_cards_until_someone_confirms(cards):
    member, colleague = cards.world.people["member"], cards.world.people["colleague"]
    assert flag_for_review(deliverable=cards.model, reason="nothing linked") == 0
    card_link_set(deliverable=cards.card, actor=member, subject=cards.model, version=1)
    assert flag_for_review(deliverable=cards.model, reason="Model version 3 is live.") == 1
    link = CardLink.objects.get()
    assert link.needs_review and link.review_reason == "Model version 3 is live."
    flagged = DeliverableEvent.objects.get(deliverable=cards.card, kind=EventKind.CARD_REVIEW)
    assert flagged.actor is None and "Model version 3 is live." in flagged.display_after
    with pytest.raises(ValidationError):
        card_review_confirm(deliverable=cards.card, actor=colleague, version=link.version)
    with pytest.raises(ValidationError) as stale:
        card_review_confirm(deliverable=cards.card, actor=member, version=link.version - 1)
    assert stale.value.code == "stale" and CardLink.objects.get().needs_review
    card_review_confirm(deliverable=cards.card, actor=member, version=link.version)
    link = CardLink.objects.get()
    assert not link.needs_review and link.reviewed_by == member
    with pytest.raises(ValidationError):  # nothing left to confirm
        card_review_confirm(deliverable=cards.card, actor=member, version=link.version)


def test_the_receiver_flags_the_cards_of_the_changed_model(cards):
    card_link_set(
        deliverable=cards.card, actor=cards.world.people["member"], subject=cards.model, version=1
    )
    flagged = on_model_version_changed(sender=None, deliverable=cards.model, old="2", new="3")
    assert flagged == 1
    link = CardLink.objects.get()
    assert link.needs_review and link.review_change == {"old": "2", "new": "3"}
    assert link.review_words == "The linked model version changed from 2 to 3."
    # Another deliverable's change leaves this card alone.
    card_review_confirm(
        deliverable=cards.card, actor=cards.world.people["member"], version=link.version
    )
    assert on_model_version_changed(sender=None, deliverable=cards.card, old=None, new="1") == 0
    assert not CardLink.objects.get().needs_review


def test_the_same_change_flagged_twice_flags_once(cards):
    """A signal delivered twice (or two polls seeing one change) leaves one flag, one
    history entry and one version step; a newer reason still restates it."""
    card_link_set(
        deliverable=cards.card, actor=cards.world.people["member"], subject=cards.model, version=1
    )
    assert on_model_version_changed(sender=None, deliverable=cards.model, old="2", new="3") == 1
    version = CardLink.objects.get().version
    assert on_model_version_changed(sender=None, deliverable=cards.model, old="2", new="3") == 0
    assert CardLink.objects.get().version == version
    flags = DeliverableEvent.objects.filter(deliverable=cards.card, kind=EventKind.CARD_REVIEW)
    assert flags.count() == 1
    assert on_model_version_changed(sender=None, deliverable=cards.model, old="3", new="4") == 1
    assert flags.count() == 2 and "4" in CardLink.objects.get().review_words


def test_a_version_change_reads_in_each_readers_language(client, cards):
    """The worker that notices a new model version words nothing: the card page, its
    export and its history say what changed in the reader's language."""
    card_link_set(
        deliverable=cards.card, actor=cards.world.people["member"], subject=cards.model, version=1
    )
    with translation.override("en"):  # the worker's language
        on_model_version_changed(sender=None, deliverable=cards.model, old="2", new="3")
    member = cards.world.people["member"]
    client.force_login(member)
    english = client.get(reverse("cards:card", args=[cards.card.pk])).content.decode()
    assert "The linked model version changed from 2 to 3." in english
    with translation.override("ja"):
        japanese_words = gettext("The linked model version changed from %(old)s to %(new)s.") % {
            "old": "2",
            "new": "3",
        }
        flagged_words = gettext("flagged for review: %(reason)s") % {"reason": japanese_words}
    assert japanese_words != "The linked model version changed from 2 to 3."
    ja = {"HTTP_ACCEPT_LANGUAGE": "ja"}
    page = client.get(reverse("cards:card", args=[cards.card.pk]), **ja).content.decode()
    assert japanese_words in page
    export = client.get(reverse("cards:export", args=[cards.card.pk]), **ja).content.decode()
    assert japanese_words in export
    history = client.get(reverse("deliverables:detail", args=[cards.card.pk]), **ja)
    assert flagged_words in history.content.decode()
