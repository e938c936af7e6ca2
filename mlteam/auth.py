"""Authentication backend: Django's ModelBackend, reading permissions in one query.

Nearly every page asks whether the viewer manages or administers projects
(`roles.permissions`); ModelBackend answers the first such question with two
queries (the person's own permissions, then their groups'). This backend reads
both at once, with the same answer and the same per-request cache.
"""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db.models import Q


class PermissionBackend(ModelBackend):
    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            if user_obj.is_superuser:
                permissions = Permission.objects.all()
            else:
                permissions = Permission.objects.filter(
                    Q(pk__in=user_obj.user_permissions.through.objects.filter(
                        user_id=user_obj.pk).values("permission_id"))
                    | Q(pk__in=Permission.group_set.through.objects.filter(
                        group__user=user_obj).values("permission_id"))
                )  # fmt: skip
            user_obj._perm_cache = {
                f"{app_label}.{codename}"
                for app_label, codename in permissions.values_list(
                    "content_type__app_label", "codename"
                ).order_by()
            }
        return user_obj._perm_cache
