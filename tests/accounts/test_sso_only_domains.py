"""Single-sign-on-only email domains (issue 16, part 3): a correct password does not
sign such a person in (the message names the way in, and shows only once the
password was right), and a reset request sends them nothing."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from mlteam.accounts.models import SingleSignOnDomain
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_a_correct_password_does_not_sign_in_a_single_sign_on_only_person(client):
    person = UserFactory(email="aiko@corp.example")
    SingleSignOnDomain.objects.create(domain="corp.example")
    # By email: told to use single sign-on, before any password is checked.
    for password in [PASSWORD, "nope"]:
        response = client.post(reverse("login"), {"login": person.email, "password": password})
        assert response.status_code == 200
        assert "corp.example sign in through single sign-on" in response.content.decode()
    # By username: "did not match", right password or not (no oracle for guesses).
    for password in [PASSWORD, "nope"]:
        response = client.post(reverse("login"), {"login": person.username, "password": password})
        assert response.status_code == 200
        assert "did not match" in response.content.decode()
        assert "single sign-on" not in response.content.decode()
    assert client.get(reverse("home")).status_code == 302


def test_other_domains_still_sign_in_with_a_password(client):
    person = UserFactory(email="ben@elsewhere.example")
    SingleSignOnDomain.objects.create(domain="corp.example")
    response = client.post(reverse("login"), {"login": person.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_a_reset_request_sends_nothing_to_a_single_sign_on_only_address(client):
    UserFactory(email="aiko@corp.example")
    other = UserFactory(email="ben@elsewhere.example")
    SingleSignOnDomain.objects.create(domain="CORP.example")  # stored as written...
    SingleSignOnDomain.objects.filter(domain="CORP.example").update(domain="corp.example")
    refused = client.post(reverse("password_reset"), {"email": "aiko@corp.example"})
    sent = client.post(reverse("password_reset"), {"email": other.email})
    assert refused.status_code == sent.status_code == 302
    assert refused["Location"] == sent["Location"]
    assert [message.to for message in mail.outbox] == [[other.email]]


@pytest.mark.parametrize("typed", ["corp.example", " @Corp.Example ", "CORP.EXAMPLE"])
def test_a_domain_is_kept_in_one_form(typed):
    domain = SingleSignOnDomain(domain=typed)
    domain.full_clean()
    assert domain.domain == "corp.example"


@pytest.mark.parametrize("typed", ["aiko@corp.example", "corp", "not a domain", ""])
def test_a_domain_that_is_not_one_is_refused_with_a_message(typed):
    with pytest.raises(ValidationError) as error:
        SingleSignOnDomain(domain=typed).full_clean()
    assert "domain" in error.value.message_dict
