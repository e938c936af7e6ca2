"""The card's pages: the page and its forms, a stale save that keeps the person's
text, the Markdown export and the printable page, the panels on the deliverable and
project pages, and queries that do not grow with the data."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from deliverables.cards.models import CardAnswer, CardLink
from deliverables.cards.services import card_link_set, card_section_add, flag_for_review
from deliverables.models import DeliverableStatus
from deliverables.services import deliverable_create, deliverable_transition
from tests.factories import dated_work, deliverable_type, panel_of

pytestmark = pytest.mark.django_db


def _keys(section):
    return [str(pk) for pk in section.questions.order_by("position").values_list("pk", flat=True)]


def _post(client, cards, section, texts: dict, version: int):
    prefix = f"section-{section.pk}"
    data = {f"{prefix}-version": version}
    data.update({f"{prefix}-answer_{key}": text for key, text in texts.items()})
    return client.post(reverse("cards:section", args=[cards.card.pk, section.pk]), data)


def test_the_owner_answers_a_section_and_the_meter_moves(client, cards):
    client.force_login(cards.world.people["member"])
    url = reverse("cards:card", args=[cards.card.pk])
    page = client.get(url).content.decode()
    assert "0% answered" in page and 'name="section-' in page
    section = cards.section(0)
    keys = _keys(section)
    response = _post(client, cards, section, {keys[0]: "Weekly churn scores.", keys[1]: "CRM"}, 0)
    assert response.status_code == 302 and response["Location"].endswith(
        f"#card-section-{section.pk}"
    )
    page = client.get(url).content.decode()
    assert '<meter class="card-meter-bar" min="0" max="3" value="2"' in page
    assert "Weekly churn scores." in page


def test_a_stale_save_keeps_the_text_and_shows_what_is_saved(client, cards):
    section = cards.section(0)
    keys = _keys(section)
    cards.answer(0, "Someone else's answer")
    client.force_login(cards.world.people["manager"])
    response = _post(client, cards, section, {keys[0]: "My careful **draft**"}, 0)
    body = response.content.decode()
    assert response.status_code == 409
    assert "Someone else saved this section" in body
    assert "My careful **draft**" in body  # the person's text, kept in the textarea
    assert "<p>Someone else's answer</p>" in body  # what is saved now, beside it
    assert f'name="section-{section.pk}-version" value="1"' in body
    assert CardAnswer.objects.get().answer(keys[0]) == "Someone else's answer"
    # Saved again from that page: it replaces theirs.
    assert _post(client, cards, section, {keys[0]: "My careful **draft**"}, 1).status_code == 302
    assert CardAnswer.objects.get().answer(keys[0]) == "My careful **draft**"


@pytest.mark.parametrize(
    "value",
    ["a\x00b", "x" * 20_001, str(10**30), "-1", "<script>"],
    ids=lambda value: f"{len(value)}chars",
)
def test_bad_input_is_refused_without_a_500(client, cards, value):
    section = cards.section(0)
    key = _keys(section)[0]
    client.force_login(cards.world.people["member"])
    for field in ("version", f"answer_{key}"):
        data = {f"section-{section.pk}-version": 0, f"section-{section.pk}-answer_{key}": "ok"}
        data[f"section-{section.pk}-{field}"] = value
        response = client.post(reverse("cards:section", args=[cards.card.pk, section.pk]), data)
        assert response.status_code in (302, 422), (field, response.status_code)
        CardAnswer.objects.all().delete()
    link = client.post(
        reverse("cards:link", args=[cards.card.pk]), {"version": 1, "subject": value}
    )
    assert link.status_code == 422 and not CardLink.objects.filter(subject__isnull=False).exists()
    review = client.post(reverse("cards:review", args=[cards.card.pk]), {"version": value})
    assert review.status_code == 302


def test_typed_html_is_never_drawn_raw(client, cards):
    cards.answer(0, "<script>alert(1)</script> [x](javascript:alert(1)) **bold**")
    client.force_login(cards.world.people["colleague"])  # reads, without forms
    for name in ("cards:card", "cards:print"):
        body = client.get(reverse(name, args=[cards.card.pk])).content.decode()
        assert "<script>alert" not in body and 'href="javascript:' not in body
        assert "<strong>bold</strong>" in body


def test_the_link_form_offers_only_this_projects_models(client, cards):
    elsewhere = deliverable_create(
        project=cards.world.other_project,
        type=deliverable_type("deployed-model"),
        title="Fraud model",
        owner=None,
        actor=cards.world.people["other_manager"],
    )
    client.force_login(cards.world.people["manager"])
    page = client.get(reverse("cards:card", args=[cards.card.pk])).content.decode()
    assert f'value="{cards.model.pk}"' in page and "Fraud model" not in page
    refused = client.post(
        reverse("cards:link", args=[cards.card.pk]), {"version": 1, "subject": elsewhere.pk}
    )
    assert refused.status_code == 422 and not CardLink.objects.exists()
    saved = client.post(
        reverse("cards:link", args=[cards.card.pk]), {"version": 1, "subject": cards.model.pk}
    )
    assert saved.status_code == 302 and CardLink.objects.get().subject == cards.model


def test_a_flagged_card_says_why_and_a_manager_confirms(client, cards):
    card_link_set(
        deliverable=cards.card, actor=cards.world.people["member"], subject=cards.model, version=1
    )
    flag_for_review(deliverable=cards.model, reason="Model version 7 went live.")
    client.force_login(cards.world.people["manager"])
    detail = client.get(reverse("deliverables:detail", args=[cards.card.pk])).content.decode()
    assert "This card needs review." in detail and "Model version 7 went live." in detail
    project = client.get(reverse("roles:project_panels", args=[cards.world.project.pk]))
    assert "needs review" in project.content.decode()
    link = CardLink.objects.get()
    page = client.get(reverse("cards:card", args=[cards.card.pk])).content.decode()
    assert "Confirm the card is reviewed" in page
    response = client.post(reverse("cards:review", args=[cards.card.pk]), {"version": link.version})
    assert response.status_code == 302 and not CardLink.objects.get().needs_review
    page = client.get(reverse("cards:card", args=[cards.card.pk])).content.decode()
    assert "This card needs review." not in page


def test_the_markdown_export(client, cards):
    cards.answer(0, "Scores churn risk **weekly**.")
    cards.answer(2, "Region and tenure.", every=False)
    card_link_set(
        deliverable=cards.card, actor=cards.world.people["member"], subject=cards.model, version=1
    )
    client.force_login(cards.world.people["colleague"])
    response = client.get(reverse("cards:export", args=[cards.card.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="model-card-churn-v2-{cards.card.pk}.md"'
    )
    text = response.content.decode()
    lines = text.splitlines()
    assert lines[0] == "# Model card: Churn v2"
    assert "- **Project:** Churn" in lines and "- **Describes:** Deployed model: Churn v2" in lines
    assert "- **Kind:** Model card" in lines
    intended = text.index("## 1. Intended use")
    assert text.index("## 2. Out-of-scope use") > intended
    assert "_3 of 3 answered_" in text[intended:]
    assert "### What task does the model perform" in text
    assert "Scores churn risk **weekly**." in text  # the typed markdown as typed
    out_of_scope = text[text.index("## 2. Out-of-scope use") : text.index("## 3. Factors")]
    assert "_0 of 2 answered_" in out_of_scope and out_of_scope.count("_Not answered yet._") == 2
    factors = text[text.index("## 3. Factors") : text.index("## 4. Metrics")]
    assert factors.count("Region and tenure.") == 1 and factors.count("_Not answered yet._") == 2
    total = sum(len(_keys(section)) for section in cards.template.sections.all())
    answered = 3 + 1
    assert f"- **Completeness:** {round(answered * 100 / total)}% ({answered} of {total} " in text


def test_a_title_without_latin_letters_still_gets_a_safe_filename(client, cards):
    card = deliverable_create(
        project=cards.world.project,
        type=deliverable_type("datasheet"),
        title='顧客データ"; rm -rf /',
        owner=cards.world.people["member"],
        actor=cards.world.people["manager"],
    )
    client.force_login(cards.world.people["member"])
    response = client.get(reverse("cards:export", args=[card.pk]))
    assert response["Content-Disposition"] == f'attachment; filename="datasheet-rm-rf-{card.pk}.md"'


def test_the_printable_page_has_no_navigation(client, cards):
    cards.answer(0, "Scores churn risk **weekly**.")
    client.force_login(cards.world.people["member"])
    body = client.get(reverse("cards:print", args=[cards.card.pk])).content.decode()
    assert "cards-print.css" in body and "<nav" not in body and "<form" not in body
    assert "1. Intended use" in body and "<strong>weekly</strong>" in body
    assert "Not answered yet." in body
    assert 'href="' + reverse("cards:card", args=[cards.card.pk]) + '"' in body


def test_other_types_and_sections_are_404(client, cards):
    client.force_login(cards.world.people["manager"])
    for name in ("cards:card", "cards:export", "cards:print"):
        assert client.get(reverse(name, args=[cards.model.pk])).status_code == 404
    datasheet_section = (
        deliverable_type("datasheet").card_template.sections.order_by("position").first()
    )
    url = reverse("cards:section", args=[cards.card.pk, datasheet_section.pk])
    assert client.post(url, {}).status_code == 404


def test_an_empty_template_shows_an_empty_state(client, cards):
    template = deliverable_type("datasheet").card_template
    template.sections.all().delete()
    card = deliverable_create(
        project=cards.world.project,
        type=deliverable_type("datasheet"),
        owner=cards.world.people["member"],
        actor=cards.world.people["manager"],
    )
    client.force_login(cards.world.people["member"])
    page = client.get(reverse("cards:card", args=[card.pk])).content.decode()
    assert "This card has no sections yet." in page


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def _grow(cards, n: int) -> None:
    """More sections on the template, more answers, more cards in the project."""
    template = cards.template
    for i in range(n):
        template.refresh_from_db()
        card_section_add(
            template=template, version=None, title=f"Extra {n}-{i}", guidance="", position=50 + i
        )
    for n_section in range(4):
        cards.answer(n_section, "An answer")
    for i in range(n):
        deliverable_create(
            project=cards.world.project,
            type=deliverable_type("model-card" if i % 2 else "datasheet"),
            title=f"Card {n}-{i}",
            owner=cards.world.people["member"],
            actor=cards.world.people["manager"],
        )


def test_query_counts_do_not_grow_with_sections_answers_or_cards(client, cards, settings):
    client.force_login(cards.world.people["manager"])
    urls = [
        reverse("cards:card", args=[cards.card.pk]),
        reverse("cards:print", args=[cards.card.pk]),
        reverse("cards:export", args=[cards.card.pk]),
        reverse("deliverables:detail", args=[cards.card.pk]),
        reverse("roles:project_detail", args=[cards.world.project.pk]),
        reverse("roles:project_panels", args=[cards.world.project.pk]),
    ]
    for url in urls:
        _count(client, url)  # warm caches that are filled once
    _grow(cards, 1)
    small = [_count(client, url) for url in urls]
    _grow(cards, 6)
    large = [_count(client, url) for url in urls]
    # The card page: session and user, the deliverable with its prefetches, the
    # template with its sections and questions, the answers, the link, the choices of
    # what it may describe; the same however many sections, answers or cards.
    assert small == large, list(zip(urls, small, large, strict=True))


def test_the_project_page_shows_the_cards_due_first_and_how_many_there_are(client, cards):
    """Only the first 20 cards by due date are drawn (and measured); the count under
    the table is of them all, cancelled cards left out."""
    dated_work(cards.world, "datasheet", "Sheet")
    dropped = dated_work(cards.world, "datasheet", "Dropped sheet", count=1)[0]
    deliverable_transition(
        deliverable=dropped,
        actor=cards.world.people["manager"],
        to_status=DeliverableStatus.CANCELLED,
        version=dropped.version,
        reason="Not needed after all",
    )
    client.force_login(cards.world.people["manager"])
    page = client.get(reverse("roles:project_panels", args=[cards.world.project.pk]))
    panel = panel_of(page.content.decode(), "cards-heading")
    assert "Sheet 00" in panel and "Sheet 19" in panel
    assert "Sheet 20" not in panel and "Dropped sheet" not in panel
    assert "Churn v2" not in panel  # no due date: after those that have one
    assert "The 20 due first of 22 cards." in panel
