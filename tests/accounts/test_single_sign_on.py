"""OpenID Connect single sign-on end to end (issue 16, part 3): the product's own
sign-in (allauth's client, mlteam.signin's rules) against a real provider running
on 127.0.0.1 (tests/oidc_provider.py), configured the way an admin does it."""

from __future__ import annotations

import pytest
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import get_user_model
from django.urls import reverse

from mlteam.accounts.models import IdentityProvider, SingleSignOnDomain
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CALLBACK = "http://testserver/accounts/oidc/corp/login/callback/"
User = get_user_model()


def configure(oidc_provider, *, allow_new_accounts=False) -> IdentityProvider:
    oidc_provider.register_client("mlteam", "s3cret-of-the-client", [CALLBACK])
    return IdentityProvider.objects.create(
        provider="openid_connect",
        provider_id="corp",
        name="Corp SSO",
        client_id="mlteam",
        secret="s3cret-of-the-client",
        settings={"server_url": oidc_provider.issuer, "allow_new_accounts": allow_new_accounts},
    )


def sso_sign_in(client, oidc_provider):
    """Press "Sign in with Corp SSO", let the provider answer, come back."""
    start = client.post(reverse("openid_connect_login", kwargs={"provider_id": "corp"}))
    assert start.status_code == 302, start.content.decode()[:500]
    assert start["Location"].startswith(oidc_provider.issuer)
    return client.get(oidc_provider.authorize(start["Location"]))


def signed_in_as(client):
    response = client.get(reverse("home"))
    return response.wsgi_request.user if response.status_code == 200 else None


def test_the_sign_in_page_offers_the_configured_provider(client, oidc_provider):
    configure(oidc_provider)
    page = client.get(reverse("login")).content.decode()
    assert "Sign in with Corp SSO" in page
    assert reverse("openid_connect_login", kwargs={"provider_id": "corp"}) in page


def test_an_existing_account_is_matched_by_verified_email(client, oidc_provider):
    configure(oidc_provider)
    person = UserFactory(email="aiko@corp.example")
    oidc_provider.set_user(sub="u-1", email="Aiko@corp.example", email_verified=True)
    response = sso_sign_in(client, oidc_provider)
    assert response.status_code == 302
    assert signed_in_as(client) == person
    assert SocialAccount.objects.get(user=person).uid == "u-1"
    # The token was fetched with PKCE and the client's secret.
    assert oidc_provider.authorization_requests[-1]["code_challenge_method"] == "S256"
    # Next time the provider's own identifier finds them, whatever the email says.
    client.logout()
    oidc_provider.set_user(sub="u-1", email="aiko.new@corp.example", email_verified=False)
    sso_sign_in(client, oidc_provider)
    assert signed_in_as(client) == person


def test_an_unverified_email_signs_in_nobody(client, oidc_provider):
    configure(oidc_provider, allow_new_accounts=True)
    UserFactory(email="aiko@corp.example")
    oidc_provider.set_user(sub="u-2", email="aiko@corp.example", email_verified=False)
    response = sso_sign_in(client, oidc_provider)
    assert response.status_code == 403
    assert "did not confirm your email address" in response.content.decode()
    assert signed_in_as(client) is None
    assert not SocialAccount.objects.exists()
    assert User.objects.count() == 1


def test_a_new_person_is_refused_unless_the_provider_may_create_accounts(client, oidc_provider):
    configure(oidc_provider, allow_new_accounts=False)
    oidc_provider.set_user(sub="u-3", email="new@corp.example", email_verified=True)
    response = sso_sign_in(client, oidc_provider)
    assert response.status_code == 403
    assert "may not create accounts" in response.content.decode()
    assert signed_in_as(client) is None
    assert not User.objects.filter(email="new@corp.example").exists()


def test_a_new_person_becomes_a_member_when_the_provider_may_create_accounts(client, oidc_provider):
    configure(oidc_provider, allow_new_accounts=True)
    oidc_provider.set_user(
        sub="u-4",
        email="ren@corp.example",
        email_verified=True,
        given_name="Ren",
        family_name="Sato",
        preferred_username="ren",
    )
    response = sso_sign_in(client, oidc_provider)
    assert response.status_code == 302
    person = User.objects.get(email="ren@corp.example")
    assert signed_in_as(client) == person
    assert (person.username, person.first_name, person.last_name) == ("ren", "Ren", "Sato")
    # A member: no permissions, no staff, no password to guess.
    assert not person.is_staff and not person.is_superuser
    assert not person.get_all_permissions()
    assert not person.has_usable_password()


def test_single_sign_on_works_for_a_single_sign_on_only_domain(client, oidc_provider):
    configure(oidc_provider)
    SingleSignOnDomain.objects.create(domain="corp.example")
    person = UserFactory(email="aiko@corp.example")
    oidc_provider.set_user(sub="u-5", email="aiko@corp.example", email_verified=True)
    sso_sign_in(client, oidc_provider)
    assert signed_in_as(client) == person


def test_a_deactivated_person_cannot_sign_in_through_the_provider(client, oidc_provider):
    configure(oidc_provider)
    person = UserFactory(email="aiko@corp.example")
    oidc_provider.set_user(sub="u-6", email="aiko@corp.example", email_verified=True)
    sso_sign_in(client, oidc_provider)
    client.logout()
    person.is_active = False
    person.save(update_fields=["is_active"])
    sso_sign_in(client, oidc_provider)
    assert signed_in_as(client) is None


def test_an_admin_configures_a_provider_by_issuer_url(client, oidc_provider):
    root = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(root)
    response = client.post(
        reverse("admin:accounts_identityprovider_add"),
        {
            "name": "Corp SSO",
            "provider_id": "Corp",
            "issuer_url": oidc_provider.issuer + "/.well-known/openid-configuration",
            "client_id": "mlteam",
            "secret": "s3cret-of-the-client",
            "allow_new_accounts": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    app = IdentityProvider.objects.get()
    assert (app.provider, app.provider_id) == ("openid_connect", "corp")
    assert app.settings == {"server_url": oidc_provider.issuer, "allow_new_accounts": True}
    # A second one may not take the same short name; the error says so on the field.
    response = client.post(
        reverse("admin:accounts_identityprovider_add"),
        {
            "name": "Other",
            "provider_id": "corp",
            "issuer_url": "https://idp.example",
            "client_id": "x",
            "secret": "y",
        },
    )
    assert response.status_code == 200
    assert "Another provider has this short name." in response.content.decode()


def test_the_sign_in_page_lets_its_forms_lead_to_the_providers_only(client, oidc_provider):
    policy = client.get(reverse("login"))["Content-Security-Policy"]
    assert "form-action 'self'" in policy
    configure(oidc_provider)
    policy = client.get(reverse("login"))["Content-Security-Policy"]
    form_action = next(part for part in policy.split(";") if "form-action" in part)
    assert form_action.split() == ["form-action", "'self'", oidc_provider.issuer]
    # Other pages keep theirs.
    assert "127.0.0.1" not in client.get(reverse("password_reset"))["Content-Security-Policy"]


def test_single_sign_on_still_asks_for_the_second_factor_of_a_person_who_has_one(
    client, oidc_provider
):
    from allauth.mfa.models import Authenticator

    configure(oidc_provider)
    person = UserFactory(email="aiko@corp.example")
    Authenticator.objects.create(
        user=person, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"}
    )
    oidc_provider.set_user(sub="u-7", email="aiko@corp.example", email_verified=True)
    response = sso_sign_in(client, oidc_provider)
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert signed_in_as(client) is None
