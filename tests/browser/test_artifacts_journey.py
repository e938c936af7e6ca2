"""Headless Chromium: a member links the production alias of a model, detected from
the address, and a commit under a kind it does not fit; once the poll has run, the
deliverable page shows the alias's version beside the link, on a phone too."""

from __future__ import annotations

import pytest

from deliverables.artifacts import services
from deliverables.services import deliverable_create
from roles.services import membership_add, project_create, role_assign
from tests.artifacts import servers
from tests.conftest import ARTIFACTS, language_context, sign_in
from tests.factories import UserFactory, deliverable_type, manager_user, role

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PHONE = 390


def test_member_links_a_model_alias_and_sees_its_version(live_server, browser):
    mlflow, server = servers.start()
    try:
        mlflow.answer(
            "/api/2.0/mlflow/registered-models/alias",
            servers.mlflow_model_version("churn-classifier", "7", aliases=["production"]),
        )
        services.artifact_system_create(
            kind="mlflow", name="Team MLflow", base_url=mlflow.url, token="t0ken"
        )
        manager = manager_user(username="mari")
        member = UserFactory(username="kenji")
        project = project_create(name="Churn prediction", managers=[manager])
        role_assign(
            membership=membership_add(project=project, user=member), role=role("ml-engineer")
        )
        deliverable = deliverable_create(
            project=project,
            type=deliverable_type("deployed-model"),
            title="Churn model v2",
            owner=member,
            actor=manager,
        )
        context = language_context(browser, live_server, "en", width=PHONE)
        page = context.new_page()
        sign_in(page, live_server.url, "kenji")
        page.goto(f"{live_server.url}/deliverables/{deliverable.pk}/")
        form = page.locator("#links form")
        # A chosen kind the address does not fit: refused, with an example.
        form.get_by_label("Kind").select_option("github_commit")
        form.get_by_label("Address").fill("https://github.com/octo/forecast/pull/3")
        form.get_by_role("button", name="Add link").click()
        page.get_by_text("This is not a GitHub commit address").wait_for()
        form = page.locator("#links form")
        form.get_by_label("Kind").select_option("")
        form.get_by_label("Address").fill("models:/churn-classifier@production")
        form.get_by_role("button", name="Add link").click()
        page.get_by_text("Link added.").wait_for()
        page.locator("#links li .badge", has_text="MLflow model version or alias").wait_for()

        for state_id in services.artifacts_sweep():
            services.artifact_poll(state_id=state_id)
        page.reload()
        panel = page.locator("#artifact-status")
        panel.get_by_text("Passing").wait_for()
        panel.get_by_text("production → version 7").wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE
        panel.screenshot(path=str(ARTIFACTS / "artifacts-status-390.png"))
        context.close()
    finally:
        server.shutdown()
        server.server_close()
