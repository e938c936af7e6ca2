"""Sign-in throttling (django-axes, mlteam.accounts.throttling): failed sign-ins
are counted per account and per address in the database, slow either down after a
few and lock either out for the cool-off at the limit; the same count covers the
Django admin's sign-in, password reset requests and API tokens; admins clear
lockouts in the admin. One backend checks passwords, so a failed sign-in costs one
hash.

Tests that fail many times in a row step the clock past each slowdown, as a patient
guesser would (past_the_slowdown), so they reach the lock."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.hashers import MD5PasswordHasher
from django.core import mail
from django.core.management import call_command
from django.test import RequestFactory, override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from mlteam.accounts.models import ApiToken
from mlteam.accounts.throttling import attempt_username, slowdown_seconds
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LIMIT = settings.AXES_FAILURE_LIMIT
COOL_OFF = settings.AXES_COOLOFF_TIME
SLOWDOWN_AFTER = settings.SIGN_IN_SLOWDOWN_AFTER
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def post_sign_in(client, login: str, password: str, **extra):
    """The sign-in form, posted as Django's form ("username") and allauth's
    ("login") both name the account."""
    return client.post(
        reverse("login"), {"username": login, "login": login, "password": password}, **extra
    )


def signed_in(client) -> bool:
    return SESSION_KEY in client.session


def same_page(html: str) -> str:
    """The page without what differs on every response: CSRF tokens and CSP nonces."""
    html = re.sub(r"\b[A-Za-z0-9]{64}\b", "<csrf>", html)
    return re.sub(r'nonce="[^"]*"', 'nonce=""', html)


@pytest.fixture
def person(db):
    return UserFactory(username="bob", email="bob@example.com")


@pytest.fixture
def clock():
    """The clock, stopped at START; it moves only when a test shifts it."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def past_the_slowdown(clock, failures: int) -> None:
    """Wait as long as `failures` failures make one wait (no time below the
    threshold, none once locked out: the lock is waited out by the test itself)."""
    if failures < LIMIT:
        clock.shift(timedelta(seconds=slowdown_seconds(failures)))


def test_thirty_wrong_passwords_lock_the_account_until_the_cool_off_ends(client, person):
    with time_machine.travel(START, tick=False) as traveller:
        statuses = []
        for attempt in range(30):
            statuses.append(post_sign_in(client, "bob", "wrong password").status_code)
            past_the_slowdown(traveller, attempt + 1)
        # The form again until the limit; from the attempt that reaches it, the lockout.
        assert statuses == [200] * (LIMIT - 1) + [429] * (30 - LIMIT + 1)
        assert AccessAttempt.objects.get().failures_since_start == 30

        refused = post_sign_in(client, "bob", PASSWORD)
        assert refused.status_code == 429 and not signed_in(client)

        # An attempt while locked out starts the cool-off again.
        traveller.shift(COOL_OFF - timedelta(minutes=1))
        assert post_sign_in(client, "bob", PASSWORD).status_code == 429
        assert not signed_in(client)

        traveller.shift(COOL_OFF + timedelta(seconds=1))
        accepted = post_sign_in(client, "bob", PASSWORD)
        assert accepted.status_code == 302 and signed_in(client)


