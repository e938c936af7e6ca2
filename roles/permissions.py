"""Who may do what with projects and teams. Views, selectors and templates use these.

Personas (see README):
- admin: a superuser, or a user with `roles.administer_projects` (the Admins group);
- manager: a user with `roles.add_project` (the Managers group) creates projects
  and changes the ones listing them as a manager (losing the permission ends that);
- member: anyone signed in sees the projects they are on, read-only.
"""

from __future__ import annotations

import operator
from functools import reduce
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


def _may(user, project: Project, action: str) -> bool:
    """`project_grounds` for one project: the same rule as `Project.objects.restrict`.

    Permissions decide admins and outsiders without a query; the managers, when
    prefetched, without one too; what is left is one EXISTS of the same
    condition the lists use."""
    from .models import LISTED_MANAGER, Project, project_ground_condition, project_grounds

    grounds = project_grounds(user, action)
    if grounds is None:
        return True
    if LISTED_MANAGER in grounds and "managers" in getattr(
        project, "_prefetched_objects_cache", {}
    ):
        if any(manager.pk == user.pk for manager in project.managers.all()):
            return True
        grounds = tuple(g for g in grounds if g != LISTED_MANAGER)
    if not grounds:
        return False
    condition = reduce(operator.or_, (project_ground_condition(user, g) for g in grounds))
    return Project.objects.filter(condition, pk=project.pk).exists()


def can_manage_project(user, project: Project) -> bool:
    """Admins, and managers listed on the project who still hold the manager permission."""
    from .models import MANAGE

    return _may(user, project, MANAGE)


def can_view_project(user, project: Project) -> bool:
    """Those who may manage it, and the people on its team."""
    from .models import VIEW

    return _may(user, project, VIEW)


def can_view_person(user, person) -> bool:
    """Whether `user` may see `person` (see `models.person_visible_condition`)."""
    from .models import people_visible_to, project_grounds

    if project_grounds(user) is None:
        return True  # admins see everyone: no query
    return people_visible_to(user).filter(pk=person.pk).exists()
