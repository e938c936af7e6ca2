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

    dialog = page.locator("dialog#cell-editor")
    page.evaluate(TOUCH_STYLES)
    page.get_by_role("link", name="Give Aiko Tanaka the role Data scientist").click()
    dialog.get_by_label("Allocation (%)").fill("60")
    dialog.get_by_role("button", name="Assign role").click()
    page.get_by_text("Aiko Tanaka is now Data scientist.").wait_for()

    page.evaluate(TOUCH_STYLES)
    page.get_by_role("link", name="Give Ben Okafor the role ML engineer").click()
    dialog.get_by_label("Allocation (%)").fill("40")
    dialog.get_by_role("button", name="Assign role").click()
    page.get_by_role("link", name="Ben Okafor as ML engineer: 40%. Change or remove").wait_for()
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
    assert page.get_by_role("link", name="Aiko Tanaka as Data scientist: 60%. Change or remove")
    assert page.get_by_role("link", name="Ben Okafor as ML engineer: 40%. Change or remove")


# --- issue 16, part 7: no page breaks the strict CSP (no inline script or style) -------

# Records every refusal of the CSP on the page, whatever the console says about it.
# Playwright adds this outside the page's CSP (DevTools), so the policy cannot hide it.
WATCH_VIOLATIONS = """window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});"""


def _pages_visited_without_csp_violations(page, base_url: str, paths: list[str]) -> list[str]:
    """Open each path; return what any of them logged or had refused."""
    problems: list[str] = []
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    for path in paths:
        response = page.goto(base_url + path)
        expected = 404 if path.startswith("/no/") else 200
        if response.status != expected or ("/login/" in page.url and "/login/" not in path):
            problems.append(f"{path}: answered {response.status} at {page.url}")
        page.wait_for_load_state("load")
        page.wait_for_timeout(100)  # deferred scripts (charts) have run
        refused = page.evaluate("window.__cspViolations")
        # The 404 page is a deliberate 404: Chromium logs its status, nothing else may be.
        logged = [e for e in errors if not (path.startswith("/no/") and "404" in e)]
        problems += [f"{path}: {problem}" for problem in [*refused, *logged]]
        errors.clear()
    return problems


def test_main_pages_and_the_admin_run_under_the_csp_without_a_violation(live_server, page):
    from datetime import date

    from deliverables.reviews.services import cycle_create, expectations_write
    from deliverables.services import deliverable_create
    from roles.services import role_assign
    from tests.conftest import sign_in
    from tests.factories import deliverable_type, role

    manager = manager_user(username="mari", first_name="Mari", last_name="Kobayashi")
    project = project_create(name="Fraud detection", managers=[manager], actor=manager)
    aiko = UserFactory(username="aiko", first_name="Aiko", last_name="Tanaka")
    membership = membership_add(project=project, user=aiko, actor=manager)
    role_assign(membership=membership, role=role("data-scientist"), actor=manager)
    deliverable = deliverable_create(
        project=project, type=deliverable_type("analysis-report"), title="Drivers", actor=manager
    )
    cycle = cycle_create(
        actor=manager,
        name="H2",
        start_date=date(2026, 7, 1),
        end_date=date(2026, 12, 31),
        expectations_due_days=14,
    )
    review = expectations_write(
        cycle=cycle, person=aiko, actor=manager, text="Ship the report.", deliverables=[]
    )
    UserFactory(username="root", is_staff=True, is_superuser=True)
    page.add_init_script(WATCH_VIOLATIONS)

    # Signed out: the sign-in pages, the product's and the admin's.
    problems = _pages_visited_without_csp_violations(
        page, live_server.url, ["/accounts/login/", "/admin/login/", "/api/docs/"]
    )

    sign_in(page, live_server.url, "mari")
    p = project.pk
    problems += _pages_visited_without_csp_violations(
        page,
        live_server.url,
        [
            "/",
            "/projects/",
            f"/projects/{p}/",
            f"/projects/{p}/team/",
            f"/projects/{p}/activity/",
            f"/projects/{p}/plan/",
            f"/projects/{p}/edit/",
            f"/projects/{p}/handbook/",
            f"/projects/{p}/webhooks/",
            "/projects/new/",
            "/coverage/",
            "/roles/",
            "/roles/data-scientist/",
            "/people/",
            "/deliverables/",
            f"/deliverables/{deliverable.pk}/",
            f"/deliverables/{deliverable.pk}/edit/",
            "/my-work/",
            "/dashboard/",
            "/dashboard/activity/",
            "/reviews/",
            f"/reviews/{cycle.pk}/",
            f"/reviews/review/{review.pk}/",
            "/settings/reminders/",
            "/settings/tokens/",
            "/accounts/password_change/",
            "/no/such/page/",
        ],
    )

    page.context.clear_cookies()
    sign_in(page, live_server.url, "root")
    problems += _pages_visited_without_csp_violations(
        page,
        live_server.url,
        [
            "/admin/",
            "/admin/roles/project/",
            f"/admin/roles/project/{p}/change/",
            "/admin/deliverables/deliverable/",
            f"/admin/deliverables/deliverable/{deliverable.pk}/change/",
            f"/admin/reviews/review/{review.pk}/change/",
            "/admin/auth/user/",
            f"/admin/auth/user/{aiko.pk}/change/",
        ],
    )
    assert problems == []

    # The watch itself works: an inline style is refused, and seen.
    page.evaluate("document.body.setAttribute('style', 'color: red')")
    # The report is queued, not fired at once: waited for (up to Playwright's timeout).
    page.wait_for_function("window.__cspViolations.length > 0")
    assert page.evaluate("window.__cspViolations") != []
