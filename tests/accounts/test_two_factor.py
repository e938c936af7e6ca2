"""Two-factor authentication (issue 16, part 2): enrolment with an authenticator
app through the product's pages, sign-in asking for the code after the password,
recovery codes that work once, the policy that makes admins and managers enrol
first, an admin's reset, and the admin site behind the same second factor."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from axes.models import AccessAttempt
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from mlteam.accounts.models import SignInPolicy
from mlteam.accounts.throttling import slowdown_seconds
from tests.factories import PASSWORD, UserFactory, admin_user, manager_user

pytestmark = pytest.mark.django_db


def totp_code(secret: str, at=None) -> str:
    counter = int((at or timezone.now()).timestamp()) // 30
    return format_hotp_value(hotp_value(secret, counter))


def sign_in(client, user, password=PASSWORD):
    return client.post(reverse("login"), {"login": user.username, "password": password})


def enrol(client, user) -> str:
    """Set up an authenticator app through the pages; returns its secret.

    The clock stands still meanwhile, so the code is reckoned in the same 30-second
    step as the server checks it, whatever the tolerance."""
    with time_machine.travel(timezone.now(), tick=False):
        return _enrol(client)


def _enrol(client) -> str:
    page = client.get(reverse("mfa_activate_totp"))
    if page.status_code == 302 and page["Location"].startswith(reverse("account_reauthenticate")):
        # Not signed in through the form just now: the password again, first.
        client.post(page["Location"], {"password": PASSWORD})
        page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    secret = page.context["form"].secret
    # The QR code is drawn here, as an inline SVG image: nothing is fetched elsewhere.
    assert "data:image/svg+xml;base64," in page.content.decode()
    response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert response.status_code == 302, response.content.decode()[:2000]
    return secret


def test_enrolment_then_sign_in_asks_for_the_code_after_the_password(client):
    person = UserFactory()
    client.force_login(person)
    with time_machine.travel("2026-12-03 09:00:00Z", tick=False):
        secret = enrol(client, person)
    assert Authenticator.objects.filter(user=person, type=Authenticator.Type.TOTP).exists()
    # Recovery codes come with the app.
    assert Authenticator.objects.filter(
        user=person, type=Authenticator.Type.RECOVERY_CODES
    ).exists()
    client.logout()

    with time_machine.travel("2026-12-03 09:05:00Z", tick=False):
        response = sign_in(client, person)
        assert response.status_code == 302
        assert response["Location"] == reverse("mfa_authenticate")
        # The password alone signs in nobody.
        assert client.get(reverse("home")).status_code == 302
        refused = client.post(reverse("mfa_authenticate"), {"code": "000000"})
        assert refused.status_code == 200
        assert client.get(reverse("home")).status_code == 302
        response = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
        assert response.status_code == 302
        assert client.get(reverse("home")).status_code == 200


def test_a_recovery_code_works_once(client):
    person = UserFactory()
    client.force_login(person)
    enrol(client, person)
    client.logout()
    codes = RecoveryCodes(
        Authenticator.objects.get(user=person, type=Authenticator.Type.RECOVERY_CODES)
    ).get_unused_codes()
    assert len(codes) == 10

    sign_in(client, person)
    response = client.post(reverse("mfa_authenticate"), {"code": codes[0]})
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200
    client.logout()

    sign_in(client, person)
    response = client.post(reverse("mfa_authenticate"), {"code": codes[0]})
    assert response.status_code == 200  # used: refused, the form again
    assert client.get(reverse("home")).status_code == 302
    response = client.post(reverse("mfa_authenticate"), {"code": codes[1]})
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200


@pytest.mark.parametrize(
    ("who", "policy_field"),
    [("manager", "require_two_factor_for_managers"), ("admin", "require_two_factor_for_admins")],
)
def test_the_policy_makes_managers_and_admins_enrol_before_anything_else(client, who, policy_field):
    person = manager_user() if who == "manager" else admin_user()
    SignInPolicy.objects.update_or_create(pk=1, defaults={policy_field: True})
    response = sign_in(client, person)
    assert response.status_code == 302
    for url in [reverse("home"), reverse("roles:project_list"), reverse("accounts:token_list")]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == reverse("mfa_activate_totp")
    enrol(client, person)
    assert client.get(reverse("home")).status_code == 200
    assert client.get(reverse("roles:project_list")).status_code == 200


def test_the_policy_leaves_members_alone(client):
    SignInPolicy.objects.update_or_create(
        pk=1,
        defaults={"require_two_factor_for_managers": True, "require_two_factor_for_admins": True},
    )
    person = UserFactory()
    sign_in(client, person)
    assert client.get(reverse("home")).status_code == 200


def test_required_enrolment_still_lets_the_person_sign_out(client):
    SignInPolicy.objects.update_or_create(pk=1, defaults={"require_two_factor_for_managers": True})
    person = manager_user()
    sign_in(client, person)
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("home"))["Location"].startswith(reverse("login"))


def test_an_admin_resets_a_persons_second_factor_in_the_admin(client):
    person = UserFactory()
    client.force_login(person)
    enrol(client, person)
    client.logout()
    root = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(root)
    changelist = reverse("admin:auth_user_changelist")
    data = {"action": "reset_two_factor_selected", "_selected_action": [person.pk]}
    confirm = client.post(changelist, data)
    assert confirm.status_code == 200
    assert Authenticator.objects.filter(user=person).count() == 2  # asked first
    client.post(changelist, {**data, "post": "yes"})
    assert not Authenticator.objects.filter(user=person).exists()
    # They sign in with their password alone again.
    client.logout()
    response = sign_in(client, person)
    assert response["Location"] == reverse("home")


def test_the_admins_group_may_reset_second_factors():
    from mlteam.accounts.services import two_factor_reset

    person = UserFactory()
    Authenticator.objects.create(user=person, type=Authenticator.Type.TOTP, data={"secret": "x"})
    assert two_factor_reset(people=[person], actor=admin_user()) == 1
    assert not Authenticator.objects.filter(user=person).exists()


def test_a_member_cannot_reset_anyones_second_factor(client):
    from django.core.exceptions import PermissionDenied

    from mlteam.accounts.services import two_factor_reset

    person = UserFactory()
    Authenticator.objects.create(user=person, type=Authenticator.Type.TOTP, data={"secret": "x"})
    with pytest.raises(PermissionDenied):
        two_factor_reset(people=[person], actor=UserFactory())
    assert Authenticator.objects.filter(user=person).exists()


def test_the_admin_site_signs_in_through_the_product_with_the_second_factor(client):
    admin = admin_user()
    client.force_login(admin)
    secret = enrol(client, admin)
    client.logout()
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    login = client.get(reverse("admin:login") + "?next=/admin/")
    assert login.status_code == 302
    assert login["Location"].startswith(reverse("login"))
    with time_machine.travel(timezone.now() + timezone.timedelta(seconds=60), tick=False):
        response = client.post(
            reverse("login") + "?next=/admin/",
            {"login": admin.username, "password": PASSWORD, "next": "/admin/"},
        )
        assert response["Location"] == reverse("mfa_authenticate")
        assert client.get(reverse("admin:index")).status_code == 302
        response = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
        assert response["Location"] == "/admin/"
        assert client.get(reverse("admin:index")).status_code == 200


def test_the_two_factor_page_is_in_japanese(client):
    person = UserFactory()
    client.force_login(person)
    response = client.get(reverse("mfa_index"), HTTP_ACCEPT_LANGUAGE="ja")
    assert response.status_code == 200
    assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", response.content.decode())


def test_wrong_codes_lock_the_account_like_wrong_passwords(client, settings):
    from django.test import Client

    person = UserFactory()
    with time_machine.travel("2026-12-03 09:00:00Z", tick=False) as clock:
        client.force_login(person)
        secret = enrol(client, person)
        client.logout()
        sign_in(client, person)
        for attempt in range(settings.AXES_FAILURE_LIMIT):
            response = client.post(reverse("mfa_authenticate"), {"code": "000000"})
            # Past each slowdown (below), so every wrong code is heard.
            clock.shift(timedelta(seconds=slowdown_seconds(attempt + 1)))
        assert response.status_code == 429
        # Locked: the right code does not sign in, from this browser nor another.
        response = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
        assert client.get(reverse("home")).status_code == 302
        other = Client(REMOTE_ADDR="10.9.9.9")
        other.post(reverse("login"), {"login": person.username, "password": PASSWORD})
        assert other.get(reverse("home")).status_code == 302


def test_wrong_codes_slow_down_the_next_code_without_counting_it(client, settings):
    """Past SIGN_IN_SLOWDOWN_AFTER wrong codes, a code sent too soon is not checked
    (the right one neither) and not counted: the form says how long to wait, and a
    code sent after that signs in."""
    person = UserFactory()
    with time_machine.travel("2026-12-03 09:00:00Z", tick=False) as clock:
        client.force_login(person)
        secret = enrol(client, person)
        client.logout()
        sign_in(client, person)
        for _ in range(settings.SIGN_IN_SLOWDOWN_AFTER):
            assert client.post(reverse("mfa_authenticate"), {"code": "000000"}).status_code == 200
        failures = AccessAttempt.objects.aggregate(total=Sum("failures_since_start"))["total"]
        assert failures == settings.SIGN_IN_SLOWDOWN_AFTER
        for _ in range(3):
            refused = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
            assert refused.status_code == 200
            assert "Too many attempts. Try again in 1 second." in refused.content.decode()
        assert client.get(reverse("home")).status_code == 302
        total = AccessAttempt.objects.aggregate(total=Sum("failures_since_start"))["total"]
        assert total == failures
        clock.shift(timedelta(seconds=1))
        response = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
        assert response.status_code == 302
        assert client.get(reverse("home")).status_code == 200


def enrolled_earlier(client):
    """A person who set up an app five minutes before the returned moment (10 s into
    a 30-second step), signed out since: (person, secret, moment)."""
    person = UserFactory()
    then = timezone.now().replace(second=10, microsecond=0)
    with time_machine.travel(then, tick=False):
        client.force_login(person)
        secret = enrol(client, person)
        client.logout()
    return person, secret, then + timedelta(minutes=5)


@pytest.mark.parametrize(
    ("tolerance", "steps", "accepted"),
    [(1, -1, True), (1, 1, True), (1, -2, False), (1, 2, False), (0, -1, False), (0, 0, True)],
)
def test_codes_of_the_steps_next_to_the_current_one_are_accepted(
    client, settings, tolerance, steps, accepted
):
    settings.MFA_TOTP_TOLERANCE = tolerance
    person, secret, later = enrolled_earlier(client)
    with time_machine.travel(later, tick=False):
        sign_in(client, person)
        code = totp_code(secret, at=timezone.now() + timedelta(seconds=30 * steps))
        response = client.post(reverse("mfa_authenticate"), {"code": code})
        assert (client.get(reverse("home")).status_code == 200) is accepted
        if not accepted:
            assert response.status_code == 200
            assert "Incorrect code" in response.content.decode()


def test_a_code_that_signed_in_is_refused_when_typed_again(client):
    person, secret, later = enrolled_earlier(client)
    with time_machine.travel(later, tick=False) as clock:
        code = totp_code(secret)
        sign_in(client, person)
        client.post(reverse("mfa_authenticate"), {"code": code})
        assert client.get(reverse("home")).status_code == 200
        client.logout()
        # Still inside the window the code belongs to: typed again, it is refused.
        clock.shift(timedelta(seconds=30))
        sign_in(client, person)
        response = client.post(reverse("mfa_authenticate"), {"code": code})
        assert response.status_code == 200
        assert client.get(reverse("home")).status_code == 302
