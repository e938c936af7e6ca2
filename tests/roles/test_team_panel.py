"""The team panel draws its own fields (no crispy field template, plain inputs):
the same inputs, errors next to their field, and the index that reads the people
who may be added in order (the search: tests/roles/test_team_search.py)."""

from __future__ import annotations

import re

import pytest
from django import forms
from django.db import connection
from django.urls import reverse

from roles.forms import (
    PlainEmailInput,
    PlainHiddenInput,
    PlainNumberInput,
    PlainTextInput,
)
from tests.migrations import migrate_to, migrate_to_latest

INPUTS = [
    (PlainHiddenInput, forms.HiddenInput),
    (PlainNumberInput, forms.NumberInput),
    (PlainTextInput, forms.TextInput),
    (PlainEmailInput, forms.EmailInput),
]


@pytest.mark.parametrize(("plain", "django"), INPUTS)
@pytest.mark.parametrize("value", [None, "", 0, 50, 'a "quoted" <b> & c'])
def test_plain_inputs_render_what_django_inputs_render(plain, django, value):
    attrs = {"id": "id_x", "class": "form-control", "required": True, "disabled": False}
    widget_attrs = {"step": 5, "title": "<&>"}
    assert plain(widget_attrs).render("m1-x", value, attrs) == django(widget_attrs).render(
        "m1-x", value, attrs
    )


def _member_card(html: str, membership_pk: int) -> str:
    start = html.index(f'id="member-{membership_pk}"')
    return html[start : html.index('class="card mb-3"', start + 1)]


@pytest.mark.django_db
def test_a_refused_field_is_marked_with_its_error_next_to_it(client, world):
    """No JavaScript: the page comes back with each error under its field, the
    field marked invalid and described by that error."""
    client.force_login(world.people["manager"])
    membership = world.membership
    url = reverse("roles:team_assign", args=[world.project.pk, membership.pk])
    prefix = f"m{membership.pk}"
    response = client.post(
        url,
        {
            f"{prefix}-version": world.project.version,
            f"{prefix}-role": "",
            f"{prefix}-allocation_percent": "500",
        },
    )
    assert response.status_code == 422
    card = _member_card(response.content.decode(), membership.pk)
    for name, message in [
        ("role", "This field is required."),
        ("allocation_percent", "Ensure this value is less than or equal to 100."),
    ]:
        field_id = f"id_{prefix}-{name}"
        control = re.search(rf'<(select|input)[^>]* id="{field_id}"[^>]*>', card)[0]
        assert "is-invalid" in control and 'aria-invalid="true"' in control
        assert f'aria-describedby="{field_id}_error"' in control
        error = re.search(rf'<div id="{field_id}_error" class="invalid-feedback">(.*?)</div>', card)
        assert message in error[1]
        assert f'<label for="{field_id}" class="form-label">' in card
    # The other forms on the page are drawn as usual.
    assert card.count("is-invalid") == 2


def _person_indexes() -> set[str]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "auth_user")
    return {name for name, info in constraints.items() if info["index"]}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_person_index_comes_and_goes_with_its_migration():
    assert "user_active_by_name" in _person_indexes()
    try:
        migrate_to([("roles", "0009_structured_history")])
        assert "user_active_by_name" not in _person_indexes()
    finally:
        migrate_to_latest()
    assert "user_active_by_name" in _person_indexes()
