"""Headless Chromium: a member fills the readiness rubric with evidence; the manager
sees the score on the project page and marks the deployed model done below the
score its type needs only with a waiver."""

from __future__ import annotations

import pytest

from deliverables.models import Deliverable
from deliverables.readiness.models import Rubric, RubricWaiver
from deliverables.services import deliverable_create, deliverable_transition
from roles.services import membership_add, project_create, role_assign
from tests.conftest import ARTIFACTS, goto_drawn, sign_in
from tests.factories import UserFactory, deliverable_type, manager_user, role

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_member_fills_the_rubric_and_manager_waives_the_rest(live_server, page):
    manager = manager_user(username="mari", first_name="Mari", last_name="Kobayashi")
    member = UserFactory(username="kenji", first_name="Kenji", last_name="Ito")
    project = project_create(name="Churn prediction", managers=[manager])
    membership_add(project=project, user=manager)
    role_assign(membership=membership_add(project=project, user=member), role=role("ml-engineer"))
    deliverable = deliverable_create(
        project=project,
        type=deliverable_type("deployed-model"),
        title="Churn model v2",
        owner=member,
        actor=manager,
    )
    for item in deliverable.checklist_items.all():  # the checklist is not what is tested
        item.checked, item.answer, item.link = True, "Yes", "https://e.example.com/x"
        item.save()
    for status in ("in_progress", "in_review"):
        deliverable = deliverable_transition(
            deliverable=deliverable, actor=member, to_status=status, version=None
        )
    rubric = Rubric.objects.get(deliverable_type__slug="deployed-model")
    firsts = [section.items.order_by("position").first() for section in rubric.sections.all()]

    sign_in(page, live_server.url, "kenji")
    page.goto(f"{live_server.url}/deliverables/{deliverable.pk}/")
    page.locator("#readiness-heading").wait_for()
    # One item per section: automated with a link, except the last, by hand with a note.
    for n, item in enumerate(firsts):
        box = page.locator(f"#rubric-item-{item.pk}")
        box.locator("summary").click()  # each item's form opens on demand
        if n < len(firsts) - 1:
            box.get_by_label("Automated").check()
            box.get_by_role("button", name="Save mark").click()
            box = page.locator(f"#rubric-item-{item.pk}")
            box.get_by_text("Give evidence").wait_for()  # refused: no evidence yet
            box.get_by_label("Automated").check()
            box.get_by_label("Evidence link").fill(f"https://ci.example.com/checks/{item.pk}")
        else:
            box.get_by_label("Done manually").check()
            box.get_by_label("Evidence note").fill("Reviewed by hand with the on-call team.")
        box.get_by_role("button", name="Save mark").click()
        page.locator(f"#rubric-item-{item.pk}").get_by_text("Saved", exact=True).wait_for()
    page.locator("#rubric-score").get_by_text("Score 0.5").wait_for()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "readiness-member.png"), full_page=True)
    page.get_by_role("button", name="Kenji Ito").click()
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, live_server.url, "mari")
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    table = page.locator("section", has=page.locator("#readiness-heading"))
    table.get_by_text("Churn model v2").wait_for()
    assert "0.5" in table.inner_text() and "2.0" in table.inner_text()
    page.screenshot(path=str(ARTIFACTS / "readiness-project.png"), full_page=True)
    page.goto(f"{live_server.url}/dashboard/")
    page.get_by_role("link", name="0 of 1").wait_for()  # the portfolio's readiness column
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    table.get_by_role("link", name="Deployed model: Churn model v2").click()

    page.get_by_text("Mark done…").click()
    form = page.locator("#status-form-done")
    assert "Readiness score 0.5 of 2.0 needed" in form.inner_text()
    form.get_by_role("button", name="Mark done").click()
    page.get_by_text("record a waiver").first.wait_for()  # refused without a reason
    assert Deliverable.objects.get(pk=deliverable.pk).status == "in_review"
    page.locator("#status-form-done textarea").fill(
        "Pilot for one region; alerts land next sprint."
    )
    page.locator("#status-form-done").get_by_role("button", name="Mark done").click()
    page.get_by_text("Status is now Done.").wait_for()
    page.locator("#readiness-waiver").get_by_text("Pilot for one region").wait_for()
    assert RubricWaiver.objects.get().reason.startswith("Pilot for one region")
    page.screenshot(path=str(ARTIFACTS / "readiness-waiver.png"), full_page=True)

    # A phone: the rubric stacks, nothing wider than the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390


@pytest.mark.parametrize("language", ["en", "ja"])
def test_rubric_pages_pass_axe_and_fit_a_phone(live_server, browser, language):
    from deliverables.readiness.services import rubric_mark_save
    from tests.browser.test_accessibility import _context as desktop_context
    from tests.browser.test_accessibility import _violations
    from tests.browser.test_phone import PHONE, SMALL_TARGETS, TOUCH
    from tests.browser.test_phone import _context as phone_context

    manager = manager_user(username="mari", first_name="Mari", last_name="Kobayashi")
    project = project_create(name="Churn prediction", managers=[manager])
    membership_add(project=project, user=manager)
    deliverable = deliverable_create(
        project=project, type=deliverable_type("deployed-model"), owner=manager, actor=manager
    )
    rubric = Rubric.objects.get(deliverable_type__slug="deployed-model")
    for n, section in enumerate(rubric.sections.all()):
        item = section.items.order_by("position").first()
        rubric_mark_save(
            deliverable=deliverable,
            item=item,
            actor=manager,
            mark="automated" if n % 2 else "manual",
            evidence_url=f"https://ci.example.com/a-very-long-path/{'x' * 120}/{item.pk}",
            evidence_note="Checked by hand " * 20,
            version=None,
        )
    paths = [
        f"/deliverables/{deliverable.pk}/",
        f"/deliverables/{deliverable.pk}/readiness/",
        f"/projects/{project.pk}/",
        "/dashboard/",
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
            goto_drawn(page, live_server.url + path)
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > PHONE:
                too_wide.append(f"{path}: {width} px")
            too_small.extend(f"{path}: {target}" for target in page.evaluate(SMALL_TARGETS, TOUCH))
        assert not too_wide, "pages wider than the phone:\n" + "\n".join(too_wide)
        assert not too_small, "targets under 44 px:\n" + "\n".join(too_small)
    finally:
        context.close()
