"""Who may do what with projects and teams. Views, selectors and templates use these.

Personas (see README):
- admin: a superuser, or a user with `roles.administer_projects` (the Admins group);
- manager: a user with `roles.add_project` (the Managers group) creates projects
  and changes the ones listing them as a manager (losing the permission ends that);
- member: anyone signed in sees the projects they are on, read-only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models import Project

ADMINS_GROUP = "Admins"
MANAGERS_GROUP = "Managers"
MEMBERS_GROUP = "Members"


def is_admin(user) -> bool:
    return bool(
        user.is_authenticated
        and user.is_active
        and (user.is_superuser or user.has_perm("roles.administer_projects"))
    )


def is_manager(user) -> bool:
    return bool(user.is_authenticated and user.is_active and user.has_perm("roles.add_project"))


def can_create_project(user) -> bool:
    return is_admin(user) or is_manager(user)


def can_manage_project(user, project: Project) -> bool:
    """Admins, and managers listed on the project who still hold the manager permission."""
    if is_admin(user):
        return True
    if not is_manager(user):
        return False
    if "managers" in getattr(project, "_prefetched_objects_cache", {}):  # no query then
        return any(manager.pk == user.pk for manager in project.managers.all())
    return project.managers.filter(pk=user.pk).exists()


def can_view_project(user, project: Project) -> bool:
    if can_manage_project(user, project):
        return True
    return project.memberships.filter(user_id=user.pk).exists()
