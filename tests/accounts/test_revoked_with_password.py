"""A person's API tokens end with their old password (changed by them, through a
reset link, or set by an admin) and with their account (deactivated or anonymised);
the API answers 401 to the old token from then on. Other people's tokens stay."""

from __future__ import annotations

import getpass
import re
import threading
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test import RequestFactory
from django.urls import reverse
from rest_framework.test import APIClient

from mlteam.accounts import services
from mlteam.accounts.models import ApiToken
from mlteam.accounts.views import token_list
from mlteam.services import people_deactivate, person_anonymise
from tests.conftest import require
from tests.factories import PASSWORD, UserFactory
from tests.html_forms import form_data

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-new-long-password"


def api_status(secret: str, address: str = "127.0.0.1") -> int:
    client = APIClient(REMOTE_ADDR=address)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client.get("/api/v1/roles/").status_code


@pytest.fixture
def secrets(member):
    """Two tokens of the member's, one of someone else's (which must keep working)."""
    other = UserFactory(username="other")
    return {
        "mine": [services.token_create(user=member, name=name)[1] for name in ("ci", "laptop")],
        "theirs": services.token_create(user=other, name="ci")[1],
    }


@pytest.fixture
def root(db):
    """Who changes people in the Django admin: a superuser."""
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def assert_revoked(member, secrets) -> None:
    assert [api_status(secret) for secret in secrets["mine"]] == [401, 401]
    assert not ApiToken.objects.filter(user=member).exists()
    # From another address: the two refusals above (with a reset request before
    # them) slow this one down for a moment (sign-in throttling, test_lockout.py).
    assert api_status(secrets["theirs"], address="10.0.99.1") == 200


def shown_messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_the_tokens_work_before(member, secrets):
    assert [api_status(secret) for secret in secrets["mine"]] == [200, 200]


def test_changing_ones_password_revokes_ones_tokens_and_the_page_says_so(client, member, secrets):
    client.force_login(member)
    form = client.get(reverse("password_change"))
    assert "also revokes your personal API tokens" in form.content.decode()

    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == reverse("password_change_done")
    assert shown_messages(response) == [
        "Your 2 API tokens were revoked with your old password: they no longer work. "
        "Create new ones in Settings > API tokens if you still need them."
    ]
    assert "Your 2 API tokens were revoked" in response.content.decode()
    assert_revoked(member, secrets)
    member.refresh_from_db()
    assert member.check_password(NEW_PASSWORD)
    assert client.get(reverse("home")).status_code == 200  # this session stays signed in


def test_a_refused_password_change_revokes_nothing(client, member, secrets):
    client.force_login(member)
    response = client.post(
        reverse("password_change"),
        {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 200
    assert ApiToken.objects.filter(user=member).count() == 2
    assert [api_status(secret) for secret in secrets["mine"]] == [200, 200]


def test_a_person_without_tokens_is_told_nothing_about_them(client, member):
    client.force_login(member)
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("password_change_done")
    assert shown_messages(response) == []


def test_a_password_reset_revokes_the_tokens_and_the_page_says_so(client, member, secrets):
    client.post(reverse("password_reset"), {"email": member.email})
    (message,) = mail.outbox
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+)", message.body).group(1)
    page = client.get(link, follow=True)
    assert "also revokes your personal API tokens" in page.content.decode()
    form_url = page.redirect_chain[-1][0]

    response = client.post(
        form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}, follow=True
    )

    assert response.redirect_chain[-1][0] == reverse("password_reset_complete")
    assert "Your 2 API tokens were revoked" in response.content.decode()
    assert_revoked(member, secrets)
    member.refresh_from_db()
    assert member.check_password(NEW_PASSWORD)
    # The link worked once.
    assert "no longer works" in client.get(link, follow=True).content.decode()


def _admin_password_page(client, person):
    return reverse("admin:auth_user_password_change", args=[person.pk])


