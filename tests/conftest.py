from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings

from tests.factories import PASSWORD, UserFactory, admin_user, manager_user

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(settings.BASE_DIR) / "test-results"


def require(condition: bool, reason: str) -> None:
    """Skip locally when a tool or service is missing; in CI that is a failure."""
    if condition:
        return
    if settings.CI:
        pytest.fail(f"CI must provide this: {reason}")
    pytest.skip(reason)


@pytest.fixture
def member(db):
    return UserFactory(username="member")


@pytest.fixture
def manager(db):
    return manager_user(username="manager")


@pytest.fixture
def admin(db):
    return admin_user(username="admin")


@pytest.fixture
def browser():
    """Headless Debian Chromium driven by Playwright (never a downloaded browser).

    Function-scoped on purpose: Playwright's sync API keeps an event loop running
    in this thread, and while it runs Django hands out a fresh, context-local
    database connection. Stopping it after each test lets the next test's
    database setup (serialized rollback) use the real test connection.
    """
    require(Path(CHROMIUM).exists() and shutil.which("chromium") is not None, "Debian chromium")
    # Playwright's sync API runs an event loop in this thread; the Django ORM
    # calls the tests make alongside it are still plain synchronous calls.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()
        # Connections opened while Playwright's loop ran are local to that
        # context: close them here, or they outlive the test database.
        from django.db import connections

        connections.close_all()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def oidc_provider():
    """A real OpenID Connect provider on 127.0.0.1 for this test (tests/oidc_provider.py):
    register a client, choose who signs in with `set_user`, point the client at
    `oidc_provider.issuer`. Its server thread stops when the test ends."""
    from tests.oidc_provider import OIDCProvider

    with OIDCProvider() as provider:
        yield provider


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the site's language: a request in Japanese leaves it
    active in the thread (LocaleMiddleware activates, nothing deactivates), which
    made a later test that words something outside a request read Japanese."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Cached dashboards never carry over from one test to the next."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def set_language(context, live_server, language: str) -> None:
    """Have the browser `context` ask the live server for pages in `language` (the
    cookie the language switcher sets)."""
    from django.conf import settings

    host = live_server.url.split("//", 1)[1].split(":")[0]
    context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "domain": host, "path": "/"}]
    )


def language_context(
    browser, live_server, language: str, *, width: int, height: int = 844, **options
):
    """A new browser context of the given viewport that reads pages in `language`."""
    context = browser.new_context(viewport={"width": width, "height": height}, **options)
    set_language(context, live_server, language)
    return context


def sign_in(page, base_url: str, username: str) -> None:
    """Sign in through the real form, whatever the interface language, and wait
    until the browser has left the sign-in page."""
    page.goto(f"{base_url}/accounts/login/")
    page.locator("#id_login").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


# A section a page fetches once drawn (hx-trigger="load": the project page's panels,
# the portfolio's workload and activity) is still its placeholder.
_FETCHING = """() => !document.querySelector('[hx-trigger="load"][hx-get]')"""


def goto_drawn(page, url: str):
    """`page.goto(url)`, then wait until the sections the page fetches once drawn
    have arrived, so that checks of the page see them in place."""
    response = page.goto(url)
    page.wait_for_function(_FETCHING)
    return response
