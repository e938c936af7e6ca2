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

from django.db.models import Q

if TYPE_CHECKING:
    from .models import Project

ADMINS_GROUP = "Admins"
MANAGERS_GROUP = "Managers"
MEMBERS_GROUP = "Members"


# The two permissions the project rule reads (`models.project_grounds`), each
# tested in two forms of one definition: `holds` for one person (their permissions
# are read once and cached on them) and `holders_condition` for many at once in a
# query (the reminder sweep). Both: an active person who is a superuser, or who has
# the permission themselves or through one of their groups.
ADMIN_PERMISSION = "roles.administer_projects"
MANAGER_PERMISSION = "roles.add_project"


def holds(user, permission: str) -> bool:
    """Whether `user` holds `permission` (an "app_label.codename")."""
    return bool(user.is_authenticated and user.is_active and user.has_perm(permission))


def holders_condition(*permissions: str, prefix: str = "") -> Q:
    """`holds` as a condition on people, for a query over many of them: true for
    those who hold any of `permissions`. `prefix` leads to a person from another
    model ("user__"). Subqueries, not joins, so each person stays one row."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    User = get_user_model()
    granted = Permission.objects.filter(
        reduce(
            operator.or_,
            (
                Q(content_type__app_label=app_label, codename=codename)
                for app_label, codename in (permission.split(".") for permission in permissions)
            ),
        )
    )
    own = User.user_permissions.through.objects.filter(permission__in=granted)
    via_groups = User.groups.through.objects.filter(group__permissions__in=granted)
    return Q(**{f"{prefix}is_active": True}) & (
        Q(**{f"{prefix}is_superuser": True})
        | Q(**{f"{prefix}pk__in": own.values("user_id")})
        | Q(**{f"{prefix}pk__in": via_groups.values("user_id")})
    )


def is_admin(user) -> bool:
    return holds(user, ADMIN_PERMISSION)


def is_manager(user) -> bool:
    return holds(user, MANAGER_PERMISSION)


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
    return Project.objects.filter(project_ground_condition(user, *grounds), pk=project.pk).exists()


def can_manage_project(user, project: Project) -> bool:
    """Admins, and managers listed on the project who still hold the manager permission."""
    from .models import MANAGE

    return _may(user, project, MANAGE)


def can_view_project(user, project: Project) -> bool:
    """Those who may manage it, and the people on its team."""
    from .models import VIEW

    return _may(user, project, VIEW)


def is_on_team(user, project: Project) -> bool:
    """The team relation alone (`models.ON_TEAM`), for what the whole team may do
    beyond viewing (answering the handbook)."""
    from .models import ON_TEAM, project_links

    return bool(
        user.is_authenticated
        and project_links(ON_TEAM).filter(project_id=project.pk, user_id=user.pk).exists()
    )


def can_view_person(user, person) -> bool:
    """Whether `user` may see `person` (see `models.person_visible_condition`)."""
    from .models import people_visible_to, project_grounds

    if project_grounds(user) is None:
        return True  # admins see everyone: no query
    return people_visible_to(user).filter(pk=person.pk).exists()
