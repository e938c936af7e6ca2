"""Tokens for invitation links, kept apart from password-reset tokens."""

from __future__ import annotations

from django.contrib.auth.tokens import PasswordResetTokenGenerator

from mlteam.people import is_anonymised


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    """Like password-reset tokens, but with their own salt and bound to the account
    still being a pending invitation: activating the account, or rotating its
    unusable password when the invitation is withdrawn, ends every link."""

    key_salt = "mlteam.roles.tokens.InvitationTokenGenerator"

    def _make_hash_value(self, user, timestamp: int) -> str:
        return f"{super()._make_hash_value(user, timestamp)}{user.is_active}"


invitation_token_generator = InvitationTokenGenerator()


def is_pending_invitee(user) -> bool:
    """Invited, never activated: inactive with no usable password and no sign-in yet
    (an anonymised account never is, even one that was invited and never signed in)."""
    return (
        not user.is_active
        and not user.has_usable_password()
        and user.last_login is None
        and not is_anonymised(user)
    )