def test_the_lockout_page_is_the_same_for_an_existing_and_an_unknown_account(client, person, clock):
    for attempt in range(LIMIT):
        existing = post_sign_in(client, "bob", "wrong password", REMOTE_ADDR="10.0.0.1")
        unknown = post_sign_in(client, "nobody", "wrong password", REMOTE_ADDR="10.0.0.2")
        past_the_slowdown(clock, attempt + 1)
    assert existing.status_code == unknown.status_code == 429
    assert same_page(existing.content.decode()) == same_page(unknown.content.decode())
    page = existing.content.decode()
    minutes = int(COOL_OFF.total_seconds() // 60)
    assert f"Please try again in {minutes} minutes." in page
    assert "bob" not in page and "nobody" not in page and "10.0.0." not in page
    assert existing["Retry-After"] == str(minutes * 60)
    assert "no-store" in existing["Cache-Control"]
    # In the product's layout, offering the way back.
    assert 'class="card auth-card' in page and reverse("login") in page


def test_failures_before_the_limit_read_the_same_for_existing_and_unknown(client, person):
    existing = post_sign_in(client, "bob", "wrong password", REMOTE_ADDR="10.0.0.1")
    unknown = post_sign_in(client, "nobody", "wrong password", REMOTE_ADDR="10.0.0.2")
    assert existing.status_code == unknown.status_code == 200
    assert same_page(existing.content.decode().replace("bob", "nobody")) == same_page(
        unknown.content.decode()
    )


def failures_counted() -> int:
    return sum(AccessAttempt.objects.values_list("failures_since_start", flat=True))


@override_settings(SIGN_IN_SLOWDOWN_AFTER=3, SIGN_IN_SLOWDOWN_LONGEST_SECONDS=60)
def test_the_wait_starts_at_the_threshold_and_doubles_up_to_its_cap():
    waits = [slowdown_seconds(failures) for failures in range(12)]
    assert waits == [0, 0, 0, 1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_after_a_few_failures_an_immediate_retry_is_slowed_and_not_counted(client, person, clock):
    for _ in range(SLOWDOWN_AFTER):
        # Below the threshold, no wait at all: each mistake gets the form again.
        assert post_sign_in(client, "bob", "wrong password").status_code == 200
    assert failures_counted() == SLOWDOWN_AFTER
    logged = AccessFailureLog.objects.count()

    # At once, even with the right password: refused, however often it is tried...
    for _ in range(5):
        refused = post_sign_in(client, "bob", PASSWORD)
        assert refused.status_code == 429 and not signed_in(client)
        assert "Too many attempts. Try again in 1 second." in refused.content.decode()
        assert refused["Retry-After"] == "1"
        assert "no-store" in refused["Cache-Control"]
    # ...and none of those refusals counts, so the wait does not grow.
    assert failures_counted() == SLOWDOWN_AFTER
    assert AccessFailureLog.objects.count() == logged

    clock.shift(timedelta(seconds=1))
    accepted = post_sign_in(client, "bob", PASSWORD)
    assert accepted.status_code == 302 and signed_in(client)


def test_the_wait_grows_with_each_failure_and_the_page_counts_it_down(client, person, clock):
    failures = SLOWDOWN_AFTER + 2
    for attempt in range(failures):
        if attempt:
            past_the_slowdown(clock, attempt)
        assert post_sign_in(client, "bob", "wrong password").status_code == 200
    # Two failures past the threshold: 2 ** 2 seconds from the last one.
    assert slowdown_seconds(failures) == 4
    refused = post_sign_in(client, "bob", PASSWORD)
    assert "Try again in 4 seconds." in refused.content.decode()
    assert refused["Retry-After"] == "4"
    clock.shift(timedelta(seconds=2.5))
    refused = post_sign_in(client, "bob", PASSWORD)
    assert "Try again in 2 seconds." in refused.content.decode()  # 1.5 s, rounded up
    assert refused["Retry-After"] == "2"
    clock.shift(timedelta(seconds=1.5))
    assert post_sign_in(client, "bob", PASSWORD).status_code == 302


def test_the_slowdown_page_is_the_same_for_an_existing_and_an_unknown_account(
    client, person, clock
):
    for attempt in range(SLOWDOWN_AFTER + 1):
        post_sign_in(client, "bob", "wrong password", REMOTE_ADDR="10.0.0.1")
        post_sign_in(client, "nobody", "wrong password", REMOTE_ADDR="10.0.0.2")
        if attempt < SLOWDOWN_AFTER:
            past_the_slowdown(clock, attempt + 1)
    existing = post_sign_in(client, "bob", PASSWORD, REMOTE_ADDR="10.0.0.1")
    unknown = post_sign_in(client, "nobody", PASSWORD, REMOTE_ADDR="10.0.0.2")
    assert existing.status_code == unknown.status_code == 429
    assert existing["Retry-After"] == unknown["Retry-After"] == "2"
    assert same_page(existing.content.decode()) == same_page(unknown.content.decode())
    page = existing.content.decode()
    assert "Too many attempts. Try again in 2 seconds." in page
    assert "bob" not in page and "nobody" not in page and "10.0.0." not in page
    assert 'class="card auth-card' in page and reverse("login") in page


def test_an_address_is_slowed_for_every_account_and_an_account_from_every_address(
    client, person, clock
):
    UserFactory(username="carol")
    for attempt in range(SLOWDOWN_AFTER):
        post_sign_in(client, f"guess-{attempt}", "wrong", REMOTE_ADDR="10.0.11.1")
        post_sign_in(client, "carol", "wrong", REMOTE_ADDR=f"10.0.12.{attempt}")
    # The address, whatever the account; the account, whatever the address.
    assert post_sign_in(client, "bob", PASSWORD, REMOTE_ADDR="10.0.11.1").status_code == 429
    assert post_sign_in(client, "carol", PASSWORD, REMOTE_ADDR="10.0.13.1").status_code == 429
    assert not signed_in(client)
    # Anyone else, from anywhere else, is not slowed.
    assert post_sign_in(client, "bob", PASSWORD, REMOTE_ADDR="10.0.11.2").status_code == 302


def test_failures_that_expired_slow_nothing(client, person, clock):
    for _ in range(SLOWDOWN_AFTER):
        post_sign_in(client, "bob", "wrong password")
    clock.shift(COOL_OFF + timedelta(seconds=1))
    assert post_sign_in(client, "bob", "wrong password").status_code == 200
    assert post_sign_in(client, "bob", PASSWORD).status_code == 302


@override_settings(SIGN_IN_SLOWDOWN_AFTER=LIMIT)
def test_a_threshold_at_the_limit_turns_the_slowdown_off(client, person, clock):
    statuses = [post_sign_in(client, "bob", "wrong password").status_code for _ in range(LIMIT)]
    assert statuses == [200] * (LIMIT - 1) + [429]
    assert "minutes" in post_sign_in(client, "bob", PASSWORD).content.decode()


def test_an_account_name_counts_whatever_its_case_and_spaces(client, person, clock):
    names = ["Bob", "bob ", " BOB", "bob"]
    for attempt in range(LIMIT):
        post_sign_in(client, names[attempt % len(names)], "wrong", REMOTE_ADDR=f"10.0.1.{attempt}")
        past_the_slowdown(clock, attempt + 1)
    assert AccessAttempt.objects.values_list("username", flat=True).distinct().count() == 1
    response = post_sign_in(client, "bob", PASSWORD, REMOTE_ADDR="10.0.2.1")
    assert response.status_code == 429 and not signed_in(client)


def test_an_account_is_locked_from_every_address(client, person, clock):
    """Spread over many addresses, the failures still add up for the account."""
    for attempt in range(LIMIT):
        post_sign_in(client, "bob", "wrong", REMOTE_ADDR=f"10.0.3.{attempt}")
        past_the_slowdown(clock, attempt + 1)
    assert post_sign_in(client, "bob", PASSWORD, REMOTE_ADDR="10.0.4.1").status_code == 429
    # Others still sign in from those addresses.
    UserFactory(username="carol")
    assert post_sign_in(client, "carol", PASSWORD, REMOTE_ADDR="10.0.3.0").status_code == 302


def test_an_address_is_locked_for_every_account(client, person, clock):
    """Spread over many account names, the failures still add up for the address."""
    for attempt in range(LIMIT):
        post_sign_in(client, f"guess-{attempt}", "wrong", REMOTE_ADDR="10.0.5.1")
        past_the_slowdown(clock, attempt + 1)
    assert post_sign_in(client, "bob", PASSWORD, REMOTE_ADDR="10.0.5.1").status_code == 429
    assert not signed_in(client)
    assert post_sign_in(client, "bob", PASSWORD, REMOTE_ADDR="10.0.5.2").status_code == 302


def test_the_account_name_comes_from_any_sign_in_form():
    """From authenticate()'s credentials (Django's and allauth's username, allauth's
    email) or, without credentials, from the form posted (allauth's "login")."""
    assert attempt_username(None, {"username": " Bob ", "password": "x"}) == "bob"
    assert attempt_username(None, {"email": "Bob@Example.com", "password": "x"}) == (
        "bob@example.com"
    )
    posted = RequestFactory().post("/", {"login": "BOB", "password": "x"})
    assert attempt_username(posted) == "bob"
    assert attempt_username(posted, {}) is None  # credentials without a name: none
    assert attempt_username(RequestFactory().post("/", {"login": "  "})) is None


@override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "NUM_PROXIES": 1})
def test_behind_a_proxy_the_address_it_saw_counts_not_one_made_up(client, person, clock):
    """With one trusted proxy, the address it appended is the client's: changing
    the X-Forwarded-For a client sends itself escapes nothing."""
    for attempt in range(LIMIT):
        post_sign_in(
            client,
            f"guess-{attempt}",
            "wrong",
            REMOTE_ADDR="10.9.9.9",  # the proxy
            HTTP_X_FORWARDED_FOR=f"203.0.113.{attempt}, 198.51.100.7",
        )
        past_the_slowdown(clock, attempt + 1)
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.7"}
    refused = post_sign_in(
        client, "bob", PASSWORD, REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR="198.51.100.7"
    )
    assert refused.status_code == 429
    # Not an address at all: the connection's own counts (no error).
    post_sign_in(client, "guess", "wrong", REMOTE_ADDR="10.9.9.8", HTTP_X_FORWARDED_FOR="junk")
    assert AccessAttempt.objects.filter(ip_address="10.9.9.8").exists()