def test_an_admin_setting_the_password_revokes_the_tokens_and_is_told(
    client, root, member, secrets
):
    client.force_login(root)
    url = _admin_password_page(client, member)
    data = form_data(client.get(url).content.decode())
    data.update(password1=[NEW_PASSWORD], password2=[NEW_PASSWORD], usable_password=["true"])

    response = client.post(url, data, follow=True)

    assert response.status_code == 200
    assert "2 API tokens of this person were revoked with the old password." in shown_messages(
        response
    )
    assert_revoked(member, secrets)
    member.refresh_from_db()
    assert member.check_password(NEW_PASSWORD)


def test_an_admin_turning_password_sign_in_off_revokes_the_tokens(client, root, member, secrets):
    client.force_login(root)
    url = _admin_password_page(client, member)
    data = form_data(client.get(url).content.decode())
    data.update(usable_password=["false"], **{"unset-password": ["1"]})

    client.post(url, data)

    member.refresh_from_db()
    assert not member.has_usable_password()
    assert_revoked(member, secrets)


def test_an_invalid_admin_password_revokes_nothing(client, root, member, secrets):
    client.force_login(root)
    url = _admin_password_page(client, member)
    data = form_data(client.get(url).content.decode())
    data.update(password1=[NEW_PASSWORD], password2=["something-else"], usable_password=["true"])
    assert client.post(url, data).status_code == 200
    assert ApiToken.objects.filter(user=member).count() == 2


def test_deactivating_people_in_the_admin_revokes_their_tokens(client, root, member, secrets):
    client.force_login(root)
    response = client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "deactivate_selected", "_selected_action": [member.pk], "post": "yes"},
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert not member.is_active
    assert_revoked(member, secrets)


def test_unticking_active_on_the_admin_form_revokes_the_tokens(client, root, member, secrets):
    client.force_login(root)
    url = reverse("admin:auth_user_change", args=[member.pk])
    data = form_data(client.get(url).content.decode())
    data.pop("is_active", None)
    data["_save"] = ["Save"]

    response = client.post(url, data)

    assert response.status_code == 302, response.content.decode()[-2000:]
    member.refresh_from_db()
    assert not member.is_active
    assert_revoked(member, secrets)


def test_saving_the_admin_form_otherwise_keeps_the_tokens(client, root, member, secrets):
    client.force_login(root)
    url = reverse("admin:auth_user_change", args=[member.pk])
    data = form_data(client.get(url).content.decode())
    data["first_name"] = ["Renamed"]
    data["_save"] = ["Save"]
    assert client.post(url, data).status_code == 302
    assert ApiToken.objects.filter(user=member).count() == 2


def test_the_deactivation_service_revokes_only_the_deactivated_peoples_tokens(
    member, admin, secrets
):
    people_deactivate(people=get_user_model().objects.filter(pk=member.pk), actor=admin)
    assert_revoked(member, secrets)


def test_anonymising_a_person_revokes_their_tokens(member, admin, secrets):
    person_anonymise(user=member, reason="erasure request 7", run_by=admin)
    assert_revoked(member, secrets)


def test_password_set_is_one_transaction_with_the_revocation(member, secrets):
    assert (
        services.password_set(
            user=member, password=NEW_PASSWORD, reason=services.RevokeReason.CHANGED
        )
        == 2
    )
    assert_revoked(member, secrets)
    assert (
        services.password_set(user=member, password=None, reason=services.RevokeReason.SET_BY_ADMIN)
        == 0
    )
    member.refresh_from_db()
    assert not member.has_usable_password()


def test_revoking_by_rule_is_logged_as_the_systems(member, secrets, caplog):
    with caplog.at_level("INFO", logger="mlteam.accounts.services"):
        services.people_tokens_revoke(
            user_ids=[member.pk], reason=services.RevokeReason.DEACTIVATED
        )
    lines = [r.getMessage() for r in caplog.records if "revoked" in r.getMessage()]
    assert len(lines) == 2
    assert all("by the system (account deactivated)" in line for line in lines)


# --- a token made while the password changes or the account is switched off ------------
# The page that creates a token authenticated its caller before the change committed;
# the token it stores after the revocation must not survive it (the revocation deleted
# only the tokens that existed then). token_create locks the person's row and checks
# that the password and the account are still the ones the request was made with.


def _as_the_request_saw_them(member):
    """The person as a request authenticated before the change loaded them."""
    return get_user_model().objects.get(pk=member.pk)


