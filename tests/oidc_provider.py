"""A real OpenID Connect provider for tests, on 127.0.0.1 in a thread.

Built from Authlib's framework-agnostic authorization server: the
authorization-code grant with its OpenID Connect extension (`OpenIDCode`) and
PKCE (`CodeChallenge`), client authentication by `client_secret_basic` and
`client_secret_post`, ID tokens signed RS256 with a key made at start and
published at /jwks, and a bearer-protected /userinfo. There is no sign-in form:
/authorize approves at once as the person the test chose with `set_user`, the
way an identity provider does for someone already signed in there.

    provider = OIDCProvider()
    provider.start()
    provider.register_client("mlteam", "secret", ["http://127.0.0.1:8000/cb/"])
    provider.set_user(sub="42", email="aiko@example.com", email_verified=True)
    # point the client at provider.issuer; where a browser would visit the
    # client's authorization URL, provider.authorize(url) returns the callback URL
    provider.stop()

What clients sent is kept for assertions: `authorization_requests` (the query
of every /authorize) and `token_requests` (the form of every /token call, with
the client authentication method used, without the secret).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from socketserver import ThreadingMixIn
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import requests
from authlib.common.security import generate_token
from authlib.oauth2 import AuthorizationServer, OAuth2Error, OAuth2Request, ResourceProtector
from authlib.oauth2.rfc6749 import ClientMixin, InvalidRequestError, TokenMixin, grants
from authlib.oauth2.rfc6749.requests import OAuth2Payload
from authlib.oauth2.rfc6749.util import list_to_scope, scope_to_list
from authlib.oauth2.rfc6750 import BearerTokenGenerator, BearerTokenValidator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from authlib.oidc.core.models import AuthorizationCodeMixin
from authlib.oidc.discovery import OpenIDProviderMetadata
from joserfc.jwk import RSAKey
from requests.structures import CaseInsensitiveDict

SCOPES = ["openid", "profile", "email"]
AUTH_METHODS = ("client_secret_basic", "client_secret_post")
CODE_LIFETIME = 600  # seconds, the most RFC 6749 recommends
TOKEN_LIFETIME = 3600


@dataclass(frozen=True)
class User:
    """The person the provider vouches for. Claims left None are not sent."""

    sub: str
    email: str | None = None
    email_verified: bool | None = None
    name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    preferred_username: str | None = None

    def claims(self, scope: str) -> UserInfo:
        values = {
            "sub": self.sub,
            "email": self.email,
            "email_verified": self.email_verified,
            "name": self.name,
            "given_name": self.given_name,
            "family_name": self.family_name,
            "preferred_username": self.preferred_username,
        }
        return UserInfo({k: v for k, v in values.items() if v is not None}).filter(scope)


@dataclass
class Client(ClientMixin):
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    auth_methods: tuple[str, ...] = AUTH_METHODS

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        # OpenID Connect requires redirect_uri on every request: no default.
        return None

    def get_allowed_scope(self, scope):
        requested = scope_to_list(scope) or []
        return list_to_scope([s for s in SCOPES if s in requested])

    def check_redirect_uri(self, redirect_uri):
        # Exact string match, as OpenID Connect Core 3.1.2.1 requires.
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret):
        return secrets.compare_digest(self.client_secret.encode(), client_secret.encode())

    def check_endpoint_auth_method(self, method, endpoint):
        return method in self.auth_methods

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type == "authorization_code"


@dataclass
class AuthorizationCode(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: User
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int
    expires_at: float
    tokens: list[str] = field(default_factory=list)

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return self.nonce

    def get_auth_time(self):
        return self.auth_time


@dataclass
class Token(TokenMixin):
    access_token: str
    client: Client
    user: User
    scope: str
    expires_at: float
    revoked: bool = False

    def check_client(self, client):
        return client.client_id == self.client.client_id

    def get_scope(self):
        return self.scope

    def get_expires_in(self):
        return int(self.expires_at - time.time())

    def is_expired(self):
        return time.time() >= self.expires_at

    def is_revoked(self):
        return self.revoked

    def get_user(self):
        return self.user

    def get_client(self):
        return self.client


class _Payload(OAuth2Payload):
    def __init__(self, datalist: dict[str, list[str]]):
        self._datalist = datalist
        self._data = {key: values[0] for key, values in datalist.items()}

    @property
    def data(self):
        return self._data

    @property
    def datalist(self):
        return self._datalist


class _Request(OAuth2Request):
    """One WSGI request as Authlib's grants read it."""

    def __init__(self, environ):
        host = environ.get("HTTP_HOST") or f"{environ['SERVER_NAME']}:{environ['SERVER_PORT']}"
        query = environ.get("QUERY_STRING", "")
        uri = f"http://{host}{environ.get('PATH_INFO', '')}" + (f"?{query}" if query else "")
        headers = CaseInsensitiveDict(
            {
                key[5:].replace("_", "-"): value
                for key, value in environ.items()
                if key.startswith("HTTP_")
            }
        )
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        super().__init__(environ["REQUEST_METHOD"], uri, headers=headers)
        self.query = parse_qs(query)
        body = b""
        if environ["REQUEST_METHOD"] == "POST" and headers.get("Content-Type", "").startswith(
            "application/x-www-form-urlencoded"
        ):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length)
        self.body_params = parse_qs(body.decode("utf-8", errors="replace"))
        merged = {key: list(values) for key, values in self.query.items()}
        for key, values in self.body_params.items():
            merged.setdefault(key, []).extend(values)
        self.payload = _Payload(merged)

    @property
    def args(self):
        return {key: values[0] for key, values in self.query.items()}

    @property
    def form(self):
        return {key: values[0] for key, values in self.body_params.items()}


