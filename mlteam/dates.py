"""Times as a person reads them: a day, a moment, or how long ago something happened.

Each kind has one format per language (mlteam/formats), and moments are shown in the
time zone active for the request (the person's own: deliverables.middleware). Pages
use the template filters of `mlteam_dates`; Python code that words a date for a
person (messages, history) uses these functions. CSV exports keep ISO dates.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from django.utils import formats, timezone, translation
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timesince import timesince
from django.utils.translation import gettext


def format_day(value: date | datetime | None) -> str:
    """A day: "Nov 27, 2026" / "2026年11月27日" (a moment's day in the active zone)."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        value = value.date()
    return _day(value, translation.get_language())


def format_moment(value: datetime | None) -> str:
    """A moment in the active time zone: "Nov 27, 2026, 14:05" / "2026年11月27日 14:05"."""
    if value is None or value == "":
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return _moment(value, value.tzinfo, translation.get_language())


# Lists and dashboards word the same few days on every request (~20 µs each through
# Django's date formatting): kept per day and language.
@lru_cache(maxsize=4096)
def _day(value: date, language: str | None) -> str:
    return formats.date_format(value, "DATE_FORMAT")


# Activity lists word the same moments on every request (each `ago` carries one as its
# tooltip), and Django's date formatting costs about 0.1 ms a moment: the words are
# kept per moment, time zone (aware datetimes in two zones compare equal, so the zone
# is part of the key) and language.
@lru_cache(maxsize=4096)
def _moment(value: datetime, zone, language: str | None) -> str:
    return formats.date_format(value, "DATETIME_FORMAT")


def format_ago(value: datetime | None, now: datetime | None = None) -> SafeString | str:
    """Recent activity: "3 hours ago" in a <time> element that carries the exact
    moment (machine-readable, and as a tooltip)."""
    if value is None or value == "":
        return ""
    now = now or timezone.now()
    if now - value < timedelta(minutes=1):
        words = gettext("just now")
    else:
        words = gettext("%(time)s ago") % {"time": timesince(value, now, depth=1)}
    machine = value.astimezone(UTC).isoformat() if timezone.is_aware(value) else value.isoformat()
    return format_html(
        '<time datetime="{}" title="{}">{}</time>', machine, format_moment(value), words
    )
