"""A feed's entries as an iCalendar document (RFC 5545), built with icalendar."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from .selectors import CalendarEntry

PRODUCT_ID = "-//MLTeam//Calendar feed//EN"


def uid_domain() -> str:
    """The site's host, so that event UIDs are unique across installations."""
    return settings.SITE_URL.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "mlteam"


def calendar_document(*, name: str, entries: list[CalendarEntry], now: datetime) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    # How often a client should fetch it again (a hint; most clients decide themselves).
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", timedelta(hours=1))
    domain = uid_domain()
    for entry in entries:
        event = Event()
        event.add("uid", f"{entry.uid}@{domain}")
        event.add("dtstamp", now)
        event.add("dtstart", entry.day)
        event.add("dtend", entry.day + timedelta(days=1))
        event.add("summary", entry.summary)
        url = settings.SITE_URL + entry.path
        event.add("description", f"{entry.description}\n{url}")
        event.add("url", url)
        event.add("sequence", entry.sequence)
        event.add("transp", "TRANSPARENT")  # a due date does not make anyone busy
        if entry.changed:
            event.add("last-modified", entry.changed)
        calendar.add_component(event)
    return calendar.to_ical()


def feed_name(feed) -> str:
    if feed.project_id:
        return _("MLTeam: %(project)s") % {"project": feed.project.name}
    return _("MLTeam: my work")


def now() -> datetime:
    return timezone.now()
