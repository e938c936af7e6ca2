"""Who is calling: a browser session (with CSRF) or a personal token.

Failed token authentications are counted per client address in axes' table, as
failed sign-ins are (mlteam.accounts.throttling); from an address slowed down or
locked out, every token is refused, a valid one too, until the wait ends."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication as DRFSessionAuthentication
from rest_framework.authentication import get_authorization_header

from mlteam.accounts import throttling

# A token's "last used" is written at most once a minute (not on every request).
LAST_USED_PRECISION = timedelta(minutes=1)


class SessionAuthentication(DRFSessionAuthentication):
    """The browser's session; unsafe methods need the CSRF token (DRF's check)."""


class LockedOut(exceptions.APIException):
    """Too many failed token authentications from this address: slowed down for
    some seconds or locked out for some minutes (throttling). 429, with when to try
    again (Retry-After)."""

    status_code = 429
    default_code = "locked_out"

    def __init__(self, http_request):
        seconds = throttling.slowed_seconds(http_request)
        if seconds:
            detail = ngettext(
                "Too many failed authentications from your address. Try again in %(count)d second.",
                "Too many failed authentications from your address. Try again in "
                "%(count)d seconds.",
                seconds,
            ) % {"count": seconds}
        else:
            minutes = throttling.lockout_minutes(http_request)
            detail = ngettext(
                "Too many failed authentications from your address. Try again in %(count)d minute.",
                "Too many failed authentications from your address. Try again in "
                "%(count)d minutes.",
                minutes,
            ) % {"count": minutes}
            seconds = minutes * 60
        super().__init__(detail)
        self.wait = seconds  # DRF's handler sends it as Retry-After


class TokenAuthentication(KnoxTokenAuthentication):
    """`Authorization: Bearer mlt_…`: a personal token (mlteam.accounts.ApiToken),
    looked up by its first characters and compared by hash (django-rest-knox);
    an expired token is refused (and deleted by knox)."""

    def authenticate(self, request):
        """1. No bearer token: not ours to answer (None), nothing counted.
        2. The address is locked out or slowed down: 429, before the token is
           looked up.
        3. The token fails: counted for the address, then the usual 401."""
        if not self._presents_token(request):
            return super().authenticate(request)
        http_request = request._request  # axes keeps its state on Django's request
        # No account name: counted and judged per address only.
        if throttling.attempt_refused(request=http_request, credentials={}):
            raise LockedOut(http_request)
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            throttling.attempt_record(request=http_request, credentials={}, sender=self)
            # Answered here, as a problem; not by axes' middleware with the web page.
            http_request.axes_locked_out = False
            raise

    def _presents_token(self, request) -> bool:
        words = get_authorization_header(request).split()
        prefix = self.authenticate_header(request).encode()
        return bool(words) and words[0].lower() == prefix.lower()

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
