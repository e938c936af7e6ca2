"""Outgoing notifications: webhook endpoints and the ledger of their deliveries.

`DeliveryBase` is the ledger any outgoing channel keeps (webhooks now, chat
later): one row per (destination, event), claimed before each attempt, retried
with backoff (`mlteam.notifications.delivery`). `WebhookEndpoint` is where a
project's (or, site-wide, an admin's) events go; `WebhookAllowedHost` is the
admin's explicit permission to send to a private or loopback address.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from roles.models import Project


class WebhookEvent(models.TextChoices):
    """What an endpoint may subscribe to (the `type` of a payload)."""

    DELIVERABLE_CREATED = "deliverable.created", _("Deliverable planned")
    DELIVERABLE_STATUS_CHANGED = "deliverable.status_changed", _("Deliverable status changed")
    DELIVERABLE_OVERDUE = "deliverable.overdue", _("Deliverable overdue")
    DELIVERABLE_OWNER_CHANGED = "deliverable.owner_changed", _("Deliverable owner changed")
    DELIVERABLE_DUE_DATE_CHANGED = (
        "deliverable.due_date_changed",
        _("Deliverable due date changed"),
    )
    ROLE_ASSIGNED = "role.assigned", _("Role assigned")
    ROLE_UNASSIGNED = "role.unassigned", _("Role unassigned")
    PERSON_ADDED = "person.added", _("Person added to the team")
    PERSON_REMOVED = "person.removed", _("Person removed from the team")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    SENDING = "sending", _("Being sent")
    SUCCEEDED = "succeeded", _("Delivered")
    FAILED = "failed", _("Failed, will retry")
    GAVE_UP = "gave_up", _("Gave up")
    SKIPPED = "skipped", _("Not sent")


class DeliveryQuerySet(models.QuerySet):
    def due(self, now) -> DeliveryQuerySet:
        """Waiting or failed deliveries whose attempt time has come, and sends whose
        worker's lease ran out (`next_attempt_at` is the lease's end while sending)."""
        return self.filter(
            status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED, DeliveryStatus.SENDING],
            next_attempt_at__lte=now,
        )


class DeliveryBase(models.Model):
    """One event to one destination, and how sending it went (the ledger).

    `event_id` is stable (`evt_...`, the `webhook-id` header): unique per
    destination, so a repeated fan-out, a second beat or a replayed message never
    makes a second row; a replay is a new attempt of the same row.
    """

    event_id = models.CharField(_("event id"), max_length=64)
    event_type = models.CharField(_("event"), max_length=40)
    payload = models.JSONField(_("payload"), default=dict)
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_response_code = models.PositiveSmallIntegerField(_("response code"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    # Pending or failed: when the next attempt is due. Sending: when the worker's lease ends.
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        abstract = True

    @property
    def status_label(self) -> str:
        return str(DeliveryStatus(self.status).label)

    @property
    def event_label(self) -> str:
        try:
            return str(WebhookEvent(self.event_type).label)
        except ValueError:
            return self.event_type


class WebhookEndpoint(models.Model):
    """Where a project's events are posted (site-wide when `project` is empty: admins only)."""

    project = models.ForeignKey(
        Project,
        verbose_name=_("project"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="webhook_endpoints",
        help_text=_("Empty: every project's events (site-wide, admins only)."),
    )
    url = models.URLField(_("address"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    events = models.JSONField(_("events"), default=list)
    # Signing needs the secret itself, so it is kept as is; shown once when made.
    secret = models.CharField(_("signing secret"), max_length=100, editable=False)
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="webhook_endpoints",
    )
    consecutive_failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    # Why it is off: DISABLED_FAILING (by the sender) or DISABLED_BY_HAND.
    disabled_reason = models.CharField(_("why disabled"), max_length=20, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["created_at", "pk"]
        indexes = [
            # The fan-out: the active endpoints of a project (and the site-wide ones).
            models.Index(fields=["project", "active"], name="webhook_endpoint_project_idx"),
        ]

    DISABLED_FAILING = "failing"
    DISABLED_BY_HAND = "by_hand"

    def __str__(self) -> str:
        return self.description or self.url

    @property
    def disabled_label(self) -> str:
        if self.disabled_reason == self.DISABLED_FAILING:
            return str(_("turned off after failing too often"))
        if self.disabled_reason == self.DISABLED_BY_HAND:
            return str(_("turned off by hand"))
        return ""

    @property
    def is_site_wide(self) -> bool:
        return self.project_id is None

    @property
    def event_labels(self) -> list[str]:
        labels = dict(WebhookEvent.choices)
        return [str(labels.get(code, code)) for code in self.events]


class WebhookDelivery(DeliveryBase):
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        verbose_name=_("endpoint"),
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    # The project the event is about, re-checked against the owner's view when sent.
    project = models.ForeignKey(
        Project,
        verbose_name=_("project"),
        on_delete=models.CASCADE,
        related_name="+",
    )

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "event_id"], name="webhook_delivery_once_per_event"
            ),
        ]
        indexes = [
            # The delivery log of an endpoint, newest first.
            models.Index(
                fields=["endpoint", "-created_at", "-id"], name="webhook_delivery_log_idx"
            ),
            # The delivery sweep (tasks.delivery_sweep): what is due now.
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"


class HistoryFanOutMark(models.Model):
    """How far the history catch-up (`services.history_catch_up`) has published one
    history table: every entry up to `last_id` has been through `events_publish`
    (by the after-commit fan-out or by the catch-up). The catch-up locks this row
    while it works, so two runs never publish the same entries at once."""

    history = models.CharField(_("history table"), max_length=100, unique=True)
    last_id = models.PositiveBigIntegerField(_("last entry published"), default=0)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("history fan-out mark")
        verbose_name_plural = _("history fan-out marks")

    def __str__(self) -> str:
        return f"{self.history} #{self.last_id}"


class WebhookAllowedHost(models.Model):
    """A host an admin allows although it resolves to a private, loopback or
    link-local address (an internal service on purpose)."""

    host = models.CharField(
        _("host"),
        max_length=255,
        unique=True,
        help_text=_("A host name or address exactly as in the webhook's address."),
    )
    note = models.CharField(_("why"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        verbose_name = _("allowed private host")
        verbose_name_plural = _("allowed private hosts")
        ordering = ["host"]

    def __str__(self) -> str:
        return self.host

    def clean(self) -> None:
        # Compared with the address's host as urlsplit gives it: lower case, no brackets.
        self.host = self.host.strip().lower().strip("[]")
