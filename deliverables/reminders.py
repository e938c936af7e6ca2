"""Reminder digests: who is owed which reminders now, building them, sending them.

The database is the source of truth. Beat triggers `reminder_sweep` every few
minutes; a missed or doubled tick is harmless because:

- a `Digest` row is unique per (recipient, local day): the sweep that inserts it
  owns it, so two sweeps at once build each digest once;
- `Reminder` ledger rows are unique per (deliverable, recipient, kind, local day);
- sending claims the digest with a conditional UPDATE (pending -> sending, with a
  lease), so only one worker sends it; an SMTP error puts it back to pending with
  a back-off, and a digest whose worker died is taken again when its lease ends.

A crash after the SMTP server accepted a message but before the row says "sent"
can repeat that one email when the lease ends; nothing is ever lost.
"""

from __future__ import annotations

import logging
import uuid
import zoneinfo
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from roles.models import Project

from .models import (
    Deliverable,
    DeliverableStatus,
    Digest,
    DigestStatus,
    Reminder,
    ReminderKind,
    ReminderPreference,
)

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
MAX_DUE_SOON_DAYS = 31
LEASE = timedelta(minutes=10)
# A new digest is handed to a worker at once; the sweep only takes it again if it
# is still unsent after this grace period (broker down, worker lost).
GRACE = timedelta(minutes=5)


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, ... minutes after each failed attempt, at most an hour."""
    return timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


def default_preference(user) -> ReminderPreference:
    return ReminderPreference(user=user, time_zone=settings.TIME_ZONE)


def preference_for(user) -> ReminderPreference:
    try:
        return user.reminder_preference
    except ReminderPreference.DoesNotExist:
        return default_preference(user)


def digest_day(preference: ReminderPreference, now: datetime) -> date | None:
    """The recipient's local day if a digest is due at `now`, else None.

    Due from the chosen local hour on, on working days, unless paused through that day.
    """
    try:
        zone = zoneinfo.ZoneInfo(preference.time_zone)
    except Exception:  # any bad stored name must not stop the sweep for everyone
        logger.warning("Unknown time zone %r for user %s", preference.time_zone, preference.user_id)
        zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    local = now.astimezone(zone)
    if local.weekday() not in preference.working_day_numbers:
        return None
    if local.hour < preference.hour:
        return None
    if preference.paused_until and local.date() <= preference.paused_until:
        return None
    return local.date()


@dataclass
class Item:
    deliverable_id: int
    title: str
    project_name: str
    kind: str
    days: int


@dataclass
class PlannedDigest:
    recipient: object
    local_date: date
    language: str
    items: list[Item] = field(default_factory=list)


# --- the sweep --------------------------------------------------------------------------


def _candidate_recipients(now: datetime) -> list[int]:
    """Everyone who might be owed something: owners of open work due soon, late or
    stale, and managers of projects with overdue work. Ids only (bounded by people)."""
    horizon = now.date() + timedelta(days=MAX_DUE_SOON_DAYS + 1)
    stale_before = now - timedelta(days=settings.REMINDER_STALE_DAYS)
    open_work = Deliverable.objects.open().filter(project__archived_at__isnull=True)
    owners = open_work.filter(
        Q(due_date__lte=horizon)
        | Q(status=DeliverableStatus.IN_PROGRESS, updated_at__lt=stale_before),
        owner__isnull=False,
    ).values_list("owner_id", flat=True)
    managers = open_work.filter(due_date__lt=now.date()).values_list("project__managers", flat=True)
    ids = set(owners.distinct().order_by()) | set(managers.distinct().order_by())
    ids.discard(None)
    return sorted(ids)


def _plan_batch(user_ids: list[int], now: datetime) -> list[PlannedDigest]:
    """Digests owed now to these people that do not exist yet, with their items.

    Five queries whatever the batch holds: people, existing digests, owned work,
    the projects they manage, and those projects' overdue work.
    """
    users = (
        get_user_model()
        .objects.filter(pk__in=user_ids, is_active=True)
        .exclude(email="")
        .select_related("reminder_preference")
    )
    planned: dict[int, PlannedDigest] = {}
    preferences: dict[int, ReminderPreference] = {}
    for user in users:
        preference = preference_for(user)
        day = digest_day(preference, now)
        if day is not None:
            planned[user.pk] = PlannedDigest(
                recipient=user, local_date=day, language=preference.language
            )
            preferences[user.pk] = preference
    if not planned:
        return []
    for recipient_id, local_date in Digest.objects.filter(
        recipient_id__in=planned, local_date__in={p.local_date for p in planned.values()}
    ).values_list("recipient_id", "local_date"):
        if planned.get(recipient_id) and planned[recipient_id].local_date == local_date:
            del planned[recipient_id]
    if not planned:
        return []

    latest_day = max(p.local_date for p in planned.values())
    stale_before = now - timedelta(days=settings.REMINDER_STALE_DAYS)
    # Plain tuples, not model instances: tens of thousands of rows stay cheap.
    columns = ("pk", "title", "project__name", "due_date", "status", "updated_at")
    open_work = Deliverable.objects.open().filter(project__archived_at__isnull=True)
    # Owners must still be on the project to see it (the team page clears owners it removes).
    owned = open_work.filter(
        owner_id__in=planned, project__memberships__user_id=F("owner_id")
    ).filter(
        Q(due_date__lte=latest_day + timedelta(days=MAX_DUE_SOON_DAYS))
        | Q(status=DeliverableStatus.IN_PROGRESS, updated_at__lt=stale_before)
    )
    for pk, title, project_name, due, status, updated_at, owner_id in owned.order_by(
        "due_date", "pk"
    ).values_list(*columns, "owner_id"):
        digest = planned[owner_id]
        window = preferences[owner_id].due_soon_days
        if due is not None and due < digest.local_date:
            late = (digest.local_date - due).days
            digest.items.append(Item(pk, title, project_name, ReminderKind.OVERDUE, late))
        elif due is not None and due <= digest.local_date + timedelta(days=window):
            left = (due - digest.local_date).days
            digest.items.append(Item(pk, title, project_name, ReminderKind.DUE_SOON, left))
        if status == DeliverableStatus.IN_PROGRESS and updated_at < stale_before:
            idle = (now - updated_at).days
            digest.items.append(Item(pk, title, project_name, ReminderKind.STALE, idle))

    managed: dict[int, list[int]] = defaultdict(list)
    for project_id, manager_id in _listed_managers_with_rights(planned):
        managed[project_id].append(manager_id)
    escalated = (
        open_work.filter(project_id__in=managed, due_date__lt=latest_day)
        .order_by("project__name", "type__role__position", "due_date", "pk")
        .values_list(*columns, "project_id", "project__escalation_days")
    )
    for pk, title, project_name, due, _status, _updated, project_id, escalate_after in escalated:
        for manager_id in managed[project_id]:
            digest = planned[manager_id]
            late = (digest.local_date - due).days
            if late > escalate_after:
                digest.items.append(Item(pk, title, project_name, ReminderKind.ESCALATION, late))
    return [digest for digest in planned.values() if digest.items]


def _listed_managers_with_rights(user_ids) -> Iterable[tuple[int, int]]:
    """(project, manager) pairs for these people, if they still hold the manager
    permission (a demoted manager no longer hears about the project)."""
    rights = ["add_project", "administer_projects"]
    return (
        Project.managers.through.objects.filter(user_id__in=user_ids)
        .filter(
            Q(user__is_superuser=True)
            | Q(user__groups__permissions__codename__in=rights)
            | Q(user__user_permissions__codename__in=rights)
        )
        .values_list("project_id", "user_id")
        .distinct()
    )


def _save_batch(planned: list[PlannedDigest], now: datetime) -> list[int]:
    """Insert digests and their ledger lines; return the ids of the digests this
    sweep inserted (a rival sweep's rows keep its token, not ours)."""
    token = uuid.uuid4()
    Digest.objects.bulk_create(
        [
            Digest(
                recipient=p.recipient,
                local_date=p.local_date,
                next_attempt_at=now + GRACE,
                sweep_token=token,
            )
            for p in planned
        ],
        ignore_conflicts=True,
    )
    ours = {
        (digest.recipient_id, digest.local_date): digest.pk
        for digest in Digest.objects.filter(sweep_token=token).only(
            "pk", "recipient_id", "local_date"
        )
    }
    _insert_ledger(
        (item.deliverable_id, p.recipient.pk, item.kind, p.local_date, ours[key], item.days)
        for p in planned
        if (key := (p.recipient.pk, p.local_date)) in ours
        for item in p.items
    )
    return sorted(ours.values())


def _insert_ledger(rows: Iterable[tuple]) -> None:
    """Insert ledger lines, skipping any already there (the unique constraint).

    Plain SQL because the ORM spends seconds building tens of thousands of rows;
    on PostgreSQL the rows travel as arrays in one statement.
    """
    rows = list(rows)
    if not rows:
        return
    table = Reminder._meta.db_table
    columns = "deliverable_id, recipient_id, kind, local_date, digest_id, days"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"INSERT INTO {table} ({columns}) "  # noqa: S608 (table name from the model)
                "SELECT * FROM UNNEST(%s::bigint[], %s::integer[], %s::varchar[], %s::date[], "
                "%s::bigint[], %s::integer[]) ON CONFLICT DO NOTHING",
                [list(column) for column in zip(*rows, strict=True)],
            )
        else:
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s, %s, %s) "  # noqa: S608
                "ON CONFLICT DO NOTHING",
                rows,
            )


