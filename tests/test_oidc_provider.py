"""The local OpenID Connect provider the single sign-on tests rely on
(tests/oidc_provider.py), driven over HTTP with plain `requests`, the way a
relying party would, and its answers checked against the specifications."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlsplit

import jwt as pyjwt
import pytest
import requests
import time_machine
from joserfc import jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet, RSAKey
from joserfc.jwt import JWTClaimsRegistry

from tests.oidc_provider import OIDCProvider

CLIENT_ID = "mlteam"
SECRET = "s3cret-for-tests"
CALLBACK = "http://127.0.0.1:8000/accounts/oidc/corp/login/callback/"


@pytest.fixture
def provider(oidc_provider):
    oidc_provider.register_client(CLIENT_ID, SECRET, [CALLBACK])
    oidc_provider.set_user(
        sub="user-42",
        email="aiko@example.com",
        email_verified=True,
        name="Aiko Tanaka",
        given_name="Aiko",
        family_name="Tanaka",
    )
    return oidc_provider


def discover(provider) -> dict:
    response = requests.get(f"{provider.issuer}/.well-known/openid-configuration", timeout=5)
    assert response.status_code == 200
    return response.json()


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorize(config: dict, **params) -> requests.Response:
    query = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": CALLBACK,
        "scope": "openid profile email",
        "state": secrets.token_urlsafe(16),
    }
    query.update(params)
    query = {key: value for key, value in query.items() if value is not None}
    return requests.get(
        config["authorization_endpoint"], params=query, allow_redirects=False, timeout=5
    )


def redirect_params(response: requests.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == CALLBACK
    return {key: values[0] for key, values in parse_qs(location.query).items()}


def get_code(config: dict, **params) -> str:
    state = params.setdefault("state", secrets.token_urlsafe(16))
    answer = redirect_params(authorize(config, **params))
    assert answer["state"] == state
    return answer["code"]


def exchange(config: dict, code: str, *, basic=True, secret=SECRET, **extra) -> requests.Response:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}
    data.update(extra)
    auth = None
    if basic:
        auth = (CLIENT_ID, secret)
    else:
        data.update(client_id=CLIENT_ID, client_secret=secret)
    return requests.post(config["token_endpoint"], data=data, auth=auth, timeout=5)


def userinfo(config: dict, access_token: str) -> requests.Response:
    return requests.get(
        config["userinfo_endpoint"],
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=5,
    )


def test_discovery_describes_the_provider(provider):
    config = discover(provider)

    assert config["issuer"] == provider.issuer
    assert provider.issuer.startswith("http://127.0.0.1:")
    for name, path in [
        ("authorization_endpoint", "/authorize"),
        ("token_endpoint", "/token"),
        ("userinfo_endpoint", "/userinfo"),
        ("jwks_uri", "/jwks"),
    ]:
        assert config[name] == provider.issuer + path
    assert config["response_types_supported"] == ["code"]
    assert config["id_token_signing_alg_values_supported"] == ["RS256"]
    assert set(config["scopes_supported"]) == {"openid", "profile", "email"}
    assert {"email", "email_verified", "sub"} <= set(config["claims_supported"])
    assert set(config["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
    }
    assert config["code_challenge_methods_supported"] == ["S256"]


def test_authorization_code_flow_with_pkce_and_nonce(provider):
    config = discover(provider)
    verifier, challenge = pkce_pair()
    nonce = secrets.token_urlsafe(16)

    code = get_code(config, nonce=nonce, code_challenge=challenge, code_challenge_method="S256")
    response = exchange(config, code, code_verifier=verifier)

    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    token = response.json()
    assert token["token_type"] == "Bearer"
    assert set(token["scope"].split()) == {"openid", "profile", "email"}

    # The ID token is signed with the key published at jwks_uri.
    jwks = requests.get(config["jwks_uri"], timeout=5).json()
    assert all("d" not in key for key in jwks["keys"]), "only public keys are published"
    id_token = jwt.decode(token["id_token"], KeySet.import_key_set(jwks), algorithms=["RS256"])
    assert id_token.header["alg"] == "RS256"
    assert id_token.header["kid"] == jwks["keys"][0]["kid"]
    JWTClaimsRegistry(
        iss={"essential": True, "value": provider.issuer},
        aud={"essential": True, "value": CLIENT_ID},
        sub={"essential": True, "value": "user-42"},
        nonce={"essential": True, "value": nonce},
        exp={"essential": True},
        iat={"essential": True},
    ).validate(id_token.claims)
    now = time.time()
    assert now - 60 < id_token.claims["iat"] <= now + 1
    assert id_token.claims["exp"] > now
    assert id_token.claims["email"] == "aiko@example.com"
    assert id_token.claims["email_verified"] is True
    # at_hash binds the access token to this ID token (OIDC Core 3.1.3.6).
    digest = hashlib.sha256(token["access_token"].encode("ascii")).digest()
    at_hash = base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode("ascii")
    assert id_token.claims["at_hash"] == at_hash

    # A key the provider did not publish does not verify it.
    with pytest.raises(BadSignatureError):
        jwt.decode(token["id_token"], RSAKey.generate_key(2048), algorithms=["RS256"])

    info = userinfo(config, token["access_token"])
    assert info.status_code == 200
    assert info.json() == {
        "sub": "user-42",
        "email": "aiko@example.com",
        "email_verified": True,
        "name": "Aiko Tanaka",
        "given_name": "Aiko",
        "family_name": "Tanaka",
    }
    assert provider.token_requests[-1]["auth_method"] == "client_secret_basic"
    assert provider.authorization_requests[-1]["code_challenge"] == challenge


def test_client_secret_post_without_pkce_or_nonce(provider):
    """What a client without PKCE or nonce (allauth's defaults) does."""
    config = discover(provider)
    code = get_code(config)

    response = exchange(config, code, basic=False)

    assert response.status_code == 200, response.text
    claims = jwt.decode(
        response.json()["id_token"],
        KeySet.import_key_set(requests.get(config["jwks_uri"], timeout=5).json()),
    ).claims
    assert "nonce" not in claims
    assert claims["aud"] == CLIENT_ID
    assert provider.token_requests[-1]["auth_method"] == "client_secret_post"
    assert "client_secret" not in provider.token_requests[-1]


def test_id_token_verifies_with_pyjwt_as_allauth_does(provider):
    """allauth decodes ID tokens with PyJWT, finding the key by `kid` in the JWKS."""
    config = discover(provider)
    response = exchange(config, get_code(config), basic=False)
    id_token = response.json()["id_token"]

    header = pyjwt.get_unverified_header(id_token)
    keys = requests.get(config["jwks_uri"], timeout=5).json()["keys"]
    (jwk,) = [key for key in keys if key["kid"] == header["kid"]]
    public_key = pyjwt.algorithms.RSAAlgorithm.from_jwk(jwk)
    claims = pyjwt.decode(
        id_token,
        key=public_key,
        algorithms=[header["alg"]],
        issuer=config["issuer"],
        audience=CLIENT_ID,
        options={"verify_exp": True, "verify_iss": True, "verify_aud": True},
    )
    assert claims["sub"] == "user-42"


def test_unverified_email_is_reported_as_such(provider):
    provider.set_user(sub="7", email="ben@example.com", email_verified=False, name="Ben")
    config = discover(provider)

    token = exchange(config, get_code(config)).json()

    info = userinfo(config, token["access_token"]).json()
    assert info["email"] == "ben@example.com"
    assert info["email_verified"] is False
    assert jwt.decode(token["id_token"], provider.key).claims["email_verified"] is False


def test_claims_follow_the_granted_scopes(provider):
    config = discover(provider)

    token = exchange(config, get_code(config, scope="openid")).json()

    assert token["scope"] == "openid"
    assert userinfo(config, token["access_token"]).json() == {"sub": "user-42"}
    claims = jwt.decode(token["id_token"], provider.key).claims
    assert "email" not in claims


def test_the_user_can_change_between_authorizations(provider):
    config = discover(provider)
    first = exchange(config, get_code(config)).json()
    provider.set_user(sub="99", email="chen@example.com", email_verified=True)

    second = exchange(config, get_code(config)).json()

    assert userinfo(config, first["access_token"]).json()["sub"] == "user-42"
    assert userinfo(config, second["access_token"]).json()["email"] == "chen@example.com"


@pytest.mark.parametrize("basic", [True, False], ids=["basic", "post"])
def test_wrong_client_secret_is_refused(provider, basic):
    config = discover(provider)
    code = get_code(config)

    response = exchange(config, code, basic=basic, secret="not-the-secret")

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    # The code was not spent by the failed attempt.
    assert exchange(config, code, basic=basic).status_code == 200


def test_unknown_client_at_the_token_endpoint_is_refused(provider):
    config = discover(provider)
    response = requests.post(
        config["token_endpoint"],
        data={"grant_type": "authorization_code", "code": get_code(config)},
        auth=("someone-else", SECRET),
        timeout=5,
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_a_code_works_once_and_its_reuse_revokes_the_tokens(provider):
    config = discover(provider)
    code = get_code(config)
    first = exchange(config, code)
    assert first.status_code == 200
    access_token = first.json()["access_token"]
    assert userinfo(config, access_token).status_code == 200

    again = exchange(config, code)

    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    revoked = userinfo(config, access_token)
    assert revoked.status_code == 401
    assert revoked.json()["error"] == "invalid_token"


def test_a_code_sent_twice_at_once_gives_one_token(provider):
    config = discover(provider)
    code = get_code(config)

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = sorted(pool.map(lambda _: exchange(config, code).status_code, range(4)))

    assert statuses == [200, 400, 400, 400]


def test_a_code_expires_after_ten_minutes(provider):
    config = discover(provider)
    code = get_code(config)

    with time_machine.travel(time.time() + 601, tick=False):
        response = exchange(config, code)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_a_code_belongs_to_its_client(provider):
    provider.register_client("other", "other-secret", [CALLBACK])
    config = discover(provider)
    code = get_code(config)

    response = requests.post(
        config["token_endpoint"],
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK},
        auth=("other", "other-secret"),
        timeout=5,
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "http://127.0.0.1:8000/elsewhere/",
        CALLBACK + "?next=/admin/",
        CALLBACK.rstrip("/"),
        "https://attacker.example/callback/",
    ],
)
def test_unregistered_redirect_uri_is_refused_without_redirecting(provider, redirect_uri):
    response = authorize(discover(provider), redirect_uri=redirect_uri)

    assert response.status_code == 400
    assert "Location" not in response.headers
    assert response.json()["error"] == "invalid_request"


