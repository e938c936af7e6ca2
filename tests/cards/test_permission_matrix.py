"""Every cards URL x every persona, on an active and on an archived project: status
code, and nothing written when refused.

`member` owns the model card; `colleague` is on the same project, owning the
deployed model the card describes."""

from __future__ import annotations

import pytest
from django.urls import resolve, reverse

from deliverables.cards.models import CardAnswer, CardLink
from deliverables.cards.services import card_link_set, flag_for_review
from deliverables.models import DeliverableEvent
from roles.services import project_archive

PERSONAS = ["anonymous", "outsider", "member", "colleague", "manager", "other_manager", "admin"]
LOGIN = "login"
READ = {
    "anonymous": LOGIN,
    "outsider": 404,
    "member": 200,
    "colleague": 200,
    "manager": 200,
    "other_manager": 404,
    "admin": 200,
}
EDIT = {**READ, "colleague": 403, "member": 302, "manager": 302, "admin": 302}
# An archived project is read-only: its cards are read and exported, never changed.
ARCHIVED_EDIT = {**READ, "member": 403, "colleague": 403, "manager": 403, "admin": 403}


def _urls(cards):
    d = cards.card
    section = cards.section(0)
    key = section.questions.order_by("position").first().pk
    link = CardLink.objects.get(card=d)
    return {
        "card": ("get", reverse("cards:card", args=[d.pk]), None, READ, READ),
        "export": ("get", reverse("cards:export", args=[d.pk]), None, READ, READ),
        "print": ("get", reverse("cards:print", args=[d.pk]), None, READ, READ),
        "section": (
            "post",
            reverse("cards:section", args=[d.pk, section.pk]),
            {f"section-{section.pk}-version": 0, f"section-{section.pk}-answer_{key}": "Yes."},
            EDIT,
            ARCHIVED_EDIT,
        ),
        "link": (
            "post",
            reverse("cards:link", args=[d.pk]),
            {"version": link.version, "subject": ""},
            EDIT,
            ARCHIVED_EDIT,
        ),
        "review": (
            "post",
            reverse("cards:review", args=[d.pk]),
            {"version": link.version},
            EDIT,
            ARCHIVED_EDIT,
        ),
    }


def _snapshot():
    return (
        list(CardAnswer.objects.order_by("pk").values_list("pk", "answers", "version")),
        list(CardLink.objects.order_by("pk").values_list("subject_id", "needs_review", "version")),
        DeliverableEvent.objects.count(),
    )


@pytest.fixture
def flagged(cards):
    """The card describes the deployed model, which has just changed."""
    card_link_set(
        deliverable=cards.card, actor=cards.world.people["member"], subject=cards.model, version=1
    )
    flag_for_review(deliverable=cards.model, reason="Version 2 is live.")
    return cards


@pytest.mark.parametrize("archived", [False, True], ids=["active", "archived"])
@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", ["card", "export", "print", "section", "link", "review"])
def test_permission_matrix(client, flagged, name, persona, archived):
    if archived:
        project_archive(
            project=flagged.world.project, actor=flagged.world.people["manager"], version=None
        )
    method, url, data, active, when_archived = _urls(flagged)[name]
    expected = (when_archived if archived else active)[persona]
    user = flagged.world.people[persona]
    if user is not None:
        client.force_login(user)
    before = _snapshot()
    response = getattr(client, method)(url, data or {})
    if expected == LOGIN:
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == expected, response.content[:300]
    if method == "post":
        assert (_snapshot() != before) == (expected == 302)


def test_matrix_covers_every_cards_url(flagged):
    from deliverables.cards import urls

    covered = {resolve(entry[1]).url_name for entry in _urls(flagged).values()}
    assert covered == {pattern.name for pattern in urls.urlpatterns}


def test_a_done_card_is_read_only_but_its_review_can_be_confirmed(client, flagged):
    from deliverables.models import Deliverable, DeliverableStatus

    Deliverable.objects.filter(pk=flagged.card.pk).update(status=DeliverableStatus.DONE)
    client.force_login(flagged.world.people["member"])
    page = client.get(reverse("cards:card", args=[flagged.card.pk])).content.decode()
    assert 'name="section-' not in page and "Reopen it to change the answers." in page
    name = "section"
    _method, url, data, *_rest = _urls(flagged)[name]
    assert client.post(url, data).status_code == 403
    link = CardLink.objects.get()
    response = client.post(
        reverse("cards:review", args=[flagged.card.pk]), {"version": link.version}
    )
    assert response.status_code == 302 and not CardLink.objects.get().needs_review
