"""Reads for the webhook pages (permission-aware: the callers pass what the
reader may manage) and for the in-app inbox (`inbox_entries`: what the reader may
see now, THE one definition the page, the count and the bell share)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from deliverables.models import Deliverable
from roles.models import Project

from .models import InboxEntry, WebhookDelivery, WebhookEndpoint


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
    project among `Project.objects.visible_to(user)` and, for an entry about a
    deliverable, that one among `Deliverable.objects.visible_to(user)`. Someone who
    lost access no longer reads the entries written while they had it. One query,
    the actor, project and deliverable (with its type, for its name) read with it."""
    if not user.is_authenticated:
        return InboxEntry.objects.none()
    return (
        InboxEntry.objects.filter(
            person=user, project__in=Project.objects.visible_to(user).values("pk")
        )
        .filter(
            Q(deliverable__isnull=True)
            | Q(deliverable__in=Deliverable.objects.visible_to(user).values("pk"))
        )
        .select_related("actor", "project", "deliverable__type")
        .order_by("-created_at", "-id")
    )


def unread_count(user) -> int:
    """How many of `inbox_entries(user)` are unread (one query; inbox_person_idx)."""
    return inbox_entries(user).filter(read_at__isnull=True).count()
