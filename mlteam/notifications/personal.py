"""Writes for personal delivery: a person's own chat address, how their daily
digest comes (email, chat or both), which inbox kinds also come at once by email
or chat, and sending all of that.

1. Settings (`chat_address_set`, `chat_address_remove`,
   `notification_preference_update`): the person's own, with a version, so a
   stale form saves nothing; chat is chosen only while there is an address
   (removing it falls back to email in the same transaction).
2. The digest (`DigestChatOutlet`, registered with `deliverables.reminders`):
   when a digest goes out, a person who chose chat gets one `PersonalDelivery`
   row for it (unique per person and day), worded from the email's own context;
   with "chat" alone no email goes. The chat and the email retry independently.
3. Inbox entries (`entries_deliver`, called by the inbox feed in the change's
   transaction): one row per (person, channel, entry) the person opted into,
   handed to a task after commit; a rollback leaves neither entry nor row.
4. Sending (`delivery_send`): claim, then check again (the person's account,
   their address, the entry still readable through `selectors.inbox_entries`,
   the work still visible, pause and working days), then post or mail; failures
   come back with the ledger's backoff.
"""

from __future__ import annotations

import json
import logging
import smtplib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import BadHeaderError, EmailMultiAlternatives
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from deliverables.models import Deliverable, Digest
from deliverables.reminders import DigestOutlet, preference_for, preference_zone
from mlteam.mail import OutcomeUnknown, send_message
from mlteam.people import person_name
from mlteam.versions import claim_version

from . import chat
from . import delivery as ledger
from .addresses import UnsafeAddress, check_url
from .models import (
    IMMEDIATE_KINDS,
    DeliveryStatus,
    DigestChannel,
    InboxEntry,
    InboxKind,
    NotificationPreference,
    PersonalChannel,
    PersonalDelivery,
    digest_by_chat,
)
from .sender import post

logger = logging.getLogger(__name__)

STALE_MESSAGE = _(
    "Your notification settings changed in another window while you were editing them. "
    "Nothing was saved; the page now shows them as they are."
)
CHAT_NEEDS_ADDRESS_MESSAGE = _(
    "Add your chat address first: chat can be chosen once MLTeam knows where to send."
)
CHAT_ADDRESS_REQUIRED_MESSAGE = _("Enter your chat's incoming-webhook address.")
CHAT_ADDRESS_INVALID_MESSAGE = _(
    "Enter a full web address, like https://hooks.slack.com/services/…"
)
NO_CHAT_MESSAGE = _("You have no chat address to test yet.")
TEST_TOO_SOON_MESSAGE = _("A test message was sent a moment ago; wait a few seconds.")

DIGEST_EVENT = "digest"


# --- settings -------------------------------------------------------------------------------


def _locked(person) -> NotificationPreference:
    preference, _created = NotificationPreference.objects.select_for_update().get_or_create(
        person=person
    )
    return preference


def _check_chat_url(url: str) -> str:
    url = (url or "").strip()
    if not url:
        raise ValidationError({"url": CHAT_ADDRESS_REQUIRED_MESSAGE}, code="required")
    field = NotificationPreference._meta.get_field("chat_url")
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise ValidationError({"url": CHAT_ADDRESS_INVALID_MESSAGE}, code="invalid") from None
    if len(url) > field.max_length:
        raise ValidationError(
            {
                "url": _("Keep the address under %(limit)s characters.")
                % {"limit": field.max_length}
            },
            code="max_length",
        )
    try:
        check_url(url)
    except UnsafeAddress as error:
        raise ValidationError({"url": error.messages}, code=error.code) from None
    return url


@transaction.atomic
def chat_address_set(*, person, url: str, version: int | None) -> NotificationPreference:
    """Save (or replace) the person's chat address, checked as webhook addresses are."""
    url = _check_chat_url(url)
    preference = _locked(person)
    claim_version(
        preference,
        version,
        message=STALE_MESSAGE,
        also={"chat_url": url, "chat_added_at": timezone.now()},
    )
    preference.refresh_from_db()
    return preference


