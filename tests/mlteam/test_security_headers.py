"""Security headers under the production settings, on the product's pages and the
admin; `Cache-Control: private, no-store` on everything a signed-in person is
shown; the product's own 404 page; and no inline script or style in a template.

The production values come from `mlteam.settings.production` itself, loaded in a
clean process with a production environment (as `make check` does), and applied
here with override_settings: the requests run through the real middleware."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse

from mlteam.middleware import permissions_policy_header, private_no_store
from tests.api.conftest import bearer, token_for
from tests.mlteam.test_settings import GOOD_PRODUCTION

HOST = "mlteam.example.com"
# What production answers with, read from its settings module (names only).
PRODUCTION_SETTINGS = (
    "ALLOWED_HOSTS",
    "MIDDLEWARE",
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_REFERRER_POLICY",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_NAME",
    "CSRF_COOKIE_SECURE",
    "CSRF_COOKIE_NAME",
    "LANGUAGE_COOKIE_SECURE",
    "CONTENT_SECURITY_POLICY",
    "PERMISSIONS_POLICY",
    "X_FRAME_OPTIONS",
)
NO_STORE = {"private", "no-store"}


@pytest.fixture(scope="module")
def production() -> dict[str, object]:
    script = (
        "import json, django; from django.conf import settings; django.setup(); "
        f"print(json.dumps({{n: getattr(settings, n) for n in {PRODUCTION_SETTINGS!r}}}, "
        "default=str))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=settings.BASE_DIR,
        env={"PATH": "/usr/bin:/bin", **GOOD_PRODUCTION},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    values["SECURE_PROXY_SSL_HEADER"] = tuple(values["SECURE_PROXY_SSL_HEADER"])
    return values


@pytest.fixture
def production_settings(production):
    with override_settings(**production):
        yield production


def https_client(user=None) -> Client:
    """A browser reaching production through its TLS-terminating proxy."""
    client = Client(HTTP_HOST=HOST, HTTP_X_FORWARDED_PROTO="https")
    if user is not None:
        client.force_login(user)
    return client


def client_for(user=None) -> Client:
    """A browser on the test settings (the cache rule is the same everywhere)."""
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def directives(header: str) -> dict[str, list[str]]:
    """`script-src 'self'; img-src 'self' data:` -> {"script-src": ["'self'"], ...}"""
    parsed = {}
    for part in header.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def cache_control(response) -> set[str]:
    return {part.strip() for part in response.headers.get("Cache-Control", "").split(",")}


def assert_production_headers(response) -> None:
    assert response.headers["Strict-Transport-Security"] == (
        "max-age=31536000; includeSubDomains; preload"
    )
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    policy = response.headers["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in policy
    csp = response.headers["Content-Security-Policy"]
    parsed = directives(csp)
    assert parsed["script-src"] == ["'self'"]
    assert parsed["style-src"] == ["'self'"]
    assert parsed["default-src"] == ["'self'"]
    assert parsed["object-src"] == ["'none'"]
    assert parsed["frame-ancestors"] == ["'none'"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "nonce-" not in csp


# --- production headers on a page and on the admin ------------------------------------


def test_a_signed_in_page_sends_the_production_headers(production_settings, history):
    response = https_client(history.manager).get(reverse("roles:project_list"))
    assert response.status_code == 200
    assert_production_headers(response)
    assert cache_control(response) >= NO_STORE


@pytest.mark.parametrize(
    "url_name", ["admin:index", "admin:roles_project_changelist", "admin:roles_project_change"]
)
def test_the_admin_sends_the_production_headers(production_settings, history, url_name):
    args = [history.project.pk] if url_name.endswith("_change") else []
    response = https_client(history.root).get(reverse(url_name, args=args))
    assert response.status_code == 200
    assert_production_headers(response)
    assert cache_control(response) >= NO_STORE


def test_the_admin_sign_in_page_sends_the_production_headers(production_settings, db):
    """Signed out, the admin asks for sign-in (on its own page or the product's)."""
    response = https_client().get(reverse("admin:login"), follow=True)
    assert response.status_code == 200
    assert 'type="password"' in response.content.decode()
    assert_production_headers(response)


def test_production_cookies_are_secure_and_host_only(production_settings, db):
    assert production_settings["SESSION_COOKIE_SECURE"] is True
    assert production_settings["SESSION_COOKIE_HTTPONLY"] is True
    assert production_settings["SESSION_COOKIE_NAME"].startswith("__Host-")
    response = https_client().get(reverse("admin:login"), follow=True)  # a sign-in form
    cookie = response.cookies[production_settings["CSRF_COOKIE_NAME"]]
    assert production_settings["CSRF_COOKIE_NAME"].startswith("__Host-")
    assert cookie["secure"] is True
    assert cookie["path"] == "/"
    assert not cookie["domain"]


def test_plain_http_is_redirected_to_https(production_settings, db):
    response = Client(HTTP_HOST=HOST).get(reverse("login"))
    assert response.status_code == 301
    assert response.headers["Location"] == f"https://{HOST}{reverse('login')}"


# --- Cache-Control: private, no-store for whatever a signed-in person sees -------------


def test_a_review_page_is_not_stored(history):
    response = client_for(history.manager).get(
        reverse("reviews:review_detail", args=[history.review.pk])
    )
    assert response.status_code == 200
    assert cache_control(response) >= NO_STORE


def test_the_person_reading_their_own_review_is_not_stored_either(history):
    response = client_for(history.aiko).get(
        reverse("reviews:review_detail", args=[history.review.pk])
    )
    assert response.status_code == 200
    assert cache_control(response) >= NO_STORE


def test_a_csv_export_is_not_stored(history):
    response = client_for(history.manager).get(reverse("deliverables:export"))
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert cache_control(response) >= NO_STORE


def test_an_api_answer_to_a_session_is_not_stored(history):
    response = client_for(history.manager).get("/api/v1/projects/")
    assert response.status_code == 200
    assert cache_control(response) >= NO_STORE


def test_an_api_answer_to_a_token_is_not_stored(history):
    """The token is checked inside the view (DRF); the header still follows."""
    from rest_framework.test import APIClient

    client = bearer(APIClient(), token_for(history.manager))
    response = client.get(f"/api/v1/projects/{history.project.pk}/")
    assert response.status_code == 200
    assert cache_control(response) >= NO_STORE


def test_a_refusal_to_a_signed_in_person_is_not_stored_either(history):
    """A 404 for a review someone may not see says nothing worth keeping, but the
    page around it is still theirs."""
    outsider = type(history.aiko).objects.create_user("outsider", password="x" * 12)
    response = client_for(outsider).get(reverse("reviews:review_detail", args=[history.review.pk]))
    assert response.status_code == 404
    assert cache_control(response) >= NO_STORE


def test_the_same_page_signed_out_stays_cacheable(history):
    """The rule follows the person: the API docs (open to all) are stored for no one
    signed in, and left to the browser's cache when signed out."""
    signed_out = client_for().get("/api/docs/")
    signed_in = client_for(history.manager).get("/api/docs/")
    assert signed_out.status_code == signed_in.status_code == 200
    assert "no-store" not in cache_control(signed_out)
    assert cache_control(signed_in) >= NO_STORE


def test_a_views_own_caching_gives_way_to_private_no_store():
    assert private_no_store("public, max-age=3600") == "private, no-store"
    assert private_no_store("max-age=0, no-cache, no-store, must-revalidate, private") == (
        "private, no-store, no-cache, must-revalidate"
    )
    assert private_no_store("") == "private, no-store"


def test_the_permissions_policy_header_lists_each_feature():
    assert permissions_policy_header({"usb": [], "camera": [], "fullscreen": ["self"]}) == (
        "camera=(), fullscreen=(self), usb=()"
    )


# --- the product's own 404 page ---------------------------------------------------------


@pytest.mark.parametrize("signed_in", [True, False], ids=["signed in", "signed out"])
def test_an_unknown_address_shows_the_products_404_page(history, signed_in):
    client = client_for(history.manager if signed_in else None)
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "Page not found" in page
    assert 'href="/static/css/mlteam.css"' in page  # the product's layout
    assert "URLconf" not in page and "admin/" not in page


# --- no inline script or style in what the site serves ---------------------------------

# Pages only: emails are not under the CSP, and mail clients need inline styles.
TEMPLATE_ROOTS = [
    Path(settings.BASE_DIR) / "templates",
    *(Path(settings.BASE_DIR) / app / "templates" for app in ("mlteam", "roles", "deliverables")),
]
INLINE = {
    "inline script": re.compile(
        r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.IGNORECASE
    ),
    "style attribute": re.compile(r"<[a-z][^>]*\sstyle=", re.IGNORECASE),
    "<style> element": re.compile(r"<style\b", re.IGNORECASE),
    "event handler attribute": re.compile(r"<[a-z][^>]*\son[a-z]+=", re.IGNORECASE),
    "javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
}


COMMENTS = re.compile(r"{% comment %}.*?{% endcomment %}|{#.*?#}", re.DOTALL)


def served_templates() -> list[Path]:
    return sorted(
        path
        for root in TEMPLATE_ROOTS
        if root.is_dir()
        for path in root.rglob("*.html")
        if "emails" not in path.relative_to(root).parts
    )


def test_no_template_has_an_inline_script_or_style():
    """The CSP allows script and style files only (no 'unsafe-inline', no nonce):
    anything inline would be refused in the browser. Values reach scripts through
    data-* attributes or json_script; handlers are bound with addEventListener."""
    found = [
        f"{path.relative_to(settings.BASE_DIR)}: {kind}"
        for path in served_templates()
        for kind, pattern in INLINE.items()
        if pattern.search(COMMENTS.sub("", path.read_text(encoding="utf-8")))
    ]
    assert served_templates()
    assert found == []


def test_the_500_page_renders_with_its_styles_from_a_file():
    from django.template import loader

    page = loader.get_template("500.html").render({})
    assert f'href="{settings.STATIC_URL}css/server-error.css"' in page
    assert "style=" not in page
    assert (Path(settings.BASE_DIR) / "static" / "css" / "server-error.css").is_file()
