"""Headless Chromium: a manager invites someone by email and gives them a role; the
invitee follows the email's link, chooses a password and lands on their home page,
signed in, with their role and their team."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from roles.models import Membership
from roles.services import membership_add, project_create, role_assign
from tests.conftest import ARTIFACTS
from tests.factories import PASSWORD, manager_user, role

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_invitee_follows_the_link_and_lands_on_home_signed_in(live_server, page):
    manager = manager_user(username="mari", first_name="Mari", last_name="Kobayashi")
    project = project_create(name="Fraud detection", managers=[manager], actor=manager)
    role_assign(
        membership=membership_add(project=project, user=manager, actor=manager),
        role=role("engineering-manager"),
        actor=manager,
    )

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("mari")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server.url}/projects/{project.pk}/team/")
    page.get_by_label("Email").fill("nora@example.com")
    page.get_by_label("First name").fill("Nora")
    page.get_by_label("Last name").fill("Berg")
    page.get_by_role("button", name="Send invitation").click()
    page.get_by_text("Invitation sent to nora@example.com").wait_for()
    # The invited person joins the team's matrix; giving her a role there is the team
    # journey's (test_team_journey.py): here it is given directly.
    page.locator("#team-matrix").get_by_text("Nora Berg", exact=True).first.wait_for()
    invited = Membership.objects.get(project=project, user__email="nora@example.com")
    role_assign(
        membership=invited, role=role("data-scientist"), actor=manager, allocation_percent=70
    )
    page.context.clear_cookies()

    (message,) = mail.outbox
    link = re.search(r"https?://\S+/accounts/invitation/\S+", message.body).group(0)
    page.goto(link)
    page.locator("#id_new_password1").fill("a-long-new-password")
    page.locator("#id_new_password2").fill("a-long-new-password")
    page.get_by_role("button", name="Set password and join").click()

    page.get_by_role("heading", name="Welcome, Nora Berg").wait_for()
    assert page.url == f"{live_server.url}/"
    assert "Welcome to MLTeam" in page.locator(".alert-success").inner_text()
    roles = page.locator("section", has=page.get_by_role("heading", name="My roles"))
    assert "Data scientist" in roles.inner_text()
    assert "Fraud detection" in roles.inner_text()
    assert "You hold no role" not in roles.inner_text()
    projects = page.locator("section", has=page.get_by_role("heading", name="Your projects"))
    assert "Fraud detection" in projects.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "invitation-home.png"), full_page=True)

    # The link was for one use: back on it, it no longer works.
    page.context.clear_cookies()
    page.goto(link)
    page.get_by_role("heading", name="This invitation no longer works").wait_for()
