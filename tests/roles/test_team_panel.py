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


@pytest.mark.django_db
def test_a_refused_field_is_marked_with_its_error_next_to_it(client, world):
    """No JavaScript: the cell's page comes back with the error under its field, the
    field marked invalid and described by that error."""
    from roles.models import Role

    client.force_login(world.people["manager"])
    membership = world.membership
    role = Role.objects.get(slug="ml-engineer")
    url = reverse("roles:team_assign", args=[world.project.pk, membership.pk])
    prefix = f"m{membership.pk}"
    response = client.post(
        url,
        {
            f"{prefix}-version": world.project.version,
            f"{prefix}-role": role.pk,
            f"{prefix}-allocation_percent": "500",
        },
    )
    assert response.status_code == 422
    page = response.content.decode()
    field_id = f"id_{prefix}-allocation_percent"
    control = re.search(rf'<input[^>]* id="{field_id}"[^>]*>', page)[0]
    assert "is-invalid" in control and 'aria-invalid="true"' in control
    assert f'aria-describedby="{field_id}_error"' in control
    error = re.search(rf'<div id="{field_id}_error" class="invalid-feedback">(.*?)</div>', page)
    assert "Ensure this value is less than or equal to 100." in error[1]
    assert f'<label for="{field_id}" class="form-label">' in page
    # The role is the cell's: sent again as it was, marked nowhere.
    assert f'name="{prefix}-role" value="{role.pk}"' in page
    assert page.count("is-invalid") == 1


@pytest.mark.django_db
def test_a_role_already_held_is_said_in_the_cell(client, world):
    client.force_login(world.people["manager"])
    membership = world.membership
    prefix = f"m{membership.pk}"
    response = client.post(
        reverse("roles:team_assign", args=[world.project.pk, membership.pk]),
        {
            f"{prefix}-version": world.project.version,
            f"{prefix}-role": world.assignment.role_id,
            f"{prefix}-allocation_percent": "20",
        },
    )
    assert response.status_code == 422
    assert "This person already holds this role on the project." in response.content.decode()


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
