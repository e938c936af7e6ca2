"""Reads for a person's own settings pages: API tokens and sessions."""

from __future__ import annotations

from collections.abc import Iterable

from allauth.usersessions.models import UserSession
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from .models import ApiToken


def tokens_of(*, user) -> QuerySet[ApiToken]:
    """A person's own tokens, newest first, each with `usable` (not expired)."""
    return ApiToken.objects.filter(user=user).with_usable().order_by("-created", "token_key")


def token_of(*, user, token_key: str) -> ApiToken | None:
    """One of the person's own tokens, by its shown prefix; None for anyone else's."""
    return tokens_of(user=user).filter(token_key=token_key).first()


def sessions_of(*, user) -> QuerySet[UserSession]:
    """A person's sessions that are still signed in, the most recently used first:
    their sessions-page rows whose session has not expired (one query)."""
    live = Session.objects.filter(
        session_key=OuterRef("session_key"), expire_date__gt=timezone.now()
    )
    return (
        UserSession.objects.filter(user=user).filter(Exists(live)).order_by("-last_seen_at", "-pk")
    )


def session_keys_of(*, user_ids: Iterable[int]) -> list[str]:
    """The keys of every unexpired session signed in as these people: the ones
    with a sessions-page row, and those without one (begun before rows were kept,
    or never used after sign-in), found by decoding each session, since database
    sessions keep the user id inside their encoded data. Fine for an action a
    person or an admin takes now and then, not for a page."""
    user_ids = list(user_ids)
    wanted = {str(pk) for pk in user_ids}
    tracked = set(
        UserSession.objects.filter(user_id__in=user_ids).values_list("session_key", flat=True)
    )
    return sorted(
        session.session_key
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if session.session_key in tracked or str(session.get_decoded().get(SESSION_KEY)) in wanted
    )
