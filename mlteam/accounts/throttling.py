"""Sign-in throttling: what django-axes counts, and the other doors it guards.

Axes counts failed sign-ins in its database table (AccessAttempt) and refuses a
locked-out attempt before any password is hashed (settings: "Sign-in throttling").
This module holds the three answers it asks us for (whose account, from which
address, counted by what) and counts the two other doors an attacker could knock
on in the same table, under the same limit and cool-off:

- password reset requests, per email address typed and per client address;
- API token authentications that fail, per client address.
"""

from __future__ import annotations

import ipaddress
import math

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off
from axes.models import AccessBase
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
    given to authenticate(), or, when there are none, from the form posted."""
    if credentials is not None:
        source = credentials
    elif request is not None:
        source = request.POST
    else:
        return None
    for key in _ACCOUNT_KEYS:
        name = normalise_account_name(source.get(key))
        if name:
            return name
    return None


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


def lockout_minutes(request: HttpRequest | None = None) -> int:
    """How long a lockout lasts after the last attempt, in whole minutes."""
    cool_off = get_cool_off(request)
    return max(1, math.ceil(cool_off.total_seconds() / 60)) if cool_off else 0


def attempt_record(*, request: HttpRequest, credentials: dict, sender: object) -> bool:
    """Count one attempt through axes' handler (the database handler, as for a
    failed sign-in) and say whether its account or address is now locked out.

    Counted without sending Django's user_login_failed signal: these are not
    sign-ins, and other listeners to that signal should not take them for one."""
    AxesProxyHandler.user_login_failed(sender, credentials, request)
    return bool(getattr(request, "axes_locked_out", False))


def attempt_refused(*, request: HttpRequest, credentials: dict) -> bool:
    """Whether axes refuses an attempt now: its account (if credentials name one)
    or its address is locked out. Counts nothing."""
    return not AxesProxyHandler.is_allowed(request, credentials)
