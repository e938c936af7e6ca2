"""Who may do what with personal API tokens and second factors.

A person manages their own tokens. Revoking anyone's is the Django admin's
permission to delete API tokens (`accounts.delete_apitoken`, which the Admins
group holds, as do superusers): one rule for the admin site and the service.
"""

from __future__ import annotations

from .models import ApiToken

REVOKE_ANY_PERMISSION = "accounts.delete_apitoken"


def can_revoke_token(user, token: ApiToken) -> bool:
    if not (user.is_authenticated and user.is_active):
        return False
    return token.user_id == user.pk or user.has_perm(REVOKE_ANY_PERMISSION)


# Removing a person's second factors: the Django admin's permission to delete
# authenticators (allauth's), which the Admins group holds (migration 0005).
RESET_TWO_FACTOR_PERMISSION = "mfa.delete_authenticator"


def can_reset_two_factor(user) -> bool:
    return bool(
        user.is_authenticated and user.is_active and user.has_perm(RESET_TWO_FACTOR_PERMISSION)
    )
