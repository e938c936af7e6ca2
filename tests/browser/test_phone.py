"""Headless Chromium at phone width (390 px), in English and Japanese, on the pages
the visual system covers (dashboard, home, projects, project, people, coverage,
roles, reviews, handbook and the settings pages):

1. no page scrolls sideways (document.documentElement.scrollWidth <= 390);
2. every link, button and select in the page's main content is at least 44 px tall,
   except a link inside a sentence, whose height is the text's (WCAG 2.5.8's inline
   case: not a flex or grid item, and the block around it holds more text than the
   link); checkboxes and radios are not measured, their labels are the target;
3. the portfolio dashboard's tables are stacked cards, each value labelled, and a
   list's filters wait behind a "Filters" button that opens them.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.conftest import goto_drawn, language_context, sign_in
from tests.practices.conftest import practices, work_in_every_status  # noqa: F401 (a fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PHONE = 390
TOUCH = 44


def _context(browser, live_server, language: str):
    return language_context(browser, live_server, language, width=PHONE)


def _pages(practices) -> list[str]:  # noqa: F811
    project = practices.project.pk
    return [
        reverse("deliverables:portfolio_dashboard"),
        reverse("deliverables:portfolio_activity"),
        reverse("home"),
        reverse("roles:project_list"),
        reverse("roles:project_list") + "?q=zzzz",  # the empty state
        reverse("roles:project_detail", args=[project]),
        reverse("roles:project_activity", args=[project]),
        reverse("roles:people_list"),
        reverse("roles:people_list") + "?q=zzzz",
        reverse("roles:portfolio_coverage"),
        reverse("roles:role_list"),
        reverse("roles:role_detail", args=["data-scientist"]),
        reverse("reviews:cycle_list"),
        reverse("reviews:cycle_detail", args=[practices.cycle.pk]),
        reverse("reviews:review_detail", args=[practices.review.pk]),
        reverse("practices:handbook", args=[project]),
        reverse("deliverables:reminder_preferences"),
        reverse("accounts:token_list"),
        reverse("accounts:session_list"),
        reverse("password_change"),
    ]


SMALL_TARGETS = """(touch) => {
  const blockOf = (el) => {
    let node = el.parentElement;
    while (node && getComputedStyle(node).display.startsWith("inline")) node = node.parentElement;
    return node;
  };
  const text = (el) => (el.innerText || "").replace(/\\s+/g, " ").trim();
  return Array.from(document.querySelectorAll(
    "main a[href], main button, main summary, main select, main .btn"
  ))
    .filter((el) => {
      const box = el.getBoundingClientRect();
      return box.width > 0 && box.height > 0 && getComputedStyle(el).visibility !== "hidden";
    })
    .filter((el) => {
      // A flex or grid item stands on its own; otherwise the link sits in a
      // sentence when the block around it holds more text than the link.
      if (/flex|grid/.test(getComputedStyle(el.parentElement).display)) return true;
      const block = blockOf(el);
      return !(block && text(block) !== text(el));
    })
    .filter((el) => el.getBoundingClientRect().height < touch - 0.5)
    .map((el) => `${el.tagName}.${el.className} "${text(el).slice(0, 40)}" `
      + `${Math.round(el.getBoundingClientRect().height)} px`);
}"""


@pytest.mark.parametrize("language", ["en", "ja"])
def test_phone_pages_fit_and_their_targets_are_big_enough(
    live_server,
    browser,
    practices,  # noqa: F811
    language,
):
    work_in_every_status(practices)
    context = _context(browser, live_server, language)
    page = context.new_page()
    try:
        sign_in(page, live_server.url, "manager")
        too_wide, too_small = [], []
        for path in _pages(practices):
            response = goto_drawn(page, live_server.url + path)
            assert response is not None and response.status == 200, path
            assert page.locator("html").get_attribute("lang") == language
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > PHONE:
                too_wide.append(f"{path}: {width} px")
            too_small.extend(f"{path}: {target}" for target in page.evaluate(SMALL_TARGETS, TOUCH))
        assert not too_wide, "pages wider than the phone:\n" + "\n".join(too_wide)
        assert not too_small, "targets under 44 px:\n" + "\n".join(too_small)
    finally:
        context.close()


def test_dashboard_tables_stack_and_filters_fold_on_a_phone(live_server, browser, practices):  # noqa: F811
    work_in_every_status(practices)
    context = _context(browser, live_server, "en")
    page = context.new_page()
    try:
        sign_in(page, live_server.url, "manager")
        goto_drawn(page, live_server.url + reverse("deliverables:portfolio_dashboard"))
        row = page.locator("main table.table-stack tbody tr").first
        assert row.evaluate("(tr) => getComputedStyle(tr).display") == "block"
        overdue = row.locator("td[data-label='Overdue']")
        assert overdue.is_visible() and overdue.bounding_box()["width"] > PHONE / 2
        # The column's name shows beside the value.
        assert overdue.evaluate("(td) => getComputedStyle(td, '::before').content") == '"Overdue"'
        # The workload, fetched once the page is drawn, stacks the same way.
        person = page.locator("#portfolio-activity table.table-stack tbody tr").first
        assert person.evaluate("(tr) => getComputedStyle(tr).display") == "block"
        assert person.locator("td[data-label='Open']").is_visible()

        # The coverage page too: a card a project, the people count back in it.
        page.goto(live_server.url + reverse("roles:portfolio_coverage"))
        row = page.locator("main table.table-stack tbody tr").first
        assert row.evaluate("(tr) => getComputedStyle(tr).display") == "block"
        assert row.locator("td[data-label='Unfilled roles']").is_visible()
        assert row.locator("td[data-label='People']").is_visible()

        page.goto(live_server.url + reverse("roles:project_list"))
        filters = page.locator("#project-filters")
        assert not filters.is_visible()
        toggle = page.get_by_role("button", name="Filters")
        assert toggle.get_attribute("aria-expanded") == "false"
        toggle.click()
        page.locator("#project-filters #id_q").wait_for(state="visible")
        assert toggle.get_attribute("aria-expanded") == "true"
    finally:
        context.close()


def test_filters_are_open_and_the_toggle_hidden_on_a_desktop(live_server, page, practices):  # noqa: F811
    sign_in(page, live_server.url, "manager")
    page.goto(live_server.url + reverse("roles:project_list"))
    assert page.locator("#project-filters #id_q").is_visible()
    assert not page.get_by_role("button", name="Filters").is_visible()
