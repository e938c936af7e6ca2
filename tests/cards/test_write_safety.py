"""Card writes under attack or race: every one refuses a request without the CSRF
token (a page elsewhere posting with the owner's session), and a section removed
while someone writes is said, not a 500."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from deliverables.cards.models import CardAnswer, CardLink
from deliverables.cards.services import card_link_set, flag_for_review
from deliverables.models import DeliverableEvent

pytestmark = pytest.mark.django_db


def test_card_writes_refuse_a_post_without_the_csrf_token(cards):
    member = cards.world.people["member"]
    link = card_link_set(deliverable=cards.card, actor=member, subject=cards.model, version=1)
    flag_for_review(deliverable=cards.model, reason="Version 2 is live.")
    section = cards.section(0)
    key = section.questions.order_by("position").first().pk
    posts = [
        (
            reverse("cards:section", args=[cards.card.pk, section.pk]),
            {f"section-{section.pk}-version": 0, f"section-{section.pk}-answer_{key}": "Yes."},
        ),
        (reverse("cards:link", args=[cards.card.pk]), {"version": link.version + 1}),
        (reverse("cards:review", args=[cards.card.pk]), {"version": link.version + 1}),
    ]
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(member)
    events = DeliverableEvent.objects.count()
    for url, data in posts:
        assert browser.post(url, data).status_code == 403, url
    assert not CardAnswer.objects.exists()
    assert CardLink.objects.get().needs_review and DeliverableEvent.objects.count() == events


def test_a_section_removed_while_someone_writes_is_said_not_a_500(client, cards, monkeypatch):
    from django.core.exceptions import ValidationError

    from deliverables.cards import views
    from deliverables.cards.models import CardSection
    from deliverables.cards.services import SECTION_ELSEWHERE_MESSAGE

    section = cards.section(0)
    key = section.questions.order_by("position").first().pk

    def removed_meanwhile(**kwargs):
        CardSection.objects.filter(pk=section.pk).delete()
        raise ValidationError(SECTION_ELSEWHERE_MESSAGE, code="section")

    monkeypatch.setattr(views.services, "card_answer_save", removed_meanwhile)
    client.force_login(cards.world.people["member"])
    url = reverse("cards:section", args=[cards.card.pk, section.pk])
    data = {f"section-{section.pk}-version": 0, f"section-{section.pk}-answer_{key}": "Yes."}
    response = client.post(url, data, follow=True)
    assert response.status_code == 200
    assert "That section is not on this deliverable" in response.content.decode()
