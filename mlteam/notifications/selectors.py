"""Reads for the webhook pages (permission-aware: the callers pass what the
reader may manage) and for the in-app inbox (`inbox_entries`: what the reader may
see now, THE one definition the page, the count and the bell share)."""

from __future__ import annotations

from django.db.models import Max, Q, QuerySet

from deliverables.models import Deliverable
from deliverables.reviews.models import Review
from roles.models import Project

from .models import (
    InboxEntry,
    NotificationPreference,
    PersonalDelivery,
    WebhookDelivery,
    WebhookEndpoint,
)


def endpoint_list(*, project: Project) -> QuerySet[WebhookEndpoint]:
    """A project's endpoints, oldest first, with their owners (one query)."""
    return WebhookEndpoint.objects.filter(project=project).select_related("created_by")


def endpoint_get(*, project: Project, pk: int) -> WebhookEndpoint | None:
    return endpoint_list(project=project).filter(pk=pk).first()


def delivery_log(*, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    """An endpoint's deliveries, newest first (webhook_delivery_log_idx); the payload
    stays out of the list (it is shown for one delivery at a time)."""
    return (
        WebhookDelivery.objects.filter(endpoint=endpoint)
        .order_by("-created_at", "-id")
        .defer("payload")
    )


def inbox_entries(user) -> QuerySet[InboxEntry]:
    """`user`'s inbox entries about what they may see now, newest first: the
    project among `Project.objects.visible_to(user)`, for an entry about a
    deliverable that one among `Deliverable.objects.visible_to(user)`, and for one
    about a review that one among `Review.objects.visible_to(user)`. Someone who
    lost access no longer reads the entries written while they had it. One query,
    the actor, project, deliverable (with its type, for its name) and review (with
    its cycle) read with it."""
    if not user.is_authenticated:
        return InboxEntry.objects.none()
    return (
        InboxEntry.objects.filter(person=user)
        .filter(
            Q(project__isnull=True) | Q(project__in=Project.objects.visible_to(user).values("pk"))
        )
        .filter(
            Q(deliverable__isnull=True)
            | Q(deliverable__in=Deliverable.objects.visible_to(user).values("pk"))
        )
        .filter(Q(review__isnull=True) | Q(review__in=Review.objects.visible_to(user).values("pk")))
        .select_related("actor", "project", "deliverable__type", "review__cycle")
        .order_by("-created_at", "-id")
    )


def unread_count(user) -> int:
    """How many of `inbox_entries(user)` are unread (one query; inbox_person_idx)."""
    return inbox_entries(user).filter(read_at__isnull=True).count()


def inbox_newest_id(user) -> int:
    """The newest of `user`'s entries now (0 with none): the inbox page sends it
    with "Mark all read", so entries arriving after the page was drawn stay unread.
    One query (inbox_entry_once's person prefix)."""
    if not user.is_authenticated:
        return 0
    return InboxEntry.objects.filter(person=user).aggregate(newest=Max("pk"))["newest"] or 0


def notification_preference_of(user) -> NotificationPreference:
    """`user`'s notification settings, or the defaults (unsaved) without a row."""
    return NotificationPreference.objects.filter(person=user).first() or NotificationPreference(
        person=user
    )


def chat_deliveries(user, *, limit: int = 5) -> list[PersonalDelivery]:
    """The person's latest chat messages and how they went, for their settings page
    (the payload left out)."""
    return list(
        PersonalDelivery.objects.filter(person=user)
        .order_by("-created_at", "-id")
        .defer("payload")[:limit]
    )
