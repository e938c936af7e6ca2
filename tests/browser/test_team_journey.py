"""Headless Chromium: a manager builds a team and watches the coverage gaps close;
without JavaScript, the search for people to add still works."""

from __future__ import annotations

import pytest

from roles.services import project_create
from tests.conftest import ARTIFACTS, sign_in
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

    # Find a person, typed (htmx swaps the matches in) and add them; the search
    # stays, without them, to add the next one.
    search = page.get_by_role("searchbox", name="Find a person")
    search.fill("ko")
    page.get_by_text("2 people match.").wait_for()
    assert page.url.endswith("/team/?find=ko")  # the address names the search
    page.get_by_role("button", name="Add Aiko Tanaka (aiko) to the team").click()
    page.get_by_text("Aiko Tanaka joined the team.").wait_for()
    assert page.get_by_role("searchbox", name="Find a person").input_value() == "ko"
    page.get_by_text("1 person matches.").wait_for()
    assert page.get_by_role("button", name="Add Aiko Tanaka (aiko) to the team").count() == 0
    search = page.get_by_role("searchbox", name="Find a person")
    search.fill("nobody-like-this")
    page.get_by_text(
        "Nobody matches “nobody-like-this” among the people not on the team."
    ).wait_for()
    page.get_by_role("link", name="Not in MLTeam yet? Invite them by email.").wait_for()
    search.fill("okafor")
    page.get_by_role("button", name="Add Ben Okafor (ben) to the team").click()
    page.get_by_text("Ben Okafor joined the team.").wait_for()

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
    # The search on a phone, with matches: nothing wider than the screen.
    page.get_by_role("searchbox", name="Find a person").fill("a")
    page.get_by_role("button", name="Add Mari Kobayashi (mari) to the team").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.locator("#add-person").screenshot(path=str(ARTIFACTS / "team-search-phone.png"))

    page.get_by_role("link", name="Fraud detection").click()
    page.get_by_role("heading", name="Role coverage").wait_for()
    assert "assigned a role" in page.locator("#activity-heading + ul").inner_text()
    page.screenshot(path=str(ARTIFACTS / "coverage-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(ARTIFACTS / "coverage-desktop.png"), full_page=True)


def test_without_javascript_a_manager_finds_and_adds_people(live_server, browser):
    """The search is a plain GET form and "Add" a plain POST: the page answers both."""
    manager = manager_user(username="mari", first_name="Mari", last_name="Kobayashi")
    project = project_create(name="Fraud detection", managers=[manager], actor=manager)
    UserFactory(username="aiko", first_name="Aiko", last_name="Tanaka")
    UserFactory(username="aina", first_name="Aina", last_name="Tanabe")
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        sign_in(page, live_server.url, "mari")
        page.goto(f"{live_server.url}/projects/{project.pk}/team/")
        page.get_by_role("searchbox", name="Find a person").fill("tana")
        page.get_by_role("button", name="Search").click()
        page.get_by_text("2 people match.").wait_for()
        assert page.url.endswith(f"/projects/{project.pk}/team/?find=tana")
        page.get_by_role("button", name="Add Aina Tanabe (aina) to the team").click()
        page.get_by_text("Aina Tanabe joined the team.").wait_for()
        # Back on the same search, the person added gone from it.
        assert page.get_by_role("searchbox", name="Find a person").input_value() == "tana"
        page.get_by_text("1 person matches.").wait_for()
        assert page.get_by_role("button", name="Add Aina Tanabe (aina) to the team").count() == 0
        assert page.locator(".card", has_text="aina@example.com").count() == 1
    finally:
        context.close()
