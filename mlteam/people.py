"""How a person is named wherever they are shown, and what an anonymised account is.

People are never deleted (docs/data-retention.md): someone who leaves is
deactivated and keeps their name on the history they wrote; a data-protection
request anonymises the account (`anonymise_person`), which renames it to a
placeholder that every page, email and history entry shows as "Former member" in
the reader's language. The placeholder is the username itself, so pages that
build people from a few columns in SQL name them right without another query.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

ANONYMISED_USERNAME_PREFIX = "former-member-"
FORMER_MEMBER = _("Former member")


def anonymised_username(user_id: int) -> str:
    """The placeholder an anonymised account is renamed to (stable: its id)."""
    return f"{ANONYMISED_USERNAME_PREFIX}{user_id}"


def is_anonymised_name(value: str) -> bool:
    """Whether a stored name (a username, or an owner named in a history entry) is
    an anonymised account's placeholder."""
    return value.startswith(ANONYMISED_USERNAME_PREFIX)


def is_anonymised(user) -> bool:
    return is_anonymised_name(user.get_username())


def stored_name(value: str) -> str:
    """A name stored as text (the owner in a history entry) as shown: an anonymised
    account's placeholder reads "Former member"."""
    return str(FORMER_MEMBER) if is_anonymised_name(value) else value


def person_name(user) -> str:
    """A person as pages, emails and history show them: the full name, else the
    username; "Former member" for an anonymised account; "" for nobody."""
    if user is None:
        return ""
    if is_anonymised(user):
        return str(FORMER_MEMBER)
    return user.get_full_name() or user.get_username()


def is_deactivated(user) -> bool:
    """An account that was in use and is switched off (deactivated or anonymised),
    as opposed to a pending invitation, which is inactive until it is accepted."""
    return not user.is_active and not is_pending_invitee(user)


def is_pending_invitee(user) -> bool:
    """Invited, never activated: inactive with no usable password and no sign-in yet
    (an anonymised account never is, even one that was invited and never signed in)."""
    return (
        not user.is_active
        and not user.has_usable_password()
        and user.last_login is None
        and not is_anonymised(user)
    )