@transaction.atomic
def chat_address_remove(*, person, version: int | None) -> NotificationPreference:
    """Forget the chat address: the digest comes by email again and no inbox kind
    comes by chat; chat messages still waiting are not sent (`delivery_send`)."""
    preference = _locked(person)
    channels = {
        kind: [channel for channel in chosen if channel != PersonalChannel.CHAT]
        for kind, chosen in (preference.event_channels or {}).items()
    }
    claim_version(
        preference,
        version,
        message=STALE_MESSAGE,
        also={
            "chat_url": "",
            "chat_added_at": None,
            "digest_by": DigestChannel.EMAIL,
            "event_channels": {kind: chosen for kind, chosen in channels.items() if chosen},
        },
    )
    preference.refresh_from_db()
    return preference


def _clean_channels(event_channels: dict[str, Iterable[str]], *, has_chat: bool) -> dict:
    cleaned = {}
    for kind, chosen in event_channels.items():
        if kind not in IMMEDIATE_KINDS:
            raise ValidationError(_("Unknown kind of notification: %(kind)s.") % {"kind": kind})
        chosen = [channel for channel in PersonalChannel.values if channel in set(chosen)]
        unknown = set(event_channels[kind]) - set(PersonalChannel.values)
        if unknown:
            raise ValidationError(_("Unknown channel: %(channel)s.") % {"channel": min(unknown)})
        if PersonalChannel.CHAT in chosen and not has_chat:
            raise ValidationError({"events": CHAT_NEEDS_ADDRESS_MESSAGE}, code="no_chat")
        if chosen:
            cleaned[kind] = chosen
    return cleaned


@transaction.atomic
def notification_preference_update(
    *,
    person,
    version: int | None,
    digest_by: str,
    event_channels: dict[str, Iterable[str]],
) -> NotificationPreference:
    """Save how the digest comes and which kinds also come by email or chat, if the
    settings are still at `version`. Chat needs an address (as saved now)."""
    if digest_by not in DigestChannel.values:
        raise ValidationError({"digest_by": _("Choose email, chat, or both.")}, code="invalid")
    preference = _locked(person)
    if digest_by != DigestChannel.EMAIL and not preference.has_chat:
        raise ValidationError({"digest_by": CHAT_NEEDS_ADDRESS_MESSAGE}, code="no_chat")
    channels = _clean_channels(event_channels, has_chat=preference.has_chat)
    claim_version(
        preference,
        version,
        message=STALE_MESSAGE,
        also={"digest_by": digest_by, "event_channels": channels},
    )
    preference.refresh_from_db()
    return preference


def _settings_url() -> str:
    return settings.SITE_URL + reverse("notifications:settings")


@dataclass(frozen=True)
class TestResult:
    delivered: bool
    error: str = ""
    tried: bool = True  # False: refused before anything was sent (`error` says why)


# One test message per person in this many seconds (a double click sends one).
TEST_INTERVAL_SECONDS = 10


def chat_test_send(*, person) -> TestResult:
    """Post a short message to the person's chat now (not through the ledger: the
    person waits for the answer); the error says what the chat answered."""
    preference = NotificationPreference.objects.filter(person=person).first()
    if preference is None or not preference.has_chat:
        return TestResult(False, str(NO_CHAT_MESSAGE), tried=False)
    if not cache.add(f"notifications:chat-test:{person.pk}", 1, TEST_INTERVAL_SECONDS):
        return TestResult(False, str(TEST_TOO_SOON_MESSAGE), tried=False)
    try:
        target = check_url(preference.chat_url)
    except UnsafeAddress as error:
        return TestResult(False, " ".join(error.messages))
    with translation.override(preference_for(person).email_language):
        message = chat.chat_test_message(name=person_name(person), settings_url=_settings_url())
        body = chat.slack_payload(message)
    outcome = post(target, body=_json(body), headers={})
    if outcome.succeeded:
        return TestResult(True)
    logger.info("Test message to user %s's chat failed: %s", person.pk, outcome.error)
    return TestResult(False, outcome.error)


