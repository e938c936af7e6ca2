"""Sign-in throttling: what django-axes counts, and the other doors it guards.

Axes counts failed sign-ins in its database table (AccessAttempt) and refuses a
locked-out attempt before any password is hashed (settings: "Sign-in throttling").
Before the lock, SlowdownHandler (axes' database handler, AXES_HANDLER) slows the
attempts down, judged from the same rows. This module holds the three answers axes
asks us for (whose account, from which address, counted by what) and counts the
other doors an attacker could knock on in the same table, under the same slowdown,
limit and cool-off:

- password reset requests, per email address typed and per client address;
- API token authentications that fail, per client address;
- second-factor codes (mlteam.accounts.forms.TwoFactorForm), per account and address.
"""

from __future__ import annotations

import ipaddress
import math

from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off, get_failure_limit
from axes.models import AccessBase
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Max, Q, Sum
from django.http import HttpRequest
from rest_framework.throttling import BaseThrottle

# Keys an account name arrives under: Django's form and axes' own records
# ("username"), allauth's form ("login") and its email sign-in or a reset request
# ("email").
_ACCOUNT_KEYS = ("username", "login", "email")
# AccessAttempt.username's length.
_LONGEST_NAME = 255


def normalise_account_name(value: object) -> str | None:
    """ "Bob", "bob " and "BOB" are one account as far as counting goes."""
    if not isinstance(value, str):
        return None
    name = value.strip().casefold()[:_LONGEST_NAME]
    return name or None


def attempt_username(request: HttpRequest | None, credentials: dict | None = None) -> str | None:
    """The account an attempt is for (AXES_USERNAME_CALLABLE): from the credentials
    given to authenticate(), or, when there are none, from the form posted. A name
    or email that belongs to an account counts as that account's username, so that
    typing the email instead of the username does not start a fresh count."""
    if credentials is not None:
        source = credentials
    elif request is not None:
        source = request.POST
    else:
        return None
    for key in _ACCOUNT_KEYS:
        name = normalise_account_name(source.get(key))
        if name:
            return _account_of(request, name)
    return None


def _account_of(request: HttpRequest | None, name: str) -> str:
    """`name`'s account's username (normalised), or `name` itself when no one
    account has it as username or email. One query, whether the account exists or
    not; remembered on the request (axes asks several times)."""
    known = getattr(request, "_throttling_accounts", None) if request is not None else None
    if known is not None and name in known:
        return known[name]
    User = get_user_model()
    matches = list(
        User.objects.filter(
            Q(**{f"{User.USERNAME_FIELD}__iexact": name}) | Q(email__iexact=name)
        ).values_list(User.USERNAME_FIELD, flat=True)[:2]
    )
    account = normalise_account_name(matches[0]) if len(matches) == 1 else name
    if request is not None:
        if known is None:
            known = request._throttling_accounts = {}
        known[name] = account
    return account or name


def lockout_parameters(request_or_attempt, credentials: dict | None = None) -> list[list[str]]:
    """Count per account and, separately, per address (AXES_LOCKOUT_PARAMETERS).

    An attempt with no account name (an API token) is counted per address only:
    counting it "per account" would lump every nameless attempt from everywhere
    into one count, and one address could then lock out everyone's."""
    if isinstance(request_or_attempt, AccessBase):
        name = request_or_attempt.username
    else:
        name = attempt_username(request_or_attempt, credentials)
    return [["username"], ["ip_address"]] if name else [["ip_address"]]


def client_address(request: HttpRequest) -> str | None:
    """The client's address (AXES_CLIENT_IP_CALLABLE), by the API's rule
    (REST_FRAMEWORK["NUM_PROXIES"], set from API_NUM_PROXIES): the connection's own
    address, or behind that many proxies the one the nearest untrusted hop gave.
    Anything that is not an address falls back to the connection's own."""
    address = BaseThrottle().get_ident(request)
    try:
        return str(ipaddress.ip_address((address or "").strip()))
    except ValueError:
        return request.META.get("REMOTE_ADDR") or None


