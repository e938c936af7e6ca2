"""Writes for chat channels: the channels themselves, the messages planned for them
(from the history the apps record, and the daily summaries), and sending.

Channels are changed by their project's managers (and admins), with optimistic
versions. Messages are `ChatDelivery` rows, one per channel and message, written
in the transaction that records the change (`history_feed`: a rollback writes
none) or by the summary sweep (`summaries_plan`: a summary's event id names its
channel and local day, so two sweeps make one row), and handed to a worker once
committed (`tasks.deliver_message` -> `delivery_send`), which checks everything
again at send time and words the message in the channel's language then.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from deliverables.models import (
    Deliverable,
    DeliverableEvent,
    DeliverableStatus,
    EventKind,
    ReminderPreference,
)
from deliverables.reminders import digest_day, preference_zone
from mlteam.notifications import delivery as ledger
from mlteam.notifications.addresses import UnsafeAddress, check_url
from mlteam.notifications.models import DeliveryStatus
from mlteam.notifications.sender import post
from mlteam.versions import claim_version
from roles.models import Project, Role, TeamChange, TeamChangeAction

from . import selectors, wording
from .models import SUMMARY, TEST, ChatChannel, ChatDelivery, ChatEvent, ChatPlatform
from .payloads import Message, mattermost_payload, slack_payload, teams_payload
from .permissions import can_manage_channels, may_speak

logger = logging.getLogger(__name__)

STALE_MESSAGE = _(
    "Someone else changed this channel while you were editing it. Nothing was saved; "
    "open it again to see the latest version."
)
ARCHIVED_MESSAGE = _("This project is archived: its channels send nothing until it is restored.")
NOTHING_CHOSEN_MESSAGE = _("Choose at least one event, or the daily summary.")
URL_REQUIRED_MESSAGE = _("Enter the channel's incoming-webhook address.")
CONNECTOR_MESSAGE = _(
    "This is an Office 365 connector address, which Microsoft has retired. In Teams, "
    "add the “Post to a channel when a webhook request is received” workflow and use "
    "the address it gives."
)
SLACK_ON_TEAMS_MESSAGE = _("This is a Slack address: choose “Slack” as the platform.")
TEAMS_ON_SLACK_MESSAGE = _(
    "This is a Microsoft Teams Workflows address: choose “Microsoft Teams” as the platform."
)

# The fields a channel's form sets (besides its address).
CHANNEL_FIELDS = (
    "name",
    "platform",
    "events",
    "daily_summary",
    "hour",
    "time_zone",
    "working_days",
    "paused_until",
    "due_soon_days",
    "language",
)

# A status a deliverable moves to -> the event a channel may subscribe to.
STATUS_EVENTS = {
    DeliverableStatus.IN_REVIEW: ChatEvent.SENT_FOR_REVIEW,
    DeliverableStatus.BLOCKED: ChatEvent.BLOCKED,
    DeliverableStatus.DONE: ChatEvent.DONE,
}
# Team changes after which a required role may be left unfilled.
GAP_ACTIONS = {
    TeamChangeAction.ROLE_UNASSIGNED,
    TeamChangeAction.MEMBER_REMOVED,
    TeamChangeAction.PROJECT_UPDATED,
}


# --- channels --------------------------------------------------------------------------


def _check_allowed(actor, project: Project) -> None:
    if not can_manage_channels(actor, project):
        raise PermissionDenied


def _check_active(project: Project) -> None:
    if project.is_archived:
        raise ValidationError(ARCHIVED_MESSAGE, code="archived")


def _clean_events(events: Iterable[str]) -> list[str]:
    chosen = [str(code) for code in dict.fromkeys(events)]
    unknown = [code for code in chosen if code not in ChatEvent.values]
    if unknown:
        raise ValidationError(
            {"events": _("Unknown event: %(code)s.") % {"code": unknown[0]}}, code="invalid"
        )
    return chosen


def _platform_error(platform: str, url: str):
    """Why this address cannot be a `platform` channel, or None. Only the host (and
    a connector's path) is read: any other address may be a Mattermost server or a
    self-hosted relay, and the test message tells the manager whether it works."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return None  # check_url says what is wrong with it
    if host.endswith("webhook.office.com") or (
        host.endswith("outlook.office.com") and "/webhook" in parts.path
    ):
        return CONNECTOR_MESSAGE
    teams_workflow = host.endswith(".logic.azure.com") or host.endswith(".powerplatform.com")
    if platform != ChatPlatform.SLACK and host == "hooks.slack.com":
        return SLACK_ON_TEAMS_MESSAGE
    if platform != ChatPlatform.TEAMS and teams_workflow:
        return TEAMS_ON_SLACK_MESSAGE
    return None


def _check_url(platform: str, url: str) -> None:
    if not url:
        raise ValidationError({"url": URL_REQUIRED_MESSAGE}, code="required")
    message = _platform_error(platform, url)
    if message is not None:
        raise ValidationError({"url": message}, code="platform")
    try:
        check_url(url)
    except UnsafeAddress as error:
        raise ValidationError({"url": error.messages}, code=error.code) from None


def _apply(channel: ChatChannel, fields: dict) -> None:
    unknown = set(fields) - set(CHANNEL_FIELDS)
    if unknown:
        raise TypeError(f"unexpected channel fields {sorted(unknown)}")
    for name, value in fields.items():
        setattr(channel, name, value)
    channel.events = _clean_events(channel.events)
    if not channel.events and not channel.daily_summary:
        raise ValidationError({"events": NOTHING_CHOSEN_MESSAGE}, code="required")


@transaction.atomic
def channel_create(*, actor, project: Project, url: str, **fields) -> ChatChannel:
    """A new channel of `project` (fields: CHANNEL_FIELDS)."""
    _check_allowed(actor, project)
    _check_active(project)
    channel = ChatChannel(project=project, url=url, created_by=actor)
    _apply(channel, fields)
    channel.full_clean()
    _check_url(channel.platform, url)
    channel.save()
    logger.info("Chat channel %s added to project %s by user %s", channel.pk, project.pk, actor.pk)
    return channel


@transaction.atomic
def channel_update(
    *, channel: ChatChannel, actor, version: int | None, url: str | None = None, **fields
) -> ChatChannel:
    """Change a channel; `url` empty or None keeps its address (never shown again)."""
    _check_allowed(actor, channel.project)
    _apply(channel, fields)
    if url:
        channel.url = url
    channel.full_clean()
    _check_url(channel.platform, channel.url)
    claim_version(channel, version, message=STALE_MESSAGE)
    channel.save(update_fields=["url", *CHANNEL_FIELDS, "updated_at"])
    return channel


@transaction.atomic
def channel_set_active(
    *, channel: ChatChannel, actor, version: int | None, active: bool
) -> ChatChannel:
    """Turn a channel off, or on again (which forgets its failures). Messages planned
    while it was off are not sent later (`delivery_send` skips them)."""
    _check_allowed(actor, channel.project)
    also: dict = {"active": active}
    if active:
        also.update(disabled_reason="", consecutive_failures=0, failing_since=None)
    else:
        also.update(disabled_reason=ChatChannel.DISABLED_BY_HAND)
    claim_version(channel, version, message=STALE_MESSAGE, also=also)
    channel.refresh_from_db()
    return channel


@transaction.atomic
def channel_delete(*, channel: ChatChannel, actor, version: int | None) -> None:
    """Delete a channel and its message log."""
    _check_allowed(actor, channel.project)
    claim_version(channel, version, message=STALE_MESSAGE)
    channel_id = channel.pk
    channel.delete()
    logger.info("Chat channel %s deleted by user %s", channel_id, actor.pk)


def channel_test(*, channel: ChatChannel, actor, now: datetime | None = None) -> SendResult:
    """Send a test message now, while the manager waits (at most the sender's
    deadline): logged like any message, never retried (the manager sees at once
    whether it arrived, and may try again)."""
    _check_allowed(actor, channel.project)
    _check_active(channel.project)
    now = now or timezone.now()
    row = ChatDelivery.objects.create(
        channel=channel,
        event_id=f"test:{secrets.token_hex(8)}",
        event_type=TEST,
        payload={"actor_id": actor.pk},
        next_attempt_at=now,
    )
    return delivery_send(delivery_id=row.pk, now=now, retry=False)


# --- messages planned from the history -----------------------------------------------


def _channels_for(project_ids: set[int], wanted: set[str]) -> dict[int, list[ChatChannel]]:
    """project -> its active channels subscribed to any of `wanted` (one query)."""
    by_project: dict[int, list[ChatChannel]] = {}
    rows = ChatChannel.objects.filter(
        project_id__in=project_ids, active=True, project__archived_at__isnull=True
    ).only("pk", "project_id", "events")
    for channel in rows:
        if wanted & set(channel.events):
            by_project.setdefault(channel.project_id, []).append(channel)
    return by_project


@dataclass(frozen=True)
class Planned:
    """A message to plan for every channel of `project_id` subscribed to `event_type`."""

    project_id: int
    event_id: str
    event_type: str
    payload: dict


def _status_messages(entries: list[DeliverableEvent]) -> list[Planned]:
    planned = []
    for entry in entries:
        if entry.kind != EventKind.STATUS:
            continue
        after = (entry.payload or {}).get("after") or {}
        event_type = STATUS_EVENTS.get(after.get("status"))
        if event_type is None:
            continue
        planned.append(
            Planned(
                project_id=entry.project_id,
                event_id=f"event:{entry.pk}",
                event_type=event_type,
                payload={
                    "deliverable_id": entry.deliverable_id,
                    "actor_id": entry.actor_id,
                    "reason": str(after.get("reason") or ""),
                },
            )
        )
    return planned


def _held_before(entry: TeamChange) -> set[int]:
    """The roles `entry.person` held on the project just before they were taken off
    its team, as its history tells (their assignments went with the membership; a
    removal before ends what was held then). One query."""
    held: set[int] = set()
    history = (
        TeamChange.objects.filter(
            project_id=entry.project_id,
            person_id=entry.person_id,
            pk__lt=entry.pk,
            action__in=[
                TeamChangeAction.ROLE_ASSIGNED,
                TeamChangeAction.ROLE_UNASSIGNED,
                TeamChangeAction.MEMBER_REMOVED,
            ],
        )
        .order_by("pk")
        .values_list("action", "role_id")
    )
    for action, role_id in history:
        if action == TeamChangeAction.ROLE_ASSIGNED:
            held.add(role_id)
        elif action == TeamChangeAction.ROLE_UNASSIGNED:
            held.discard(role_id)
        else:
            held.clear()
    return held


def _gap_messages(entries: list[TeamChange]) -> list[Planned]:
    """The required roles each change left unfilled (`Role.objects.unfilled_on`,
    THE filled-role rule, read after the change): the role taken from someone,
    the roles a person leaving held, the roles newly required."""
    planned = []
    unfilled_by_project: dict[int, dict[int, str]] = {}
    for entry in entries:
        if entry.project_id not in unfilled_by_project:
            unfilled_by_project[entry.project_id] = dict(
                Role.objects.unfilled_on(entry.project_id).values_list("pk", "name")
            )
        unfilled = unfilled_by_project[entry.project_id]
        if not unfilled:
            continue
        if entry.action == TeamChangeAction.ROLE_UNASSIGNED:
            opened, cause = {entry.role_id} & set(unfilled), "unassigned"
        elif entry.action == TeamChangeAction.MEMBER_REMOVED:
            opened, cause = _held_before(entry) & set(unfilled), "removed"
        else:
            change = (entry.payload or {}).get("changes", {}).get("required_roles")
            if not change:
                continue
            before, after = (set(side or []) for side in change)
            added = after - before
            opened = {pk for pk, name in unfilled.items() if name in added}
            cause = "required"
        for role_id in sorted(opened):
            planned.append(
                Planned(
                    project_id=entry.project_id,
                    event_id=f"gap:{entry.pk}:{role_id}",
                    event_type=ChatEvent.ROLE_GAP_OPENED,
                    payload={
                        "role_id": role_id,
                        "cause": cause,
                        "person_id": entry.person_id,
                        "actor_id": entry.actor_id,
                    },
                )
            )
    return planned


def history_feed(sender, entries, **kwargs) -> list[int]:
    """`history_recorded`'s receiver, inside the transaction that writes `entries`:
    a message row per subscribed channel for each change a channel may be told of,
    handed to a worker once the transaction commits (a rollback takes the rows with
    it, and nothing is sent). Returns the new rows.

    Queries: none for changes no channel is told of; else one for the project's
    subscribed channels, then for team changes the unfilled roles (and, for someone
    leaving, what they held), the insert and the read of the new ids.
    """
    if sender is DeliverableEvent:
        relevant = [
            entry
            for entry in entries
            if entry.kind == EventKind.STATUS
            and ((entry.payload or {}).get("after") or {}).get("status") in STATUS_EVENTS
        ]
        wanted = set(STATUS_EVENTS.values())
    elif sender is TeamChange:
        relevant = [entry for entry in entries if entry.action in GAP_ACTIONS]
        wanted = {ChatEvent.ROLE_GAP_OPENED}
    else:
        return []
    if not relevant:
        return []
    channels = _channels_for({entry.project_id for entry in relevant}, wanted)
    if not channels:
        return []
    relevant = [entry for entry in relevant if entry.project_id in channels]
    planned = (_status_messages if sender is DeliverableEvent else _gap_messages)(relevant)
    now = timezone.now()
    rows = [
        ChatDelivery(
            channel_id=channel.pk,
            event_id=message.event_id,
            event_type=message.event_type,
            payload=message.payload,
            next_attempt_at=now,
        )
        for message in planned
        for channel in channels.get(message.project_id, [])
        if message.event_type in channel.events
    ]
    return _insert(rows)


def _insert(rows: list[ChatDelivery]) -> list[int]:
    """Insert the rows not there yet (the (channel, event) constraint skips the
    others), and hand the new ones to a worker after commit."""
    if not rows:
        return []
    ChatDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    keys = {(row.channel_id, row.event_id) for row in rows}
    new = [
        pk
        for pk, channel_id, event_id in ChatDelivery.objects.filter(
            channel_id__in={row.channel_id for row in rows},
            event_id__in={row.event_id for row in rows},
            status=DeliveryStatus.PENDING,
            attempts=0,
        ).values_list("pk", "channel_id", "event_id")
        if (channel_id, event_id) in keys
    ]
    _enqueue_on_commit(new)
    return new


def _enqueue_on_commit(delivery_ids: list[int]) -> None:
    if not delivery_ids:
        return
    from .tasks import deliver_message

    def enqueue() -> None:
        for delivery_id in delivery_ids:
            try:
                deliver_message.delay(delivery_id)
            except Exception:  # the broker may be down: the delivery sweep hands it over
                logger.exception("Could not hand chat message %s over", delivery_id)

    transaction.on_commit(enqueue)


# --- daily summaries -------------------------------------------------------------------


def schedule_of(channel: ChatChannel) -> ReminderPreference:
    """The channel's summary times as the reminders' schedule (hour, time zone,
    working days, pause), unsaved: `digest_day` then says when a summary is due,
    by the same rule as a person's digest."""
    return ReminderPreference(
        hour=channel.hour,
        time_zone=channel.time_zone,
        working_days=channel.working_days,
        paused_until=channel.paused_until,
    )


def summary_event_id(channel_id: int, day) -> str:
    return f"summary:{channel_id}:{day.isoformat()}"


def summaries_plan(*, now: datetime | None = None) -> list[int]:
    """One summary row per active channel of an active project whose local hour has
    come on a working day (not paused) and that has none for its local day yet.
    Idempotent: a second sweep, at once or later, finds the rows there (and two at
    the same moment meet in the unique constraint: one row, one message). Returns
    the new rows, handed to a worker after commit.

    Queries: the channels, what exists of today's rows, the insert and the read."""
    now = now or timezone.now()
    channels = ChatChannel.objects.filter(
        active=True, daily_summary=True, project__archived_at__isnull=True
    ).only("pk", "hour", "time_zone", "working_days", "paused_until")
    due = {}
    for channel in channels:
        day = digest_day(schedule_of(channel), now)
        if day is not None:
            due[summary_event_id(channel.pk, day)] = (channel, day)
    if not due:
        return []
    existing = set(ChatDelivery.objects.filter(event_id__in=due).values_list("event_id", flat=True))
    rows = [
        ChatDelivery(
            channel_id=channel.pk,
            event_id=event_id,
            event_type=SUMMARY,
            payload={"day": day.isoformat()},
            next_attempt_at=now,
        )
        for event_id, (channel, day) in due.items()
        if event_id not in existing
    ]
    with transaction.atomic():
        return _insert(rows)


# --- sending ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SendResult:
    status: str | None  # None: nothing to do (not due, or another worker has it)
    retry_at: datetime | None = None
    error: str = ""
    status_code: int | None = None


class _Skip(Exception):
    """Nothing to send, for good (the reason goes in the log)."""


def _person(user_id):
    from django.contrib.auth import get_user_model

    if user_id is None:
        return None
    return get_user_model().objects.filter(pk=user_id).first()


def _message(row: ChatDelivery, channel: ChatChannel, now: datetime) -> Message:
    """The message `row` stands for, worded now (active language: the channel's),
    or `_Skip` when there is nothing left to say."""
    payload = row.payload or {}
    if row.event_type == TEST:
        return wording.connected_message(channel)
    if row.event_type == SUMMARY:
        day = date.fromisoformat(payload["day"])
        today = now.astimezone(preference_zone(schedule_of(channel))).date()
        if day != today:
            raise _Skip("day over")
        summary = selectors.channel_summary(channel=channel, today=day)
        if summary.is_empty:
            raise _Skip("nothing to report")
        return wording.summary_message(channel, summary, day)
    if row.event_type in STATUS_EVENTS.values():
        deliverable = (
            Deliverable.objects.visible_to(channel.created_by)
            .filter(pk=payload.get("deliverable_id"), project=channel.project)
            .select_related("type", "owner")
            .first()
        )
        if deliverable is None:
            raise _Skip("deliverable not visible")
        return wording.status_message(
            channel,
            row.event_type,
            deliverable,
            actor=_person(payload.get("actor_id")),
            reason=payload.get("reason", ""),
        )
    if row.event_type == ChatEvent.ROLE_GAP_OPENED:
        role = Role.objects.unfilled_on(channel.project).filter(pk=payload.get("role_id")).first()
        if role is None:
            raise _Skip("role filled")
        return wording.gap_message(
            channel,
            role,
            cause=payload.get("cause", ""),
            person=_person(payload.get("person_id")),
            actor=_person(payload.get("actor_id")),
        )
    raise _Skip(f"unknown message {row.event_type}")


def message_body(channel: ChatChannel, message: Message) -> bytes:
    if channel.platform == ChatPlatform.TEAMS:
        payload = teams_payload(message)
    elif channel.platform == ChatPlatform.MATTERMOST:
        payload = mattermost_payload(message)
    else:
        payload = slack_payload(message)
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def _permanent(status_code: int | None) -> bool:
    """An answer no retry will change: the address is gone or refuses the message
    (Slack: 404 no_service, 410 channel gone, 403 invalid token, 400 bad message).
    Too many requests and timeouts (408, 429) are retried."""
    return status_code is not None and 400 <= status_code < 500 and status_code not in (408, 429)


def _ours(taken: ledger.Claim):
    return ChatDelivery.objects.filter(
        pk=taken.pk, status=DeliveryStatus.SENDING, attempts=taken.attempt
    )


def _give_up(taken: ledger.Claim, *, now, status_code, duration_ms, error: str) -> None:
    _ours(taken).update(
        status=DeliveryStatus.GAVE_UP,
        last_response_code=status_code,
        duration_ms=duration_ms,
        error=error[:500],
        next_attempt_at=None,
        updated_at=now,
    )


def delivery_send(*, delivery_id: int, now: datetime | None = None, retry: bool = True):
    """Make one attempt of a message, if it is due and this worker wins it.

    1. Claim it (`notifications.delivery.claim`); lost: nothing to do.
    2. Skip it for good if the channel is off, its project archived, the person who
       added it may no longer see the project (`may_speak`), or nothing is left to
       say (`_message`: what they may see now, worded in the channel's language).
    3. Check the address again (what it resolves to now); refused: a failure.
    4. POST it and record the outcome: a 2xx is delivered; a refusal no retry will
       change (`_permanent`) gives up at once; anything else (5xx, 408, 429, no
       answer in time) is retried with the ledger's backoff (`retry` False: given
       up at once, the test message). Every failure counts against the channel
       (`_channel_failed`).
    """
    now = now or timezone.now()
    taken = ledger.claim(ChatDelivery, delivery_id, now)
    if taken is None:
        return SendResult(None)
    row = (
        ChatDelivery.objects.select_related("channel__project", "channel__created_by")
        .filter(pk=delivery_id)
        .first()
    )
    if row is None:  # its channel was deleted meanwhile
        return SendResult(None)
    channel = row.channel
    try:
        if not channel.active:
            raise _Skip("channel turned off")
        if not may_speak(channel):
            raise _Skip("project not visible")
        with translation.override(channel.language):
            body = message_body(channel, _message(row, channel, now))
    except _Skip as skip:
        ledger.record_skipped(ChatDelivery, taken, now=now, reason=str(skip))
        logger.info("Chat message %s to channel %s not sent: %s", row.pk, channel.pk, skip)
        return SendResult(DeliveryStatus.SKIPPED, error=str(skip))
    try:
        target = check_url(channel.url)
    except UnsafeAddress as error:
        return _failed(
            taken, channel, now=now, status_code=None, duration_ms=None,
            error=" ".join(error.messages), retry=retry,
        )  # fmt: skip
    outcome = post(target, body=body, headers={})
    finished = now + timedelta(milliseconds=outcome.duration_ms)
    if outcome.succeeded:
        ledger.record_success(
            ChatDelivery,
            taken,
            now=finished,
            status_code=outcome.status_code,
            duration_ms=outcome.duration_ms,
        )
        ChatChannel.objects.filter(pk=channel.pk).update(consecutive_failures=0, failing_since=None)
        logger.info(
            "Chat message %s (%s) delivered to channel %s", row.pk, row.event_type, channel.pk
        )
        return SendResult(DeliveryStatus.SUCCEEDED, status_code=outcome.status_code)
    return _failed(
        taken,
        channel,
        now=finished,
        status_code=outcome.status_code,
        duration_ms=outcome.duration_ms,
        error=outcome.error,
        retry=retry and not _permanent(outcome.status_code),
    )


def _failed(taken, channel, *, now, status_code, duration_ms, error: str, retry: bool):
    if retry:
        retry_at = ledger.record_failure(
            ChatDelivery,
            taken,
            now=now,
            status_code=status_code,
            duration_ms=duration_ms,
            error=error,
        )
    else:
        _give_up(taken, now=now, status_code=status_code, duration_ms=duration_ms, error=error)
        retry_at = None
    logger.warning(
        "Chat message %s to channel %s failed (attempt %s): %s; %s",
        taken.pk,
        channel.pk,
        taken.attempt,
        error,
        f"next attempt at {retry_at.isoformat()}" if retry_at else "given up",
    )
    _channel_failed(channel, now)
    status = DeliveryStatus.FAILED if retry_at else DeliveryStatus.GAVE_UP
    return SendResult(status, retry_at, error=error, status_code=status_code)


def _channel_failed(channel: ChatChannel, now: datetime) -> None:
    """Count a failed attempt; a channel failing WEBHOOK_DISABLE_AFTER_FAILURES times
    in a row, over at least WEBHOOK_DISABLE_AFTER_HOURS, is turned off (one
    conditional UPDATE), as a webhook is; its page says why."""
    rows = ChatChannel.objects.filter(pk=channel.pk)
    rows.update(
        consecutive_failures=F("consecutive_failures") + 1,
        failing_since=Coalesce(F("failing_since"), now),
    )
    turned_off = rows.filter(
        Q(active=True),
        consecutive_failures__gte=settings.WEBHOOK_DISABLE_AFTER_FAILURES,
        failing_since__lte=now - timedelta(hours=settings.WEBHOOK_DISABLE_AFTER_HOURS),
    ).update(active=False, disabled_reason=ChatChannel.DISABLED_FAILING, version=F("version") + 1)
    if turned_off:
        logger.warning("Chat channel %s turned off after failing too often", channel.pk)
