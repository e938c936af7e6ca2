"""Headless Chromium: a manager signs in, sees their projects, and switches to Japanese."""

from __future__ import annotations

import pytest

from roles.services import membership_add, role_assign
from tests.conftest import ARTIFACTS
from tests.factories import PASSWORD, ProjectFactory, manager_user, role

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_manager_signs_in_and_switches_language(live_server, page):
    manager = manager_user(username="mari", first_name="Mari", last_name="Kobayashi")
    project = ProjectFactory(name="Churn prediction", managers=[manager])
    role_assign(
        membership=membership_add(project=project, user=manager), role=role("engineering-manager")
    )

    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url
    page.get_by_label("Username").fill("mari")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.get_by_role("heading", name="Welcome, Mari Kobayashi").wait_for()
    assert page.get_by_role("link", name="Churn prediction", exact=True).is_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "home-desktop.png"), full_page=True)

    page.select_option("#language-select", "ja")
    page.get_by_role("button", name="Change language").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "ja"
    assert page.get_by_role("link", name="Churn prediction", exact=True).is_visible()

    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(ARTIFACTS / "home-phone-ja.png"), full_page=True)
