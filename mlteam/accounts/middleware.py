"""The session policy (README "Sessions"), on every signed-in request:

1. A session ends after SESSION_IDLE_TIMEOUT_MINUTES without a request, and at
   the latest SESSION_LIFETIME_HOURS after sign-in; a kept one ("Keep me signed
   in") has no idle timeout and lasts SESSION_REMEMBER_DAYS. An ended session is
   signed out and told why; the page then asks for sign-in as for anyone signed
   out (LoginRequiredMiddleware), so the person comes back where they were.
2. A session whose person's privileges changed since its last request (staff or
   superuser status, permissions of their own or of their groups) gets a new id:
   the session keeps what it holds, the id it had before is worth nothing.
3. Its last use is kept at most once a minute (a session write and its sessions-
   page row), not on every request.

The session holds when it began, when it was last seen (to the minute) and a
stamp of the privileges it was last seen with, all written at sign-in
(`session_begin`, on Django's `user_logged_in`, which every way of signing in
sends); a session without them began before this policy and begins now.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import ngettext

from . import services

SIGNED_IN_AT = "mlteam_signed_in_at"
LAST_SEEN_AT = "mlteam_last_seen_at"
PRIVILEGES = "mlteam_privileges"
# Seconds between two records of a session's last use.
LAST_SEEN_EVERY = 60


def privilege_stamp(user) -> str:
    """A digest of what `user` may do: the same while their privileges are. The
    permissions come from the per-request cache that nearly every page fills
    anyway (mlteam.auth), so reading them here costs no query on those pages."""
    if user.is_superuser:
        parts = ["superuser", f"staff={user.is_staff}"]
    else:
        parts = [f"staff={user.is_staff}", *sorted(user.get_all_permissions())]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def is_kept(session) -> bool:
    """Whether the person asked to stay signed in ("Keep me signed in"): allauth
    gave the session an expiry of its own instead of the browser's."""
    return not session.get_expire_at_browser_close()


@dataclass(frozen=True)
class Ending:
    """Why a session is over: `idle` minutes without a request, or its lifetime."""

    idle_minutes: int = 0
    lifetime_hours: int = 0
    lifetime_days: int = 0

    def message(self) -> str:
        if self.idle_minutes:
            return ngettext(
                "You were signed out after %(count)d minute without activity.",
                "You were signed out after %(count)d minutes without activity.",
                self.idle_minutes,
            ) % {"count": self.idle_minutes}
        if self.lifetime_days:
            return ngettext(
                "You were signed out %(count)d day after signing in. Please sign in again.",
                "You were signed out %(count)d days after signing in. Please sign in again.",
                self.lifetime_days,
            ) % {"count": self.lifetime_days}
        return ngettext(
            "You were signed out %(count)d hour after signing in. Please sign in again.",
            "You were signed out %(count)d hours after signing in. Please sign in again.",
            self.lifetime_hours,
        ) % {"count": self.lifetime_hours}


def session_ending(session, now: float) -> Ending | None:
    """Whether the session is over at `now` (seconds since the epoch), and why."""
    signed_in_at = session.get(SIGNED_IN_AT, now)
    if is_kept(session):
        days = settings.SESSION_REMEMBER_DAYS
        if now - signed_in_at >= days * 86400:
            return Ending(lifetime_days=days)
        return None
    hours = settings.SESSION_LIFETIME_HOURS
    if now - signed_in_at >= hours * 3600:
        return Ending(lifetime_hours=hours)
    minutes = settings.SESSION_IDLE_TIMEOUT_MINUTES
    if now - session.get(LAST_SEEN_AT, now) >= minutes * 60:
        return Ending(idle_minutes=minutes)
    return None


def session_begin(*, request: HttpRequest, user) -> None:
    """A session signed in as `user` begins: its clocks start, its privileges are
    stamped and its sessions-page row is written. Django's login() gave it a new
    id already (or a fresh session)."""
    now = timezone.now().timestamp()
    session = request.session
    session[SIGNED_IN_AT] = now
    session[LAST_SEEN_AT] = now
    session[PRIVILEGES] = privilege_stamp(user)
    if not session.session_key:  # login() flushed it: the row needs the new key
        session.save()
    services.session_seen(request=request, user=user)


def session_begin_at_sign_in(sender, request, user, **kwargs) -> None:
    """Receives Django's `user_logged_in` (sent by allauth's sign-in, the reset
    link's, an invitation's and the test client's alike)."""
    if request is not None and hasattr(request, "session"):
        session_begin(request=request, user=user)


class SessionPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            self._apply(request, user)
        return self.get_response(request)

    def _apply(self, request: HttpRequest, user) -> None:
        session = request.session
        if SIGNED_IN_AT not in session:
            session_begin(request=request, user=user)
            return
        now = timezone.now().timestamp()
        ending = session_ending(session, now)
        if ending is not None:
            logout(request)
            messages.info(request, ending.message())
            return
        stamp = privilege_stamp(user)
        if session.get(PRIVILEGES) != stamp:
            services.session_rotate(request=request)
            session[PRIVILEGES] = stamp
        if now - session.get(LAST_SEEN_AT, 0) >= LAST_SEEN_EVERY:
            session[LAST_SEEN_AT] = now
            services.session_seen(request=request, user=user)
