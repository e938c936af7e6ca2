"""Admins edit card templates in the Django admin (a template with its sections
inline, a section with its guiding questions inline), every change through the
services; answers and links are read there."""

from __future__ import annotations

import pytest
from django.urls import reverse

from deliverables.cards.models import CardAnswer, CardLink, CardSection
from deliverables.cards.services import card_link_set
from tests.html_forms import form_data

pytestmark = pytest.mark.django_db


def _form(client, url, form_id):
    response = client.get(url)
    assert response.status_code == 200
    return form_data(response.content.decode(), form_id=form_id)


def test_admin_pages_load(client, cards):
    cards.answer(0)
    card_link_set(
        deliverable=cards.card, actor=cards.world.people["member"], subject=cards.model, version=1
    )
    client.force_login(cards.world.people["admin"])
    answer, link = CardAnswer.objects.get(), CardLink.objects.get()
    section = cards.section(0)
    for url in [
        reverse("admin:cards_cardtemplate_changelist"),
        reverse("admin:cards_cardtemplate_add"),
        reverse("admin:cards_cardtemplate_change", args=[cards.template.pk]),
        reverse("admin:cards_cardsection_changelist"),
        reverse("admin:cards_cardsection_change", args=[section.pk]),
        reverse("admin:cards_cardanswer_changelist"),
        reverse("admin:cards_cardanswer_change", args=[answer.pk]),
        reverse("admin:cards_cardlink_changelist"),
        reverse("admin:cards_cardlink_change", args=[link.pk]),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
    answers = client.get(reverse("admin:cards_cardanswer_changelist")).content.decode()
    assert "3 of 3" in answers  # the completeness rule, read in the admin too


def test_admin_adds_a_section_and_a_question(client, cards):
    client.force_login(cards.world.people["admin"])
    template = cards.template
    version = template.version
    url = reverse("admin:cards_cardtemplate_change", args=[template.pk])
    data = _form(client, url, "cardtemplate_form")
    total = int(data["sections-TOTAL_FORMS"][0])
    data[f"sections-{total - 1}-title"] = ["Monitoring in production"]
    data[f"sections-{total - 1}-position"] = ["20"]
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    section = CardSection.objects.get(title="Monitoring in production")
    template.refresh_from_db()
    assert template.version > version
    url = reverse("admin:cards_cardsection_change", args=[section.pk])
    data = _form(client, url, "cardsection_form")
    total = int(data["questions-TOTAL_FORMS"][0])
    data[f"questions-{total - 1}-text"] = ["Which signals tell you the model has drifted?"]
    data[f"questions-{total - 1}-position"] = ["1"]
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert section.questions.get().text.startswith("Which signals")


def test_a_stale_template_form_is_refused(client, cards):
    client.force_login(cards.world.people["admin"])
    url = reverse("admin:cards_cardtemplate_change", args=[cards.template.pk])
    data = _form(client, url, "cardtemplate_form")
    cards.template.refresh_from_db()
    from deliverables.cards.services import card_template_update

    card_template_update(template=cards.template, version=None, name="Renamed meanwhile")
    data["name"] = ["Mine"]
    response = client.post(url, data)
    assert response.status_code == 200 and "Someone else changed" in response.content.decode()
    cards.template.refresh_from_db()
    assert cards.template.name == "Renamed meanwhile"


def test_an_answered_section_is_not_deleted(client, cards):
    cards.answer(0)
    client.force_login(cards.world.people["admin"])
    url = reverse("admin:cards_cardtemplate_change", args=[cards.template.pk])
    data = _form(client, url, "cardtemplate_form")
    first = cards.section(0)
    n = next(
        key.split("-")[1]
        for key, value in data.items()
        if key.startswith("sections-") and key.endswith("-id") and value == [str(first.pk)]
    )
    data[f"sections-{n}-DELETE"] = ["on"]
    response = client.post(url, data)
    assert response.status_code == 200  # drawn again with the reason
    assert 'class="errorlist' in response.content.decode()
    assert CardSection.objects.filter(pk=first.pk).exists()
