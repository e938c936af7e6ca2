"""Headless Chromium: a person signed in on two browsers finds both on the
Sessions page (reached from the account menu), then signs out everywhere: both
browsers are signed out, and the person lands on the sign-in page."""

from __future__ import annotations

import pytest

from tests.conftest import ARTIFACTS, sign_in
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)


def test_sign_out_everywhere_from_the_sessions_page(live_server, browser, page):
    UserFactory(username="kenji", first_name="Kenji", last_name="Ito")
    phone_context = browser.new_context(user_agent=PHONE)
    phone = phone_context.new_page()
    try:
        sign_in(phone, live_server.url, "kenji")
        sign_in(page, live_server.url, "kenji")

        page.get_by_role("button", name="Kenji Ito").click()
        page.get_by_role("link", name="Sessions").click()
        page.get_by_role("heading", name="Sessions", exact=True).wait_for()
        rows = page.locator("tbody tr")
        assert rows.count() == 2
        assert rows.filter(has_text="This device").count() == 1
        assert page.get_by_text("Safari on iOS").is_visible()
        page.screenshot(path=str(ARTIFACTS / "sessions.png"), full_page=True)

        page.get_by_role("button", name="Sign out everywhere").click()
        page.wait_for_url(lambda url: "/accounts/login/" in url)
        assert page.get_by_text("You were signed out everywhere").is_visible()

        phone.goto(f"{live_server.url}/")
        assert "/accounts/login/" in phone.url
    finally:
        phone_context.close()
