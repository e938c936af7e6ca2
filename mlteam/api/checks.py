"""Deploy check: the API's rate limits need a cache every web process shares."""

from __future__ import annotations

from django.core.checks import CheckMessage, Tags, Warning, register

# Caches each process keeps to itself (or none at all): DRF's throttles would count
# per process, or, with the dummy cache, not at all (every request allowed).
UNSHARED_CACHES = {
    "django.core.cache.backends.dummy.DummyCache",
    "django.core.cache.backends.locmem.LocMemCache",
}


@register(Tags.caches, deploy=True)
def rate_limits_shared(app_configs=None, **kwargs) -> list[CheckMessage]:
    from django.conf import settings

    throttles = settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_CLASSES") or []
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if not throttles or backend not in UNSHARED_CACHES:
        return []
    return [
        Warning(
            f"The default cache ({backend.rsplit('.', 1)[-1]}) is not shared between "
            "processes, so the API's rate limits are not enforced: the dummy cache counts "
            "nothing, an in-memory cache counts per process.",
            hint="Set CACHE_URL to a Redis database (redis://host:6379/1).",
            id="api.W001",
        )
    ]
