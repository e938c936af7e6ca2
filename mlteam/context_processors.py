from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from roles.permissions import is_admin, is_manager


def navigation(request: HttpRequest) -> dict[str, bool | int]:
    """Flags the base layout needs to decide which navigation links to show, and how
    often the inbox bell asks for its count (no query: it asks after the page loads)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_is_manager": False, "nav_is_admin": False}
    return {
        "nav_is_manager": is_manager(user),
        "nav_is_admin": is_admin(user),
        "inbox_poll_seconds": settings.INBOX_POLL_SECONDS,
    }
