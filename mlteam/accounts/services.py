"""Writes for a person's own account: personal API tokens (create, the secret
returned once, and revoke), passwords, second factors and sessions."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from allauth.account.adapter import get_adapter
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.dispatch import Signal
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from knox.models import get_digest_token
from knox.settings import CONSTANTS

from .models import ApiToken, TokenScope
from .permissions import can_reset_two_factor, can_revoke_token
from .selectors import session_keys_of

logger = logging.getLogger(__name__)

# Enough for every script and machine a person runs; a forgotten pile is a risk.
TOKENS_PER_PERSON = 20
# A token's expiry is at most this far ahead (a longer-lived key is one without expiry,
# which the person chooses knowingly).
LONGEST_EXPIRY = timedelta(days=366)

NAME_REQUIRED_MESSAGE = _("Give the token a name, such as the script or machine that uses it.")
NAME_TAKEN_MESSAGE = _("You already have a token with this name: choose another name.")
EXPIRY_PAST_MESSAGE = _("Choose an expiry date after today.")
EXPIRY_FAR_MESSAGE = _("Choose an expiry date at most a year from today (%(last)s).")
LIMIT_MESSAGE = _(
    "You have %(limit)d tokens, the most a person may have. Revoke one you no longer use "
    "(an expired one, say) before creating another."
)
REVOKE_REFUSED_MESSAGE = _("You may only revoke your own tokens.")
CREDENTIALS_CHANGED_MESSAGE = _(
    "Your password changed or your account was switched off while this token was being "
    "created, so it was not created. Please sign in again."
)


def token_expiry(expires_on: date) -> datetime:
    """A token chosen to expire "on" a day works until that day ends, in the
    person's own time zone (the one active for their request)."""
    return timezone.make_aware(datetime.combine(expires_on, time.max))


@transaction.atomic
def token_create(
    *, user, name: str, scope: str = TokenScope.READ, expires_on: date | None = None
) -> tuple[ApiToken, str]:
    """A new personal token of `user`: returns the stored token and its secret, the
    one time the secret exists outside the caller's hands (only its hash is kept).

    1. Lock the person's row, so that two creations at once cannot both pass the
       name and number checks, and check that the password and the account are
       still those `user` was loaded with: a new password or a deactivation
       committed since (which revoked the tokens there were, `people_tokens_revoke`,
       holding this row) refuses the token, so none outlives it.
    2. Check the name (given, not one of theirs already), the expiry (after today,
       at most a year ahead, in the person's dates), the number of their tokens,
       and the fields themselves (length, scope).
    3. Store it with knox's hashing; the token prefix (`mlt_`) comes from REST_KNOX.
    """
    User = get_user_model()
    now = User.objects.select_for_update().filter(pk=user.pk).values_list("password", "is_active")
    if now.first() != (user.password, True):
        raise ValidationError(
            {
                NON_FIELD_ERRORS: [
                    ValidationError(CREDENTIALS_CHANGED_MESSAGE, code="credentials_changed")
                ]
            }
        )
    name = (name or "").strip()
    errors: dict[str, list[ValidationError]] = {}

    def refuse(field: str, message, code: str, **params) -> None:
        errors.setdefault(field, []).append(
            ValidationError(message, code=code, params=params or None)
        )

    theirs = ApiToken.objects.filter(user=user)
    if not name:
        refuse("name", NAME_REQUIRED_MESSAGE, "required")
    elif theirs.filter(name=name).exists():
        refuse("name", NAME_TAKEN_MESSAGE, "name_taken")
    expiry = None
    if expires_on is not None:
        today = timezone.localdate()
        last = today + LONGEST_EXPIRY
        if expires_on <= today:
            refuse("expires_on", EXPIRY_PAST_MESSAGE, "expiry_past")
        elif expires_on > last:
            refuse("expires_on", EXPIRY_FAR_MESSAGE, "expiry_too_far", last=last.isoformat())
        else:
            expiry = token_expiry(expires_on)
    if theirs.count() >= TOKENS_PER_PERSON:
        refuse(NON_FIELD_ERRORS, LIMIT_MESSAGE, "too_many_tokens", limit=TOKENS_PER_PERSON)

    digest, secret = get_digest_token()
    token = ApiToken(
        digest=digest,
        token_key=secret[: CONSTANTS.TOKEN_KEY_LENGTH],
        user=user,
        name=name,
        scope=scope,
        expiry=expiry,
    )
    try:
        # The person and the digest are ours; the name's uniqueness was checked above
        # (with any field refused there, said once).
        token.full_clean(exclude=["user", "digest", *errors], validate_constraints=False)
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            token.save(force_insert=True)
    except IntegrityError:  # the same name, created at the same moment elsewhere
        raise ValidationError(
            {"name": [ValidationError(NAME_TAKEN_MESSAGE, code="name_taken")]}
        ) from None
    logger.info("API token %s (%s) created for person %s", token.token_key, token.scope, user.pk)
    return token, secret


@transaction.atomic
def tokens_revoke(*, tokens: Iterable[ApiToken], actor, reason: str = "") -> int:
    """Revoke (delete) these tokens; from then on they authenticate nobody. The
    owner revokes their own, an admin anyone's (`can_revoke_token`): one refused
    token refuses them all, before anything changes. Returns how many were still
    there (revoking a revoked token is harmless).

    `actor` None is the system revoking by rule (`people_tokens_revoke`: the
    person's password changed or their account was switched off), never a request.
    """
    tokens = list(tokens)
    if actor is not None and any(not can_revoke_token(actor, token) for token in tokens):
        raise PermissionDenied(REVOKE_REFUSED_MESSAGE)
    revoked, _by_model = ApiToken.objects.filter(pk__in=[token.pk for token in tokens]).delete()
    by = f"person {actor.pk}" if actor is not None else "the system"
    for token in tokens:
        logger.info(
            "API token %s of person %s revoked by %s%s",
            token.token_key,
            token.user_id,
            by,
            f" ({reason})" if reason else "",
        )
    return revoked


