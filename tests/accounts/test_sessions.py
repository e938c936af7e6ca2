"""Sessions (issue 16, part 4): the list of a person's sessions, signing out the
other sessions or everywhere, the idle timeout and the lifetime, a new session id
at sign-in, at a change of privileges and at reauthentication, and a new password
ending the other sessions."""

from __future__ import annotations

import datetime
import getpass
from io import StringIO

import pytest
import time_machine
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mlteam.accounts import services
from mlteam.accounts.devices import device_name
from mlteam.services import people_deactivate
from roles.permissions import MANAGERS_GROUP
from tests.accounts.test_two_factor import enrol, totp_code
from tests.factories import PASSWORD, UserFactory, admin_user

pytestmark = pytest.mark.django_db

FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)
CHROME_LINUX = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
SESSIONS = reverse("accounts:session_list")
START = datetime.datetime(2026, 12, 3, 9, 0, tzinfo=datetime.UTC)


def browser(user_agent: str = FIREFOX_WINDOWS) -> Client:
    return Client(headers={"User-Agent": user_agent})


def sign_in(client: Client, user, *, remember: bool = False):
    data = {"login": user.username, "password": PASSWORD}
    if remember:
        data["remember"] = "on"
    response = client.post(reverse("login"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return response


def key(client: Client) -> str | None:
    cookie = client.cookies.get(settings.SESSION_COOKIE_NAME)
    return cookie.value if cookie else None


def signed_in(client: Client) -> bool:
    return client.get(reverse("home")).status_code == 200


# --- the device -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user_agent", "shown"),
    [
        (FIREFOX_WINDOWS, "Firefox on Windows"),
        (SAFARI_IPHONE, "Safari on iOS"),
        (CHROME_LINUX, "Chrome on Linux"),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
            "Edge on Windows",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Mobile Safari/537.36",
            "Chrome on Android",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/18.1 Safari/605.1.15",
            "Safari on macOS",
        ),
        ("curl/8.5.0", "Unknown device"),
        ("", "Unknown device"),
    ],
)
def test_the_device_is_named_from_the_user_agent(user_agent, shown):
    assert device_name(user_agent) == shown


# --- the list -------------------------------------------------------------------------


def test_the_list_shows_my_sessions_only_with_device_and_last_use():
    alice, bob = UserFactory(), UserFactory()
    laptop, phone, bobs = browser(FIREFOX_WINDOWS), browser(SAFARI_IPHONE), browser(CHROME_LINUX)
    with time_machine.travel(START, tick=False):
        sign_in(phone, alice)
        sign_in(bobs, bob)
    with time_machine.travel(START + datetime.timedelta(hours=2), tick=False):
        sign_in(laptop, alice)
        page = laptop.get(SESSIONS)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Firefox on Windows" in html
    assert "Safari on iOS" in html
    assert "Chrome on Linux" not in html  # Bob's
    assert html.count("This device") == 1
    assert "127.0.0.1" in html
    # The phone was last used two hours before the page was drawn.
    assert "2\xa0hours ago" in html
    rows = page.context["sessions"]
    assert [row.device for row in rows] == ["Firefox on Windows", "Safari on iOS"]
    assert [row.is_this for row in rows] == [True, False]


def test_the_sessions_page_needs_sign_in_and_its_actions_need_post():
    anonymous = browser()
    assert anonymous.get(SESSIONS)["Location"].startswith(reverse("login"))
    person = UserFactory()
    client = browser()
    sign_in(client, person)
    assert client.get(reverse("accounts:sessions_end_all")).status_code == 405
    assert client.get(reverse("accounts:sessions_end_others")).status_code == 405
    assert signed_in(client)


def test_allauths_address_for_the_sessions_page_serves_this_one():
    assert reverse("usersessions_list") == SESSIONS
    client = browser()
    sign_in(client, UserFactory())
    assert client.get(reverse("usersessions_list")).templates[0].name == (
        "accounts/session_list.html"
    )


def test_the_sessions_page_is_linked_from_the_person_menu():
    client = browser()
    sign_in(client, UserFactory())
    assert f'href="{SESSIONS}"' in client.get(reverse("home")).content.decode()


def _page_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(SESSIONS).status_code == 200
    return len(queries)


def test_the_sessions_page_costs_the_same_queries_for_one_or_many_sessions():
    # Queries: the session, the person, their permissions (the privilege stamp and
    # the menu), their live sessions (one query, the Django session as EXISTS).
    person = UserFactory()
    client = browser()
    sign_in(client, person)
    client.get(SESSIONS)  # the first page after sign-in settles the session
    one = _page_queries(client)
    for user_agent in (SAFARI_IPHONE, CHROME_LINUX, FIREFOX_WINDOWS):
        sign_in(browser(user_agent), person)
    assert len(client.get(SESSIONS).context["sessions"]) == 4
    assert _page_queries(client) == one