class _AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = list(AUTH_METHODS)

    def save_authorization_code(self, code, request):
        provider: OIDCProvider = self.server.provider
        data = request.payload.data
        item = AuthorizationCode(
            code=code,
            client_id=request.client.client_id,
            redirect_uri=request.payload.redirect_uri,
            scope=request.scope,
            user=request.user,
            nonce=data.get("nonce"),
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
            auth_time=int(time.time()),
            expires_at=time.time() + CODE_LIFETIME,
        )
        with provider._lock:
            provider._codes[code] = item
            if item.nonce:
                provider._nonces.add((item.client_id, item.nonce))

    def query_authorization_code(self, code, client):
        provider: OIDCProvider = self.server.provider
        with provider._lock:
            used = provider._used_codes.get(code)
            if used is not None:
                # A code presented twice: refuse it, and revoke what it gave the
                # first time (RFC 6749 section 4.1.2).
                for access_token in used.tokens:
                    provider._tokens[access_token].revoked = True
                return None
            item = provider._codes.get(code)
            if item is None or item.client_id != client.client_id:
                return None
            # Spent from here on, in the same lock: two requests racing with
            # one code cannot both have it.
            del provider._codes[code]
            provider._used_codes[code] = item
        if item.expires_at < time.time():
            return None
        return item

    def delete_authorization_code(self, authorization_code):
        pass  # spent when it was looked up

    def authenticate_user(self, authorization_code):
        return authorization_code.user

    def save_token(self, token):
        super().save_token(token)
        self.request.authorization_code.tokens.append(token["access_token"])


