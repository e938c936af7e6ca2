"""Headless Chromium: the deliverables list's owner filter over a large directory
(roles.forms.LazyPersonSelect) gets its whole list once the keyboard reaches the
filters, and filtering by a person then works as it always did."""

from __future__ import annotations

import pytest

from deliverables.services import deliverable_create
from roles import forms as role_forms
from roles.services import membership_add, project_create
from tests.conftest import sign_in
from tests.factories import UserFactory, deliverable_type, manager_user

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_the_owner_filter_fetches_its_people_and_filters(live_server, page, monkeypatch):
    monkeypatch.setattr(role_forms, "INLINE_PEOPLE", 2)
    manager = manager_user(username="mari", first_name="Mari", last_name="Kobayashi")
    project = project_create(name="Fraud detection", managers=[manager], actor=manager)
    people = [
        UserFactory(username=name.lower(), first_name=name, last_name="Tanaka")
        for name in ("Aiko", "Daichi", "Emi")
    ]
    for person, title in zip(
        people, ("Scoring service", "Feature store", "Drift report"), strict=True
    ):
        membership_add(project=project, user=person, actor=manager)
        deliverable_create(
            project=project,
            type=deliverable_type("deployed-model"),
            title=title,
            owner=person,
            actor=manager,
        )
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    sign_in(page, live_server.url, "mari")
    page.mouse.move(0, 0)  # over the navigation, away from where the filters will be
    page.goto(f"{live_server.url}/deliverables/")
    owner = page.locator("#id_owner")
    assert owner.locator("option").count() == 1  # "Anyone" only, until the form is reached
    with page.expect_response("**/deliverables/owners/**"):
        page.locator("#id_q").focus()
    page.wait_for_function("() => document.getElementById('id_owner').options.length > 3")
    assert owner.get_attribute("data-options-url") is None
    owner.select_option(label="Daichi Tanaka (daichi)")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/deliverables/?*owner=*")
    rows = page.locator("table tbody tr")
    assert rows.count() == 1
    assert "Feature store" in rows.first.inner_text()
    # The page drew the chosen person; the list comes again, with them still chosen.
    assert owner.locator("option:checked").inner_text() == "Daichi Tanaka (daichi)"
    page.locator("#id_q").focus()
    page.wait_for_function("() => document.getElementById('id_owner').options.length > 3")
    assert owner.locator("option:checked").inner_text() == "Daichi Tanaka (daichi)"
    assert errors == []