def test_a_session_that_has_ended_is_not_listed():
    person = UserFactory()
    laptop, phone = browser(), browser(SAFARI_IPHONE)
    sign_in(laptop, person)
    sign_in(phone, person)
    Session.objects.filter(session_key=key(phone)).delete()  # as clearsessions would
    assert [row.device for row in laptop.get(SESSIONS).context["sessions"]] == [
        "Firefox on Windows"
    ]


# --- signing out ----------------------------------------------------------------------


def test_sign_out_other_sessions_keeps_this_one():
    person, other = UserFactory(), UserFactory()
    laptop, phone, others = browser(), browser(SAFARI_IPHONE), browser()
    sign_in(laptop, person)
    sign_in(phone, person)
    sign_in(others, other)
    response = laptop.post(reverse("accounts:sessions_end_others"), follow=True)
    assert "Signed out 1 other session." in response.content.decode()
    assert signed_in(laptop)
    assert not signed_in(phone)
    assert signed_in(others)
    assert list(UserSession.objects.filter(user=person).values_list("session_key", flat=True)) == [
        key(laptop)
    ]


def test_sign_out_everywhere_ends_every_session_of_the_person_and_only_theirs():
    person, other = UserFactory(), UserFactory()
    laptop, phone, others = browser(), browser(SAFARI_IPHONE), browser()
    sign_in(laptop, person)
    sign_in(phone, person)
    sign_in(others, other)
    response = laptop.post(reverse("accounts:sessions_end_all"))
    assert response["Location"] == reverse(settings.LOGOUT_REDIRECT_URL)
    page = laptop.get(response["Location"]).content.decode()
    assert "You were signed out everywhere, on this device too." in page
    assert not signed_in(laptop)
    assert not signed_in(phone)
    assert signed_in(others)
    assert not UserSession.objects.filter(user=person).exists()
    assert UserSession.objects.filter(user=other).count() == 1


def test_sessions_end_also_finds_sessions_without_a_row():
    """A session begun before rows were kept (or never used since sign-in) is
    found by its contents, and ended with the others."""
    person = UserFactory()
    client = browser()
    client.force_login(person)  # no address: no row yet
    assert not UserSession.objects.filter(user=person).exists()
    assert services.sessions_end(user_ids=[person.pk]) == 1
    assert not signed_in(client)


def test_deactivation_signs_the_person_out_everywhere(admin):
    person = UserFactory()
    laptop, phone = browser(), browser(SAFARI_IPHONE)
    sign_in(laptop, person)
    sign_in(phone, person)
    people_deactivate(people=[person], actor=admin)
    assert not Session.objects.filter(session_key__in=[key(laptop), key(phone)]).exists()
    assert not UserSession.objects.filter(user=person).exists()


# --- a new password -------------------------------------------------------------------

NEW_PASSWORD = "a-brand-new-long-passphrase-41"


def test_changing_ones_password_ends_the_other_sessions_but_keeps_this_one():
    person = UserFactory()
    laptop, phone = browser(), browser(SAFARI_IPHONE)
    sign_in(laptop, person)
    sign_in(phone, person)
    before = key(laptop)
    response = laptop.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert key(laptop) != before  # the session goes on under a new id
    assert signed_in(laptop)
    assert not signed_in(phone)
    rows = UserSession.objects.filter(user=person)
    assert list(rows.values_list("session_key", flat=True)) == [key(laptop)]


