"""Holes a security review of issue 16 found, each closed and kept closed."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from allauth.socialaccount.models import SocialAccount
from django.urls import reverse

from mlteam.accounts.models import IdentityProvider
from tests.accounts.test_two_factor import enrol
from tests.factories import PASSWORD, UserFactory, admin_user

pytestmark = pytest.mark.django_db


def signed_in_user(client):
    response = client.get(reverse("home"))
    return response.wsgi_request.user if response.status_code == 200 else None


def test_the_admins_sign_in_address_checks_no_password(client):
    """A staff member posting someone else's password to /admin/login/ stays who
    they are (Django's admin sign-in would have switched them, second factor or not)."""
    mallory = UserFactory(is_staff=True)
    boss = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(mallory)
    response = client.post(
        reverse("admin:login"), {"username": boss.username, "password": PASSWORD, "next": "/admin/"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")
    assert signed_in_user(client) == mallory
    # Signed out, it leads to the product's sign-in; signed in without staff, refused.
    client.logout()
    response = client.post(
        reverse("admin:login"), {"username": boss.username, "password": PASSWORD}
    )
    assert response["Location"].startswith(reverse("login"))
    assert signed_in_user(client) is None
    client.force_login(UserFactory())
    assert client.get(reverse("admin:login")).status_code == 403


def test_second_factor_secrets_are_stored_encrypted_and_not_shown_in_the_admin(client):
    person = UserFactory()
    client.force_login(person)
    secret = enrol(client, person)
    stored = Authenticator.objects.get(user=person, type=Authenticator.Type.TOTP).data["secret"]
    assert secret not in stored
    client.force_login(admin_user())
    for factor in Authenticator.objects.filter(user=person):
        page = client.get(reverse("admin:mfa_authenticator_change", args=[factor.pk]))
        assert page.status_code == 200
        html = page.content.decode()
        stored_strings = [value for value in factor.data.values() if isinstance(value, str)]
        assert stored_strings  # the secret or the seed
        for value in [secret, *stored_strings]:
            assert value not in html


def test_typing_the_email_instead_of_the_username_does_not_start_a_fresh_count(client, settings):
    from axes.models import AccessAttempt
    from django.db.models import Sum
    from django.test import Client

    # No slowdown before the lock: each of these attempts is heard, and counted.
    settings.SIGN_IN_SLOWDOWN_AFTER = settings.AXES_FAILURE_LIMIT
    person = UserFactory(username="bob", email="bob@example.com")
    for n in range(settings.AXES_FAILURE_LIMIT):
        name = "bob" if n % 2 else "Bob@Example.com"
        refused = Client(REMOTE_ADDR=f"10.1.0.{n}").post(
            reverse("login"), {"login": name, "password": "wrong"}
        )
        # Each heard (a form again), until the last, which locks the account.
        assert refused.status_code == (429 if n == settings.AXES_FAILURE_LIMIT - 1 else 200), n
    # One count for the account, however it was named.
    attempts = AccessAttempt.objects.filter(username="bob")
    assert attempts.aggregate(n=Sum("failures_since_start"))["n"] == settings.AXES_FAILURE_LIMIT
    assert not AccessAttempt.objects.exclude(username="bob").exists()
    other = Client(REMOTE_ADDR="10.2.0.1")
    response = other.post(reverse("login"), {"login": person.email, "password": PASSWORD})
    assert response.status_code == 429
    assert signed_in_user(other) is None


def test_wrong_codes_to_confirm_a_sensitive_change_are_counted(client, settings):
    from axes.models import AccessAttempt

    person = UserFactory()
    client.force_login(person)
    enrol(client, person)
    client.post(reverse("mfa_reauthenticate"), {"code": "000000"})
    assert AccessAttempt.objects.filter(username=person.username).exists()


def test_a_wrong_current_password_on_the_change_page_is_counted(client):
    from axes.models import AccessAttempt

    person = UserFactory()
    client.force_login(person)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": "wrong",
            "new_password1": "x" * 20 + "Q1!",
            "new_password2": "x" * 20 + "Q1!",
        },
    )
    assert response.status_code == 200
    assert AccessAttempt.objects.filter(username=person.username).exists()
    person.refresh_from_db()
    assert person.check_password(PASSWORD)


def _provider(**settings) -> IdentityProvider:
    return IdentityProvider.objects.create(
        provider="openid_connect",
        provider_id="corp",
        name="Corp SSO",
        client_id="mlteam",
        secret="the-client-secret",
        settings={"server_url": "https://idp.example", **settings},
    )


def test_the_admins_group_configures_providers_without_seeing_the_secret(client):
    app = _provider()
    client.force_login(admin_user())
    url = reverse("admin:accounts_identityprovider_change", args=[app.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "the-client-secret" not in page.content.decode()
    data = {
        "name": "Corp SSO",
        "provider_id": "corp",
        "issuer_url": "https://idp.example",
        "client_id": "mlteam",
        "secret": "",
    }
    assert client.post(url, data).status_code == 302
    app.refresh_from_db()
    assert app.secret == "the-client-secret"  # left empty: kept


def test_a_providers_issuer_cannot_change_once_people_are_connected(client):
    app = _provider()
    SocialAccount.objects.create(user=UserFactory(), provider="corp", uid="u-1")
    client.force_login(admin_user())
    url = reverse("admin:accounts_identityprovider_change", args=[app.pk])
    data = {
        "name": "Corp SSO",
        "provider_id": "corp",
        "issuer_url": "https://other-idp.example",
        "client_id": "mlteam",
        "secret": "",
    }
    response = client.post(url, data)
    assert response.status_code == 200
    assert "its issuer cannot change" in response.content.decode()
    app.refresh_from_db()
    assert app.settings["server_url"] == "https://idp.example"


def test_a_typed_client_secret_is_asked_again_when_the_form_comes_back(client):
    from django.utils.html import escape

    from mlteam.forms import WRITE_ONLY_RETYPE

    client.force_login(admin_user())
    response = client.post(
        reverse("admin:accounts_identityprovider_add"),
        {
            "name": "Corp SSO",
            "provider_id": "not valid!",  # refused: letters, digits and hyphens only
            "client_id": "mlteam",
            "secret": "the-client-secret",
            "issuer_url": "https://idp.example",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert escape(str(WRITE_ONLY_RETYPE)) in html
    assert "the-client-secret" not in html
    assert not IdentityProvider.objects.exists()
