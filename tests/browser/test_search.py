"""Headless Chromium: "/" jumps to the navigation's search box, a word of a link's
title finds its deliverable, and an outsider's search finds nothing of it."""

from __future__ import annotations

import pytest

from deliverables.services import deliverable_create, link_add
from roles.services import membership_add, project_create
from tests.conftest import sign_in
from tests.factories import UserFactory, deliverable_type, manager_user

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_slash_focuses_the_search_and_a_link_title_word_finds_the_deliverable(live_server, page):
    manager = manager_user(username="mari", first_name="Mari", last_name="Kobayashi")
    project = project_create(name="Fraud detection", managers=[manager], actor=manager)
    member = UserFactory(username="aiko", first_name="Aiko", last_name="Tanaka")
    membership_add(project=project, user=member, actor=manager)
    UserFactory(username="olga", first_name="Olga", last_name="Outside")
    deliverable = deliverable_create(
        project=project,
        type=deliverable_type("deployed-model"),
        title="Scoring service",
        owner=member,
        actor=manager,
    )
    link_add(
        deliverable=deliverable,
        actor=member,
        kind="dashboard",
        url="https://grafana.example.com/d/fraud",
        label="Latency heatmap",
    )
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))

    sign_in(page, live_server.url, "aiko")
    page.goto(f"{live_server.url}/my-work/")
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("/")
    box = page.locator("#site-search")
    assert box.evaluate("node => node === document.activeElement")
    page.keyboard.type("heatmap")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search/?q=heatmap")
    result = page.locator(".search-results li").first
    assert "Deliverable" in result.inner_text()
    result.get_by_role("link", name="Scoring service").click()
    page.wait_for_url(f"**/deliverables/{deliverable.pk}/")

    # Typing on the results page updates them in place (htmx), without a reload.
    page.goto(f"{live_server.url}/search/")
    page.locator("#search-page-q").fill("Latency")
    page.locator(".search-results").get_by_role("link", name="Scoring service").wait_for()
    assert errors == []

    page.context.clear_cookies()
    sign_in(page, live_server.url, "olga")
    page.goto(f"{live_server.url}/search/?q=heatmap")
    assert page.locator(".search-results li").count() == 0
    assert "Scoring service" not in page.content()
