"""Reads for the webhook pages (permission-aware: the callers pass what the
reader may manage)."""

from __future__ import annotations

from django.db.models import QuerySet

from roles.models import Project

from .models import WebhookDelivery, WebhookEndpoint


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
