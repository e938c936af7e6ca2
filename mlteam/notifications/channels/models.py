"""Chat channels: a project's Slack, Mattermost or Microsoft Teams channel, reached
through an incoming-webhook address, and the ledger of the messages sent to it.

`ChatChannel` says where and what: the subscribed events, the daily summary's
hour, time zone, working days and pause, and the language of its messages.
`ChatDelivery` is `DeliveryBase`'s ledger (one row per channel and message,
claimed before each attempt, retried with backoff): a summary's event id names
its channel and local day, so two sweeps at once make one row and one message.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from deliverables.models import (
    WEEKDAYS,
    default_time_zone,
    parse_working_days,
    validate_time_zone,
    validate_working_days,
)
from mlteam.notifications.models import DeliveryBase
from roles.models import Project


class ChatPlatform(models.TextChoices):
    SLACK = "slack", _("Slack")
    MATTERMOST = "mattermost", _("Mattermost")
    TEAMS = "teams", _("Microsoft Teams (Workflows)")


class ChatEvent(models.TextChoices):
    """What a channel may be told of at once (the `event_type` of its messages)."""

    SENT_FOR_REVIEW = "deliverable.in_review", _("Deliverable sent for review")
    BLOCKED = "deliverable.blocked", _("Deliverable blocked")
    DONE = "deliverable.done", _("Deliverable done")
    ROLE_GAP_OPENED = "role.gap_opened", _("Role gap opened")


# The other kinds of message a channel gets (never subscribed to one by one).
SUMMARY = "summary"
TEST = "test"
MESSAGE_LABELS = {
    SUMMARY: _("Daily summary"),
    TEST: _("Test message"),
    **dict(ChatEvent.choices),
}

# Why a message was not sent (the ledger's `error` of a skipped row), worded when shown.
SKIP_REASONS = {
    "channel turned off": _("The channel is turned off."),
    "project not visible": _(
        "The project is archived, or the person who added the channel may no longer see it."
    ),
    "nothing to report": _("Nothing to report that day."),
    "day over": _("Its day was over before it could be sent."),
    "deliverable not visible": _("The deliverable may no longer be seen."),
    "role filled": _("The role was filled meanwhile."),
}

# The language of a channel's messages (the site's languages, no "follow someone").
LANGUAGE_CHOICES = settings.LANGUAGES
MAX_DUE_SOON_DAYS = 31  # as the reminders' widest window


class ChatChannel(models.Model):
    project = models.ForeignKey(
        Project,
        verbose_name=_("project"),
        on_delete=models.CASCADE,
        related_name="chat_channels",
    )
    name = models.CharField(
        _("name"), max_length=100, help_text=_("How you recognise it here, e.g. #ml-team.")
    )
    platform = models.CharField(
        _("platform"), max_length=10, choices=ChatPlatform.choices, default=ChatPlatform.SLACK
    )
    # A secret of sorts (whoever has it may post to the channel): kept as is, shown
    # after saving only as its host and last characters (`url_hint`).
    url = models.URLField(_("webhook address"), max_length=2000)
    events = models.JSONField(_("events"), default=list, blank=True)
    daily_summary = models.BooleanField(_("daily summary"), default=True)
    hour = models.PositiveSmallIntegerField(
        _("summary hour"),
        default=9,
        validators=[MaxValueValidator(23)],
        help_text=_("Local hour of the day, 0 to 23."),
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default=default_time_zone, validators=[validate_time_zone]
    )
    working_days = models.CharField(
        _("working days"),
        max_length=20,
        default="0,1,2,3,4",
        blank=True,
        validators=[validate_working_days],
    )
    paused_until = models.DateField(
        _("paused until"),
        null=True,
        blank=True,
        help_text=_("No summary up to and including this day."),
    )
    due_soon_days = models.PositiveSmallIntegerField(
        _("due-soon window (days)"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_DUE_SOON_DAYS)],
    )
    language = models.CharField(
        _("language"), max_length=10, choices=LANGUAGE_CHOICES, default=settings.LANGUAGE_CODE
    )
    active = models.BooleanField(_("active"), default=True)
    # Failures in a row (any message), and since when: a channel failing too long is
    # turned off (`services._channel_failed`), like a webhook.
    consecutive_failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    disabled_reason = models.CharField(_("why turned off"), max_length=20, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("added by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    DISABLED_FAILING = "failing"
    DISABLED_BY_HAND = "by_hand"

    class Meta:
        verbose_name = _("chat channel")
        verbose_name_plural = _("chat channels")
        ordering = ["created_at", "pk"]
        indexes = [
            # The fan-out (services.history_feed): a project's active channels.
            models.Index(fields=["project", "active"], name="chat_channel_project_idx"),
            # The summary sweep (tasks.summary_sweep): active channels with a summary.
            models.Index(fields=["active", "daily_summary"], name="chat_channel_summary_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(hour__lte=23), name="chat_channel_hour_0_23"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def url_hint(self) -> str:
        """The address as shown once saved: its host and its last four characters."""
        try:
            host = urlsplit(self.url).hostname or ""
        except ValueError:
            host = ""
        return f"{host}/…{self.url[-4:]}" if self.url else ""

    @property
    def working_day_numbers(self) -> set[int]:
        return set(parse_working_days(self.working_days))

    @property
    def working_day_labels(self) -> list[str]:
        days = self.working_day_numbers
        return [str(label) for number, label in WEEKDAYS if number in days]

    @property
    def language_label(self) -> str:
        return str(dict(LANGUAGE_CHOICES).get(self.language, self.language))

    @property
    def event_labels(self) -> list[str]:
        labels = dict(ChatEvent.choices)
        return [str(labels.get(code, code)) for code in self.events]

    @property
    def disabled_label(self) -> str:
        if self.disabled_reason == self.DISABLED_FAILING:
            return gettext("turned off after failing too often")
        if self.disabled_reason == self.DISABLED_BY_HAND:
            return gettext("turned off by hand")
        return ""


class ChatDelivery(DeliveryBase):
    """One message to one channel. `event_id`: "summary:<channel>:<local day>",
    "event:<history entry>", "gap:<team change>:<role>" or "test:<random>"; the
    payload holds ids only, the message is worded when sent (the channel's language,
    what may still be said then)."""

    channel = models.ForeignKey(
        ChatChannel,
        verbose_name=_("channel"),
        on_delete=models.CASCADE,
        related_name="deliveries",
    )

    class Meta:
        verbose_name = _("chat message")
        verbose_name_plural = _("chat messages")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "event_id"], name="chat_delivery_once_per_event"
            ),
        ]
        indexes = [
            # A channel's message log, newest first.
            models.Index(fields=["channel", "-created_at", "-id"], name="chat_delivery_log_idx"),
            # The delivery sweep (tasks.delivery_sweep): what is due now.
            models.Index(fields=["status", "next_attempt_at"], name="chat_delivery_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"

    @property
    def error_label(self) -> str:
        reason = SKIP_REASONS.get(self.error)
        return str(reason) if reason is not None else self.error

    @property
    def event_label(self) -> str:
        label = MESSAGE_LABELS.get(self.event_type)
        return str(label) if label is not None else self.event_type