def slowdown_seconds(failures: int) -> int:
    """How long to wait after the last of `failures` failures before the next
    attempt is heard: none below SIGN_IN_SLOWDOWN_AFTER, then 1 s, doubling with
    each further failure, never more than SIGN_IN_SLOWDOWN_LONGEST_SECONDS."""
    beyond = failures - settings.SIGN_IN_SLOWDOWN_AFTER
    if beyond < 0:
        return 0
    return min(2**beyond, settings.SIGN_IN_SLOWDOWN_LONGEST_SECONDS)


class SlowdownHandler(AxesDatabaseHandler):
    """Axes' database handler (AXES_HANDLER), slowing attempts down before it locks.

    An account or address with SIGN_IN_SLOWDOWN_AFTER failures or more, whose last
    failure was less than slowdown_seconds(failures) ago, is refused for now, as a
    locked-out one is, but with a wait in seconds, and the refused attempt is not
    counted: waiting out the delay is always enough. From the failure limit on,
    axes' lock applies as before. Read from the AccessAttempt rows axes keeps (the
    sum of failures_since_start and the latest attempt_time, per account and per
    address), in the one query per count that axes' own check makes."""

    def is_locked(self, request, credentials: dict | None = None) -> bool:
        """1. One count (account, address) at the failure limit: locked.
        2. Otherwise one still inside its delay: slowed; the seconds left are kept
           on the request (request.axes_slowed_seconds) for the page and for
           user_login_failed, which then counts nothing.
        3. Otherwise: heard."""
        request.axes_slowed_seconds = 0
        if not settings.AXES_LOCK_OUT_AT_FAILURE:
            return False
        counts = [
            attempts.aggregate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
            for attempts in self.get_user_attempts(request, credentials)
        ]
        limit = get_failure_limit(request, credentials)
        if any((count["failures"] or 0) >= limit for count in counts):
            return True
        waits = [
            slowdown_seconds(count["failures"])
            - (request.axes_attempt_time - count["last"]).total_seconds()
            for count in counts
            if count["failures"]
        ]
        longest_wait = max(waits, default=0)
        if longest_wait > 0:
            request.axes_slowed_seconds = math.ceil(longest_wait)
            return True
        return False

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        """Counts a failure, as axes does, unless the attempt was refused for the
        slowdown: that one only gets the page (axes' middleware, locked_out).

        A door that counts without asking first (a password reset request) is
        asked here. One that asked already keeps that answer, so an attempt whose
        password was checked is always counted, however many ran alongside it."""
        if request is not None:
            if not hasattr(request, "axes_slowed_seconds"):
                self.is_allowed(request, credentials)
            if slowed_seconds(request):
                request.axes_locked_out = True
                request.axes_credentials = credentials
                return
        super().user_login_failed(sender, credentials, request, **kwargs)


def slowed_seconds(request: HttpRequest) -> int:
    """When the attempt was refused for the slowdown (not locked out): the seconds
    to wait before the next one. Otherwise 0."""
    return getattr(request, "axes_slowed_seconds", 0) or 0


def lockout_minutes(request: HttpRequest | None = None) -> int:
    """How long a lockout lasts after the last attempt, in whole minutes."""
    cool_off = get_cool_off(request)
    return max(1, math.ceil(cool_off.total_seconds() / 60)) if cool_off else 0


def attempt_record(*, request: HttpRequest, credentials: dict, sender: object) -> bool:
    """Count one attempt through axes' handler (the database handler, as for a
    failed sign-in) and say whether it is refused: its account or address is now
    locked out, or it came too soon after the last failure (slowed_seconds; then it
    is not counted).

    Counted without sending Django's user_login_failed signal: these are not
    sign-ins, and other listeners to that signal should not take them for one."""
    AxesProxyHandler.user_login_failed(sender, credentials, request)
    return bool(getattr(request, "axes_locked_out", False))


def attempt_refused(*, request: HttpRequest, credentials: dict) -> bool:
    """Whether axes refuses an attempt now: its account (if credentials name one)
    or its address is locked out, or slowed down (slowed_seconds). Counts nothing."""
    return not AxesProxyHandler.is_allowed(request, credentials)
