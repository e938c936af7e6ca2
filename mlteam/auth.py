"""Authentication backend: Django's ModelBackend, reading permissions in one query.

Nearly every page asks whether the viewer manages or administers projects
(`roles.permissions`); ModelBackend answers the first such question with two
queries (the person's own permissions, then their groups'). This backend reads
both at once, in SQL written out here (the ORM took longer to build the query
than the database to run it), with the same answer and per-request cache.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType

from .sql import select


def _permissions_sql() -> str:
    User = get_user_model()
    own = User.user_permissions.through._meta
    groups = User.groups.through._meta
    group_permissions = Group.permissions.through._meta
    return f"""
        SELECT ct.app_label, p.codename
        FROM {Permission._meta.db_table} p
        JOIN {ContentType._meta.db_table} ct ON ct.id = p.content_type_id
        WHERE p.id IN (
            SELECT permission_id FROM {own.db_table} WHERE user_id = %s
            UNION
            SELECT gp.permission_id FROM {group_permissions.db_table} gp
            JOIN {groups.db_table} ug ON ug.group_id = gp.group_id
            WHERE ug.user_id = %s
        )
    """  # noqa: S608 (table names from the models; values go as parameters)


class PermissionBackend(ModelBackend):
    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            if user_obj.is_superuser:
                rows = Permission.objects.values_list("content_type__app_label", "codename")
            else:
                rows = select(_permissions_sql(), [user_obj.pk, user_obj.pk])
            user_obj._perm_cache = {f"{app_label}.{codename}" for app_label, codename in rows}
        return user_obj._perm_cache
