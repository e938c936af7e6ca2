"""The one authentication backend: allauth's (a ModelBackend that takes a username
or an email), reading permissions in one query.

It is the only backend that checks a password, so a failed sign-in costs one
password hash (with a second backend listed, Django asked both in turn). For an
unknown account it still hashes the password once, so that the answer takes as
long as for a known one. Axes's backend, listed before it, hashes nothing.

Nearly every page asks whether the viewer manages or administers projects
(`roles.permissions`); ModelBackend answers the first such question with two
queries (the person's own permissions, then their groups'). This backend reads
both at once (the permissions whose id is among the person's own or their groups'),
with the same answer and per-request cache.
"""

from __future__ import annotations

from allauth.account.auth_backends import AuthenticationBackend
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db.models import Q


def _permission_rows(user_obj):
    User = get_user_model()
    own = User.user_permissions.through.objects.filter(user_id=user_obj.pk)
    via_groups = Group.permissions.through.objects.filter(
        group__in=User.groups.through.objects.filter(user_id=user_obj.pk).values("group_id")
    )
    return Permission.objects.filter(
        Q(pk__in=own.values("permission_id")) | Q(pk__in=via_groups.values("permission_id"))
    ).values_list("content_type__app_label", "codename")


class PermissionBackend(AuthenticationBackend):
    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            if user_obj.is_superuser:
                rows = Permission.objects.values_list("content_type__app_label", "codename")
            else:
                rows = _permission_rows(user_obj)
            user_obj._perm_cache = {f"{app_label}.{codename}" for app_label, codename in rows}
        return user_obj._perm_cache
