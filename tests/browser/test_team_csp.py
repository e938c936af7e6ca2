"""Headless Chromium: htmx swaps on the team page never break the site's CSP.

htmx 2 "settles" a swap (`handleAttributes` / `cloneAttributes`): for every new
element whose id matches an old one, it copies the old element's
`htmx.config.attributesToSettle` (by default class, style, width and height)
onto the new one with `setAttribute`, then puts the new values back. Anything
that once touched an input's `element.style` (allowed by the CSP: a password
manager, autofill, a Bootstrap component) leaves `style=""` behind, and
re-applying that attribute is an inline style `style-src 'self'` refuses: one
console error per element.
"""

from __future__ import annotations

import pytest

from roles.services import membership_add, project_create
from tests.factories import PASSWORD, UserFactory, manager_user

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

# What an extension or autofill does to the fields it decorates: a style set
# through the CSSOM and cleared again, which leaves an empty style attribute.
TOUCH_STYLES = """() => document.querySelectorAll("#team-panel [id]").forEach((node) => {
  node.style.backgroundColor = "lightyellow";
  node.style.backgroundColor = "";
})"""


def test_role_assignments_and_a_search_without_reloading_log_no_console_error(live_server, page):
    manager = manager_user(username="mari", first_name="Mari", last_name="Kobayashi")
    project = project_create(name="Fraud detection", managers=[manager], actor=manager)
    for username, first, last in (("aiko", "Aiko", "Tanaka"), ("ben", "Ben", "Okafor")):
        membership_add(
            project=project,
            user=UserFactory(username=username, first_name=first, last_name=last),
            actor=manager,
        )
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("mari")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server.url}/projects/{project.pk}/team/")

    page.evaluate(TOUCH_STYLES)
    aiko = page.locator(".card", has=page.get_by_text("aiko@example.com"))
    aiko.get_by_label("Role").select_option(label="Data scientist")
    aiko.get_by_label("Allocation (%)").fill("60")
    aiko.get_by_role("button", name="Assign role").click()
    page.get_by_text("Role assigned.").wait_for()

    page.evaluate(TOUCH_STYLES)
    ben = page.locator(".card", has=page.get_by_text("ben@example.com"))
    ben.get_by_label("Role").select_option(label="ML engineer")
    ben.get_by_label("Allocation (%)").fill("40")
    ben.get_by_role("button", name="Assign role").click()
    ben.locator("li", has_text="ML engineer").wait_for()
    # htmx settles 20 ms after the swap; leave time for anything it would log.
    page.wait_for_timeout(300)

    # The search's swaps: its matches (and status, out of band), then the panel.
    UserFactory(username="chen", first_name="Chen", last_name="Wu")
    page.evaluate(TOUCH_STYLES)
    page.get_by_role("searchbox", name="Find a person").fill("chen")
    add = page.get_by_role("button", name="Add Chen Wu (chen) to the team")
    add.wait_for()
    page.evaluate(TOUCH_STYLES)
    add.click()
    page.get_by_text("Chen Wu joined the team.").wait_for()
    page.wait_for_timeout(300)

    assert errors == []
    assert (
        aiko.locator("li", has_text="Data scientist").locator("input[type=number]").input_value()
        == "60"
    )
    assert (
        ben.locator("li", has_text="ML engineer").locator("input[type=number]").input_value()
        == "40"
    )
