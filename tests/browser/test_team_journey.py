"""Headless Chromium: a manager builds a team and watches the coverage gaps close."""

from __future__ import annotations

import pytest

from tests.conftest import ARTIFACTS
from tests.factories import PASSWORD, UserFactory, manager_user

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_manager_creates_a_project_staffs_it_and_the_gaps_close(live_server, page):
    manager_user(username="mari", first_name="Mari", last_name="Kobayashi")
    UserFactory(username="aiko", first_name="Aiko", last_name="Tanaka")
    UserFactory(username="ben", first_name="Ben", last_name="Okafor")

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("mari")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.get_by_role("link", name="Projects", exact=True).click()
    page.get_by_role("link", name="New project").first.click()
    page.get_by_label("Name").fill("Fraud detection")
    page.get_by_label("Business problem").fill("Catch fraudulent payments before they settle.")
    for label in ("ML product manager", "Engineering manager", "Data engineer", "DevOps engineer"):
        page.get_by_label(label, exact=True).uncheck()
    page.get_by_role("button", name="Create project").click()

    page.get_by_role("heading", name="Team of Fraud detection").wait_for()
    gaps = page.locator(".alert-warning", has_text="Unfilled required roles")
    assert "Data scientist" in gaps.inner_text() and "ML engineer" in gaps.inner_text()

    for person in ("Aiko Tanaka (aiko)", "Ben Okafor (ben)"):
        page.get_by_label("Person").select_option(label=person)
        page.get_by_role("button", name="Add to team").click()
        page.get_by_text(f"{person.split(' (')[0]} joined the team.").wait_for()

    aiko = page.locator(".card", has=page.get_by_text("aiko@example.com"))
    aiko.get_by_label("Role").select_option(label="Data scientist")
    aiko.get_by_label("Allocation (%)").fill("60")
    aiko.get_by_role("button", name="Assign role").click()
    page.get_by_text("Role assigned.").wait_for()
    assert "ML engineer" in page.locator(".alert-warning", has_text="Unfilled").inner_text()

    ben = page.locator(".card", has=page.get_by_text("ben@example.com"))
    ben.get_by_label("Role").select_option(label="ML engineer")
    ben.get_by_role("button", name="Assign role").click()
    page.get_by_text("Every required role is filled.").wait_for()
    assert page.locator(".alert-warning", has_text="Unfilled required roles").count() == 0

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "team-desktop.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(ARTIFACTS / "team-phone.png"), full_page=True)

    page.get_by_role("link", name="Fraud detection").click()
    page.get_by_role("heading", name="Role coverage").wait_for()
    assert "assigned a role" in page.locator("#activity-heading + ul").inner_text()
    page.screenshot(path=str(ARTIFACTS / "coverage-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(ARTIFACTS / "coverage-desktop.png"), full_page=True)