def _json(body: dict) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


# --- the digest in chat ---------------------------------------------------------------------


def _digest_event_id(carrier: Digest) -> str:
    return f"{DIGEST_EVENT}:{carrier.recipient_id}:{carrier.local_date.isoformat()}"


class DigestChatOutlet(DigestOutlet):
    """The daily digest in the person's own chat (`deliverables.reminders.digest_send`)."""

    name = "personal_chat"

    def recipients(self) -> Q:
        return digest_by_chat("notification_preference__")

    def email_wanted(self, recipient) -> bool:
        preference = NotificationPreference.objects.filter(person=recipient).first()
        return preference is None or preference.digest_by_email

    def deliver(self, *, carrier: Digest, context: dict) -> None:
        """One row per person and day (a retried email, a second worker, a repeated
        task find it there), worded now in the digest's language."""
        recipient = carrier.recipient
        preference = NotificationPreference.objects.filter(person=recipient).first()
        if preference is None or not preference.digest_by_chat:
            return
        with translation.override(context["language"]):
            message = chat.digest_chat_message({**context, "chat_preferences_url": _settings_url()})
        event_id = _digest_event_id(carrier)
        with transaction.atomic():
            PersonalDelivery.objects.bulk_create(
                [
                    PersonalDelivery(
                        person=recipient,
                        channel=PersonalChannel.CHAT,
                        event_id=event_id,
                        event_type=DIGEST_EVENT,
                        payload=message.as_data(),
                        next_attempt_at=timezone.now(),
                    )
                ],
                ignore_conflicts=True,
            )
            # Handed over while never tried (a second hand-over is harmless: the claim).
            _enqueue_on_commit(
                PersonalDelivery.objects.filter(
                    person=recipient, channel=PersonalChannel.CHAT, event_id=event_id, attempts=0
                ).values_list("pk", flat=True)
            )

    def sent(self, *, carrier: Digest, context: dict) -> None:
        """The inbox's daily summary: how many are overdue and due soon, to My work."""
        from .services import inbox_summary_add

        inbox_summary_add(
            person=carrier.recipient,
            digest=carrier,
            overdue=len(context.get("overdue", [])),
            due_soon=len(context.get("due_soon", [])),
        )


# --- inbox entries as they happen -----------------------------------------------------------


def entries_deliver(entries: list[InboxEntry]) -> list[int]:
    """In the transaction that writes `entries`: a delivery per channel each
    person chose for the entry's kind, handed to a task after commit. One query
    for the people's settings; with nobody opted in, nothing more."""
    wanted = [entry for entry in entries if entry.kind in IMMEDIATE_KINDS]
    if not wanted:
        return []
    preferences = {
        preference.person_id: preference
        for preference in NotificationPreference.objects.filter(
            person_id__in={entry.person_id for entry in wanted}
        ).exclude(event_channels={})
    }
    if not preferences:
        return []
    now = timezone.now()
    rows = [
        PersonalDelivery(
            person_id=entry.person_id,
            channel=channel,
            event_id=f"inbox:{entry.source}",
            event_type=entry.kind,
            payload={"source": entry.source},
            next_attempt_at=now,
        )
        for entry in wanted
        if entry.person_id in preferences
        for channel in preferences[entry.person_id].channels_for(entry.kind)
    ]
    if not rows:
        return []
    PersonalDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    keys = {(row.person_id, row.channel, row.event_id) for row in rows}
    new = [
        pk
        for pk, person_id, channel, event_id in PersonalDelivery.objects.filter(
            person_id__in={row.person_id for row in rows},
            event_id__in={row.event_id for row in rows},
            attempts=0,
        ).values_list("pk", "person_id", "channel", "event_id")
        if (person_id, channel, event_id) in keys
    ]
    _enqueue_on_commit(new)
    return new


