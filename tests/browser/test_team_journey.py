"""Headless Chromium: a manager builds a team and watches the coverage gaps close;
without JavaScript, the search for people to add still works."""

from __future__ import annotations

import pytest

from roles.services import project_create
from tests.conftest import ARTIFACTS, set_language, sign_in
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
    # The "Add" button went with the old matches: the focus is on the search box.
    page.wait_for_function("() => document.activeElement.type === 'search'")
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

    # A cell of the matrix opens its editor (a dialog): the role, at 60%.
    page.get_by_role("link", name="Give Aiko Tanaka the role Data scientist").click()
    dialog = page.locator("dialog#cell-editor")
    dialog.get_by_label("Allocation (%)").fill("60")
    dialog.get_by_role("button", name="Assign role").click()
    page.get_by_text("Aiko Tanaka is now Data scientist.").wait_for()
    assert not dialog.is_visible()
    assert "ML engineer" in page.locator(".alert-warning", has_text="Unfilled").inner_text()

    page.get_by_role("link", name="Give Ben Okafor the role ML engineer").click()
    dialog.get_by_role("button", name="Assign role").click()
    page.get_by_text("Every required role is filled.").wait_for()
    assert page.locator(".alert-warning", has_text="Unfilled required roles").count() == 0
    assert page.get_by_role("link", name="Ben Okafor as ML engineer: 100%. Change or remove")

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
        assert page.locator("table[role=grid] th", has_text="Aina Tanabe").count() == 1

        # A cell is a link to a small page; its form posts and comes back to the team.
        page.get_by_role("link", name="Give Aina Tanabe the role Data scientist").click()
        page.get_by_label("Allocation (%)").fill("30")
        page.get_by_role("button", name="Assign role").click()
        page.get_by_text("Aina Tanabe is now Data scientist.").wait_for()
        page.get_by_role(
            "link", name="Aina Tanabe as Data scientist: 30%. Change or remove"
        ).click()
        page.get_by_role("link", name="Remove role").click()  # asks first, on a page
        page.get_by_role("button", name="Unassign").click()
        page.get_by_text("Role unassigned.").wait_for()
        assert page.get_by_role("link", name="Give Aina Tanabe the role Data scientist").count()
    finally:
        context.close()


MATRIX_FOCUS = """() => {
  const el = document.activeElement;
  return {cell: el && el.dataset ? el.dataset.cell || null : null,
          label: el ? el.getAttribute("aria-label") : null,
          stops: document.querySelectorAll('#team-matrix [data-cell][tabindex="0"]').length};
}"""


def _arrow_to(page, label: str) -> None:
    """Arrow keys through the grid until the focused cell is the one named `label`."""
    for key in ["ArrowUp"] * 6 + ["ArrowLeft"] * 12:
        page.keyboard.press(key)
    for _ in range(6):
        for _ in range(12):
            if page.evaluate(MATRIX_FOCUS)["label"] == label:
                return
            page.keyboard.press("ArrowRight")
        if page.evaluate(MATRIX_FOCUS)["label"] == label:
            return
        for _ in range(12):
            page.keyboard.press("ArrowLeft")
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"no cell {label!r} reached with the arrow keys")