def test_missing_redirect_uri_is_refused(provider):
    response = authorize(discover(provider), redirect_uri=None)

    assert response.status_code == 400
    assert "Location" not in response.headers


def test_unknown_client_id_is_refused_without_redirecting(provider):
    response = authorize(discover(provider), client_id="nobody")

    assert response.status_code == 400
    assert "Location" not in response.headers
    assert response.json()["error"] == "invalid_client"


def test_token_redirect_uri_must_match_the_authorization(provider):
    provider.register_client(CLIENT_ID, SECRET, [CALLBACK, "http://127.0.0.1:8000/other/"])
    config = discover(provider)
    code = get_code(config)

    response = exchange(config, code, redirect_uri="http://127.0.0.1:8000/other/")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_pkce_wrong_or_missing_verifier_is_refused(provider):
    config = discover(provider)
    verifier, challenge = pkce_pair()

    code = get_code(config, code_challenge=challenge, code_challenge_method="S256")
    wrong = exchange(config, code, code_verifier=pkce_pair()[0])
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"

    code = get_code(config, code_challenge=challenge, code_challenge_method="S256")
    missing = exchange(config, code)
    assert missing.status_code == 400
    assert missing.json()["error"] == "invalid_request"

    # A verifier for a code that had no challenge is refused too (RFC 9700 4.8).
    unasked = exchange(config, get_code(config), code_verifier=verifier)
    assert unasked.status_code == 400


