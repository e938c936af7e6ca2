"""Reads for the token settings page."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import ApiToken


def tokens_of(*, user) -> QuerySet[ApiToken]:
    """A person's own tokens, newest first, each with `usable` (not expired)."""
    return ApiToken.objects.filter(user=user).with_usable().order_by("-created", "token_key")


def token_of(*, user, token_key: str) -> ApiToken | None:
    """One of the person's own tokens, by its shown prefix; None for anyone else's."""
    return tokens_of(user=user).filter(token_key=token_key).first()
