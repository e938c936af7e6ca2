"""Reminder digests: who is owed which reminders now, building them, sending them.

The database is the source of truth. Beat triggers `reminder_sweep` every few
minutes; a missed or doubled tick is harmless because:

- a `Digest` row is unique per (recipient, local day): the sweep that inserts it
  owns it, so two sweeps at once build each digest once;
- `Reminder` ledger rows are unique per (deliverable, recipient, kind, local day);
- sending claims the recipient's owed digests together under a row lock (pending
  -> sending, with a lease), so only one worker sends to a person at a time, and
  their owed days go out as one message; an SMTP error puts them back to pending
  with a back-off, a digest whose worker died is taken again when its lease ends,
  and nothing is given up before its catch-up window ends (`deliver_by`).

Just before the message text leaves, the digests are marked "handed over". A
send that fails after that point without an answer from the server has an
unknown outcome: it is repeated at most once, after
REMINDER_UNKNOWN_REPEAT_DELAY_MINUTES and on the same local day. So a person gets
at most one digest a day, except that one repeat (docs/reminders.md).
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
from django.db import transaction
from django.db.models import Case, F, PositiveSmallIntegerField, Q, Value, When
from django.db.models.functions import Coalesce, Least
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import ngettext_lazy, pgettext

from mlteam.dates import format_day
from mlteam.mail import OutcomeUnknown, send_message
from roles.models import (
    LISTED_MANAGER,
    MANAGE,
    ON_TEAM,
    VIEW,
    project_access_condition,
    project_access_links,
)

from .models import (
    DIGEST_DELIVERED,
    DIGEST_UNFINISHED,
    Deliverable,
    DeliverableStatus,
    DeliverableType,
    Digest,
    DigestStatus,
    Reminder,
    ReminderKind,
    ReminderPreference,
    is_escalated,
)

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
MAX_DUE_SOON_DAYS = 31
# A new digest is handed to a worker at once; the sweep only takes it again if it
# is still unsent after this grace period (broker down, worker lost).
GRACE = timedelta(minutes=5)


def lease() -> timedelta:
    """How long a worker owns the digests it is sending (REMINDER_SEND_LEASE_SECONDS)."""
    return timedelta(seconds=settings.REMINDER_SEND_LEASE_SECONDS)


def unknown_repeat_delay() -> timedelta:
    return timedelta(minutes=settings.REMINDER_UNKNOWN_REPEAT_DELAY_MINUTES)


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, ... minutes after each failed attempt, at most an hour: retries go on
    at least hourly until the catch-up window ends."""
    return timedelta(minutes=min(60, 2 ** min(6, max(0, attempts - 1))))


def default_preference(user) -> ReminderPreference:
    return ReminderPreference(user=user, time_zone=settings.TIME_ZONE)


def preference_for(user) -> ReminderPreference:
    try:
        return user.reminder_preference
    except ReminderPreference.DoesNotExist:
        return default_preference(user)


def preference_zone(preference: ReminderPreference) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(preference.time_zone)
    except Exception:  # any bad stored name must not stop the sweep for everyone
        logger.warning("Unknown time zone %r for user %s", preference.time_zone, preference.user_id)
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _local_midnight(day: date, zone: zoneinfo.ZoneInfo) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=zone)


def _local_day_end(moment: datetime, zone: zoneinfo.ZoneInfo) -> datetime:
    """The moment the local day holding `moment` ends (the next local midnight)."""
    return _local_midnight(moment.astimezone(zone).date() + timedelta(days=1), zone)


def catch_up_deadline(local_date: date, zone: zoneinfo.ZoneInfo) -> datetime:
    """When a digest of `local_date` is given up if still undelivered: the end of
    its own day plus REMINDER_CATCH_UP_DAYS days, in the recipient's zone."""
    return _local_midnight(local_date + timedelta(days=1 + settings.REMINDER_CATCH_UP_DAYS), zone)


def digest_day(preference: ReminderPreference, now: datetime) -> date | None:
    """The recipient's local day if a digest is due at `now`, else None.

    Due from the chosen local hour on, on working days, unless paused through that day.
    """
    local = now.astimezone(preference_zone(preference))
    if local.weekday() not in preference.working_day_numbers:
        return None
    if local.hour < preference.hour:
        return None
    if preference.paused_until and local.date() <= preference.paused_until:
        return None
    return local.date()


def _todays_digest_time(preference: ReminderPreference, now: datetime) -> datetime | None:
    """When today's digest falls due, if that is still to come today (a working day,
    not paused, before the hour); else None."""
    local = now.astimezone(preference_zone(preference))
    if local.weekday() not in preference.working_day_numbers or local.hour >= preference.hour:
        return None
    if preference.paused_until and local.date() <= preference.paused_until:
        return None
    return local.replace(hour=preference.hour, minute=0, second=0, microsecond=0)


