from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/", "/admin/"])
def test_pages_require_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert "/login/" in response["Location"]


@pytest.mark.parametrize("name", ["login", "password_reset", "password_reset_done"])
def test_sign_in_and_reset_pages_are_open(client, name):
    assert client.get(reverse(name)).status_code == 200


def test_member_signs_in_and_out(client, member):
    response = client.post(reverse("login"), {"login": "member", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("home")
    assert b"Welcome" in response.content

    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302


def test_wrong_password_gets_a_clear_message(client, member):
    response = client.post(reverse("login"), {"login": "member", "password": "nope"})
    assert response.status_code == 200
    assert b"did not match" in response.content


def test_password_reset_by_email_sets_a_new_password(client, member):
    response = client.post(reverse("password_reset"), {"email": member.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [member.email]
    assert message.subject == "Reset your MLTeam password"
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+)", message.body).group(1)

    response = client.get(link, follow=True)
    form_url = response.redirect_chain[-1][0]
    response = client.post(
        form_url, {"new_password1": "a-new-long-password", "new_password2": "a-new-long-password"}
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.check_password("a-new-long-password")


def test_password_reset_for_unknown_address_sends_nothing(client):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert mail.outbox == []


def test_password_change(client, member):
    client.force_login(member)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "another-long-one",
            "new_password2": "another-long-one",
        },
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.check_password("another-long-one")


def test_language_switch_to_japanese_works_signed_out(client):
    response = client.post(reverse("set_language"), {"language": "ja", "next": "/accounts/login/"})
    assert response.status_code == 302
    page = client.get(reverse("login")).content.decode()
    assert 'lang="ja"' in page
    assert "Sign in to MLTeam" not in page


def test_pages_carry_a_content_security_policy(client):
    policy = client.get(reverse("login"))["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