def test_a_token_created_after_a_concurrent_password_change_is_refused(member, secrets):
    seen = _as_the_request_saw_them(member)
    services.password_set(
        user=_as_the_request_saw_them(member),
        password=NEW_PASSWORD,
        reason=services.RevokeReason.CHANGED,
    )
    with pytest.raises(ValidationError) as refused:
        services.token_create(user=seen, name="late")
    assert refused.value.error_dict["__all__"][0].code == "credentials_changed"
    assert not ApiToken.objects.filter(user=member).exists()


def test_a_token_created_after_a_concurrent_deactivation_is_refused(member, admin, secrets):
    seen = _as_the_request_saw_them(member)
    people_deactivate(people=get_user_model().objects.filter(pk=member.pk), actor=admin)
    with pytest.raises(ValidationError) as refused:
        services.token_create(user=seen, name="late")
    assert refused.value.error_dict["__all__"][0].code == "credentials_changed"
    assert not ApiToken.objects.filter(user=member).exists()


def test_the_token_page_says_why_a_late_token_was_not_created(client, member, secrets):
    """The page's own request: signed in, then the password changes elsewhere (the
    session stays valid for this request only because it was checked before)."""
    client.force_login(member)
    seen = _as_the_request_saw_them(member)
    services.password_set(
        user=_as_the_request_saw_them(member),
        password=NEW_PASSWORD,
        reason=services.RevokeReason.CHANGED,
    )
    request = RequestFactory().post(
        reverse("accounts:token_list"), {"name": "late", "scope": "read"}
    )
    request.user = seen
    request._dont_enforce_csrf_checks = True
    response = token_list(request)
    assert response.status_code == 422
    assert "sign in again" in response.content.decode()
    assert not ApiToken.objects.filter(user=member).exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_token_creation_waiting_on_a_password_change_is_refused_on_postgresql():
    """Two real transactions: the password change holds the person's row while the
    token creation (authenticated before it) waits for it, then is refused."""
    require(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")
    member = UserFactory(username="token-race")
    seen = _as_the_request_saw_them(member)
    locked, release = threading.Event(), threading.Event()
    outcome: dict = {}

    def change_password():
        try:
            with transaction.atomic():
                services.password_set(
                    user=_as_the_request_saw_them(member),
                    password=NEW_PASSWORD,
                    reason=services.RevokeReason.CHANGED,
                )
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    def create_token():
        try:
            services.token_create(user=seen, name="late")
            outcome["created"] = True
        except ValidationError as error:
            outcome["refused"] = error.error_dict["__all__"][0].code
        finally:
            connection.close()

    changer = threading.Thread(target=change_password)
    changer.start()
    assert locked.wait(10)
    creator = threading.Thread(target=create_token)
    creator.start()
    creator.join(0.5)
    assert creator.is_alive()  # waiting for the person's row
    release.set()
    changer.join(10)
    creator.join(10)
    assert outcome == {"refused": "credentials_changed"}
    assert not ApiToken.objects.filter(user=member).exists()


# --- manage.py changepassword ----------------------------------------------------------


def _typed(monkeypatch, *answers: str) -> None:
    """What the operator types at the command's password prompts."""
    typed = iter(answers)
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": next(typed))


def test_changepassword_from_the_shell_revokes_the_tokens(monkeypatch, member, secrets):
    _typed(monkeypatch, NEW_PASSWORD, NEW_PASSWORD)
    out = StringIO()
    call_command("changepassword", member.username, stdout=out)
    member.refresh_from_db()
    assert member.check_password(NEW_PASSWORD)
    assert_revoked(member, secrets)
    assert "2 API token(s)" in out.getvalue()


def test_changepassword_giving_up_changes_nothing(monkeypatch, member, secrets):
    _typed(monkeypatch, *["one-long-password", "another-long-password"] * 3)
    with pytest.raises(CommandError):
        call_command("changepassword", member.username, stdout=StringIO())
    member.refresh_from_db()
    assert member.check_password(PASSWORD)
    assert ApiToken.objects.filter(user=member).count() == 2
