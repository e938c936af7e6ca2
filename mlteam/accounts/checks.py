"""Deploy check: a used two-factor code is remembered in a cache every web process
shares, so that it works once."""

from __future__ import annotations

from django.core.checks import CheckMessage, Tags, Warning, register

from mlteam.api.checks import UNSHARED_CACHES


@register(Tags.caches, deploy=True)
def used_codes_remembered(app_configs=None, **kwargs) -> list[CheckMessage]:
    """allauth marks a code that signed someone in, in the default cache, for the
    steps it stays valid (MFA_TOTP_TOLERANCE either side): with the dummy cache it
    is never marked, with an in-memory one only in the process that took it."""
    from django.conf import settings

    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if backend not in UNSHARED_CACHES:
        return []
    window = 30 * (2 * settings.MFA_TOTP_TOLERANCE + 1)
    return [
        Warning(
            f"The default cache ({backend.rsplit('.', 1)[-1]}) is not shared between "
            "processes, so a two-factor code that has been used is not refused when typed "
            f"again within its {window} seconds.",
            hint="Set CACHE_URL to a Redis database (redis://host:6379/1).",
            id="accounts.W001",
        )
    ]
