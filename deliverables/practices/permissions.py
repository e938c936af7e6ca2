"""Who may see and change handbooks, review cycles and reviews.

Reviews are private: the person reviewed, the manager who wrote the review and
admins see it; for anyone else it does not exist (404, and it shows up in no
list, count, export, feed or email of theirs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from roles.permissions import can_manage_project, is_admin, is_manager

if TYPE_CHECKING:
    from roles.models import Project

    from ..models import Review, ReviewCycle


def can_edit_handbook_setup(user, project: Project) -> bool:
    """Review date and the project's own questions: the project's managers."""
    return can_manage_project(user, project) and project.archived_at is None


def can_create_cycle(user) -> bool:
    return is_admin(user) or is_manager(user)


def can_edit_cycle(user, cycle: ReviewCycle) -> bool:
    return is_admin(user) or (is_manager(user) and cycle.created_by_id == user.pk)


def can_write_reviews(user) -> bool:
    return is_admin(user) or is_manager(user)


def can_view_review(user, review: Review) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return review.person_id == user.pk or review.manager_id == user.pk or is_admin(user)


def can_edit_review(user, review: Review) -> bool:
    """Expectations and evaluation: the manager who wrote them, while still a manager."""
    return review.manager_id == user.pk and can_write_reviews(user)


def is_reviewed_person(user, review: Review) -> bool:
    """Acknowledging and the self-assessment: the person, and only them."""
    return user.is_authenticated and user.is_active and review.person_id == user.pk
