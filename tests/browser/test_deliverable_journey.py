"""Headless Chromium: a member works a deliverable through review; a manager approves it."""

from __future__ import annotations

import pytest

from deliverables.models import Deliverable
from deliverables.readiness.models import Rubric
from deliverables.readiness.services import rubric_update
from deliverables.services import deliverable_create
from roles.services import membership_add, project_create, role_assign
from tests.conftest import ARTIFACTS, sign_in
from tests.factories import UserFactory, deliverable_type, manager_user, role

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_member_sends_for_review_and_ticks_items_then_manager_marks_done(live_server, page):
    manager = manager_user(username="mari", first_name="Mari", last_name="Kobayashi")
    member = UserFactory(username="kenji", first_name="Kenji", last_name="Ito")
    project = project_create(name="Churn prediction", managers=[manager])
    membership_add(project=project, user=manager)
    role_assign(
        membership=membership_add(project=project, user=member), role=role("devops-engineer")
    )
    deliverable = deliverable_create(
        project=project,
        type=deliverable_type("serving-automation"),
        title="Serving automation for churn",
        owner=member,
        actor=manager,
    )
    # This journey is the checklist's: the type's readiness score is not asked here
    # (tests/browser/test_readiness_journey.py walks the rubric and its waiver).
    rubric_update(
        rubric=Rubric.objects.get(deliverable_type__slug="serving-automation"),
        version=None,
        required_score=0,
    )

    sign_in(page, live_server.url, "kenji")
    page.get_by_role("link", name="My work", exact=True).click()
    page.get_by_role("link", name="Serving automation for churn").click()
    page.get_by_role("button", name="Start").click()
    page.get_by_text("Status is now In progress.").wait_for()
    page.get_by_role("button", name="Send for review").click()
    page.get_by_text("Status is now In review.").wait_for()
    assert page.get_by_role("button", name="Mark done").count() == 0  # managers approve

    # Each tick and answer saves itself (htmx): no button, no reload. (The items are
    # read before: the test's queries must not meet the server's saves in SQLite.)
    items = list(deliverable.checklist_items.exclude(answer_kind="text"))
    assert not page.get_by_role("button", name="Save checklist").is_visible()
    for item in items:
        if item.answer_kind == "tick":
            page.get_by_label(item.text).check()
        else:
            page.get_by_label(item.text).fill("https://wiki.example.com/serving")
            page.get_by_label(item.text).press("Tab")  # leaving the box saves it
    for item in items:
        page.locator(f"#checklist-state-{item.pk} .checklist-saved").wait_for()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "deliverable-member-desktop.png"), full_page=True)

    page.get_by_role("button", name="Kenji Ito").click()
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, live_server.url, "mari")
    page.goto(f"{live_server.url}/deliverables/{deliverable.pk}/")
    page.get_by_role("button", name="Mark done").click()
    page.get_by_text("Status is now Done.").wait_for()

    deliverable.refresh_from_db()
    assert deliverable.status == "done"
    assert all(item.is_complete for item in deliverable.checklist_items.filter(required=True))
    assert "Done" in page.locator(".badge.status-done").first.inner_text()
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(ARTIFACTS / "deliverable-manager-phone.png"), full_page=True)
    assert Deliverable.objects.get(pk=deliverable.pk).events.count() >= 4


def test_ticks_made_one_by_one_are_all_kept_when_the_status_changes(live_server, page):
    """The member ticks items (each saved as it is ticked, no page load in between)
    and at once starts the work: every tick is kept, and the move is not refused
    as stale although each tick moved the deliverable's version on."""
    manager = manager_user(username="mari")
    member = UserFactory(username="kenji")
    project = project_create(name="Churn prediction", managers=[manager])
    membership_add(project=project, user=member)
    deliverable = deliverable_create(
        project=project,
        type=deliverable_type("analysis-report"),
        title="Churn drivers",
        owner=member,
        actor=manager,
    )
    ticks = list(deliverable.checklist_items.filter(answer_kind="tick").order_by("position", "pk"))
    assert len(ticks) >= 3

    sign_in(page, live_server.url, "kenji")
    page.goto(f"{live_server.url}/deliverables/{deliverable.pk}/")
    page.evaluate("window.stillThisPage = true")
    for item in ticks:
        page.get_by_label(item.text).check()
    assert page.evaluate("window.stillThisPage === true")  # no reload between ticks
    page.get_by_role("button", name="Start").click()  # right away: saves may be in flight
    page.get_by_text("Status is now In progress.").wait_for()
    assert page.url == f"{live_server.url}/deliverables/{deliverable.pk}/"

    deliverable.refresh_from_db()
    assert deliverable.status == "in_progress"
    assert all(
        item.checked for item in deliverable.checklist_items.filter(pk__in=[t.pk for t in ticks])
    )
    for item in ticks:
        assert page.get_by_label(item.text).is_checked()
