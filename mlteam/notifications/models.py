"""Outgoing notifications: webhook endpoints and the ledger of their deliveries.

`DeliveryBase` is the ledger any outgoing channel keeps (webhooks now, chat
later): one row per (destination, event), claimed before each attempt, retried
with backoff (`mlteam.notifications.delivery`). `WebhookEndpoint` is where a
project's (or, site-wide, an admin's) events go; `WebhookAllowedHost` is the
admin's explicit permission to send to a private or loopback address.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from deliverables.models import Deliverable, DeliverableStatus, holds
from deliverables.reviews.models import Review
from mlteam.people import person_name
from roles.models import Project, choice_label


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
    # When it was last turned on (made, or switched on again): it receives only the
    # changes recorded since (`services.events_publish`), so nothing recorded while
    # it was off reaches it later through the history catch-up.
    active_since = models.DateTimeField(_("on since"), default=timezone.now)

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


def default_port(scheme: str) -> int:
    """The port an http(s) address means when it names none."""
    return 443 if scheme == "https" else 80


ALLOWED_HOST_PORT_MESSAGE = _("Enter a port from 1 to 65535 after the colon.")
ALLOWED_HOST_TWO_PORTS_MESSAGE = _("Give the port once: after the host or in the port field.")
ALLOWED_HOST_REQUIRED_MESSAGE = _("Enter a host name or address.")


def _host_error(message, code: str) -> ValidationError:
    return ValidationError({"host": ValidationError(message, code=code)})


class WebhookAllowedHostQuerySet(models.QuerySet):
    def allowing(self, *, host: str, port: int, scheme: str) -> WebhookAllowedHostQuerySet:
        """THE allow-list rule: the entries that allow `host` on `port` (an entry
        without a port allows only the scheme's default port)."""
        same_port = models.Q(port=port)
        if port == default_port(scheme):
            same_port |= models.Q(port__isnull=True)
        return self.filter(same_port, host=host.lower())


class WebhookAllowedHost(models.Model):
    """A host an admin allows although it resolves to a private, loopback or
    link-local address (an internal service on purpose), on one port.

    With a port, only addresses on that port are allowed; without one, only the
    address's default port (443 for https, 80 for http). An internal service on
    another port is allowed by naming it, so the entry never opens every
    service of a machine at once.
    """

    host = models.CharField(
        _("host"),
        max_length=255,
        help_text=_(
            "A host name or address exactly as in the webhook's address, optionally "
            "with its port (hooks.internal:8443, [fd00::5]:8080)."
        ),
    )
    port = models.PositiveIntegerField(
        _("port"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(65535)],
        help_text=_("Empty: only the address's default port (443 for https, 80 for http)."),
    )
    note = models.CharField(_("why"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("added"), auto_now_add=True)

    objects = WebhookAllowedHostQuerySet.as_manager()

    class Meta:
        verbose_name = _("allowed private host")
        verbose_name_plural = _("allowed private hosts")
        ordering = ["host", "port"]
        constraints = [
            models.UniqueConstraint(
                fields=["host", "port"],
                name="webhook_allowed_host_port_once",
                violation_error_message=_("This host and port are already allowed."),
            ),
            models.UniqueConstraint(
                fields=["host"],
                condition=models.Q(port__isnull=True),
                name="webhook_allowed_host_default_port_once",
                violation_error_message=_("This host is already allowed on its default port."),
            ),
            models.CheckConstraint(
                condition=models.Q(port__isnull=True) | models.Q(port__gte=1, port__lte=65535),
                name="webhook_allowed_host_port_range",
            ),
        ]

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}" if self.port else host

    def clean(self) -> None:
        """Compared with the address's host as urlsplit gives it: lower case, no
        brackets. A port typed after the host ("host:8443", "[fd00::5]:8080") moves
        to the port field."""
        text = (self.host or "").strip().lower()
        typed_port = ""
        if text.startswith("["):
            host, _bracket, rest = text[1:].partition("]")
            if rest and not rest.startswith(":"):
                raise _host_error(ALLOWED_HOST_PORT_MESSAGE, "port")
            typed_port = rest[1:]
            if rest and not typed_port:
                raise _host_error(ALLOWED_HOST_PORT_MESSAGE, "port")
        elif text.count(":") == 1:  # host:port (an IPv6 address has several colons)
            host, typed_port = text.split(":")
            if not typed_port:
                raise _host_error(ALLOWED_HOST_PORT_MESSAGE, "port")
        else:
            host = text
        if not host:
            raise _host_error(ALLOWED_HOST_REQUIRED_MESSAGE, "required")
        if typed_port:
            if not typed_port.isascii() or not typed_port.isdigit():
                raise _host_error(ALLOWED_HOST_PORT_MESSAGE, "port")
            port = int(typed_port)
            if not 1 <= port <= 65535:
                raise _host_error(ALLOWED_HOST_PORT_MESSAGE, "port")
            if self.port is not None and self.port != port:
                raise _host_error(ALLOWED_HOST_TWO_PORTS_MESSAGE, "two_ports")
            self.port = port
        self.host = host


# --- the in-app inbox ------------------------------------------------------------------


class InboxKind(models.TextChoices):
    ROLE_ASSIGNED = "role_assigned", _("Role assigned")
    OWNER_ASSIGNED = "owner_assigned", _("Owner assigned")
    STATUS_CHANGED = "status_changed", _("Status changed")
    COMMENTED = "commented", _("Commented")
    MENTIONED = "mentioned", _("Mentioned")
    EXPECTATIONS = "expectations", _("Expectations to read")
    EVALUATION = "evaluation", _("Evaluation to read")
    DIGEST = "digest", _("Daily summary")


# The kinds a person may also have sent by email or chat as they happen
# (`NotificationPreference.event_channels`). The daily summary is the digest itself.
IMMEDIATE_KINDS = [kind for kind in InboxKind if kind != InboxKind.DIGEST]


# `detail` of a status_changed entry written for a deliverable marked done with
# required checklist items still open (rather than a status code).
DONE_OVERRIDE_DETAIL = "done_override"


class InboxEntry(models.Model):
    """One thing that happened to a person's work, for their inbox.

    Written by `services.inbox_feed_*` in the transaction of the change it tells of.
    `source` names that change ("event:123", "team:45", "mention:7"): unique per
    person, so feeding the same change twice writes one entry. Nothing here is a
    sentence: `message` words it in the reader's language when shown. Who may read
    an entry is decided when it is read (`selectors.inbox_entries`), never here.
    """

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="inbox_entries",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=InboxKind.choices)
    # Empty for what belongs to no project: a review, the daily summary.
    project = models.ForeignKey(
        Project,
        verbose_name=_("project"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # A review's entries (expectations, an evaluation to read): to its person only,
    # read under `ReviewQuerySet.visible_to`; nothing of the review's content is kept.
    review = models.ForeignKey(
        Review,
        verbose_name=_("review"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    deliverable = models.ForeignKey(
        Deliverable,
        verbose_name=_("deliverable"),
        # An entry is only about its deliverable: it never keeps one from going.
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # A status code, or a role's source name: worded when shown.
    detail = models.CharField(_("detail"), max_length=100, blank=True)
    source = models.CharField(_("source"), max_length=40)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        verbose_name = _("inbox entry")
        verbose_name_plural = _("inbox entries")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["person", "source"], name="inbox_entry_once"),
        ]
        indexes = [
            # The inbox page (newest first) and the bell's unread count.
            models.Index(fields=["person", "read_at", "-created_at"], name="inbox_person_idx"),
            # The daily purge (tasks.inbox_purge).
            models.Index(fields=["created_at"], name="inbox_created_idx"),
        ]

    def __str__(self) -> str:
        return self.message

    @property
    def is_unread(self) -> bool:
        return self.read_at is None

    @property
    def message(self) -> str:
        """What happened, in the reader's language (reads `actor`: load it with the row)."""
        actor = person_name(self.actor) or gettext("Someone")
        if self.kind == InboxKind.ROLE_ASSIGNED:
            return gettext("%(actor)s assigned you the role %(role)s") % {
                "actor": actor,
                "role": gettext(self.detail) if self.detail else "",
            }
        if self.kind == InboxKind.OWNER_ASSIGNED:
            return gettext("%(actor)s made you the owner") % {"actor": actor}
        if self.kind == InboxKind.STATUS_CHANGED:
            if self.detail == DONE_OVERRIDE_DETAIL:
                return gettext("%(actor)s marked it done with required items open") % {
                    "actor": actor
                }
            return gettext("%(actor)s moved it to %(status)s") % {
                "actor": actor,
                "status": choice_label(DeliverableStatus, self.detail),
            }
        if self.kind == InboxKind.COMMENTED:
            return gettext("%(actor)s commented") % {"actor": actor}
        if self.kind == InboxKind.MENTIONED:
            return gettext("%(actor)s mentioned you in a comment") % {"actor": actor}
        if self.kind in (InboxKind.EXPECTATIONS, InboxKind.EVALUATION):
            return _review_message(self.detail) % {"actor": actor, "cycle": self.cycle_name}
        if self.kind == InboxKind.DIGEST:
            overdue, _comma, due_soon = self.detail.partition(",")
            overdue, due_soon = _count(overdue), _count(due_soon)
            if not overdue and not due_soon:  # escalations or reviews only: see the digest
                return gettext("Your daily summary went out")
            return gettext("Your daily summary: %(overdue)s overdue, %(due_soon)s due soon") % {
                "overdue": overdue,
                "due_soon": due_soon,
            }
        return choice_label(InboxKind, self.kind)

    @property
    def cycle_name(self) -> str:
        """A review entry's cycle (not private: everyone signed in sees cycles)."""
        return self.review.cycle.name if self.review_id else ""

    @property
    def where(self) -> str:
        """What the entry is about, under its message: the project, or what stands
        for one (a review's cycle, the daily summary)."""
        if self.project_id:
            return self.project.name
        if self.review_id:
            return gettext("Reviews")
        return gettext("Reminders")


def _count(text: str) -> int:
    return int(text) if text.isascii() and text.isdigit() else 0


def _review_message(detail: str) -> str:
    """How a review entry is worded, by the review change it tells of."""
    if detail == "expectations_changed":
        return gettext("%(actor)s changed your expectations for %(cycle)s")
    if detail == "evaluation_shared":
        return gettext("%(actor)s shared your evaluation for %(cycle)s")
    if detail == "evaluation_changed":
        return gettext("%(actor)s changed your shared evaluation for %(cycle)s")
    return gettext("%(actor)s set your expectations for %(cycle)s")


# --- personal delivery: a person's own chat, and email as things happen ------------------


class DigestChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    CHAT = "chat", _("Chat")
    BOTH = "both", _("Email and chat")


class PersonalChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    CHAT = "chat", _("Chat")


def digest_by_chat(prefix: str = "") -> models.Q:
    """THE rule of a daily digest that goes to the person's own chat: an address to
    send to, and chat chosen (alone or with email); on a preference's own rows or,
    with `prefix` ("notification_preference__"), through a relation to it."""
    return ~models.Q(**{f"{prefix}chat_url": ""}) & (
        models.Q(**{f"{prefix}digest_by": DigestChannel.CHAT})
        | models.Q(**{f"{prefix}digest_by": DigestChannel.BOTH})
    )


class NotificationPreference(models.Model):
    """How a person wants to hear of things beyond the inbox: their own chat
    address (a Slack or Mattermost incoming webhook), how their daily digest comes,
    and which inbox kinds also come at once by email or chat. Missing row = email
    digests and the inbox alone. Written by `personal` services only."""

    person = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="notification_preference",
    )
    # An incoming-webhook address holds its own secret: shown masked (`chat_masked`).
    chat_url = models.URLField(_("chat address"), max_length=500, blank=True)
    chat_added_at = models.DateTimeField(_("chat address added"), null=True, blank=True)
    digest_by = models.CharField(
        _("daily digest by"),
        max_length=10,
        choices=DigestChannel.choices,
        default=DigestChannel.EMAIL,
    )
    # inbox kind -> the channels it also comes by ("email", "chat"); the inbox always.
    event_channels = models.JSONField(_("also sent by"), default=dict, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [
            # Chat is chosen only with an address to send to.
            models.CheckConstraint(
                condition=models.Q(digest_by=DigestChannel.EMAIL) | ~models.Q(chat_url=""),
                name="notification_chat_needs_address",
            ),
        ]

    def __str__(self) -> str:
        return str(self.person)

    @property
    def has_chat(self) -> bool:
        return bool(self.chat_url)

    @property
    def digest_by_chat(self) -> bool:
        return holds(digest_by_chat(), self)

    @property
    def digest_by_email(self) -> bool:
        return not self.has_chat or self.digest_by != DigestChannel.CHAT

    def channels_for(self, kind: str) -> list[str]:
        """The channels `kind` also comes by now (chat only while there is an address)."""
        chosen = (self.event_channels or {}).get(str(kind)) or []
        return [
            channel
            for channel in PersonalChannel.values
            if channel in chosen and (channel != PersonalChannel.CHAT or self.has_chat)
        ]

    @property
    def chat_masked(self) -> str:
        return mask_url(self.chat_url)


def mask_url(url: str) -> str:
    """An address with its secret part hidden: the scheme and host, and the last
    four characters ("https://hooks.slack.com/…x9Qz")."""
    if not url:
        return ""
    scheme, _sep, rest = url.partition("://")
    host = rest.split("/", 1)[0].rsplit("@", 1)[-1]
    tail = url.rstrip("/")[-4:] if len(rest) > len(host) + 8 else ""
    return f"{scheme}://{host}/…{tail}"


class PersonalDelivery(DeliveryBase):
    """One message to one person by one channel: their daily digest in chat
    (`event_id` "digest:<person>:<day>"), or an inbox entry by email or chat as it
    happens ("inbox:<entry source>"). Unique per (person, channel, event), so
    announcing it again never sends it twice; sent by `tasks.deliver_personal`
    (claim, backoff: `delivery`), checked again when sent (`personal.delivery_send`).

    `payload`: a digest's message, worded when it was planned (its lines keep the
    deliverable they name, so those the person may no longer see are dropped when
    sent); an entry's delivery keeps only its source, and is worded when sent."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    channel = models.CharField(_("channel"), max_length=10, choices=PersonalChannel.choices)

    class Meta:
        verbose_name = _("personal delivery")
        verbose_name_plural = _("personal deliveries")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "channel", "event_id"], name="personal_delivery_once"
            ),
        ]
        indexes = [
            # The delivery sweep (tasks.delivery_sweep): what is due now.
            models.Index(fields=["status", "next_attempt_at"], name="personal_delivery_due_idx"),
            # The daily purge (tasks.inbox_purge) and the settings page's latest messages.
            models.Index(fields=["person", "-created_at"], name="personal_delivery_person_idx"),
            models.Index(fields=["created_at"], name="personal_delivery_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.event_id}"

    @property
    def event_label(self) -> str:
        if self.event_type == "digest":
            return str(_("Daily digest"))
        return choice_label(InboxKind, self.event_type)
