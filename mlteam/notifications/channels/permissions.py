"""Who may manage a project's chat channels: its managers and admins (the project
rule, roles.permissions). Who a channel speaks for at send time: `may_speak`."""

from __future__ import annotations

from roles.permissions import can_manage_project, can_view_project


def can_manage_channels(user, project) -> bool:
    return can_manage_project(user, project)


def may_speak(channel) -> bool:
    """Whether `channel` may still tell of its project: the project is not archived
    and the person who added the channel may still see it (an account switched off
    sees nothing, whatever memberships it keeps). Load `project` and `created_by`."""
    owner = channel.created_by
    return (
        not channel.project.is_archived
        and owner.is_active
        and can_view_project(owner, channel.project)
    )
