"""Who may do what with deliverables. Builds on the project rules in roles.permissions.

- Anyone who may see the project sees its deliverables (read-only).
- The owner updates their deliverable: status (except done), checklist, links, comments.
- The project's managers (and admins) do all of that, plus plan deliverables,
  change owner, due date, type and title, and mark deliverables done.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from roles.permissions import can_manage_project, can_view_project, is_on_team

if TYPE_CHECKING:
    from .models import Deliverable, DeliverableComment


def can_view_deliverable(user, deliverable: Deliverable) -> bool:
    return can_view_project(user, deliverable.project)


def can_manage_deliverable(user, deliverable: Deliverable) -> bool:
    return can_manage_project(user, deliverable.project)


def can_update_deliverable(user, deliverable: Deliverable) -> bool:
    """The owner and the project's managers, while the project is active (an
    archived project is read-only: its pages draw no form that would be refused)."""
    if not user.is_authenticated or not user.is_active or deliverable.project.is_archived:
        return False
    return deliverable.owner_id == user.pk or can_manage_deliverable(user, deliverable)


# Deliverables whose checklist the whole team writes: the team handbook.
TEAM_ANSWERED_TYPES = {"process-documentation"}


def can_answer_checklist(user, deliverable: Deliverable) -> bool:
    """Tick and answer the checklist: those who update the deliverable, and for the
    team handbook anyone on the project (its status stays with the owner)."""
    if can_update_deliverable(user, deliverable):
        return True
    return bool(
        not deliverable.project.is_archived
        and user.is_authenticated
        and user.is_active
        and deliverable.type.slug in TEAM_ANSWERED_TYPES
        and is_on_team(user, deliverable.project)
    )


def can_change_checklist(user, deliverable: Deliverable) -> bool:
    """Answer the checklist now: those who may answer it, while it is not locked as
    approved (`Deliverable.checklist_locked`: done, until reopened)."""
    return can_answer_checklist(user, deliverable) and not deliverable.checklist_locked


def can_change_comment(user, comment: DeliverableComment) -> bool:
    """Edit or delete a comment: its author (still active), while it is not deleted and
    the project is active (`services.comment_edit` / `comment_delete` refuse the rest,
    each with its reason)."""
    return (
        user.is_authenticated
        and user.is_active
        and comment.author_id == user.pk
        and not comment.is_deleted
        and not comment.deliverable.project.is_archived
    )
