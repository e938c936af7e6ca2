"""Headless Chromium: a member moves their card across the board to review (by
dragging it, then with the keyboard); the manager moves it to done, is told which
checklist items are still open, and marks it done with a reason."""

from __future__ import annotations

import pytest

from deliverables.models import Deliverable, ReminderPreference
from deliverables.services import deliverable_create
from roles.services import membership_add, project_create, role_assign
from tests.conftest import ARTIFACTS, sign_in
from tests.factories import UserFactory, deliverable_type, manager_user, role

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _column(page, status: str):
    return page.locator(f'.board-column[data-status="{status}"]')


def test_member_moves_card_to_review_and_manager_moves_it_to_done(live_server, page):
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
    card = f"#card-{deliverable.pk}"

    # The member chooses the board on My work; it is remembered for them.
    sign_in(page, live_server.url, "kenji")
    page.get_by_role("link", name="My work", exact=True).click()
    page.get_by_role("button", name="Board").click()
    page.locator("#board").wait_for()
    assert ReminderPreference.objects.get(user=member).work_view == "board"
    assert _column(page, "not_started").locator(card).count() == 1

    # Dragged to "In progress" (htmx swaps the board; no page load).
    page.evaluate("window.__samePage = true")
    page.locator(card).drag_to(_column(page, "in_progress"))
    page.get_by_text("is now In progress.").wait_for()
    assert _column(page, "in_progress").locator(card).count() == 1
    assert page.evaluate("window.__samePage") is True

    # With the keyboard: the card's "Move to…" menu, Enter to open, arrows, Enter.
    page.locator(f"{card} summary").focus()
    page.keyboard.press("Enter")
    # The menu opens and its first move takes focus (on the "toggle" event, dispatched
    # after the key press).
    page.wait_for_function("() => document.activeElement.textContent === 'Send for review'")
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.textContent") == "Mark blocked"
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Enter")
    page.get_by_text("is now In review.").wait_for()
    assert _column(page, "in_review").locator(card).count() == 1
    # Done is the manager's: the member's card cannot go there.
    assert page.locator(f'{card} button[value="done"]').count() == 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "board-member-desktop.png"), full_page=True)

    page.get_by_role("button", name="Kenji Ito").click()
    page.get_by_role("button", name="Sign out").click()

    # The manager, on the project's board, moves it to done.
    sign_in(page, live_server.url, "mari")
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    page.get_by_role("link", name="Board", exact=True).click()
    page.locator(f"{card} summary").click()
    page.locator(card).get_by_role("button", name="Mark done", exact=True).click()
    refusal = page.locator(f"{card} .board-refusal")
    refusal.wait_for()
    assert "required checklist items are still open" in refusal.inner_text()
    for item in deliverable.checklist_items.filter(required=True):
        assert item.text in refusal.inner_text()
    deliverable.refresh_from_db()
    assert deliverable.status == "in_review"  # refused: nothing changed

    page.locator(card).get_by_label("Reason to mark done with required items open").fill(
        "Signed off in the release review."
    )
    page.locator(card).get_by_role("button", name="Mark done anyway").click()
    page.get_by_text("is now Done.").wait_for()
    assert _column(page, "done").locator(card).count() == 1
    deliverable = Deliverable.objects.get(pk=deliverable.pk)
    assert deliverable.status == "done"
    assert deliverable.done_override_reason == "Signed off in the release review."
    page.screenshot(path=str(ARTIFACTS / "board-manager-desktop.png"), full_page=True)

    # On a phone the columns stack: nothing scrolls sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(ARTIFACTS / "board-manager-phone.png"), full_page=True)


def test_blocked_asks_for_the_reason_before_anything_is_sent(live_server, page):
    manager = manager_user(username="mari")
    member = UserFactory(username="kenji", first_name="Kenji", last_name="Ito")
    project = project_create(name="Churn prediction", managers=[manager])
    role_assign(
        membership=membership_add(project=project, user=member), role=role("devops-engineer")
    )
    deliverable = deliverable_create(
        project=project,
        type=deliverable_type("serving-automation"),
        owner=member,
        status="in_progress",
        actor=manager,
    )
    card = f"#card-{deliverable.pk}"
    sign_in(page, live_server.url, "kenji")
    page.goto(f"{live_server.url}/projects/{project.pk}/board/")
    sent = []
    page.on("request", lambda request: sent.append(request) if request.method == "POST" else None)

    # Dragged to Blocked: the card's menu opens on a reason box, focused; nothing sent.
    page.locator(card).drag_to(_column(page, "blocked"))
    reason = page.locator(card).get_by_label("Reason, if you mark it blocked")
    reason.wait_for()
    page.wait_for_function("() => document.activeElement.name === 'reason'")
    assert sent == []
    deliverable.refresh_from_db()
    assert deliverable.status == "in_progress"

    # Dropped on a column it cannot go to from here (done is the manager's): the board
    # says so, and nothing is sent.
    page.locator(card).drag_to(_column(page, "done"))
    page.locator("#board .board-announce").get_by_text("cannot move to that column").wait_for()
    assert sent == []

    reason.fill("Waiting for the GPU quota")
    page.locator(card).locator(".board-reason").get_by_role("button", name="Mark blocked").click()
    page.get_by_text("is now Blocked.").wait_for()
    assert _column(page, "blocked").locator(card).count() == 1
    deliverable.refresh_from_db()
    assert deliverable.status == "blocked"
    assert deliverable.blocked_reason == "Waiting for the GPU quota"
    assert len(sent) == 1


def test_manager_changes_a_row_in_place_on_the_list(live_server, page):
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
        actor=manager,
    )
    row = page.locator(f"#row-{deliverable.pk}")
    sign_in(page, live_server.url, "mari")
    page.goto(f"{live_server.url}/deliverables/")
    page.evaluate("window.__samePage = true")

    row.get_by_label("Owner").select_option(label="Kenji Ito")
    row.get_by_text("Saved.").wait_for()
    row.get_by_label("Status").select_option(label="Start")
    row.get_by_text("Status is now In progress.").wait_for()
    row.get_by_label("Due date", exact=True).fill("2026-09-30")
    row.get_by_label("Due date", exact=True).press("Tab")
    row.get_by_text("Saved.").wait_for()

    # Blocked needs a reason: asked for in the row, next to the status.
    row.get_by_label("Status").select_option(label="Mark blocked")
    row.get_by_text("Say why the deliverable is blocked.").wait_for()
    row.get_by_label("Reason, if you mark it blocked").fill("Waiting for the GPU quota")
    row.get_by_role("button", name="Save").click()
    row.get_by_text("Status is now Blocked.").wait_for()
    assert page.evaluate("window.__samePage") is True  # no page load

    deliverable = Deliverable.objects.get(pk=deliverable.pk)
    assert deliverable.owner == member and deliverable.status == "blocked"
    assert str(deliverable.due_date) == "2026-09-30"
    assert deliverable.blocked_reason == "Waiting for the GPU quota"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "list-inline-manager-desktop.png"), full_page=True)
