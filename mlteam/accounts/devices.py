"""The device of a session, in words a person recognises ("Firefox on Windows"),
read from its browser's user agent: the common browsers and systems only, which
is all the sessions page needs to tell one's own devices apart."""

from __future__ import annotations

from django.utils.translation import gettext as _

# (what the user agent contains, the name shown), the first match wins: Edge and
# Opera also say "Chrome", Chrome also says "Safari", iPads also say "Mac OS X".
BROWSERS = (
    ("Edg", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chrome/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Safari/", "Safari"),
)
SYSTEMS = (
    ("Windows", "Windows"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Android", "Android"),
    ("CrOS", "ChromeOS"),
    ("Mac OS X", "macOS"),
    ("Macintosh", "macOS"),
    ("Linux", "Linux"),
)


def _first(user_agent: str, table) -> str | None:
    return next((name for marker, name in table if marker in user_agent), None)


def device_name(user_agent: str) -> str:
    """ "Firefox on Windows", "Safari on iOS", or as much of it as is known."""
    user_agent = user_agent or ""
    browser = _first(user_agent, BROWSERS)
    system = _first(user_agent, SYSTEMS)
    if browser and system:
        return _("%(browser)s on %(system)s") % {"browser": browser, "system": system}
    if browser:
        return browser
    if system:
        return _("A browser on %(system)s") % {"system": system}
    return _("Unknown device")
