"""Reads about people across the apps (what an anonymisation keeps and changes)."""

from __future__ import annotations

from django.contrib.admin.models import LogEntry
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.db.models import Q, QuerySet
from django.utils import timezone

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
from deliverables.reviews.models import Review, ReviewCycle, ReviewEvent, ReviewReminder
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
        "digests": Digest.objects.filter(recipient=user).count(),
        "reminder lines": Reminder.objects.filter(recipient=user).count()
        + ReviewReminder.objects.filter(Q(recipient=user) | Q(person=user)).count(),
    }


def owner_name_events(user) -> QuerySet[DeliverableEvent]:
    """Owner changes that name `user` as text (`deliverables.services._person`: the
    full name, else the username, as it was then), on the projects they were on.
    Matched by their current name, so an entry written under an earlier name stays."""
    names = {name for name in (user.get_full_name(), user.get_username()) if name}
    on_project = Q(project_id__in=Membership.objects.filter(user=user).values("project_id")) | Q(
        project_id__in=TeamChange.objects.filter(person=user).values("project_id")
    )
    return DeliverableEvent.objects.filter(
        on_project, Q(before__in=names) | Q(after__in=names), kind=EventKind.OWNER
    )


def admin_log_entries(user) -> QuerySet[LogEntry]:
    """The Django admin's log lines about `user`'s account (they show its name)."""
    return LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(get_user_model()),
        object_id=str(user.pk),
    )


def session_keys(user_ids) -> list[str]:
    """The unexpired sessions signed in as these people. Database sessions keep
    the user id inside their encoded data, so each one is decoded: fine for an
    admin action or a command, not for a page."""
    wanted = {str(pk) for pk in user_ids}
    return [
        session.session_key
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if str(session.get_decoded().get(SESSION_KEY)) in wanted
    ]