def reminder_plan(*, now: datetime, batch_size: int = BATCH_SIZE) -> Iterable[PlannedDigest]:
    """What the sweep would build now, without writing anything (dry run)."""
    candidates = _candidate_recipients(now)
    for start in range(0, len(candidates), batch_size):
        yield from _plan_batch(candidates[start : start + batch_size], now)


def reminder_sweep(
    *, now: datetime, send: Callable[[int], None], batch_size: int = BATCH_SIZE
) -> dict[str, int]:
    """Build the digests owed now and hand each to `send` after its batch commits.

    1. Candidates are people with open work due soon, late or stale, or managing
       projects with overdue work; they are taken in batches.
    2. For each batch, plan the digests owed now that do not exist yet, insert
       them with their ledger lines, and after commit hand ours to `send`.
    3. Hand over again every unsent digest whose retry time has come or whose
       sender's lease ran out.
    """
    created = 0
    candidates = _candidate_recipients(now)
    for start in range(0, len(candidates), batch_size):
        planned = _plan_batch(candidates[start : start + batch_size], now)
        if not planned:
            continue
        with transaction.atomic():
            ours = _save_batch(planned, now)
            for digest_id in ours:
                transaction.on_commit(lambda digest_id=digest_id: send(digest_id), robust=True)
        created += len(ours)

    retried = 0
    due_again = Digest.objects.filter(
        Q(status=DigestStatus.PENDING, next_attempt_at__lte=now)
        | Q(status=DigestStatus.SENDING, lease_until__lt=now)
    ).values_list("pk", flat=True)
    for digest_id in due_again.iterator(chunk_size=1000):
        try:
            send(digest_id)
        except Exception:  # the broker may be down: the next sweep tries again
            logger.exception("Could not hand digest %s over for sending", digest_id)
        retried += 1
    return {"created": created, "retried": retried}