@dataclass
class Item:
    deliverable_id: int
    title: str
    type_name: str
    project_name: str
    kind: str
    days: int

    @property
    def label(self) -> str:
        """The deliverable's name (Deliverable.label) from the planned row."""
        return Deliverable(title=self.title, type=DeliverableType(name=self.type_name)).label


@dataclass
class PlannedDigest:
    recipient: object
    local_date: date
    language: str
    deliver_by: datetime
    items: list[Item] = field(default_factory=list)
    # What registered digest sections planned for it, by section name.
    extra: dict[str, list] = field(default_factory=dict)
    listed: set[int] = field(default_factory=set)

    def mention(self, item: Item) -> None:
        """List a deliverable once per digest, in the first section that takes it.
        The reader's own work is planned first (overdue, then due soon, then stale),
        escalations (other people's work) last."""
        if item.deliverable_id not in self.listed:
            self.listed.add(item.deliverable_id)
            self.items.append(item)


# --- sections other apps add to the digests ---------------------------------------------


class DigestSection:
    """A part of the digests that another app owns (performance reviews, say).

    deliverables imports no such app: the app registers an instance in its
    AppConfig.ready() (`digest_sections.register(...)`), and the sweep and the
    sending call every registered section at these points:

    1. `recipients(today)`: more people the sweep should consider (ids).
    2. `plan(planned, managed)`: add the section's items to planned digests, in
       `PlannedDigest.extra[name]`; `managed` is project -> its listed managers
       (still holding the manager permission) among the planned recipients.
    3. `save(saved)`: write the section's ledger for (planned digest, digest id)
       pairs, in the sweep's transaction.
    4. `owed(carrier, group)`: at send time, the section's ledger rows of the
       claimed digests that are still true now (deleting the others).
    5. `context(owed)` and `subject_counts(context)`: the email's template
       variables and what its subject counts; `text_template` and
       `html_template` render the section in the email, after the work sections.
    6. `describe(items, names)`: lines for `send_reminders --dry-run`; `names`
       is a dict the section may keep names in across digests.

    The defaults add nothing, so a section implements only what it needs.
    """

    name = ""
    text_template = ""
    html_template = ""

    def recipients(self, today: date) -> Iterable[int]:
        return ()

    def plan(self, planned: dict[int, PlannedDigest], managed: dict[int, list[int]]) -> None:
        return None

    def save(self, saved: list[tuple[PlannedDigest, int]]) -> None:
        return None

    def owed(self, carrier: Digest, group: list[Digest]) -> list:
        return []

    def context(self, owed: list) -> dict:
        return {}

    def subject_counts(self, context: dict) -> list[tuple]:
        return []

    def describe(self, items: list, names: dict) -> list[str]:
        return []


class DigestSections:
    """The registered sections, in registration order (their order in the email)."""

    def __init__(self) -> None:
        self._sections: dict[str, DigestSection] = {}

    def register(self, section: DigestSection) -> None:
        self._sections[section.name] = section  # registering again replaces it

    def __iter__(self):
        return iter(list(self._sections.values()))


digest_sections = DigestSections()


class DigestOutlet:
    """Another way a digest reaches its recipient besides email (their own chat:
    `mlteam.notifications` registers one in its AppConfig.ready; deliverables
    imports no such app). `digest_send` calls every registered outlet:

    1. `email_wanted(recipient)`: False when the recipient wants this outlet
       instead of email (then no email goes; the digests count as sent once the
       outlets took them).
    2. `deliver(carrier, context)`: hand the message over (the outlet keeps its own
       ledger, exactly once per digest, and retries on its own), with the email's
       template context (`digest_context`), built once for every channel.
    3. `sent(carrier, context)`: the digest went out (by email, by the outlets, or
       both).

    Each is called outside any transaction of the digest's; the defaults do nothing.
    """

    name = ""

    def recipients(self) -> Q | None:
        """Whom it reaches, as a condition on people (None: nobody): they are owed a
        digest even without an email address (`DigestOutlets.reachable`)."""
        return None

    def email_wanted(self, recipient) -> bool:
        return True

    def deliver(self, *, carrier: Digest, context: dict) -> None:
        return None

    def sent(self, *, carrier: Digest, context: dict) -> None:
        return None


