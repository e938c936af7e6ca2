"""Headless Chromium: a person enrols an authenticator app and signs in with their
password and its code; another signs in through a real OpenID Connect provider on
127.0.0.1 (tests/oidc_provider.py). Issue 16."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.utils import timezone

from mlteam.accounts.models import IdentityProvider
from tests.conftest import ARTIFACTS
from tests.factories import PASSWORD, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def totp_code(secret: str) -> str:
    counter = int(timezone.now().timestamp()) // 30
    return format_hotp_value(hotp_value(secret, counter))


def password_sign_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()


def test_enrol_an_authenticator_app_then_sign_in_with_password_and_code(live_server, page):
    UserFactory(username="aiko", first_name="Aiko", last_name="Tanaka")
    password_sign_in(page, live_server.url, "aiko")
    page.get_by_role("heading", name="Welcome, Aiko Tanaka").wait_for()

    # Enrol from the person's menu.
    page.get_by_role("button", name="Aiko Tanaka").click()
    page.get_by_role("link", name="Two-factor authentication").click()
    page.get_by_role("link", name="Activate").first.click()
    qr = page.locator("img.qr-code")
    qr.wait_for()
    assert qr.get_attribute("src").startswith("data:image/svg+xml;base64,")
    secret = page.locator("#authenticator_secret").input_value()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "two-factor-enrol.png"), full_page=True)
    page.get_by_label("Authenticator code").fill(totp_code(secret))
    page.get_by_role("button", name="Activate").click()
    page.wait_for_url("**/recovery-codes/**")
    assert Authenticator.objects.filter(user__username="aiko").count() == 2

    # Sign out, then in again: the password first, then the code.
    page.get_by_role("button", name="Aiko Tanaka").click()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/login/**")
    password_sign_in(page, live_server.url, "aiko")
    page.wait_for_url("**/2fa/authenticate/**")
    page.locator("input[name=code]").fill("000000")
    page.get_by_role("button", name="Sign In").click()
    assert "/2fa/authenticate/" in page.url  # a wrong code signs in nobody
    # Half a minute later (the server's clock), so the code is not the one that
    # enrolled the app: a code works once.
    with time_machine.travel(timezone.now() + timedelta(seconds=30)):
        page.locator("input[name=code]").fill(totp_code(secret))
        page.get_by_role("button", name="Sign In").click()
        page.get_by_role("heading", name="Welcome, Aiko Tanaka").wait_for()


def test_sign_in_through_the_local_openid_connect_provider(live_server, page, oidc_provider):
    callback = f"{live_server.url}/accounts/oidc/corp/login/callback/"
    oidc_provider.register_client("mlteam", "s3cret-of-the-client", [callback])
    IdentityProvider.objects.create(
        provider="openid_connect",
        provider_id="corp",
        name="Corp SSO",
        client_id="mlteam",
        secret="s3cret-of-the-client",
        settings={"server_url": oidc_provider.issuer},
    )
    UserFactory(username="ren", first_name="Ren", last_name="Sato", email="ren@corp.example")
    oidc_provider.set_user(sub="ren-1", email="ren@corp.example", email_verified=True)

    page.goto(f"{live_server.url}/")
    page.get_by_role("button", name="Sign in with Corp SSO").click()
    page.get_by_role("heading", name="Welcome, Ren Sato").wait_for()
    assert page.url.startswith(live_server.url)