# --- sending ----------------------------------------------------------------------------


class DigestSendFailed(Exception):
    def __init__(self, message: str, retry_in: timedelta):
        super().__init__(message)
        self.retry_in = retry_in


def _claim(digest_id: int, now: datetime) -> bool:
    claimable = Q(status=DigestStatus.PENDING) | Q(status=DigestStatus.SENDING, lease_until__lt=now)
    return (
        Digest.objects.filter(claimable, pk=digest_id).update(
            status=DigestStatus.SENDING, lease_until=now + LEASE, attempts=F("attempts") + 1
        )
        == 1
    )


MAX_ATTEMPTS = 8


def _still_owed(digest: Digest, reminders: list[Reminder]) -> list[Reminder]:
    """What may still be said at send time, which can be hours after the digest was
    built: open work on active projects, to owners still on the project and to
    managers still listed (and still managers)."""
    recipient = digest.recipient
    if not recipient.is_active or not recipient.email:
        return []
    on_projects = set(recipient.memberships.values_list("project_id", flat=True))
    managing = {project_id for project_id, _user in _listed_managers_with_rights([recipient.pk])}
    kept = []
    for reminder in reminders:
        deliverable = reminder.deliverable
        if deliverable.status == DeliverableStatus.DONE or deliverable.project.archived_at:
            continue
        if reminder.kind == ReminderKind.ESCALATION:
            if deliverable.project_id not in managing:
                continue
        elif deliverable.owner_id != recipient.pk or deliverable.project_id not in on_projects:
            continue
        kept.append(reminder)
    return kept


