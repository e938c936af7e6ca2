"""Headless Chromium: a member works a deliverable through review; a manager approves it."""

from __future__ import annotations

import pytest

from deliverables.models import Deliverable
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

    sign_in(page, live_server.url, "kenji")
    page.get_by_role("link", name="My work", exact=True).click()
    page.get_by_role("link", name="Serving automation for churn").click()
    page.get_by_role("button", name="Start").click()
    page.get_by_text("Status is now In progress.").wait_for()
    page.get_by_role("button", name="Send for review").click()
    page.get_by_text("Status is now In review.").wait_for()
    assert page.get_by_role("button", name="Mark done").count() == 0  # managers approve

    for item in deliverable.checklist_items.filter(answer_kind="tick"):
        page.get_by_label(item.text).check()
    for item in deliverable.checklist_items.filter(answer_kind="link"):
        page.get_by_label(item.text).fill("https://wiki.example.com/serving")
    page.get_by_role("button", name="Save checklist").click()
    page.get_by_text("Checklist saved.").wait_for()
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
