"""Each person reads times in their own time zone (ReminderPreference.time_zone).

The zone is kept in the session (set at sign-in and when the preference is saved), so
activating it costs no query; a session from before this was kept reads it once.
"""

from __future__ import annotations

import contextlib
import zoneinfo

from django.utils import timezone

SESSION_KEY = "time_zone"


def time_zone_of(user) -> str:
    """The person's saved zone, or "" for the site's default."""
    from .models import ReminderPreference

    zone = ReminderPreference.objects.filter(user=user).values_list("time_zone", flat=True)
    return zone.first() or ""


def remember_time_zone(session, zone: str) -> None:
    session[SESSION_KEY] = zone or ""


def remember_time_zone_at_sign_in(sender, request, user, **kwargs) -> None:
    """user_logged_in receiver (connected in apps.py)."""
    if request is not None and hasattr(request, "session"):
        remember_time_zone(request.session, time_zone_of(user))


class PersonTimeZoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        zone = self._zone(request)
        timezone.deactivate()  # the site's default, unless the person chose a zone
        # A zone no longer known (or a tampered session) leaves the default.
        with contextlib.suppress(zoneinfo.ZoneInfoNotFoundError, ValueError):
            if zone:
                timezone.activate(zoneinfo.ZoneInfo(zone))
        return self.get_response(request)

    def _zone(self, request) -> str:
        session = getattr(request, "session", None)
        if session is None:
            return ""
        zone = session.get(SESSION_KEY)
        if zone is None:
            user = getattr(request, "user", None)
            if user is None or not user.is_authenticated:
                return ""
            zone = time_zone_of(user)
            remember_time_zone(session, zone)
        return zone
