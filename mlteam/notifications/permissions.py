"""Who may manage webhook endpoints: a project's managers (and admins) for the
project's endpoints; admins alone for site-wide ones. Built on roles.permissions."""

from __future__ import annotations

from roles.permissions import can_manage_project, is_admin


def can_manage_webhooks(user, project) -> bool:
    """`project` None: the site-wide endpoints."""
    if project is None:
        return is_admin(user)
    return can_manage_project(user, project)


def can_manage_endpoint(user, endpoint) -> bool:
    return can_manage_webhooks(user, endpoint.project)