def _enqueue_on_commit(delivery_ids) -> None:
    delivery_ids = list(delivery_ids)
    if not delivery_ids:
        return
    from .tasks import deliver_personal

    def enqueue() -> None:
        for delivery_id in delivery_ids:
            try:
                deliver_personal.delay(delivery_id)
            except Exception:  # the broker may be down: the delivery sweep hands it over
                logger.exception("Could not hand personal delivery %s over", delivery_id)

    transaction.on_commit(enqueue)


# --- sending --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SendResult:
    status: str | None  # None: nothing to do (not due, or another worker has it)
    retry_at: datetime | None = None


def quiet_reason(person, now: datetime) -> str:
    """Why nothing but the inbox may reach `person` today ("" when something may):
    paused, or not one of their working days, as their digests are."""
    preference = preference_for(person)
    local = now.astimezone(preference_zone(preference))
    if preference.paused_until and local.date() <= preference.paused_until:
        return "paused"
    if local.weekday() not in preference.working_day_numbers:
        return "not a working day"
    return ""


def delivery_send(*, delivery_id: int, now: datetime | None = None) -> SendResult:
    """One attempt of a personal delivery, if it is due and this worker wins it.

    1. Claim it (`delivery.claim`); lost: nothing to do.
    2. Skip it for good when it may not go any more: the account is off, the chat
       address or email is gone; for an entry, also when its kind is no longer
       wanted by that channel, the person is paused or it is not a working day of
       theirs, or the entry is no longer among what they may read
       (`selectors.inbox_entries`: the project or review went out of their sight).
    3. Word it in the person's language, now (a digest: its lines about work they
       may no longer see are dropped first), and send it.
    4. Record the outcome; failures come back after the ledger's backoff.
    """
    now = now or timezone.now()
    taken = ledger.claim(PersonalDelivery, delivery_id, now)
    if taken is None:
        return SendResult(None)
    row = PersonalDelivery.objects.select_related("person").filter(pk=delivery_id).first()
    if row is None:
        return SendResult(None)
    person = row.person

    def skip(reason: str) -> SendResult:
        ledger.record_skipped(PersonalDelivery, taken, now=now, reason=reason)
        return SendResult(DeliveryStatus.SKIPPED)

    if not person.is_active:
        return skip("the person's account is off")
    preference = NotificationPreference.objects.filter(person=person).first()
    if row.channel == PersonalChannel.CHAT and (preference is None or not preference.has_chat):
        return skip("no chat address any more")
    if row.channel == PersonalChannel.EMAIL and not person.email:
        return skip("no email address")
    language = preference_for(person).email_language
    if row.event_type == DIGEST_EVENT:
        message = chat.Message.from_data(row.payload)
        named = message.deliverable_ids()
        seen = set(
            Deliverable.objects.visible_to(person).filter(pk__in=named).values_list("pk", flat=True)
        )
        message = message.without(named - seen)
        if message.is_empty:
            return skip("nothing left the person may see")
        with translation.override(language):
            if named - seen:  # the title's counts included them: no counts then
                message.title = gettext("MLTeam: your reminders")
            body = chat.slack_payload(
                message, more_url=settings.SITE_URL + reverse("deliverables:my_work")
            )
        return _post(row, taken, preference, body, now)
    if preference is None or row.channel not in preference.channels_for(row.event_type):
        return skip("no longer wanted by this channel")
    if reason := quiet_reason(person, now):
        return skip(reason)
    from .selectors import inbox_entries

    entry = inbox_entries(person).filter(source=row.payload.get("source", "")).first()
    if entry is None:
        return skip("the person may no longer see what it is about")
    entry.person = person
    with translation.override(language):
        if row.channel == PersonalChannel.CHAT:
            body = chat.slack_payload(
                chat.entry_chat_message(
                    message=entry.message,
                    about=_entry_about(entry),
                    url=_entry_url(entry),
                    settings_url=_settings_url(),
                )
            )
        else:
            email = _entry_email(entry)
    if row.channel == PersonalChannel.CHAT:
        return _post(row, taken, preference, body, now)
    return _mail(row, taken, email, now)


