"""Headless Chromium: a member fills two sections of a model card and sees its
meters move; the card exports as Markdown and prints without navigation."""

from __future__ import annotations

import pytest

from deliverables.cards.models import CardAnswer, CardTemplate
from deliverables.services import deliverable_create
from roles.services import membership_add, project_create, role_assign
from tests.conftest import ARTIFACTS, sign_in
from tests.factories import UserFactory, deliverable_type, manager_user, role

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_member_fills_two_sections_and_sees_the_meter_move(live_server, page):
    manager = manager_user(username="mari", first_name="Mari", last_name="Kobayashi")
    member = UserFactory(username="kenji", first_name="Kenji", last_name="Ito")
    project = project_create(name="Churn prediction", managers=[manager])
    role_assign(membership=membership_add(project=project, user=member), role=role("ml-engineer"))
    card = deliverable_create(
        project=project,
        type=deliverable_type("model-card"),
        title="Churn v2",
        owner=member,
        actor=manager,
    )
    template = CardTemplate.objects.get(deliverable_type__slug="model-card")
    first, second = list(template.sections.order_by("position"))[:2]
    prompts = sum(section.questions.count() for section in template.sections.all())

    sign_in(page, live_server.url, "kenji")
    page.goto(f"{live_server.url}/deliverables/{card.pk}/")
    panel = page.locator("#card")
    panel.get_by_text(f"0 of {prompts}").wait_for()
    panel.get_by_role("link", name="Open the card").click()
    page.get_by_text("0% answered").wait_for()

    # The first section: every question answered.
    box = page.locator(f"#card-section-{first.pk}")
    for n, question in enumerate(first.questions.order_by("position")):
        box.get_by_label(question.text).fill(f"Answer {n} with **markdown**.")
    box.get_by_role("button", name="Save section").click()
    page.get_by_text(f"Saved: {first.title}.").wait_for()
    count = first.questions.count()
    meter = page.locator(f"#card-meter-{first.pk}")
    meter.get_by_text(f"{count} of {count}").wait_for()
    assert meter.locator("meter").get_attribute("value") == str(count)

    # The second: one question of two.
    box = page.locator(f"#card-section-{second.pk}")
    box.get_by_label(second.questions.order_by("position").first().text).fill("Not for credit.")
    box.get_by_role("button", name="Save section").click()
    page.get_by_text(f"Saved: {second.title}.").wait_for()
    page.locator(f"#card-meter-{second.pk}").get_by_text(
        f"1 of {second.questions.count()}"
    ).wait_for()
    overall = round((count + 1) * 100 / prompts)
    page.locator("#card-completeness").get_by_text(f"{overall}% answered").wait_for()
    assert CardAnswer.objects.filter(deliverable=card).count() == 2
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "cards-member.png"), full_page=True)

    # The deliverable page's panel shows the same numbers.
    page.goto(f"{live_server.url}/deliverables/{card.pk}/")
    page.locator("#card").get_by_text(f"{count + 1} of {prompts}").wait_for()
    page.screenshot(path=str(ARTIFACTS / "cards-deliverable.png"), full_page=True)

    # The printable page: the answers, no navigation.
    page.goto(f"{live_server.url}/deliverables/{card.pk}/card/print/")
    page.get_by_text("Not for credit.").wait_for()
    assert page.locator("nav").count() == 0
    page.screenshot(path=str(ARTIFACTS / "cards-print.png"), full_page=True)

    # A phone: nothing wider than the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/deliverables/{card.pk}/card/")
    page.get_by_text(f"{overall}% answered").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(ARTIFACTS / "cards-phone.png"))


@pytest.mark.parametrize("language", ["en", "ja"])
def test_card_pages_pass_axe_and_fit_a_phone(live_server, browser, language):
    from deliverables.cards.services import card_answer_save, card_link_set, flag_for_review
    from tests.browser.test_accessibility import _context as desktop_context
    from tests.browser.test_accessibility import _violations
    from tests.browser.test_phone import PHONE, SMALL_TARGETS, TOUCH
    from tests.browser.test_phone import _context as phone_context

    manager = manager_user(username="mari", first_name="Mari", last_name="Kobayashi")
    project = project_create(name="Churn prediction", managers=[manager])
    membership_add(project=project, user=manager)
    model = deliverable_create(
        project=project, type=deliverable_type("deployed-model"), owner=manager, actor=manager
    )
    card = deliverable_create(
        project=project, type=deliverable_type("model-card"), owner=manager, actor=manager
    )
    template = CardTemplate.objects.get(deliverable_type__slug="model-card")
    for section in list(template.sections.order_by("position"))[:3]:
        card_answer_save(
            deliverable=card,
            section=section,
            actor=manager,
            answers={
                str(question.pk): "A long answer with a [link](https://example.com/"
                + "x" * 120
                + ") and `code`. " * 5
                for question in section.questions.all()
            },
            version=None,
        )
    card_link_set(deliverable=card, actor=manager, subject=model, version=1)
    flag_for_review(deliverable=model, reason="Model version 4 is live.")
    paths = [
        f"/deliverables/{card.pk}/",
        f"/deliverables/{card.pk}/card/",
        f"/deliverables/{card.pk}/card/print/",
        f"/projects/{project.pk}/",
    ]
    context = desktop_context(browser, live_server, language)
    page = context.new_page()
    try:
        sign_in(page, live_server.url, "mari")
        problems = [line for path in paths for line in _violations(page, live_server.url + path)]
        assert not problems, "axe-core found:\n" + "\n".join(problems)
    finally:
        context.close()
    context = phone_context(browser, live_server, language)
    page = context.new_page()
    try:
        sign_in(page, live_server.url, "mari")
        too_wide, too_small = [], []
        for path in paths:
            page.goto(live_server.url + path)
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > PHONE:
                too_wide.append(f"{path}: {width} px")
            too_small.extend(f"{path}: {target}" for target in page.evaluate(SMALL_TARGETS, TOUCH))
        assert not too_wide, "pages wider than the phone:\n" + "\n".join(too_wide)
        assert not too_small, "targets under 44 px:\n" + "\n".join(too_small)
    finally:
        context.close()
