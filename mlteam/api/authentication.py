"""Who is calling: a browser session (with CSRF) or a personal token."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication as DRFSessionAuthentication

# A token's "last used" is written at most once a minute (not on every request).
LAST_USED_PRECISION = timedelta(minutes=1)


class SessionAuthentication(DRFSessionAuthentication):
    """The browser's session; unsafe methods need the CSRF token (DRF's check)."""


class TokenAuthentication(KnoxTokenAuthentication):
    """`Authorization: Bearer mlt_…`: a personal token (mlteam.accounts.ApiToken),
    looked up by its first characters and compared by hash (django-rest-knox);
    an expired token is refused (and deleted by knox)."""

    def authenticate_credentials(self, token):
        try:
            token.decode("ascii")  # tokens are ASCII; knox would fail on other bytes (a 500)
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        user, auth_token = super().authenticate_credentials(token)
        now = timezone.now()
        if auth_token.last_used_at is None or now - auth_token.last_used_at > LAST_USED_PRECISION:
            type(auth_token).objects.filter(pk=auth_token.pk).update(last_used_at=now)
            auth_token.last_used_at = now
        return user, auth_token

    def _cleanup_token(self, auth_token) -> bool:
        """Refuse an expired token. Unlike knox, keep it (Settings shows it as
        expired until its owner removes it) and leave the person's other tokens
        alone: no query and no write for them on every request."""
        return auth_token.is_expired()
