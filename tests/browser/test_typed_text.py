"""Headless Chromium: markdown typed into a comment and a project's description is
rendered, and its headings never outgrow the page's own headings."""

from __future__ import annotations

import pytest

from deliverables.services import comment_add, deliverable_create
from roles.services import membership_add, project_create
from tests.conftest import ARTIFACTS, sign_in
from tests.factories import deliverable_type, manager_user

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

TYPED = "# A big heading\n\n## A second one\n\nWith **bold** text."


def _size(locator) -> float:
    return locator.evaluate("node => parseFloat(getComputedStyle(node).fontSize)")


def test_typed_headings_are_no_larger_than_the_pages_headings(live_server, page):
    manager = manager_user(username="mari")
    project = project_create(name="Churn prediction", managers=[manager], business_problem=TYPED)
    membership_add(project=project, user=manager)
    deliverable = deliverable_create(
        project=project, type=deliverable_type("deployed-model"), owner=manager, actor=manager
    )
    comment_add(deliverable=deliverable, actor=manager, body=TYPED)
    sign_in(page, live_server.url, "mari")

    for path in [f"/deliverables/{deliverable.pk}/", f"/projects/{project.pk}/"]:
        page.goto(live_server.url + path)
        typed = page.locator(".typed-text").filter(has=page.locator("h1")).first
        assert typed.locator("strong").inner_text() == "bold"
        page_title = _size(page.locator("main h1, h1").first)
        smallest_section = min(_size(h2) for h2 in page.locator("section h2").all())
        for level in ("h1", "h2"):
            typed_size = _size(typed.locator(level))
            assert typed_size < page_title, (path, level)
            assert typed_size <= smallest_section, (path, level)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "typed-text-desktop.png"), full_page=True)
