"""django-allauth's own OpenID Connect client against the local provider.

The product's sign-in goes through allauth's `openid_connect` provider; these
tests run its real client code (discovery, the redirect with state and PKCE,
the token request, the userinfo call, ID token decoding, and the signature
check of `verify_token`) against tests/oidc_provider.py, so a mismatch between
the two shows up here rather than in the end-to-end sign-in tests. The
SocialApp lives in memory and the flow stops at the SocialLogin allauth builds:
saving it is the product's part.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import RequestFactory, modify_settings, override_settings

ALLAUTH_APPS = [
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
]
CLIENT_ID = "mlteam"
SECRET = "allauth-secret"


@pytest.fixture
def allauth_installed():
    """allauth's apps and URLs, whether or not the settings have them yet."""
    # The middleware first: allauth's app checks for it when the apps load.
    with (
        modify_settings(MIDDLEWARE={"append": "allauth.account.middleware.AccountMiddleware"}),
        modify_settings(INSTALLED_APPS={"append": ALLAUTH_APPS}),
        override_settings(ROOT_URLCONF="tests.allauth_urls"),
    ):
        yield


class AllauthClient:
    """allauth's OpenID Connect adapter and provider for one SocialApp."""

    def __init__(self, issuer: str, **app_settings):
        from allauth.socialaccount.models import SocialApp

        self.app = SocialApp(
            provider="openid_connect",
            provider_id="corp",
            name="Corp",
            client_id=CLIENT_ID,
            secret=SECRET,
            settings={"server_url": issuer, **app_settings},
        )
        self.factory = RequestFactory()
        self.session = None

    def request(self, path: str, query: dict | None = None):
        from django.contrib.auth.models import AnonymousUser
        from django.contrib.sessions.backends.signed_cookies import SessionStore

        request = self.factory.get(path, query or {})
        self.session = self.session or SessionStore()
        request.session = self.session
        request.user = AnonymousUser()
        return request

    def adapter(self, request):
        from allauth.socialaccount.providers.openid_connect.provider import (
            OpenIDConnectProvider,
        )
        from allauth.socialaccount.providers.openid_connect.views import (
            OpenIDConnectOAuth2Adapter,
        )

        adapter = OpenIDConnectOAuth2Adapter(request, "corp")
        provider = OpenIDConnectProvider(request, app=self.app)
        # The app comes from memory, not from allauth's SocialApp table.
        adapter.get_provider = lambda: provider
        provider.get_oauth2_adapter = lambda request: adapter
        return adapter

    def callback_url(self) -> str:
        request = self.request("/")
        return self.adapter(request).get_callback_url(request, self.app)

    def start(self) -> str:
        """What the sign-in button does: the redirect to the provider."""
        request = self.request("/accounts/oidc/corp/login/")
        provider = self.adapter(request).get_provider()
        location = provider.redirect(request, "login")["Location"]
        self.session = request.session  # allauth saves and reloads it with the state
        return location

    def callback(self, location: str):
        """What the callback view does, up to the SocialLogin."""
        from allauth.socialaccount.internal import statekit

        url = urlsplit(location)
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        request = self.request(url.path, query)
        adapter = self.adapter(request)
        provider = adapter.get_provider()
        state = statekit.unstash_state(
            request, provider_id=provider.sub_id, state_id=query["state"]
        )
        assert state is not None, "allauth did not find its state again"
        client = adapter.get_client(request, self.app)
        data = adapter.get_access_token_data(
            request, self.app, client, pkce_code_verifier=state.get("pkce_code_verifier")
        )
        token = adapter.parse_token(data)
        login = adapter.complete_login(request, self.app, token, response=data)
        return login, data


def sign_in(oidc_provider, client: AllauthClient):
    return client.callback(oidc_provider.authorize(client.start()))


@pytest.fixture
def provider(oidc_provider, allauth_installed):
    oidc_provider.set_user(
        sub="corp-17",
        email="dana@example.com",
        email_verified=True,
        name="Dana Scully",
        given_name="Dana",
        family_name="Scully",
    )
    return oidc_provider


def test_allauth_signs_in_with_its_defaults(provider):
    client = AllauthClient(provider.issuer)
    provider.register_client(CLIENT_ID, SECRET, [client.callback_url()])

    login, _ = sign_in(provider, client)

    assert login.account.provider == "corp"
    assert login.account.uid == "corp-17"
    assert login.account.extra_data["userinfo"]["email"] == "dana@example.com"
    assert login.account.extra_data["id_token"]["iss"] == provider.issuer
    assert [(e.email, e.verified) for e in login.email_addresses] == [("dana@example.com", True)]
    assert (login.user.email, login.user.first_name, login.user.last_name) == (
        "dana@example.com",
        "Dana",
        "Scully",
    )
    (asked,) = provider.authorization_requests
    assert set(asked["scope"].split()) == {"openid", "profile", "email"}
    assert "code_challenge" not in asked  # PKCE is off unless the app turns it on
    assert "nonce" not in asked
    (sent,) = provider.token_requests
    assert sent["auth_method"] == "client_secret_post"


def test_allauth_with_pkce_and_basic_authentication(provider):
    client = AllauthClient(
        provider.issuer, oauth_pkce_enabled=True, token_auth_method="client_secret_basic"
    )
    provider.register_client(CLIENT_ID, SECRET, [client.callback_url()])

    login, _ = sign_in(provider, client)

    assert login.account.uid == "corp-17"
    assert provider.authorization_requests[0]["code_challenge_method"] == "S256"
    assert provider.token_requests[0]["auth_method"] == "client_secret_basic"
    assert provider.token_requests[0]["code_verifier"]


def test_allauth_reads_an_unverified_email_as_unverified(provider):
    provider.set_user(sub="corp-18", email="fox@example.com", email_verified=False)
    client = AllauthClient(provider.issuer, fetch_userinfo=False)
    provider.register_client(CLIENT_ID, SECRET, [client.callback_url()])

    login, _ = sign_in(provider, client)

    assert "userinfo" not in login.account.extra_data  # from the ID token alone
    assert [(e.email, e.verified) for e in login.email_addresses] == [("fox@example.com", False)]


def test_allauth_verifies_the_id_token_signature(provider):
    """`verify_token` (token sign-in, as allauth's headless API offers) checks the
    signature against the provider's JWKS, which the redirect flow may skip."""
    from django.core.exceptions import ValidationError

    client = AllauthClient(provider.issuer)
    provider.register_client(CLIENT_ID, SECRET, [client.callback_url()])
    _, data = sign_in(provider, client)
    request = client.request("/")
    allauth_provider = client.adapter(request).get_provider()

    login = allauth_provider.verify_token(request, {"id_token": data["id_token"]})
    assert login.account.uid == "corp-17"

    header, payload, signature = data["id_token"].split(".")
    forged = f"{header}.{payload}.{signature[:-4]}AAAA"
    with pytest.raises(ValidationError):
        allauth_provider.verify_token(request, {"id_token": forged})


def test_allauth_reports_a_refused_token_request(provider):
    from allauth.socialaccount.providers.oauth2.client import OAuth2Error

    client = AllauthClient(provider.issuer)
    provider.register_client(CLIENT_ID, "the-provider-expects-another", [client.callback_url()])

    with pytest.raises(OAuth2Error, match="invalid_client"):
        sign_in(provider, client)