# Sent by `people_tokens_revoke` (a new password, deactivation, anonymisation) with
# `user_ids` and `reason`: apps holding secrets of their own that must not outlive
# the person's credentials or access (mlteam.calendars' feed addresses) withdraw them.
credentials_withdrawn = Signal()


class RevokeReason:
    """Why every token of a person is revoked (`people_tokens_revoke`), for the log."""

    # The password was ...
    CHANGED = "password changed"
    RESET_LINK = "password reset"
    SET_BY_ADMIN = "password set by an admin"
    CHANGED_BY_COMMAND = "password set by manage.py changepassword"
    DEACTIVATED = "account deactivated"


def people_tokens_revoke(*, user_ids: Iterable[int], reason: str) -> int:
    """Revoke every personal token of these people, because their password changed
    (by them, by a reset link or by an admin) or their account was switched off: a
    token must not outlive the credentials or the access it was made with. The
    change itself is the authority, so no permission is asked (`tokens_revoke`'s
    system actor). Returns how many tokens were revoked.

    Callers change the people's rows first (password, is_active) in the same
    transaction, so `token_create`, which locks the row and checks both, waits for
    them and then refuses: no token made meanwhile survives the revocation."""
    user_ids = list(user_ids)
    tokens = ApiToken.objects.filter(user__in=user_ids)
    revoked = tokens_revoke(tokens=tokens, actor=None, reason=reason)
    # Other secrets made with that access (calendar feed addresses) go too.
    credentials_withdrawn.send(sender=ApiToken, user_ids=user_ids, reason=reason)
    return revoked


@transaction.atomic
def password_set(
    *, user, password: str | None, reason: str, keep_session: str | None = None
) -> int:
    """Give `user` a new password (None: an unusable one, no password sign-in),
    revoke their tokens and end their sessions, together: neither may outlive the
    old password. `keep_session` is the key of the session in which the person
    changed it themselves, which stays signed in; a reset link or an admin ends
    every session. Validation is the caller's form's (Django's password forms).
    Returns how many tokens were revoked."""
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.save(update_fields=["password"])
    sessions_end(user_ids=[user.pk], keep=keep_session)
    return people_tokens_revoke(user_ids=[user.pk], reason=reason)


# --- sessions ---------------------------------------------------------------------------


def sessions_end(*, user_ids: Iterable[int], keep: str | None = None) -> int:
    """Sign these people out everywhere (except the session whose key is `keep`):
    their sessions are deleted, so the next request of each is signed out, and
    their rows leave the sessions page. The one way sessions are ended: "Sign out
    everywhere" and "other sessions", a new password, deactivation, anonymisation.
    Returns how many sessions there were."""
    user_ids = list(user_ids)
    keys = set(session_keys_of(user_ids=user_ids)) - {keep}
    Session.objects.filter(session_key__in=keys).delete()
    UserSession.objects.filter(user_id__in=user_ids).exclude(session_key=keep).delete()
    if keys:
        logger.info("%d sessions of people %s ended", len(keys), sorted(user_ids))
    return len(keys)


def session_rotate(*, request: HttpRequest) -> None:
    """Give the request's session a new id, keeping what it holds (the person stays
    signed in): an id seen before a change of privileges (or before the person
    proved who they are again) is worth nothing after it. Its sessions-page row
    follows the new id."""
    old = request.session.session_key
    request.session.cycle_key()
    if old:
        session_rekey(old=old, new=request.session.session_key)


def session_rekey(*, old: str, new: str) -> None:
    """The session with key `old` now has key `new` (Django cycled it)."""
    UserSession.objects.filter(session_key=old).update(session_key=new)


def session_seen(*, request: HttpRequest, user) -> None:
    """Record that the request's session (signed in as `user`) was used now, from
    the request's address (the sessions page's "last use"); a session without its
    row (one begun by Django's own sign-in, or before rows were kept) gets one with
    its device. A request without an address (a test client's or a shell's
    sign-in, not a browser's) records nothing."""
    adapter = get_adapter()
    try:
        ip = adapter.get_client_ip(request)
    except PermissionDenied:
        return
    seen = UserSession.objects.filter(
        session_key=request.session.session_key, user_id=user.pk
    ).update(last_seen_at=timezone.now(), ip=ip)
    if not seen:
        UserSession.objects.create_from_request(request, user=user)


def token_revoke(*, token: ApiToken, actor) -> bool:
    """Revoke one token (see `tokens_revoke`); False when it was already gone."""
    return tokens_revoke(tokens=[token], actor=actor) == 1


def two_factor_reset(*, people: Iterable, actor) -> int:
    """Remove the second factors (authenticator app, recovery codes) of `people`,
    for someone who lost their phone: they sign in with their password alone until
    they set up a new one (at once, where the sign-in policy requires it). Only
    admins (`can_reset_two_factor`). Returns how many people had any."""
    if not can_reset_two_factor(actor):
        raise PermissionDenied(_("Only admins can reset two-factor authentication."))
    user_ids = [person.pk for person in people]
    factors = Authenticator.objects.filter(user_id__in=user_ids)
    affected = set(factors.values_list("user_id", flat=True))
    factors.delete()
    for user_id in sorted(affected):
        logger.info("two-factor authentication reset for person %s by %s", user_id, actor.pk)
    return len(affected)