def _entry_about(entry: InboxEntry) -> str:
    if entry.deliverable_id:
        return f"{entry.deliverable.label} ({entry.project.name})"
    if entry.review_id:
        return entry.cycle_name
    if entry.kind == InboxKind.DIGEST:
        return gettext("Your work")
    return entry.where


def _entry_url(entry: InboxEntry) -> str:
    """Through the inbox: following it marks the entry read, then opens its page."""
    return settings.SITE_URL + reverse("notifications:inbox_open", args=[entry.pk])


def _entry_email(entry: InboxEntry) -> EmailMultiAlternatives:
    context = {
        "entry": entry,
        "message": entry.message,
        "about": _entry_about(entry),
        "url": _entry_url(entry),
        "settings_url": _settings_url(),
        "recipient": entry.person,
    }
    subject = " ".join(render_to_string("emails/inbox_entry_subject.txt", context).split())
    text = render_to_string("emails/inbox_entry.txt", context)
    html = render_to_string("emails/inbox_entry.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[entry.person.email])
    message.attach_alternative(html, "text/html")
    return message


def _post(row, taken, preference, body: dict, now: datetime) -> SendResult:
    try:
        target = check_url(preference.chat_url)
    except UnsafeAddress as error:
        retry_at = ledger.record_failure(
            PersonalDelivery,
            taken,
            now=now,
            status_code=None,
            duration_ms=None,
            error=" ".join(error.messages),
        )
        return SendResult(_status(retry_at), retry_at)
    outcome = post(target, body=_json(body), headers={})
    finished = now + timedelta(milliseconds=outcome.duration_ms)
    if outcome.succeeded:
        ledger.record_success(
            PersonalDelivery,
            taken,
            now=finished,
            status_code=outcome.status_code,
            duration_ms=outcome.duration_ms,
        )
        return SendResult(DeliveryStatus.SUCCEEDED)
    retry_at = ledger.record_failure(
        PersonalDelivery,
        taken,
        now=finished,
        status_code=outcome.status_code,
        duration_ms=outcome.duration_ms,
        error=outcome.error,
    )
    logger.info(
        "Personal chat delivery %s failed (attempt %s): %s", row.pk, taken.attempt, outcome.error
    )
    return SendResult(_status(retry_at), retry_at)


def _mail(row, taken, email: EmailMultiAlternatives, now: datetime) -> SendResult:
    try:
        send_message(email, before_content=lambda: None)
    except OutcomeUnknown as error:
        # The server took the text but never answered: it may have arrived, so it is
        # not sent again (at most once).
        ledger.record_unknown(PersonalDelivery, taken, now=now, error=str(error))
        return SendResult(DeliveryStatus.GAVE_UP)
    except (smtplib.SMTPException, OSError, BadHeaderError) as error:
        retry_at = ledger.record_failure(
            PersonalDelivery, taken, now=now, status_code=None, duration_ms=None, error=str(error)
        )
        logger.info("Personal email %s failed (attempt %s): %s", row.pk, taken.attempt, error)
        return SendResult(_status(retry_at), retry_at)
    ledger.record_success(
        PersonalDelivery, taken, now=timezone.now(), status_code=250, duration_ms=0
    )
    return SendResult(DeliveryStatus.SUCCEEDED)


def _status(retry_at: datetime | None) -> str:
    return DeliveryStatus.FAILED if retry_at else DeliveryStatus.GAVE_UP
