"""Rate limits, counted in the shared cache (CACHE_URL: Redis in production, so
that every web process counts the same requests)."""

from __future__ import annotations

from rest_framework.throttling import SimpleRateThrottle


class TokenRateThrottle(SimpleRateThrottle):
    """Per personal token (requests made with it)."""

    scope = "token"

    def get_cache_key(self, request, view):
        token = request.auth
        if token is None or not hasattr(token, "token_key"):
            return None
        return self.cache_format % {"scope": self.scope, "ident": token.pk}


class PersonRateThrottle(SimpleRateThrottle):
    """Per person, whichever way they call (all their tokens and their session)."""

    scope = "person"

    def get_cache_key(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class AnonymousRateThrottle(SimpleRateThrottle):
    """Per address, for calls made without credentials (the schema, refusals)."""

    scope = "anonymous"

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
