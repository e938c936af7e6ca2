"""Headless Chromium: a person creates an API token in Settings, sees it once,
calls the API with it, revokes it, and the same call is then refused (401). The
page also fits a phone."""

from __future__ import annotations

import pytest
import requests

from mlteam.accounts.models import ApiToken
from tests.conftest import ARTIFACTS, sign_in
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_create_use_and_revoke_a_token(live_server, page):
    UserFactory(username="kenji", first_name="Kenji", last_name="Ito")
    sign_in(page, live_server.url, "kenji")

    # The account menu leads to the tokens.
    page.get_by_role("button", name="Kenji Ito").click()
    page.get_by_role("link", name="API tokens").click()
    page.get_by_role("heading", name="API tokens", exact=True).wait_for()
    assert page.get_by_text("You have no API tokens").is_visible()

    page.get_by_label("Name").fill("nightly export")
    assert page.get_by_label("Read only").is_checked()
    page.get_by_role("button", name="Create token").click()

    page.get_by_role("heading", name="Token “nightly export” created").wait_for()
    assert page.get_by_text("it will not be shown again").is_visible()
    secret = page.get_by_label("Your token").input_value()
    assert secret.startswith("mlt_")

    roles = f"{live_server.url}/api/v1/roles/"
    headers = {"Authorization": f"Bearer {secret}", "Accept": "application/json"}
    answer = requests.get(roles, headers=headers, timeout=10)
    assert answer.status_code == 200 and isinstance(answer.json(), list)

    page.get_by_role("link", name="Done").click()
    row = page.get_by_role("row").filter(has_text="nightly export")
    assert secret not in page.content()
    assert secret[:15] in row.inner_text() and "Read only" in row.inner_text()

    page.set_viewport_size({"width": 390, "height": 844})
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "api-tokens-phone.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.set_viewport_size({"width": 1280, "height": 900})

    row.get_by_role("link", name="Revoke").click()
    page.get_by_role("heading", name="Revoke token").wait_for()
    page.get_by_role("button", name="Revoke").click()
    page.get_by_text("Token “nightly export” revoked").wait_for()
    assert page.get_by_text("You have no API tokens").is_visible()
    assert not ApiToken.objects.exists()

    answer = requests.get(roles, headers=headers, timeout=10)
    assert answer.status_code == 401
    assert answer.headers["Content-Type"] == "application/problem+json"
