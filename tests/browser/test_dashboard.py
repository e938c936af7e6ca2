"""Headless Chromium: the portfolio dashboard draws its charts under the CSP."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from deliverables.services import deliverable_create
from roles.services import membership_add, project_create, role_assign
from tests.conftest import ARTIFACTS
from tests.factories import PASSWORD, UserFactory, deliverable_type, manager_user, role

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


# The words of the portfolio table's headings and row heads (project and person names)
# that the browser broke across lines ("Cancel/led", "predic/tion"): each word's text
# range must sit on one line.
SPLIT_HEADING_WORDS = """() => Array.from(
  document.querySelectorAll(
    "main table.table-wrap-head thead th, main table.table-wrap-head tbody th[scope=row]"
  )
).flatMap((th) => {
  const split = [];
  const walker = document.createTreeWalker(th, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (const word of node.data.matchAll(/\\S+/g)) {
      const range = document.createRange();
      range.setStart(node, word.index);
      range.setEnd(node, word.index + word[0].length);
      const lines = new Set(Array.from(range.getClientRects()).map((r) => Math.round(r.top)));
      if (lines.size > 1) split.push(word[0]);
    }
  }
  return split;
})"""


def test_manager_sees_charts_and_the_numbers_behind_them(live_server, page):
    manager = manager_user(username="mari", first_name="Mari", last_name="Kobayashi")
    owner = UserFactory(username="aiko", first_name="Aiko", last_name="Sato")
    for name in ("Churn prediction", "Search ranking"):
        project = project_create(name=name, managers=[manager])
        role_assign(
            membership=membership_add(project=project, user=owner), role=role("data-scientist")
        )
        deliverable_create(
            project=project,
            type=deliverable_type("analysis-report"),
            title=f"Report for {name}",
            owner=owner,
            due_date=date.today() - timedelta(days=3),
        )
    policy_errors = []
    page.on(
        "console",
        lambda message: (
            policy_errors.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("mari")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Dashboard").click()
    page.get_by_role("heading", name="Portfolio dashboard").wait_for()
    page.wait_for_function(
        "() => window.Chart && Chart.getChart('status-chart') && Chart.getChart('overdue-chart')"
    )
    drawn = page.evaluate("Chart.getChart('status-chart').data.labels")
    assert drawn == ["Churn prediction", "Search ranking"]
    # The workload and recent activity arrive once the page is drawn (htmx), in place
    # of the link that leads to them without JavaScript.
    workload = page.locator("section[aria-labelledby=workload-heading]")
    workload.wait_for()
    assert page.locator("#portfolio-activity[hx-get]").count() == 0
    aiko = workload.locator("tbody tr").filter(has_text="Aiko Sato")
    assert aiko.locator("td[data-label='Open']").inner_text() == "2"
    assert aiko.locator("td[data-label='Overdue']").inner_text() == "2"
    recent = page.locator("section[aria-labelledby=recent-heading] li")
    assert recent.count() >= 2  # the two deliverables planned, and the team changes
    # Eleven columns on a desktop: the headings wrap between words, never inside one.
    assert page.locator("main table.table-wrap-head").count() == 2
    assert page.evaluate(SPLIT_HEADING_WORDS) == []
    assert page.evaluate("Chart.getChart('overdue-chart').data.datasets[0].data") == [2]
    overdue_by_role = page.locator("section[aria-labelledby=overdue-role-heading]")
    overdue_by_role.get_by_role("link", name="2", exact=True).click()
    page.get_by_role("heading", name="Deliverables").wait_for()
    assert "overdue=on" in page.url
    assert policy_errors == []

    page.go_back()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-desktop.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(ARTIFACTS / "dashboard-phone.png"), full_page=True)