def test_an_admin_setting_a_password_ends_every_session_of_the_person():
    admin = UserFactory(is_staff=True, is_superuser=True)
    person = UserFactory()
    laptop, phone = browser(), browser(SAFARI_IPHONE)
    sign_in(laptop, person)
    sign_in(phone, person)
    admins = browser()
    admins.force_login(admin)
    response = admins.post(
        reverse("admin:auth_user_password_change", args=[person.pk]),
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert not signed_in(laptop)
    assert not signed_in(phone)
    assert signed_in(admins)
    assert not UserSession.objects.filter(user=person).exists()


def test_a_reset_link_ends_every_session_of_the_person():
    person = UserFactory()
    laptop = browser()
    sign_in(laptop, person)
    services.password_set(
        user=person, password=NEW_PASSWORD, reason=services.RevokeReason.RESET_LINK
    )
    assert not signed_in(laptop)


def test_changepassword_from_the_shell_ends_every_session(monkeypatch):
    person = UserFactory()
    laptop = browser()
    sign_in(laptop, person)
    typed = iter([NEW_PASSWORD, NEW_PASSWORD])
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": next(typed))
    call_command("changepassword", person.username, stdout=StringIO())
    assert not signed_in(laptop)


# --- idle timeout and lifetime --------------------------------------------------------


def test_a_session_ends_after_the_idle_timeout_and_says_why():
    person = UserFactory()
    client = browser()
    with time_machine.travel(START, tick=False) as clock:
        sign_in(client, person)
        # Each request within the timeout keeps it going.
        for _ in range(4):
            clock.shift(datetime.timedelta(minutes=settings.SESSION_IDLE_TIMEOUT_MINUTES - 1))
            assert signed_in(client)
        clock.shift(datetime.timedelta(minutes=settings.SESSION_IDLE_TIMEOUT_MINUTES + 1))
        response = client.get(reverse("home"))
        assert response["Location"].startswith(reverse("login"))
        page = client.get(response["Location"]).content.decode()
    assert (
        f"You were signed out after {settings.SESSION_IDLE_TIMEOUT_MINUTES} minutes "
        "without activity." in page
    )
    assert not signed_in(client)


def test_htmx_after_the_session_ended_sends_the_whole_page_to_sign_in():
    """An inline edit or a section the page fetches after the timeout: htmx is told
    to open the sign-in page (HX-Redirect), coming back to the page the person was
    on, rather than following the redirect and drawing the sign-in page inside a
    row or a section. Without htmx, the usual redirect. (The inbox bell, which
    polls, answers nothing to someone signed out: it never sends them away.)"""
    person = UserFactory()
    client = browser()
    page = "/deliverables/?status=open"
    htmx = {"HX-Request": "true", "HX-Current-URL": f"http://testserver{page}"}
    with time_machine.travel(START, tick=False) as clock:
        sign_in(client, person)
        clock.shift(datetime.timedelta(minutes=settings.SESSION_IDLE_TIMEOUT_MINUTES + 1))
        assert client.get(reverse("notifications:inbox_count"), headers=htmx).status_code == 204
        response = client.get(reverse("deliverables:portfolio_activity"), headers=htmx)
    assert response.status_code == 200 and response.content == b""
    assert response["HX-Redirect"] == f"{reverse('login')}?next=/deliverables/%3Fstatus%3Dopen"
    # A page htmx did not name (another site's, or none): back to what was asked.
    response = Client().post(
        reverse("deliverables:inline", args=[1]),
        headers={"HX-Request": "true", "HX-Current-URL": "https://elsewhere.example/x"},
    )
    assert response["HX-Redirect"] == f"{reverse('login')}?next=/deliverables/1/inline/"
    plain = Client().get(page)
    assert plain.status_code == 302 and "HX-Redirect" not in plain
    assert plain["Location"] == f"{reverse('login')}?next=/deliverables/%3Fstatus%3Dopen"


def test_a_session_ends_at_its_lifetime_whatever_the_activity():
    person = UserFactory()
    client = browser()
    lifetime = datetime.timedelta(hours=settings.SESSION_LIFETIME_HOURS)
    with time_machine.travel(START, tick=False) as clock:
        sign_in(client, person)
        steps = int(lifetime / datetime.timedelta(minutes=30))
        for _ in range(steps - 1):  # a request every half hour, up to the last one
            clock.shift(datetime.timedelta(minutes=30))
            assert signed_in(client)
        clock.shift(datetime.timedelta(minutes=30))
        response = client.get(SESSIONS)
        assert response["Location"].startswith(reverse("login"))
        page = client.get(response["Location"]).content.decode()
    assert f"You were signed out {settings.SESSION_LIFETIME_HOURS} hours after signing in." in page


def test_keep_me_signed_in_has_no_idle_timeout_and_a_longer_lifetime():
    person = UserFactory()
    kept, plain = browser(), browser()
    with time_machine.travel(START, tick=False) as clock:
        sign_in(kept, person, remember=True)
        sign_in(plain, person)
        # The cookie outlives the browser only when asked.
        assert kept.cookies[settings.SESSION_COOKIE_NAME]["max-age"]
        assert not plain.cookies[settings.SESSION_COOKIE_NAME]["max-age"]
        clock.shift(datetime.timedelta(hours=5))
        assert signed_in(kept)
        assert not signed_in(plain)
        clock.shift(datetime.timedelta(days=settings.SESSION_REMEMBER_DAYS - 1))
        assert signed_in(kept)
        clock.shift(datetime.timedelta(days=1))
        response = kept.get(reverse("home"))
        assert response["Location"].startswith(reverse("login"))
        page = kept.get(response["Location"]).content.decode()
    assert f"You were signed out {settings.SESSION_REMEMBER_DAYS} days after signing in." in page


def test_last_use_is_recorded_at_most_once_a_minute():
    person = UserFactory()
    client = browser()
    with time_machine.travel(START, tick=False) as clock:
        sign_in(client, person)
        assert signed_in(client)  # the first page after sign-in settles the session
        row = UserSession.objects.get(user=person)
        clock.shift(datetime.timedelta(seconds=30))
        with CaptureQueriesContext(connection) as queries:
            assert signed_in(client)
        assert not [q for q in queries if q["sql"].startswith("UPDATE")]
        row.refresh_from_db()
        assert row.last_seen_at == START
        clock.shift(datetime.timedelta(seconds=40))
        assert signed_in(client)
        row.refresh_from_db()
        assert row.last_seen_at == START + datetime.timedelta(seconds=70)


# --- a new session id -----------------------------------------------------------------


def test_signing_in_gives_a_new_session_id():
    person = UserFactory()
    client = browser()
    anonymous = client.session  # a session from before sign-in
    anonymous["something"] = "before"
    anonymous.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = anonymous.session_key
    sign_in(client, person)
    assert key(client) != anonymous.session_key
    assert not Session.objects.filter(session_key=anonymous.session_key).exists()
    assert UserSession.objects.get(user=person).session_key == key(client)


def test_signing_in_with_a_password_and_a_code_gives_a_new_session_id():
    person = UserFactory()
    client = browser()
    with time_machine.travel(START, tick=False):
        client.force_login(person)
        secret = enrol(client, person)
        client.logout()
    with time_machine.travel(START + datetime.timedelta(minutes=5), tick=False):
        response = sign_in(client, person)
        assert response["Location"] == reverse("mfa_authenticate")
        halfway = key(client)  # the password alone: a session that is not signed in
        assert halfway
        client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
        assert signed_in(client)
    assert key(client) != halfway
    assert not Session.objects.filter(session_key=halfway).exists()


@pytest.mark.parametrize("change", ["group", "permission", "staff", "superuser"])
def test_a_change_of_privileges_gives_the_persons_sessions_a_new_id(change):
    person = UserFactory()
    laptop, phone = browser(), browser(SAFARI_IPHONE)
    sign_in(laptop, person)
    sign_in(phone, person)
    assert signed_in(laptop)
    unchanged = key(laptop)
    assert signed_in(laptop)
    assert key(laptop) == unchanged  # nothing changed, nothing moves
    if change == "group":
        person.groups.add(Group.objects.get(name=MANAGERS_GROUP))
    elif change == "permission":
        person.user_permissions.add(Permission.objects.get(codename="add_project"))
    else:
        setattr(person, f"is_{change}", True)
        person.save()
    for client in (laptop, phone):
        old = key(client)
        assert signed_in(client)  # still signed in, under a new id
        assert key(client) != old
        assert not Session.objects.filter(session_key=old).exists()
        assert UserSession.objects.filter(session_key=key(client), user=person).exists()
    moved = key(laptop)
    assert signed_in(laptop)
    assert key(laptop) == moved


def test_losing_a_privilege_also_gives_a_new_id():
    person = admin_user()
    client = browser()
    sign_in(client, person)
    assert signed_in(client)
    before = key(client)
    person.groups.clear()
    assert signed_in(client)
    assert key(client) != before


def test_reauthenticating_gives_a_new_session_id():
    person = UserFactory()
    client = browser()
    sign_in(client, person)
    assert signed_in(client)
    before = key(client)
    response = client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    assert response.status_code == 302
    assert key(client) != before
    assert signed_in(client)
    assert UserSession.objects.get(user=person).session_key == key(client)


def test_a_session_from_before_the_policy_begins_at_its_next_request():
    """Sessions signed in before this release hold none of the policy's marks:
    their next request starts the clocks and writes their row."""
    person = UserFactory()
    client = browser()
    sign_in(client, person)
    session = client.session
    for name in ("mlteam_signed_in_at", "mlteam_last_seen_at", "mlteam_privileges"):
        del session[name]
    session.save()
    UserSession.objects.all().delete()
    assert signed_in(client)
    assert UserSession.objects.get(user=person).session_key == key(client)
    assert "mlteam_signed_in_at" in client.session
