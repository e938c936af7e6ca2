"""Reads about people across the apps (what an anonymisation keeps and changes)."""

from __future__ import annotations

from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet

from deliverables.models import (
    ChecklistItem,
    Deliverable,
    DeliverableComment,
    DeliverableEvent,
    DeliverableLink,
    Digest,
    EventKind,
    Reminder,
)
from deliverables.reviews.models import (
    Review,
    ReviewAccess,
    ReviewCycle,
    ReviewEvent,
    ReviewReminder,
)
from roles.models import Membership, Project, TeamChange


def person_history(user) -> dict[str, int]:
    """How many rows of each kind name `user`: what an anonymisation keeps, under
    "Former member". One count a kind (a command's report, not a page)."""
    return {
        "memberships": Membership.objects.filter(user=user).count(),
        "projects managed": Project.managers.through.objects.filter(user=user).count(),
        "team changes made": TeamChange.objects.filter(actor=user).count(),
        "team changes about them": TeamChange.objects.filter(person=user).count(),
        "deliverables owned": Deliverable.objects.filter(owner=user).count(),
        "deliverable changes made": DeliverableEvent.objects.filter(actor=user).count(),
        "comments written": DeliverableComment.objects.filter(author=user).count(),
        "links added": DeliverableLink.objects.filter(added_by=user).count(),
        "checklist answers": ChecklistItem.objects.filter(answered_by=user).count(),
        "reviews received": Review.objects.filter(person=user).count(),
        "reviews written": Review.objects.filter(manager=user).count(),
        "review changes made": ReviewEvent.objects.filter(actor=user).count(),
        "review cycles created": ReviewCycle.objects.filter(created_by=user).count(),
        "reviews read": ReviewAccess.objects.filter(reader=user).count(),
        "digests": Digest.objects.filter(recipient=user).count(),
        "reminder lines": Reminder.objects.filter(recipient=user).count()
        + ReviewReminder.objects.filter(Q(recipient=user) | Q(person=user)).count(),
    }


def owner_name_events(user) -> QuerySet[DeliverableEvent]:
    """Owner changes that name `user` (`mlteam.history.person_value`: their id and
    their name then). Entries written before ids were kept name them only, as text:
    those are matched by the person's current full name or username, on the
    projects they were on, so an entry written under an earlier name stays."""
    names = {name for name in (user.get_full_name(), user.get_username()) if name}
    on_project = Q(project_id__in=Membership.objects.filter(user=user).values("project_id")) | Q(
        project_id__in=TeamChange.objects.filter(person=user).values("project_id")
    )
    by_name = Q(payload__before__name__in=names, payload__before__id__isnull=True) | Q(
        payload__after__name__in=names, payload__after__id__isnull=True
    )
    by_id = Q(payload__before__id=user.pk) | Q(payload__after__id=user.pk)
    return DeliverableEvent.objects.filter(by_id | (on_project & by_name), kind=EventKind.OWNER)


def names_person(value: dict | None, user, names: set[str]) -> bool:
    """Whether a stored person value (an owner change's side) is `user`: by id, or
    for older entries without one, by name (see `owner_name_events`)."""
    if not value:
        return False
    if value.get("id") is not None:
        return value["id"] == user.pk
    return value.get("name") in names


def admin_log_entries(user) -> QuerySet[LogEntry]:
    """The Django admin's log lines about `user`'s account (they show its name)."""
    return LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(get_user_model()),
        object_id=str(user.pk),
    )
