"""Issue 12, item 1, in real Chromium: the browser submits what the page draws.

The test-client version (tests/mlteam/test_edit_round_trip.py) reads the HTML
with a parser; here Chromium decides what each input, box, radio and option
submits, so a value it would refuse to show (a date in the wrong shape, a
number with a separator) is caught as a person would hit it. Japanese, where
formats differ most.
"""

from __future__ import annotations

import copy

import pytest
from django.utils import translation

from tests.conftest import sign_in
from tests.mlteam.test_edit_round_trip import CASES, _world, snapshot
from tests.practices.conftest import practices  # noqa: F401 (fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.mark.parametrize("name", ["project_edit", "evaluation_edit", "checklist"])
def test_edit_form_keeps_every_field_it_does_not_change_in_chromium(
    live_server,
    page,
    practices,  # noqa: F811
    name,
):
    world = _world(practices)
    with translation.override("ja"):
        case = CASES[name](practices, world)
    sign_in(page, live_server.url, practices.people[case.user].username)
    page.context.add_cookies([{"name": "django_language", "value": "ja", "url": live_server.url}])
    page.goto(live_server.url + case.page)
    form = page.locator(
        f'form[method="post"][action="{case.action}"]'
        if case.action
        else 'main form[method="post"]:not([action])'
    )
    assert form.count() == 1
    field = form.locator(f'[name="{case.field}"]')
    if field.get_attribute("type") == "checkbox":
        field.set_checked(case.value == "on")
    else:
        field.fill(case.value)
    data = {
        name: [value] for name, value in form.evaluate("f => Array.from(new FormData(f).entries())")
    }
    before = snapshot(stamps=False)
    with page.expect_navigation():
        form.evaluate("f => f.requestSubmit()")
    assert page.locator(".alert-danger, .invalid-feedback:visible").count() == 0, page.content()
    expected = copy.deepcopy(before)
    case.expect(expected, data)
    assert snapshot(stamps=False) == expected