class DigestOutlets:
    """The registered outlets, in registration order."""

    def __init__(self) -> None:
        self._outlets: dict[str, DigestOutlet] = {}

    def register(self, outlet: DigestOutlet) -> None:
        self._outlets[outlet.name] = outlet  # registering again replaces it

    def __iter__(self):
        return iter(list(self._outlets.values()))

    def reachable(self) -> Q:
        """THE rule of who can be sent a digest at all: an email address, or an
        outlet that reaches them (their own chat)."""
        condition = ~Q(email="")
        for outlet in self:
            reached = outlet.recipients()
            if reached is not None:
                condition |= reached
        return condition


digest_outlets = DigestOutlets()


# --- the sweep --------------------------------------------------------------------------


def _stale(now: datetime) -> Q:
    """Open work gone stale at `now`: in progress, unchanged for REMINDER_STALE_DAYS."""
    stale_before = now - timedelta(days=settings.REMINDER_STALE_DAYS)
    return Q(status=DeliverableStatus.IN_PROGRESS, updated_at__lt=stale_before)


def _candidate_recipients(now: datetime) -> list[int]:
    """Everyone who might be owed something: owners of open work due soon, late or
    stale, and managers of projects with overdue work. Ids only (bounded by people)."""
    horizon = now.date() + timedelta(days=MAX_DUE_SOON_DAYS + 1)
    open_work = Deliverable.objects.open().filter(project__archived_at__isnull=True)
    owners = open_work.filter(
        Q(due_date__lte=horizon) | _stale(now), owner__isnull=False
    ).values_list("owner_id", flat=True)
    managers = open_work.overdue(now.date()).values_list("project__managers", flat=True)
    ids = set(owners.distinct().order_by()) | set(managers.distinct().order_by())
    for section in digest_sections:
        ids |= set(section.recipients(now.date()))
    ids.discard(None)
    return sorted(ids)


