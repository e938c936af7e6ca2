"""Passwords (issue 16, part 6): at least 12 characters, not among the common and
breached passwords Django ships (offline), and the forms say so."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

CHANGE = reverse("password_change")


def _change(client, new: str):
    return client.post(
        CHANGE, {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
    )


def test_the_change_form_states_the_rules(client, member):
    client.force_login(member)
    page = client.get(CHANGE).content.decode()
    assert "Your password must contain at least 12 characters." in page
    assert "Your password can’t be a commonly used password." in page


def test_the_rules_read_in_japanese(client, member):
    client.force_login(member)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ja"
    page = client.get(CHANGE).content.decode()
    assert "パスワードは最低 12 文字以上必要です。" in page


@pytest.mark.parametrize(
    ("new", "error"),
    [
        ("eleven-char", "at least 12 characters"),
        ("qwerty123456", "too common"),
        ("123456789012345", "entirely numeric"),
    ],
)
def test_a_short_or_common_password_is_refused(client, member, new, error):
    client.force_login(member)
    response = _change(client, new)
    assert response.status_code == 200
    assert error in response.content.decode()
    member.refresh_from_db()
    assert member.check_password(PASSWORD)


def test_a_long_uncommon_password_is_taken(client, member):
    client.force_login(member)
    assert _change(client, "twelve-chars-ok").status_code == 302
    member.refresh_from_db()
    assert member.check_password("twelve-chars-ok")


def test_the_test_suites_password_passes_the_rules(member):
    validate_password(PASSWORD, member)
    with pytest.raises(ValidationError):
        validate_password("short-one", member)