class CountingHasher(MD5PasswordHasher):
    """The test suite's hasher, counting every hash it computes."""

    hashes = 0

    def encode(self, password, salt):
        CountingHasher.hashes += 1
        return super().encode(password, salt)


@override_settings(PASSWORD_HASHERS=["tests.accounts.test_lockout.CountingHasher"])
@pytest.mark.parametrize(
    ("login", "password", "status"),
    [("bob", "wrong password", 200), ("nobody", "wrong password", 200), ("bob", PASSWORD, 302)],
)
def test_a_sign_in_costs_one_hash(client, person, login, password, status):
    """One backend checks passwords; for an unknown account it hashes once too, so
    the answer takes as long. (With ModelBackend listed as well, a failure cost two.)"""
    CountingHasher.hashes = 0
    assert post_sign_in(client, login, password).status_code == status
    assert CountingHasher.hashes == 1


def test_the_admin_has_no_sign_in_of_its_own_to_get_around_the_lockout(client, admin, clock):
    """The admin signs in through the product's sign-in (and its second factor):
    credentials posted to the admin's own address are not even checked."""
    url = reverse("admin:login")
    response = client.post(url, {"username": "admin", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert not signed_in(client)
    for attempt in range(LIMIT):
        response = post_sign_in(client, "admin", "wrong")
        past_the_slowdown(clock, attempt + 1)
    assert response.status_code == 429
    assert "Please try again in" in response.content.decode()
    response = post_sign_in(client, "admin", PASSWORD)
    assert response.status_code == 429 and not signed_in(client)


def _reset(client, email: str, address: str = "10.0.6.1"):
    return client.post(reverse("password_reset"), {"email": email}, REMOTE_ADDR=address)


def test_password_reset_requests_for_one_email_are_limited(client, person, clock):
    statuses = []
    for attempt in range(LIMIT + 1):
        statuses.append(_reset(client, "Bob@example.com ").status_code)
        past_the_slowdown(clock, attempt + 1)
    assert statuses == [302] * (LIMIT - 1) + [429, 429]
    assert len(mail.outbox) == LIMIT - 1  # none once refused
    # From another address, the same email is still refused.
    assert _reset(client, "bob@example.com", address="10.0.6.2").status_code == 429
    assert len(mail.outbox) == LIMIT - 1


def test_password_reset_lockout_reads_the_same_whether_the_email_has_an_account(
    client, person, clock
):
    for attempt in range(LIMIT):
        existing = _reset(client, "bob@example.com", address="10.0.7.1")
        unknown = _reset(client, "nobody@example.com", address="10.0.7.2")
        past_the_slowdown(clock, attempt + 1)
    assert existing.status_code == unknown.status_code == 429
    assert same_page(existing.content.decode()) == same_page(unknown.content.decode())
    assert "example.com" not in existing.content.decode()


def test_password_reset_requests_from_one_address_are_limited(client, person, clock):
    for attempt in range(LIMIT - 1):
        assert _reset(client, f"someone-{attempt}@example.com").status_code == 302
        past_the_slowdown(clock, attempt + 1)
    assert _reset(client, "bob@example.com").status_code == 429
    assert mail.outbox == []
    assert _reset(client, "bob@example.com", address="10.0.6.9").status_code == 302
    assert len(mail.outbox) == 1


def test_a_password_reset_request_too_soon_is_slowed_sends_nothing_and_is_not_counted(
    client, person, clock
):
    for _ in range(SLOWDOWN_AFTER):
        assert _reset(client, "bob@example.com").status_code == 302
    assert len(mail.outbox) == SLOWDOWN_AFTER
    refused = _reset(client, "bob@example.com", address="10.0.6.2")
    assert refused.status_code == 429 and refused["Retry-After"] == "1"
    assert "Try again in 1 second." in refused.content.decode()
    assert len(mail.outbox) == SLOWDOWN_AFTER
    assert failures_counted() == SLOWDOWN_AFTER  # the refused one is not
    clock.shift(timedelta(seconds=1))
    assert _reset(client, "bob@example.com").status_code == 302
    assert len(mail.outbox) == SLOWDOWN_AFTER + 1


def test_sign_in_failures_and_reset_requests_share_an_address_count(client, person, clock):
    for attempt in range(LIMIT):
        post_sign_in(client, f"guess-{attempt}", "wrong", REMOTE_ADDR="10.0.6.1")
        past_the_slowdown(clock, attempt + 1)
    assert _reset(client, "bob@example.com").status_code == 429
    assert mail.outbox == []


def _api(address: str, token: str) -> APIClient:
    client = APIClient(REMOTE_ADDR=address)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_failed_api_tokens_lock_out_the_address_even_with_a_valid_token(person):
    _instance, token = ApiToken.objects.create(user=person, expiry=None, name="ci")
    with time_machine.travel(START, tick=False) as traveller:
        for attempt in range(LIMIT):
            response = _api("10.0.8.1", f"mlt_wrong{attempt:032d}").get("/api/v1/roles/")
            assert response.status_code == 401
            assert response["Content-Type"] == "application/problem+json"
            past_the_slowdown(traveller, attempt + 1)
        refused = _api("10.0.8.1", token).get("/api/v1/roles/")
        assert refused.status_code == 429
        assert refused["Content-Type"] == "application/problem+json"
        problem = refused.json()
        assert problem["status"] == 429 and problem["code"] == "locked_out"
        minutes = int(COOL_OFF.total_seconds() // 60)
        assert f"Try again in {minutes} minutes." in problem["detail"]
        assert refused["Retry-After"] == str(minutes * 60)
        # Other addresses are not affected, nor are sign-ins of the token's owner elsewhere.
        assert _api("10.0.8.2", token).get("/api/v1/roles/").status_code == 200

        traveller.shift(COOL_OFF + timedelta(seconds=1))
        assert _api("10.0.8.1", token).get("/api/v1/roles/").status_code == 200


def test_failed_api_tokens_slow_down_the_address_then_a_valid_token_works_again(person, clock):
    _instance, token = ApiToken.objects.create(user=person, expiry=None, name="ci")
    for attempt in range(SLOWDOWN_AFTER):
        assert _api("10.0.8.1", f"mlt_wrong{attempt:032d}").get("/api/v1/roles/").status_code == 401
    refused = _api("10.0.8.1", token).get("/api/v1/roles/")
    assert refused.status_code == 429
    problem = refused.json()
    assert problem["code"] == "locked_out"
    assert "Try again in 1 second." in problem["detail"]
    assert refused["Retry-After"] == "1"
    # Another wrong token at once is not counted either.
    assert _api("10.0.8.1", "mlt_wrong" + "x" * 32).get("/api/v1/roles/").status_code == 429
    assert failures_counted() == SLOWDOWN_AFTER
    clock.shift(timedelta(seconds=1))
    assert _api("10.0.8.1", token).get("/api/v1/roles/").status_code == 200


def test_failed_api_tokens_are_counted_per_address_only(person, clock):
    """Nameless attempts from one address never lock out the API for another."""
    for attempt in range(LIMIT):
        _api("10.0.9.1", f"mlt_wrong{attempt:032d}").get("/api/v1/roles/")
        past_the_slowdown(clock, attempt + 1)
    assert set(AccessAttempt.objects.values_list("username", flat=True)) == {None}
    _instance, token = ApiToken.objects.create(user=person, expiry=None, name="ci")
    assert _api("10.0.9.2", token).get("/api/v1/roles/").status_code == 200


def _lock_out(client, clock, login: str = "bob") -> None:
    for attempt in range(LIMIT):
        post_sign_in(client, login, "wrong", REMOTE_ADDR=f"10.0.10.{attempt}")
        past_the_slowdown(clock, attempt + 1)
    assert post_sign_in(client, login, PASSWORD).status_code == 429


def test_an_admin_sees_and_clears_a_lockout_in_the_admin(client, person, admin, clock):
    _lock_out(client, clock)
    client.force_login(admin)  # an admin of the Admins group, not a superuser
    changelist = reverse("admin:axes_accessattempt_changelist")
    response = client.get(changelist, {"q": "bob"})
    assert response.status_code == 200
    # One row per address; the last refused attempt came from the client's own.
    assert response.context["cl"].result_count == LIMIT + 1
    response = client.post(
        changelist,
        {
            "action": "delete_selected",
            "post": "yes",
            ACTION_CHECKBOX_NAME: list(AccessAttempt.objects.values_list("pk", flat=True)),
        },
    )
    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()
    client.logout()
    assert post_sign_in(client, "bob", PASSWORD).status_code == 302


def test_admins_read_the_sign_in_logs_but_never_add_attempts(client, admin):
    client.force_login(admin)
    for name in ("accessattempt", "accesslog", "accessfailurelog"):
        assert client.get(reverse(f"admin:axes_{name}_changelist")).status_code == 200
        assert client.get(reverse(f"admin:axes_{name}_add")).status_code == 403


def test_members_never_see_lockouts_in_the_admin(client, person):
    client.force_login(person)
    response = client.get(reverse("admin:axes_accessattempt_changelist"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_axes_reset_clears_every_lockout(client, person, clock):
    _lock_out(client, clock)
    call_command("axes_reset", verbosity=0)
    assert post_sign_in(client, "bob", PASSWORD).status_code == 302
