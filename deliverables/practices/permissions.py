"""Who may change a project's team handbook (its review date and own questions).

Review cycles and reviews have their own rules in `deliverables.reviews.permissions`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from roles.permissions import can_manage_project

if TYPE_CHECKING:
    from roles.models import Project


def can_edit_handbook_setup(user, project: Project) -> bool:
    """Review date and the project's own questions: the project's managers."""
    return can_manage_project(user, project) and project.archived_at is None
