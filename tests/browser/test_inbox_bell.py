"""Headless Chromium: the navbar's bell shows no count, someone comments on the
owner's deliverable, and the bell's count turns to 1 without a reload."""

from __future__ import annotations

import pytest

from deliverables.services import comment_add, deliverable_create
from roles.services import membership_add, project_create
from tests.conftest import sign_in
from tests.factories import UserFactory, deliverable_type, manager_user

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_bell_counts_a_new_comment_without_a_reload(live_server, page, settings):
    settings.INBOX_POLL_SECONDS = 1
    manager = manager_user(username="mari", first_name="Mari", last_name="Kobayashi")
    owner = UserFactory(username="kenji", first_name="Kenji", last_name="Ito")
    project = project_create(name="Churn prediction", managers=[manager])
    membership_add(project=project, user=manager)
    membership_add(project=project, user=owner)
    # Planned by the owner themselves: nothing in their inbox yet.
    deliverable = deliverable_create(
        project=project,
        type=deliverable_type("prd"),
        title="PRD for churn",
        owner=owner,
        actor=owner,
    )

    sign_in(page, live_server.url, "kenji")
    # The page asks for the count once loaded, and is answered with no badge.
    with page.expect_response(lambda response: "/inbox/count/" in response.url):
        page.goto(f"{live_server.url}/")
    page.evaluate("window.__samePage = true")
    bell = page.locator("#inbox-bell")
    assert bell.get_by_text("Inbox").count() == 1  # its visually hidden label
    badge = page.locator('#inbox-count [data-testid="inbox-count"]')
    assert badge.count() == 0

    comment_add(deliverable=deliverable, actor=manager, body="Please add the baseline.")

    badge.wait_for(timeout=10_000)
    assert badge.inner_text().split()[0] == "1"
    assert page.evaluate("window.__samePage") is True

    bell.click()
    page.get_by_role("link", name="Mari Kobayashi commented").wait_for()