def test_plain_pkce_is_refused_back_at_the_client(provider):
    verifier, _ = pkce_pair()
    answer = redirect_params(
        authorize(
            discover(provider),
            state="s1",
            code_challenge=verifier,
            code_challenge_method="plain",
        )
    )
    assert answer == {
        "error": "invalid_request",
        "error_description": answer["error_description"],
        "state": "s1",
    }


def test_a_nonce_cannot_be_replayed(provider):
    config = discover(provider)
    get_code(config, nonce="once")

    answer = redirect_params(authorize(config, nonce="once"))

    assert answer["error"] == "invalid_request"


def test_authorize_helper_returns_the_redirect_back_to_the_client(provider):
    config = discover(provider)
    url = (
        requests.Request(
            "GET",
            config["authorization_endpoint"],
            params={
                "response_type": "code",
                "client_id": CLIENT_ID,
                "redirect_uri": CALLBACK,
                "scope": "openid",
                "state": "abc",
            },
        )
        .prepare()
        .url
    )

    location = provider.authorize(url)

    assert location.startswith(CALLBACK + "?")
    answer = parse_qs(urlsplit(location).query)
    assert answer["state"] == ["abc"]
    assert exchange(config, answer["code"][0]).status_code == 200
    with pytest.raises(AssertionError, match="400"):
        provider.authorize(url.replace("client_id=mlteam", "client_id=nobody"))


def test_without_a_signed_in_user_the_client_gets_access_denied(provider):
    provider.clear_user()

    answer = redirect_params(authorize(discover(provider), state="xyz"))

    assert answer["error"] == "access_denied"
    assert answer["state"] == "xyz"
    assert "code" not in answer


def test_unsupported_response_type_and_scope(provider):
    config = discover(provider)

    assert redirect_params(authorize(config, response_type="token"))["error"] == (
        "unsupported_response_type"
    )
    assert redirect_params(authorize(config, scope="openid admin"))["error"] == "invalid_scope"


def test_userinfo_needs_a_valid_bearer_token(provider):
    config = discover(provider)

    missing = requests.get(config["userinfo_endpoint"], timeout=5)
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].lower().startswith("bearer ")

    forged = userinfo(config, "not-a-token")
    assert forged.status_code == 401
    assert forged.json()["error"] == "invalid_token"


def test_bad_requests_get_clear_errors(provider):
    config = discover(provider)

    assert requests.get(f"{provider.issuer}/nowhere", timeout=5).status_code == 404
    assert requests.get(config["token_endpoint"], timeout=5).status_code == 405
    no_grant = requests.post(config["token_endpoint"], data={}, auth=(CLIENT_ID, SECRET), timeout=5)
    assert no_grant.status_code == 400
    assert no_grant.json()["error"] == "unsupported_grant_type"


def test_each_provider_has_its_own_key_and_port_and_stops():
    first, second = OIDCProvider().start(), OIDCProvider().start()
    try:
        assert first.issuer != second.issuer
        assert first.key.kid != second.key.kid
    finally:
        first.stop()
        second.stop()

    with pytest.raises(requests.ConnectionError):
        requests.get(f"{first.issuer}/jwks", timeout=2)
    first.stop()  # stopping twice is harmless
