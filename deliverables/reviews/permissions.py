"""Who may see and change review cycles and reviews.

Reviews are private: who sees one is `ReviewQuerySet.visible_to` (the person
reviewed, the manager who wrote it, admins); for anyone else it does not exist
(404, and it shows up in no list, count, export, feed or email of theirs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from roles.permissions import is_admin, is_manager

if TYPE_CHECKING:
    from .models import Review, ReviewCycle


def can_create_cycle(user) -> bool:
    return is_admin(user) or is_manager(user)


def can_edit_cycle(user, cycle: ReviewCycle) -> bool:
    return is_admin(user) or (is_manager(user) and cycle.created_by_id == user.pk)


def can_write_reviews(user) -> bool:
    return is_admin(user) or is_manager(user)


def can_view_review(user, review: Review) -> bool:
    """The object form of `ReviewQuerySet.visible_to`: asks that rule (one query)
    rather than restating it."""
    from .models import Review

    return Review.objects.visible_to(user).filter(pk=review.pk).exists()


def can_edit_review(user, review: Review) -> bool:
    """Expectations and evaluation: the manager who wrote them, while still a manager."""
    return review.manager_id == user.pk and can_write_reviews(user)


def can_view_review_reads(user, review: Review) -> bool:
    """Who read a review (its access log): the person, and admins; not the manager
    who wrote it, though they see the review."""
    return is_reviewed_person(user, review) or is_admin(user)


def is_reviewed_person(user, review: Review) -> bool:
    """Acknowledging and the self-assessment: the person, and only them."""
    return user.is_authenticated and user.is_active and review.person_id == user.pk
