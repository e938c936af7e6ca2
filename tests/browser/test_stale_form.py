"""Headless Chromium, issue 13 item 4: two pages edit the same deliverable.

The second save is refused; the page offered again shows the other person's due
date and keeps this person's new title; saving it again keeps both changes.
"""

from __future__ import annotations

from datetime import date

import pytest

from deliverables.models import Deliverable
from deliverables.services import deliverable_create
from roles.services import membership_add, project_create, role_assign
from tests.conftest import ARTIFACTS, sign_in
from tests.factories import UserFactory, deliverable_type, manager_user, role

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_refused_edit_offers_the_other_persons_due_date_and_keeps_mine(
    live_server, browser, page
):
    mari = manager_user(username="mari", first_name="Mari", last_name="Kobayashi")
    otto = manager_user(username="otto", first_name="Otto", last_name="Manner")
    kenji = UserFactory(username="kenji", first_name="Kenji", last_name="Ito")
    project = project_create(name="Churn prediction", managers=[mari, otto])
    role_assign(membership=membership_add(project=project, user=kenji), role=role("data-scientist"))
    deliverable = deliverable_create(
        project=project,
        type=deliverable_type("analysis-report"),
        title="Churn drivers",
        owner=kenji,
        due_date=date(2026, 3, 31),
        actor=mari,
    )
    edit = f"{live_server.url}/deliverables/{deliverable.pk}/edit/"
    other = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    try:
        sign_in(page, live_server.url, "mari")
        sign_in(other, live_server.url, "otto")
        page.goto(edit)
        other.goto(edit)  # both pages drawn from the same version

        other.get_by_label("Due date").fill("2026-04-30")
        other.get_by_role("button", name="Save").click()
        other.get_by_text("Deliverable saved.").wait_for()

        page.get_by_label("Own title").fill("Churn drivers, revised")
        page.get_by_role("button", name="Save").click()
        page.get_by_text("Someone else saved this deliverable").wait_for()
        assert page.get_by_label("Due date").input_value() == "2026-04-30"
        assert page.get_by_label("Own title").input_value() == "Churn drivers, revised"
        assert page.get_by_text("Changed by someone else meanwhile: now Apr 30, 2026.").count()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "stale-deliverable-edit.png"), full_page=True)
        deliverable.refresh_from_db()
        assert (deliverable.title, deliverable.due_date) == ("Churn drivers", date(2026, 4, 30))

        page.get_by_role("button", name="Save").click()
        page.get_by_text("Deliverable saved.").wait_for()
        deliverable = Deliverable.objects.get(pk=deliverable.pk)
        assert (deliverable.title, deliverable.due_date) == (
            "Churn drivers, revised",
            date(2026, 4, 30),
        )
    finally:
        other.context.close()