def test_a_manager_staffs_a_new_project_from_the_matrix_with_the_keyboard_only(live_server, page):
    from roles.models import Role
    from roles.services import membership_add

    manager = manager_user(username="mari", first_name="Mari", last_name="Kobayashi")
    project = project_create(
        name="Fraud detection",
        managers=[manager],
        actor=manager,
        required_roles=Role.objects.filter(slug__in=["data-scientist", "ml-engineer"]),
    )
    ben = UserFactory(username="ben", first_name="Ben", last_name="Okafor")
    membership_add(project=project, user=ben, actor=manager)
    UserFactory(username="aiko", first_name="Aiko", last_name="Tanaka")
    sign_in(page, live_server.url, "mari")
    page.goto(f"{live_server.url}/projects/{project.pk}/team/")
    gaps = page.locator(".alert-warning", has_text="Unfilled required roles")
    assert "Data scientist" in gaps.inner_text() and "ML engineer" in gaps.inner_text()

    # Add a person with a role in one step: search, Tab to the role, type to pick
    # it, leave the allocation empty (the rest of their time), Tab to "Add", Enter.
    page.get_by_role("searchbox", name="Find a person").focus()
    page.keyboard.type("tanaka")
    add = page.get_by_role("button", name="Add Aiko Tanaka (aiko) to the team")
    add.wait_for()
    page.keyboard.press("Tab")  # Search
    page.keyboard.press("Tab")  # Role
    page.keyboard.type("Data scientist")
    assert (
        page.get_by_label("Role", exact=True).evaluate("(s) => s.options[s.selectedIndex].text")
        == "Data scientist"
    )
    page.keyboard.press("Tab")  # Allocation (%)
    page.keyboard.press("Tab")  # Add Aiko Tanaka
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == (
        "Add Aiko Tanaka (aiko) to the team"
    )
    page.keyboard.press("Enter")
    page.get_by_text("Aiko Tanaka joined the team as Data scientist.").wait_for()
    assert "Data scientist" not in page.locator(".alert-warning", has_text="Unfilled").inner_text()
    page.get_by_role(
        "link", name="Aiko Tanaka as Data scientist: 100%. Change or remove"
    ).wait_for()

    # Into the grid: one tab stop; arrow keys move it.
    page.locator("#team-matrix [data-cell][tabindex='0']").focus()
    state = page.evaluate(MATRIX_FOCUS)
    assert state["cell"] and state["stops"] == 1
    _arrow_to(page, "Give Ben Okafor the role ML engineer")
    assert page.evaluate(MATRIX_FOCUS)["stops"] == 1
    key = page.evaluate(MATRIX_FOCUS)["cell"]

    # Enter opens the editor; Escape closes it and the focus is back on the cell.
    page.keyboard.press("Enter")
    dialog = page.locator("dialog#cell-editor")
    dialog.get_by_label("Allocation (%)").wait_for()
    assert page.evaluate("document.activeElement.type") == "number"
    page.keyboard.press("Escape")
    assert not dialog.is_visible()
    assert page.evaluate(MATRIX_FOCUS)["cell"] == key

    # Enter again, type the allocation, Enter saves: the gap closes in place and
    # the focus comes back to the cell, now filled.
    page.keyboard.press("Enter")
    dialog.get_by_label("Allocation (%)").wait_for()
    page.keyboard.type("80")
    page.keyboard.press("Enter")
    page.get_by_text("Every required role is filled.").wait_for()
    assert page.locator(".alert-warning", has_text="Unfilled required roles").count() == 0
    page.wait_for_function(
        "(key) => document.activeElement && document.activeElement.dataset.cell === key", arg=key
    )
    assert (
        page.evaluate(MATRIX_FOCUS)["label"] == "Ben Okafor as ML engineer: 80%. Change or remove"
    )

    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(ARTIFACTS / "team-matrix-desktop.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # Scrolled sideways to the last role, each row still shows whose it is.
    page.locator("#team-matrix .table-responsive").evaluate("(box) => { box.scrollLeft = 10000; }")
    name = page.locator("#team-matrix tbody th.matrix-person").first
    box = page.locator("#team-matrix .table-responsive").bounding_box()
    assert abs(name.bounding_box()["x"] - box["x"]) < 2
    page.screenshot(path=str(ARTIFACTS / "team-matrix-phone.png"), full_page=True)

    # The same in Japanese: nothing wider than a phone but the matrix's own box.
    set_language(page.context, live_server, "ja")
    page.reload()
    assert page.locator("html").get_attribute("lang") == "ja"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(ARTIFACTS / "team-matrix-phone-ja.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(ARTIFACTS / "team-matrix-desktop-ja.png"), full_page=True)
