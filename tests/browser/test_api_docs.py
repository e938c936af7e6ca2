"""Headless Chromium on /api/docs/: Swagger UI (from drf-spectacular-sidecar)
starts under the site's CSP, lists the schema's operations, and a signed-in
person can try a call with their session; nothing is fetched from another origin."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.conftest import sign_in
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _watch(page, origin: str) -> tuple[list[str], list[str]]:
    """Console errors (a CSP refusal is one) and requests to any other origin."""
    errors: list[str] = []
    elsewhere: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))

    def _request(request):
        parts = urlsplit(request.url)
        if parts.scheme in {"http", "https"} and f"{parts.scheme}://{parts.netloc}" != origin:
            elsewhere.append(request.url)

    page.on("request", _request)
    return errors, elsewhere


def test_the_docs_list_the_operations_with_no_csp_error_and_nothing_from_elsewhere(
    live_server, page
):
    errors, elsewhere = _watch(page, live_server.url)
    page.goto(f"{live_server.url}/api/docs/")
    page.locator(".opblock-summary-path[data-path='/api/v1/roles/{id}/']").wait_for()
    assert page.locator(".opblock").count() >= 2
    assert page.locator(".opblock-tag", has_text="roles").count() == 1
    assert errors == []
    assert elsewhere == []


def test_a_signed_in_person_tries_a_call_from_the_docs(live_server, page):
    UserFactory(username="aiko")
    sign_in(page, live_server.url, "aiko")
    errors, elsewhere = _watch(page, live_server.url)
    page.goto(f"{live_server.url}/api/docs/")
    path = page.locator(".opblock-summary-path[data-path='/api/v1/roles/']")
    operation = page.locator(".opblock-get", has=path)
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    status = operation.locator(".live-responses-table tbody .response-col_status")
    status.wait_for()
    assert status.inner_text().strip() == "200"
    assert "data-scientist" in operation.locator(".live-responses-table").inner_text()
    assert errors == []
    assert elsewhere == []