def _plan_batch(user_ids: list[int], now: datetime) -> list[PlannedDigest]:
    """Digests owed now to these people that do not exist yet, with their items.

    Five queries whatever the batch holds: people, existing digests, owned work,
    the projects they manage, and those projects' overdue work.
    """
    users = (
        get_user_model()
        .objects.filter(digest_outlets.reachable(), pk__in=user_ids, is_active=True)
        .select_related("reminder_preference")
    )
    planned: dict[int, PlannedDigest] = {}
    preferences: dict[int, ReminderPreference] = {}
    for user in users:
        preference = preference_for(user)
        day = digest_day(preference, now)
        if day is not None:
            planned[user.pk] = PlannedDigest(
                recipient=user,
                local_date=day,
                language=preference.email_language,
                deliver_by=catch_up_deadline(day, preference_zone(preference)),
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
    stale = _stale(now)
    # Plain tuples, not model instances: tens of thousands of rows stay cheap.
    columns = ("pk", "title", "type__name", "project__name", "due_date")
    open_work = Deliverable.objects.open().filter(project__archived_at__isnull=True)
    # Owners hear of their work on projects whose team they are on (the team page
    # clears owners it removes), by the project rule's ON_TEAM ground.
    owned = (
        open_work.filter(
            project_access_condition(VIEW, ON_TEAM, project="project", person="owner"),
            owner_id__in=planned,
        )
        .filter(Q(due_date__lte=latest_day + timedelta(days=MAX_DUE_SOON_DAYS)) | stale)
        # The last change of stale work only (NULL for the rest): reading and parsing
        # every row's time cost ~35 ms of the sweep at 20,000 rows (bench/reminder_sweep.py).
        .annotate(stale_since=Case(When(stale, then=F("updated_at"))))
    )
    for pk, title, type_name, project_name, due, stale_since, owner_id in owned.order_by(
        "due_date", "pk"
    ).values_list(*columns, "stale_since", "owner_id"):
        digest = planned[owner_id]
        window = preferences[owner_id].due_soon_days
        if due is not None and due < digest.local_date:
            late = (digest.local_date - due).days
            digest.mention(Item(pk, title, type_name, project_name, ReminderKind.OVERDUE, late))
        elif due is not None and due <= digest.local_date + timedelta(days=window):
            left = (due - digest.local_date).days
            digest.mention(Item(pk, title, type_name, project_name, ReminderKind.DUE_SOON, left))
        if stale_since is not None:
            idle = (now - stale_since).days
            digest.mention(Item(pk, title, type_name, project_name, ReminderKind.STALE, idle))

    managed = managers_by_project(planned)
    escalated = (
        open_work.overdue(latest_day)
        .filter(project_id__in=managed)
        .order_by("project__name", "type__role__position", "due_date", "pk")
        .values_list(*columns, "project_id", "project__escalation_days")
    )
    for pk, title, type_name, project_name, due, project_id, escalate_after in escalated:
        for manager_id in managed[project_id]:
            digest = planned[manager_id]
            if is_escalated(due, digest.local_date, escalate_after):
                late = (digest.local_date - due).days
                digest.mention(
                    Item(pk, title, type_name, project_name, ReminderKind.ESCALATION, late)
                )
    for section in digest_sections:
        section.plan(planned, managed)
    return [digest for digest in planned.values() if digest.items or any(digest.extra.values())]


def managers_by_project(user_ids) -> dict[int, list[int]]:
    """project -> those of these people it lists as managers who may manage it (the
    project rule: a listed manager still holding the manager permission, or a listed
    admin). An admin not listed hears nothing of a project. One query."""
    managed: dict[int, list[int]] = defaultdict(list)
    for project_id, manager_id in project_access_links(
        MANAGE, LISTED_MANAGER, user_ids
    ).values_list("project_id", "user_id"):
        managed[project_id].append(manager_id)
    return managed


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
                deliver_by=p.deliver_by,
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
    saved = [(p, ours[key]) for p in planned if (key := (p.recipient.pk, p.local_date)) in ours]
    _insert_ledger(
        (item.deliverable_id, p.recipient.pk, item.kind, p.local_date, digest_id, item.days)
        for p, digest_id in saved
        for item in p.items
    )
    for section in digest_sections:
        section.save(saved)
    return sorted(ours.values())


def _insert_ledger(rows: Iterable[tuple]) -> None:
    """Insert ledger lines (deliverable, recipient, kind, local day, digest, days),
    skipping any already there (the unique constraint). On PostgreSQL Django sends
    the rows as arrays through UNNEST in one statement (SQLite: as many as its
    parameter limit allows)."""
    Reminder.objects.bulk_create(
        [
            Reminder(
                deliverable_id=deliverable_id,
                recipient_id=recipient_id,
                kind=kind,
                local_date=local_date,
                digest_id=digest_id,
                days=days,
            )
            for deliverable_id, recipient_id, kind, local_date, digest_id, days in rows
        ],
        ignore_conflicts=True,
    )


def reminder_plan(*, now: datetime, batch_size: int = BATCH_SIZE) -> Iterable[PlannedDigest]:
    """What the sweep would build now, without writing anything (dry run)."""
    candidates = _candidate_recipients(now)
    for start in range(0, len(candidates), batch_size):
        yield from _plan_batch(candidates[start : start + batch_size], now)


def reminder_sweep(
    *,
    now: datetime,
    send: Callable[[int], None],
    batch_size: int = BATCH_SIZE,
    clock: datetime | None = None,
) -> dict[str, int]:
    """Build the digests owed at `now` and hand each to `send` after its batch commits.
    Retries and give-ups follow `clock` (default: `now`), the real moment when `now`
    only pretends (send_reminders --now).

    1. Candidates are people with open work due soon, late or stale, or managing
       projects with overdue work; they are taken in batches.
    2. For each batch, plan the digests owed now that do not exist yet, insert
       them with their ledger lines, and after commit hand ours to `send`.
    3. Give up on the digests whose catch-up window has ended (`_give_up`).
    4. Hand over again, one per recipient (the claim takes their other owed
       digests along), every digest whose retry time has come or whose sender's
       lease ran out.
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

    clock = clock or now
    given_up = _give_up(clock)
    retried = 0
    handed: set[int] = set()
    due_again = (
        Digest.objects.due_for_sending(clock)
        .order_by("recipient_id", "-local_date")
        .values_list("pk", "recipient_id")
    )
    for digest_id, recipient_id in due_again.iterator(chunk_size=1000):
        if recipient_id in handed:
            continue
        handed.add(recipient_id)
        try:
            send(digest_id)
        except Exception:  # the broker may be down: the next sweep tries again
            logger.exception("Could not hand digest %s over for sending", digest_id)
        retried += 1
    return {"created": created, "retried": retried, "given_up": given_up}


def _give_up(now: datetime) -> int:
    """Digests still unsent when their catch-up window ends: undelivered, or, if a
    send of theirs may have arrived (an unknown outcome), left as unknown. Both
    keep their last error; an ERROR line says how many."""
    undelivered = Q(unknown_outcomes=0, status__in=[DigestStatus.PENDING, DigestStatus.SENDING])
    count = Digest.objects.past_window(now).update(
        # Undelivered, unless a send of theirs may have arrived: then an unknown
        # outcome (a sender that stopped after handing the text over adds one).
        status=Case(
            When(undelivered, then=Value(DigestStatus.UNDELIVERED)),
            default=Value(DigestStatus.UNKNOWN),
        ),
        unknown_outcomes=Case(
            When(status=DigestStatus.HANDED_OVER, then=F("unknown_outcomes") + 1),
            default=F("unknown_outcomes"),
            output_field=PositiveSmallIntegerField(),
        ),
        next_attempt_at=None,
        lease_until=None,
    )
    if count:
        last_error = (
            Digest.objects.filter(
                status__in=[DigestStatus.UNDELIVERED, DigestStatus.UNKNOWN], deliver_by__lte=now
            )
            .exclude(last_error="")
            .order_by("-deliver_by")
            .values_list("last_error", flat=True)
            .first()
        )
        logger.error(
            "Gave up on %s reminder digest(s): not delivered within the %s-day catch-up "
            "window. Last error: %s",
            count,
            settings.REMINDER_CATCH_UP_DAYS,
            last_error or "none recorded",
        )
    return count


# --- sending ----------------------------------------------------------------------------


class DigestSendFailed(Exception):
    def __init__(self, message: str, retry_in: timedelta):
        super().__init__(message)
        self.retry_in = retry_in


class DigestOutcomeUnknown(Exception):
    """The mail server took the message but never answered: not retried now (see
    `_record_unknown` for the one repeat)."""


class _LeaseLost(Exception):
    """Someone else took the digests over before their text left: send nothing."""


def _due_now(digest: Digest, now: datetime, *, alone: bool) -> bool:
    """May `digest` be sent at `now`? Alone (the digest asked for): never tried yet,
    or its retry time has come. Along with it (the recipient's other owed digests):
    whatever their retry time, since a message goes out anyway. Either way within
    the catch-up window, and an unknown outcome's repeat only once its time came."""
    if digest.deliver_by <= now:
        return False
    if digest.status == DigestStatus.SENDING:  # its worker's lease ended (checked before)
        return True
    if digest.status == DigestStatus.UNKNOWN:
        return digest.next_attempt_at is not None and digest.next_attempt_at <= now
    if digest.status != DigestStatus.PENDING:
        return False
    return (
        not alone
        or digest.attempts == 0
        or digest.next_attempt_at is None
        or digest.next_attempt_at <= now
    )


def _claim(digest_id: int, now: datetime) -> list[Digest]:
    """Claim a digest for sending, with the other digests its recipient is owed.
    Returns them newest first (the first one carries the message), or [] when
    there is nothing to send now.

    1. Lock the recipient's unfinished digests, in id order, so two claims for one
       person queue up (SQLite: the transaction takes the database's write lock).
    2. A send to this person whose lease is still running wins: claim nothing. A
       send whose worker stopped after handing the text over is settled as an
       unknown outcome (`_record_unknown`).
    3. The digest asked for must be due (`_due_now`): a retry time that has not
       come is respected, so a manual run or a duplicate task spends nothing.
    4. Take along every other digest of theirs that may go now.
    5. If the newest of them is from an earlier day and today's digest is still to
       come, wait for it: one message that day, with that day's news.
    6. Mark them sending, with a lease, and count the attempt.
    """
    first = (
        Digest.objects.filter(pk=digest_id).select_related("recipient__reminder_preference").first()
    )
    if first is None:
        return []
    recipient = first.recipient
    preference = preference_for(recipient)
    with transaction.atomic():
        rows = list(
            Digest.objects.select_for_update()
            .filter(recipient_id=recipient.pk, status__in=DIGEST_UNFINISHED)
            .order_by("pk")
        )
        running = [DigestStatus.SENDING, DigestStatus.HANDED_OVER]
        if any(row.status in running and row.lease_until >= now for row in rows):
            return []
        lost = [row for row in rows if row.status == DigestStatus.HANDED_OVER]
        for handed_over_at in {row.handed_over_at for row in lost}:
            _record_unknown(
                [row for row in lost if row.handed_over_at == handed_over_at],
                preference,
                handed_over_at,
                "the sender stopped after handing the message to the mail server",
            )
        asked = next((row for row in rows if row.pk == digest_id), None)
        if asked is None or not _due_now(asked, now, alone=True):
            return []
        group = sorted(
            [row for row in rows if row is asked or _due_now(row, now, alone=False)],
            key=lambda row: row.local_date,
            reverse=True,
        )
        ids = [row.pk for row in group]
        today = now.astimezone(preference_zone(preference)).date()
        if group[0].local_date < today and (wait_until := _todays_digest_time(preference, now)):
            Digest.objects.filter(pk__in=ids).update(
                next_attempt_at=wait_until,
                status=Case(
                    When(status=DigestStatus.SENDING, then=Value(DigestStatus.PENDING)),
                    default=F("status"),
                ),
                lease_until=None,
            )
            return []
        until = now + lease()
        Digest.objects.filter(pk__in=ids).update(
            status=DigestStatus.SENDING, lease_until=until, attempts=F("attempts") + 1
        )
    for row in group:
        row.status, row.lease_until, row.attempts = DigestStatus.SENDING, until, row.attempts + 1
        row.recipient = recipient
    return group


def _message_today(group: list[Digest], preference: ReminderPreference, now: datetime):
    """The digest whose message reached the recipient earlier on this local day
    (or may have: an unknown outcome), outside this group; else None."""
    day_start = _local_midnight(
        now.astimezone(preference_zone(preference)).date(), preference_zone(preference)
    )
    earlier = (
        Digest.objects.filter(recipient_id=group[0].recipient_id, handed_over_at__gte=day_start)
        .filter(Q(status__in=[*DIGEST_DELIVERED, DigestStatus.UNKNOWN]) | Q(unknown_outcomes__gt=0))
        .exclude(pk__in=[row.pk for row in group])
        .order_by("-handed_over_at")
        .only("pk", "sent_with_id")
        .first()
    )
    if earlier is None:
        return None
    return earlier.sent_with_id or earlier.pk


def _hand_over(group: list[Digest], now: datetime) -> None:
    """The point of no return: the text is about to leave. Marked only if the lease
    is still ours, so a worker that lost it sends nothing."""
    marked = Digest.objects.filter(
        pk__in=[row.pk for row in group],
        status=DigestStatus.SENDING,
        lease_until=group[0].lease_until,
    ).update(status=DigestStatus.HANDED_OVER, handed_over_at=now)
    if marked != len(group):
        raise _LeaseLost


def _ours(group: list[Digest]):
    """The group's rows, as long as this worker's lease is the one they hold."""
    return Digest.objects.filter(
        pk__in=[row.pk for row in group],
        status__in=[DigestStatus.SENDING, DigestStatus.HANDED_OVER],
        lease_until=group[0].lease_until,
    )


def _record_sent(group: list[Digest], now: datetime, *, carrier_id: int | None = None) -> None:
    """The message went: the newest digest is sent, the others sent with it. With
    `carrier_id`, the whole group was covered by that digest's earlier message."""
    carrier_id = carrier_id or group[0].pk
    common = {"lease_until": None, "next_attempt_at": None, "failing_since": None, "sent_at": now}
    rows = Digest.objects.filter(pk__in=[row.pk for row in group])
    if carrier_id == group[0].pk:
        rows.filter(pk=carrier_id).update(status=DigestStatus.SENT, **common)
    rows.exclude(pk=carrier_id).update(
        status=DigestStatus.MERGED,
        sent_with_id=carrier_id,
        handed_over_at=Coalesce(F("handed_over_at"), Value(now)),
        **common,
    )


def _record_failure(group: list[Digest], now: datetime, error: Exception) -> timedelta:
    """Nothing reached the server (or it refused the message): pending again, with
    a back-off. No count gives up; the catch-up window does (`_give_up`)."""
    retry_in = backoff(group[0].attempts)
    _ours(group).update(
        status=DigestStatus.PENDING,
        lease_until=None,
        next_attempt_at=now + retry_in,
        last_error=str(error)[:300],
        failing_since=Coalesce(F("failing_since"), Value(now)),
    )
    return retry_in


def _record_unknown(
    group: list[Digest], preference: ReminderPreference, handed_over_at: datetime, error: str
) -> None:
    """The text went but no answer came: it may have been delivered. One repeat,
    REMINDER_UNKNOWN_REPEAT_DELAY_MINUTES later, if that is still the same local day
    and none of these digests had an unknown outcome before; else final."""
    day_end = _local_day_end(handed_over_at, preference_zone(preference))
    repeat_at = handed_over_at + unknown_repeat_delay()
    may_repeat = repeat_at < day_end and not any(row.unknown_outcomes for row in group)
    Digest.objects.filter(pk__in=[row.pk for row in group]).update(
        status=DigestStatus.UNKNOWN,
        unknown_outcomes=F("unknown_outcomes") + 1,
        next_attempt_at=repeat_at if may_repeat else None,
        # The repeat, or any later send, only on the day the text went.
        deliver_by=Least(F("deliver_by"), Value(day_end)),
        lease_until=None,
        last_error=error[:300],
    )
    for row in group:
        row.status = DigestStatus.UNKNOWN
        row.unknown_outcomes += 1
        row.next_attempt_at = repeat_at if may_repeat else None
        row.deliver_by = min(row.deliver_by, day_end)


def _record_cancelled(group: list[Digest], reason: str) -> None:
    Digest.objects.filter(pk__in=[row.pk for row in group]).update(
        status=DigestStatus.CANCELLED, lease_until=None, next_attempt_at=None, last_error=reason
    )


def _newest_first(rows: list, subject: Callable) -> list:
    """Each subject once, from the newest day that mentions it (a message carrying
    several days says what the latest of them said); the order is kept."""
    newest: dict = {}
    for row in sorted(rows, key=lambda row: row.local_date, reverse=True):
        newest.setdefault(subject(row), row)
    return [row for row in rows if newest[subject(row)] is row]


def _still_owed(digest: Digest, reminders: list[Reminder]) -> list[Reminder]:
    """What may still be said at send time, which can be hours after the digest was
    built: open work on active projects, to owners still on the project and to
    managers still listed (and still managers)."""
    recipient = digest.recipient
    reachable = (
        get_user_model().objects.filter(digest_outlets.reachable(), pk=recipient.pk).exists()
    )
    if not recipient.is_active or not reachable:
        return []
    on_projects = set(
        project_access_links(VIEW, ON_TEAM, [recipient.pk]).values_list("project_id", flat=True)
    )
    managing = set(managers_by_project([recipient.pk]))
    kept = []
    for reminder in reminders:
        deliverable = reminder.deliverable
        if not deliverable.is_open or deliverable.project.archived_at:
            continue
        if reminder.kind == ReminderKind.ESCALATION:
            if deliverable.project_id not in managing:
                continue
        elif deliverable.owner_id != recipient.pk or deliverable.project_id not in on_projects:
            continue
        kept.append(reminder)
    return kept


def digest_send(*, digest_id: int, now: datetime | None = None) -> bool:
    """Send a digest, with the other digests its recipient is still owed, unless its
    time has not come or someone else is sending to them. True when a message went.

    1. Claim it and the others it takes along (`_claim`); the newest carries them.
    2. If a message reached the person earlier this local day, it covered these
       too: they are marked as sent with it (at most one digest a day).
    3. Keep only the reminders still owed, each deliverable once, as the newest
       day said it; with none left, cancel them.
    4. Send, marking them handed over just before the text leaves. Sent: the
       newest is sent, the others sent with it. A failure before that point (or a
       refusal): pending again with a back-off, until the catch-up window ends.
       No answer after it: outcome unknown (`_record_unknown`), not retried now.
    """
    now = now or timezone.now()
    group = _claim(digest_id, now)
    if not group:
        return False
    carrier = group[0]
    preference = preference_for(carrier.recipient)
    earlier = _message_today(group, preference, now)
    if earlier is not None:
        _record_sent(group, now, carrier_id=earlier)
        return False
    # The owner too: escalations name each deliverable's owner (one query for the
    # lot, not one per line).
    reminders = list(
        Reminder.objects.filter(digest__in=group)
        .select_related("deliverable__project", "deliverable__type__role", "deliverable__owner")
        .order_by("kind", "deliverable__project__name", "-days", "pk")
    )
    owed = _newest_first(_still_owed(carrier, reminders), lambda row: row.deliverable_id)
    dropped = [reminder.pk for reminder in reminders if reminder not in owed]
    if dropped:
        Reminder.objects.filter(pk__in=dropped).delete()
    extra = {section.name: section.owed(carrier, group) for section in digest_sections}
    if not owed and not any(extra.values()):
        _record_cancelled(group, "nothing left to send")
        return False
    late_days = [row.local_date for row in reversed(group)]
    if len(group) == 1 and now < _local_midnight(
        carrier.local_date + timedelta(days=1), preference_zone(preference)
    ):
        late_days = []  # on time
    context = digest_context(carrier, owed, extra, late_days=late_days)
    outlets = list(digest_outlets)
    for outlet in outlets:
        outlet.deliver(carrier=carrier, context=context)
    if not carrier.recipient.email or not all(
        outlet.email_wanted(carrier.recipient) for outlet in outlets
    ):
        # Another channel instead of email (or the only one: no address; `_still_owed`
        # kept the digest because an outlet reaches them): it keeps its own ledger
        # and retries.
        _record_sent(group, now)
        _announce_sent(outlets, carrier, context)
        return True
    message = digest_email(context)
    try:
        delivered = send_message(message, before_content=lambda: _hand_over(group, now))
    except _LeaseLost:
        logger.warning("Digest %s was taken over by another sender; not sent here", carrier.pk)
        return False
    except OutcomeUnknown as error:
        _record_unknown(group, preference, now, str(error))
        logger.warning(
            "Digest %s: the mail server took the message but never answered (%s); %s",
            carrier.pk,
            error,
            f"repeating once at {group[0].next_attempt_at.isoformat()}"
            if group[0].next_attempt_at
            else "not repeated",
        )
        raise DigestOutcomeUnknown(str(error)) from error
    except Exception as error:  # SMTP, network, a bad address or template: retry later
        retry_in = _record_failure(group, now, error)
        logger.warning(
            "Digest %s not sent (attempt %s): %s; next attempt in %s",
            carrier.pk,
            carrier.attempts,
            error,
            retry_in,
        )
        raise DigestSendFailed(str(error), retry_in) from error
    if not delivered:
        _record_cancelled(group, "no recipient address")
        return False
    _record_sent(group, now)
    _announce_sent(outlets, carrier, context)
    return True


def _announce_sent(outlets: list[DigestOutlet], carrier: Digest, context: dict) -> None:
    """Tell the outlets a digest went out; one's failure never undoes the send."""
    for outlet in outlets:
        try:
            outlet.sent(carrier=carrier, context=context)
        except Exception:
            logger.exception("Digest %s: outlet %r failed after the send", carrier.pk, outlet.name)


# What a digest's subject counts, in the order of its sections. The plural form is
# chosen by "count" when the phrase is filled in, in the recipient's language.
SUBJECT_COUNTS = {
    "overdue": ngettext_lazy("%(count)s overdue", "%(count)s overdue", "count"),
    "due_soon": ngettext_lazy("%(count)s due soon", "%(count)s due soon", "count"),
    "stale": ngettext_lazy(
        "%(count)s with no recent update", "%(count)s with no recent update", "count"
    ),
    "escalations": ngettext_lazy(
        "%(count)s well overdue on your projects",
        "%(count)s well overdue on your projects",
        "count",
    ),
}


def _subject_parts(context: dict, sections: Iterable[DigestSection] = ()) -> str:
    """What the digest holds, counted, in the active language: only the sections
    that have something ("2 overdue, 6 well overdue on your projects"), the
    registered sections' counts after the work's."""
    counts = {
        "overdue": len(context["overdue"]),
        "due_soon": len(context["due_soon"]),
        "stale": len(context["stale"]),
        "escalations": sum(
            len(items) for roles in context["escalations"].values() for items in roles.values()
        ),
    }
    phrases = [(phrase, counts[key]) for key, phrase in SUBJECT_COUNTS.items()]
    for section in sections:
        phrases += section.subject_counts(context)
    separator = pgettext("between the counts in a digest's subject", ", ")
    return separator.join(str(phrase % {"count": count}) for phrase, count in phrases if count)


def digest_message(
    digest: Digest,
    reminders: list[Reminder],
    extra: dict[str, list] | None = None,
    *,
    late_days: list[date] = (),
) -> EmailMultiAlternatives:
    """The email; `extra` holds what each registered section still owes, by
    section name (`DigestSection.owed`); `late_days` are the days it brings that
    mail could not be delivered on (empty when it goes out on its own day)."""
    return digest_email(digest_context(digest, reminders, extra, late_days=late_days))


def digest_email(context: dict) -> EmailMultiAlternatives:
    """The email of a digest's context (`digest_context`), in its language."""
    with translation.override(context["language"]):
        subject = " ".join(render_to_string("emails/digest_subject.txt", context).split())
        text = render_to_string("emails/digest.txt", context)
        html = render_to_string("emails/digest.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[context["recipient"].email])
    message.attach_alternative(html, "text/html")
    return message


def digest_context(
    digest: Digest,
    reminders: list[Reminder],
    extra: dict[str, list] | None = None,
    *,
    late_days: list[date] = (),
) -> dict:
    """What a digest says, as its templates read it, worded in the recipient's
    language (`language`): the email and any other channel (`DigestOutlet`) are
    built from this one context, so they say the same."""
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
    extra = extra or {}
    # Every registered section renders, empty ones too (their templates show
    # nothing then), so an email reads the same whichever sections have news.
    added = list(digest_sections)
    with translation.override(preference.email_language):
        context = {
            "recipient": recipient,
            "digest": digest,
            "overdue": sections.get(ReminderKind.OVERDUE, []),
            "due_soon": sections.get(ReminderKind.DUE_SOON, []),
            "stale": sections.get(ReminderKind.STALE, []),
            "escalations": {project: dict(roles) for project, roles in escalations.items()},
            "late_days": pgettext("between the days in a list", ", ").join(
                format_day(day) for day in late_days
            ),
            "counted_on": digest.local_date,
            "my_work_url": settings.SITE_URL + reverse("deliverables:my_work"),
            "preferences_url": settings.SITE_URL + reverse("deliverables:reminder_preferences"),
        }
        for section in added:
            context.update(section.context(extra.get(section.name, [])))
        context["section_text_templates"] = [section.text_template for section in added]
        context["section_html_templates"] = [section.html_template for section in added]
        context["subject_parts"] = _subject_parts(context, added)
        context["language"] = preference.email_language
    return context
