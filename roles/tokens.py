"""Tokens for invitation links, kept apart from password-reset tokens."""

from __future__ import annotations

from django.contrib.auth.tokens import PasswordResetTokenGenerator


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    """Like password-reset tokens, but with their own salt and bound to the account
    still being a pending invitation: activating the account, or rotating its
    unusable password when the invitation is withdrawn, ends every link."""

    key_salt = "mlteam.roles.tokens.InvitationTokenGenerator"

    def _make_hash_value(self, user, timestamp: int) -> str:
        return f"{super()._make_hash_value(user, timestamp)}{user.is_active}"


invitation_token_generator = InvitationTokenGenerator()
