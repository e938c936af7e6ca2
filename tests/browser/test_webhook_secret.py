"""Headless Chromium: a manager adds a webhook endpoint and copies its signing
secret, shown once, with one click (as a new API token is copied)."""

from __future__ import annotations

import pytest

from mlteam.notifications.models import WebhookEndpoint
from tests.conftest import sign_in
from tests.factories import ProjectFactory, manager_user

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_manager_copies_a_new_endpoints_secret(live_server, page):
    manager = manager_user(username="hana")
    project = ProjectFactory(name="Churn model", managers=[manager])
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    sign_in(page, live_server.url, "hana")

    page.goto(f"{live_server.url}/projects/{project.pk}/webhooks/")
    page.get_by_role("link", name="Add a webhook").first.click()
    page.get_by_label("Address").fill("https://93.184.215.14/hooks/mlteam")
    page.get_by_label("Deliverable planned").check()
    page.get_by_role("button", name="Add webhook").click()

    secret = page.get_by_label("Signing secret")
    secret.wait_for()
    endpoint = WebhookEndpoint.objects.get(project=project)
    assert secret.input_value() == endpoint.secret
    page.get_by_role("button", name="Copy").click()
    page.get_by_role("button", name="Copied").wait_for()
    # (localhost is a secure context: the page wrote through the Clipboard API)
    assert page.evaluate("navigator.clipboard.readText()") == endpoint.secret
