"""What a caller may do with the API beyond being signed in. Who may see or change
which project or deliverable is the apps' rule (querysets' `visible_to`, the
`can_*` functions), applied by their viewsets."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission


class TokenScope(BasePermission):
    """A read-only token reads; it never writes (sessions and read-write tokens may)."""

    message = _("This token is read-only: create a read-and-write token to make changes.")

    def has_permission(self, request, view) -> bool:
        token = request.auth
        if token is None or request.method in SAFE_METHODS:
            return True
        return not getattr(token, "read_only", False)