class _CodeChallenge(CodeChallenge):
    """PKCE with S256 only, the one method discovery advertises."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri):
        super().validate_code_challenge(grant, redirect_uri)
        data = grant.request.payload.data
        if data.get("code_challenge") and data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("Only code_challenge_method=S256 is supported.")


class _OpenIDCode(OpenIDCode):
    def __init__(self, provider: OIDCProvider):
        super().__init__(require_nonce=False)
        self.provider = provider

    def exists_nonce(self, nonce, request):
        with self.provider._lock:
            return (request.payload.client_id, nonce) in self.provider._nonces

    def resolve_client_private_key(self, client):
        return self.provider.key

    def get_client_algorithm(self, client):
        return "RS256"

    def get_encode_header(self, client):
        return {"alg": "RS256", "kid": self.provider.key.kid, "typ": "JWT"}

    def get_client_claims(self, client):
        return {"iss": self.provider.issuer, "aud": client.client_id}

    def generate_user_info(self, user, scope):
        return user.claims(scope)


class _Server(AuthorizationServer):
    def __init__(self, provider: OIDCProvider):
        super().__init__(scopes_supported=SCOPES)
        self.provider = provider
        self.register_token_generator(
            "default",
            BearerTokenGenerator(
                access_token_generator=lambda **kwargs: generate_token(42),
                expires_generator=TOKEN_LIFETIME,
            ),
        )
        self.register_grant(
            _AuthorizationCodeGrant, [_CodeChallenge(required=False), _OpenIDCode(provider)]
        )

    def query_client(self, client_id):
        return self.provider._clients.get(client_id)

    def save_token(self, token, request):
        item = Token(
            access_token=token["access_token"],
            client=request.client,
            user=request.user,
            scope=token.get("scope", ""),
            expires_at=time.time() + token["expires_in"],
        )
        with self.provider._lock:
            self.provider._tokens[item.access_token] = item

    def create_oauth2_request(self, request):
        return request

    def create_json_request(self, request):
        raise NotImplementedError

    def handle_response(self, status, body, headers):
        return status, body, headers

    def send_signal(self, name, *args, **kwargs):
        pass


class _BearerValidator(BearerTokenValidator):
    def __init__(self, provider: OIDCProvider):
        super().__init__()
        self.provider = provider

    def authenticate_token(self, token_string):
        with self.provider._lock:
            return self.provider._tokens.get(token_string)


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


class OIDCProvider:
    def __init__(self, host: str = "127.0.0.1"):
        self.host = host
        self.key = RSAKey.generate_key(
            2048, parameters={"kid": generate_token(16), "use": "sig", "alg": "RS256"}
        )
        self._lock = threading.Lock()
        self._clients: dict[str, Client] = {}
        self._codes: dict[str, AuthorizationCode] = {}
        self._used_codes: dict[str, AuthorizationCode] = {}
        self._tokens: dict[str, Token] = {}
        self._nonces: set[tuple[str, str]] = set()
        self.user: User | None = None
        self.authorization_requests: list[dict[str, str]] = []
        self.token_requests: list[dict[str, str]] = []
        self._server = _Server(self)
        self._resource_protector = ResourceProtector()
        self._resource_protector.register_token_validator(_BearerValidator(self))
        self._httpd = None
        self._thread = None

    # The test's side -----------------------------------------------------

    def start(self) -> OIDCProvider:
        self._httpd = make_server(
            self.host,
            0,
            self._wsgi,
            server_class=_ThreadingWSGIServer,
            handler_class=_QuietHandler,
        )
        self.port = self._httpd.server_port
        self.issuer = f"http://{self.host}:{self.port}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},  # how soon stop() returns
            name="oidc-provider",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
        self._httpd = None

    def __enter__(self) -> OIDCProvider:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def register_client(
        self,
        client_id: str,
        client_secret: str,
        redirect_uris: list[str] | str,
        auth_methods: tuple[str, ...] = AUTH_METHODS,
    ) -> Client:
        """Register (or replace) a confidential client; `auth_methods` narrows how
        it may authenticate at /token."""
        if isinstance(redirect_uris, str):
            redirect_uris = [redirect_uris]
        client = Client(client_id, client_secret, list(redirect_uris), tuple(auth_methods))
        with self._lock:
            self._clients[client_id] = client
        return client

    def set_user(
        self,
        *,
        sub: str,
        email: str | None = None,
        email_verified: bool | None = None,
        name: str | None = None,
        given_name: str | None = None,
        family_name: str | None = None,
        preferred_username: str | None = None,
    ) -> User:
        """Who the next authorizations approve as (until changed)."""
        self.user = User(
            sub=str(sub),
            email=email,
            email_verified=email_verified,
            name=name,
            given_name=given_name,
            family_name=family_name,
            preferred_username=preferred_username,
        )
        return self.user

    def clear_user(self) -> None:
        """Nobody is signed in: /authorize answers access_denied, as when a person
        cancels at the provider."""
        self.user = None

    def authorize(self, authorization_url: str) -> str:
        """Visit the client's authorization URL as the person's browser would and
        return where the provider sends it back: the client's callback with
        `code` and `state` (or `error`). For Django's test client, which does not
        follow redirects to other hosts."""
        response = requests.get(authorization_url, allow_redirects=False, timeout=10)
        if response.status_code != 302:
            raise AssertionError(
                f"The provider refused to redirect ({response.status_code}): {response.text}"
            )
        return response.headers["Location"]

    @property
    def jwks(self) -> dict:
        return {"keys": [self.key.as_dict(private=False)]}

    @property
    def configuration(self) -> dict:
        metadata = OpenIDProviderMetadata(
            issuer=self.issuer,
            authorization_endpoint=f"{self.issuer}/authorize",
            token_endpoint=f"{self.issuer}/token",
            userinfo_endpoint=f"{self.issuer}/userinfo",
            jwks_uri=f"{self.issuer}/jwks",
            scopes_supported=SCOPES,
            response_types_supported=["code"],
            response_modes_supported=["query"],
            grant_types_supported=["authorization_code"],
            subject_types_supported=["public"],
            id_token_signing_alg_values_supported=["RS256"],
            token_endpoint_auth_methods_supported=list(AUTH_METHODS),
            code_challenge_methods_supported=["S256"],
            claims_supported=[
                "sub",
                "iss",
                "aud",
                "exp",
                "iat",
                "auth_time",
                "nonce",
                "at_hash",
                "email",
                "email_verified",
                "name",
                "given_name",
                "family_name",
                "preferred_username",
            ],
        )
        metadata.validate()
        return dict(metadata)

    # The HTTP side -------------------------------------------------------

    def _wsgi(self, environ, start_response):
        request = _Request(environ)
        path = environ.get("PATH_INFO", "")
        routes = {
            "/.well-known/openid-configuration": ("GET", self._discovery),
            "/jwks": ("GET", self._jwks),
            "/authorize": ("GET", self._authorize),
            "/token": ("POST", self._token),
            "/userinfo": ("GET", self._userinfo),
        }
        if path not in routes:
            status, body, headers = 404, {"error": "not_found"}, []
        elif request.method != routes[path][0] and not (
            path == "/userinfo" and request.method == "POST"
        ):
            status, body, headers = 405, {"error": "method_not_allowed"}, []
        else:
            try:
                status, body, headers = routes[path][1](request)
            except OAuth2Error as error:
                status, body, headers = error()
        if isinstance(body, dict):
            body = json.dumps(body)
            headers = [*headers, ("Content-Type", "application/json")]
        headers = _unique([("Content-Type", "text/plain; charset=utf-8"), *headers])
        start_response(f"{status} {HTTPStatus(status).phrase}", headers)
        return [body.encode("utf-8")]

    def _discovery(self, request):
        return 200, self.configuration, []

    def _jwks(self, request):
        return 200, self.jwks, []

    def _authorize(self, request):
        self.authorization_requests.append(dict(request.payload.data))
        user = self.user
        try:
            grant = self._server.get_consent_grant(request, end_user=user)
        except OAuth2Error as error:
            return self._server.handle_error_response(request, error)
        return self._server.create_authorization_response(request, grant_user=user, grant=grant)

    def _token(self, request):
        entry = {k: v for k, v in request.form.items() if k != "client_secret"}
        status, body, headers = self._server.create_token_response(request)
        entry["auth_method"] = request.auth_method
        self.token_requests.append(entry)
        return status, body, list(headers)

    def _userinfo(self, request):
        token = self._resource_protector.validate_request(["openid"], request)
        return 200, dict(token.user.claims(token.scope)), [("Cache-Control", "no-store")]


def _unique(headers):
    """One value per header name, the last given."""
    seen = {}
    for name, value in headers:
        seen[name.lower()] = (name, value)
    return list(seen.values())