def _finish(digest: Digest, status: str, error: str = "") -> None:
    Digest.objects.filter(pk=digest.pk).update(
        status=status,
        sent_at=timezone.now() if status == DigestStatus.SENT else None,
        lease_until=None,
        last_error=error[:300],
    )


def digest_send(*, digest_id: int, now: datetime | None = None) -> bool:
    """Send one digest if nobody else is sending or has sent it. True when sent now.

    1. Claim it (pending, or sending with an expired lease) with a conditional UPDATE.
    2. Keep only the reminders still owed; with none left, or no address, cancel it.
    3. Send. A failure goes back to pending with a back-off, up to MAX_ATTEMPTS.
    """
    now = now or timezone.now()
    if not _claim(digest_id, now):
        return False
    digest = Digest.objects.select_related("recipient__reminder_preference").get(pk=digest_id)
    reminders = list(
        digest.reminders.select_related("deliverable__project", "deliverable__type__role").order_by(
            "kind", "deliverable__project__name", "-days", "pk"
        )
    )
    owed = _still_owed(digest, reminders)
    dropped = [reminder.pk for reminder in reminders if reminder not in owed]
    if dropped:
        Reminder.objects.filter(pk__in=dropped).delete()
    if not owed:
        _finish(digest, DigestStatus.CANCELLED, "nothing left to send")
        return False
    try:
        delivered = digest_message(digest, owed).send()
    except Exception as error:  # SMTP, network, a bad address or template: retry, then give up
        if digest.attempts >= MAX_ATTEMPTS:
            _finish(digest, DigestStatus.CANCELLED, f"gave up: {error}")
            logger.error(
                "Gave up on digest %s after %s attempts: %s", digest.pk, digest.attempts, error
            )
            return False
        retry_in = backoff(digest.attempts)
        Digest.objects.filter(pk=digest.pk, status=DigestStatus.SENDING).update(
            status=DigestStatus.PENDING,
            lease_until=None,
            next_attempt_at=now + retry_in,
            last_error=str(error)[:300],
        )
        raise DigestSendFailed(str(error), retry_in) from error
    if not delivered:
        _finish(digest, DigestStatus.CANCELLED, "no recipient address")
        return False
    _finish(digest, DigestStatus.SENT)
    return True


def digest_message(digest: Digest, reminders: list[Reminder]) -> EmailMultiAlternatives:
    recipient = digest.recipient
    preference = preference_for(recipient)
    sections = defaultdict(list)
    for reminder in reminders:
        reminder.url = settings.SITE_URL + reverse(
            "deliverables:detail", args=[reminder.deliverable_id]
        )
        sections[reminder.kind].append(reminder)
    escalations: dict[str, dict[str, list[Reminder]]] = defaultdict(lambda: defaultdict(list))
    for reminder in sections.get(ReminderKind.ESCALATION, []):
        deliverable = reminder.deliverable
        escalations[deliverable.project.name][deliverable.type.role.display_name].append(reminder)
    with translation.override(preference.language):
        context = {
            "recipient": recipient,
            "digest": digest,
            "overdue": sections.get(ReminderKind.OVERDUE, []),
            "due_soon": sections.get(ReminderKind.DUE_SOON, []),
            "stale": sections.get(ReminderKind.STALE, []),
            "escalations": {project: dict(roles) for project, roles in escalations.items()},
            "my_work_url": settings.SITE_URL + reverse("deliverables:my_work"),
            "preferences_url": settings.SITE_URL + reverse("deliverables:reminder_preferences"),
        }
        subject = " ".join(render_to_string("emails/digest_subject.txt", context).split())
        text = render_to_string("emails/digest.txt", context)
        html = render_to_string("emails/digest.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[recipient.email])
    message.attach_alternative(html, "text/html")
    return message
