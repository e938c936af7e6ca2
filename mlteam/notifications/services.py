"""Writes for webhooks: endpoints, the fan-out of events into deliveries, sending.

Endpoints are changed by their project's managers (site-wide ones by admins),
with optimistic versions. Events come from the history the apps write
(`mlteam.history.history_written`) and from the overdue sweep; each becomes one
`WebhookDelivery` per subscribed endpoint whose owner may see the project, sent
by a Celery task after commit (`tasks.deliver_webhook`) through `delivery_send`,
which checks everything again at send time.
"""

from __future__ import annotations

import json
import logging
import secrets
import smtplib
import uuid
from base64 import b64encode
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import takewhile

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import BadHeaderError, EmailMultiAlternatives
from django.db import transaction
from django.db.models import Case, F, Max, Q, Value, When
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from deliverables.models import Deliverable, DeliverableEvent, EventKind
from deliverables.reminders import preference_for
from deliverables.reviews.models import ReviewEvent, ReviewEventKind
from mlteam.history import person_value
from mlteam.versions import claim_version
from roles.models import Project, TeamChange, TeamChangeAction
from roles.permissions import can_view_project

from . import delivery as ledger
from .addresses import UnsafeAddress, check_url
from .models import (
    DONE_OVERRIDE_DETAIL,
    DeliveryStatus,
    HistoryFanOutMark,
    InboxEntry,
    InboxKind,
    PersonalDelivery,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from .permissions import can_manage_webhooks
from .personal import entries_deliver
from .sender import post, signature_headers

logger = logging.getLogger(__name__)

STALE_MESSAGE = _(
    "Someone else changed this webhook while you were editing it. Nothing was saved; "
    "open it again to see the latest version."
)
EVENTS_REQUIRED_MESSAGE = _("Choose at least one event.")
REPLAY_BUSY_MESSAGE = _("This delivery is being sent right now. Try again in a minute.")

# Each delivery's event id derives from what it is about, so the same event always
# gets the same id (the `webhook-id`), whoever announces it and how often.
EVENT_NAMESPACE = uuid.UUID("6c1d7a3e-4f7b-4b8e-9a43-2f9e6de1c0a5")

DELIVERABLE_EVENTS = {
    EventKind.CREATED: WebhookEvent.DELIVERABLE_CREATED,
    EventKind.STATUS: WebhookEvent.DELIVERABLE_STATUS_CHANGED,
    EventKind.OWNER: WebhookEvent.DELIVERABLE_OWNER_CHANGED,
    EventKind.DUE_DATE: WebhookEvent.DELIVERABLE_DUE_DATE_CHANGED,
}
TEAM_EVENTS = {
    TeamChangeAction.ROLE_ASSIGNED: WebhookEvent.ROLE_ASSIGNED,
    TeamChangeAction.ROLE_UNASSIGNED: WebhookEvent.ROLE_UNASSIGNED,
    TeamChangeAction.MEMBER_ADDED: WebhookEvent.PERSON_ADDED,
    TeamChangeAction.MEMBER_REMOVED: WebhookEvent.PERSON_REMOVED,
}


def event_id_for(key: str) -> str:
    return f"evt_{uuid.uuid5(EVENT_NAMESPACE, key).hex}"


def new_secret() -> str:
    """A Standard Webhooks secret: "whsec_" and 32 random bytes in base64."""
    return "whsec_" + b64encode(secrets.token_bytes(32)).decode()


# --- endpoints ----------------------------------------------------------------------------


def _check_allowed(actor, project: Project | None) -> None:
    if not can_manage_webhooks(actor, project):
        raise PermissionDenied


def _clean_events(events: Iterable[str]) -> list[str]:
    chosen = [str(code) for code in dict.fromkeys(events)]
    if not chosen:
        raise ValidationError({"events": EVENTS_REQUIRED_MESSAGE}, code="required")
    unknown = [code for code in chosen if code not in WebhookEvent.values]
    if unknown:
        raise ValidationError(
            {"events": _("Unknown event: %(code)s.") % {"code": unknown[0]}}, code="invalid"
        )
    return chosen


def _check_url(url: str) -> None:
    try:
        check_url(url)
    except UnsafeAddress as error:
        raise ValidationError({"url": error.messages}, code=error.code) from None


@transaction.atomic
def endpoint_create(
    *,
    actor,
    project: Project | None,
    url: str,
    events: Iterable[str],
    description: str = "",
) -> WebhookEndpoint:
    """A new endpoint; its `secret` is shown to the caller once, now."""
    _check_allowed(actor, project)
    endpoint = WebhookEndpoint(
        project=project,
        url=url,
        description=description,
        events=_clean_events(events),
        secret=new_secret(),
        created_by=actor,
    )
    endpoint.full_clean()
    _check_url(url)
    endpoint.save()
    return endpoint


@transaction.atomic
def endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    actor,
    version: int | None,
    url: str,
    events: Iterable[str],
    description: str = "",
) -> WebhookEndpoint:
    _check_allowed(actor, endpoint.project)
    endpoint.url, endpoint.description = url, description
    endpoint.events = _clean_events(events)
    endpoint.full_clean(exclude=["secret"])
    _check_url(url)
    claim_version(endpoint, version, message=STALE_MESSAGE)
    endpoint.save(update_fields=["url", "description", "events", "updated_at"])
    return endpoint


@transaction.atomic
def endpoint_set_active(
    *, endpoint: WebhookEndpoint, actor, version: int | None, active: bool
) -> WebhookEndpoint:
    """Turn an endpoint off, or on again (which forgets its failures)."""
    _check_allowed(actor, endpoint.project)
    now = timezone.now()
    also = {"active": active}
    if active:
        # Switched on from off (as the row is, not as this copy says): what was
        # recorded while it was off stays unsent (`events_publish`).
        also["active_since"] = Case(When(active=False, then=Value(now)), default=F("active_since"))
        also.update(
            disabled_at=None, disabled_reason="", consecutive_failures=0, failing_since=None
        )
    else:
        also.update(disabled_at=now, disabled_reason=WebhookEndpoint.DISABLED_BY_HAND)
    claim_version(endpoint, version, message=STALE_MESSAGE, also=also)
    endpoint.refresh_from_db()
    return endpoint


@transaction.atomic
def endpoint_rotate_secret(
    *, endpoint: WebhookEndpoint, actor, version: int | None
) -> WebhookEndpoint:
    """A new signing secret (shown once); deliveries from now on are signed with it."""
    _check_allowed(actor, endpoint.project)
    secret = new_secret()
    claim_version(endpoint, version, message=STALE_MESSAGE, also={"secret": secret})
    endpoint.secret = secret
    return endpoint


@transaction.atomic
def endpoint_delete(*, endpoint: WebhookEndpoint, actor, version: int | None) -> None:
    """Delete an endpoint and its delivery log."""
    _check_allowed(actor, endpoint.project)
    claim_version(endpoint, version, message=STALE_MESSAGE)
    endpoint.delete()


# --- events and their deliveries ---------------------------------------------------------


@dataclass
class OutgoingEvent:
    """One event about a project, its payload built only if an endpoint wants it."""

    event_id: str
    event_type: str
    project: Project
    occurred_at: datetime
    data: Callable[[], dict]
    # A change recorded in a history table: only endpoints that were on when it was
    # recorded receive it (`WebhookEndpoint.active_since`: the catch-up never sends an
    # older change to a new endpoint, nor one that was off then and is on again now).
    # The overdue events are states, not changes: every subscribed endpoint gets them.
    recorded: bool = False


def _site_url(name: str, pk: int) -> str:
    return settings.SITE_URL + reverse(name, args=[pk])


def _project_data(project: Project) -> dict:
    return {
        "id": project.pk,
        "name": project.name,
        "url": _site_url("roles:project_detail", project.pk),
    }


def _deliverable_data(deliverable: Deliverable) -> dict:
    return {
        "id": deliverable.pk,
        "title": deliverable.title,
        "type": deliverable.type.slug,
        "status": deliverable.status,
        "due_date": deliverable.due_date.isoformat() if deliverable.due_date else None,
        "owner": person_value(deliverable.owner),
        "url": _site_url("deliverables:detail", deliverable.pk),
    }


def _from_deliverable_event(entry: DeliverableEvent) -> OutgoingEvent | None:
    event_type = DELIVERABLE_EVENTS.get(entry.kind)
    if event_type is None:
        return None

    def data() -> dict:
        payload = entry.payload or {}
        return {
            "project": _project_data(entry.deliverable.project),
            "deliverable": _deliverable_data(entry.deliverable),
            "actor": person_value(entry.actor),
            "before": payload.get("before"),
            "after": payload.get("after"),
        }

    return OutgoingEvent(
        event_id=event_id_for(f"deliverables.deliverableevent:{entry.pk}"),
        event_type=event_type,
        project=entry.deliverable.project,
        occurred_at=entry.created_at,
        data=data,
        recorded=True,
    )


def _from_team_change(entry: TeamChange) -> OutgoingEvent | None:
    event_type = TEAM_EVENTS.get(entry.action)
    if event_type is None:
        return None

    def data() -> dict:
        role = entry.role
        return {
            "project": _project_data(entry.project),
            "person": person_value(entry.person),
            "role": {"slug": role.slug, "name": str(role.name)} if role else None,
            "actor": person_value(entry.actor),
            "details": {k: v for k, v in (entry.payload or {}).items() if k == "allocation"},
        }

    return OutgoingEvent(
        event_id=event_id_for(f"roles.teamchange:{entry.pk}"),
        event_type=event_type,
        project=entry.project,
        occurred_at=entry.created_at,
        data=data,
        recorded=True,
    )


def _owner_may_see(owner, project: Project) -> bool:
    """Whether an endpoint's owner may still see `project`: an owner whose account
    was switched off sees nothing (their team memberships stay, which alone would
    let `can_view_project` say yes)."""
    return owner.is_active and can_view_project(owner, project)


@dataclass(frozen=True)
class HistorySource:
    """A history table that feeds webhooks: how an entry becomes an event, and what
    to read with the entries so that building the events makes no further queries."""

    model: type
    event: Callable[..., OutgoingEvent | None]
    related: tuple[str, ...]


HISTORY_SOURCES = [
    HistorySource(
        DeliverableEvent,
        _from_deliverable_event,
        ("deliverable__project", "deliverable__type", "deliverable__owner", "actor"),
    ),
    HistorySource(TeamChange, _from_team_change, ("project", "person", "role", "actor")),
]


def _source_of(model) -> HistorySource | None:
    return next((source for source in HISTORY_SOURCES if source.model is model), None)


def history_fan_out(sender, entries, **kwargs) -> int:
    """`history_written`'s receiver: the webhook events among `entries`, published."""
    source = _source_of(sender)
    if source is None:
        return 0
    events = [source.event(entry) for entry in entries]
    return len(events_publish([event for event in events if event is not None]))


CATCH_UP_BATCH = 500


def history_catch_up(*, now: datetime | None = None) -> int:
    """Publish the history entries whose after-commit fan-out never ran (the process
    died after the commit, the broker or a receiver failed): the same `events_publish`,
    so an entry fanned out already adds nothing. Returns the new deliveries.

    1. Per history table, a mark (`HistoryFanOutMark`) says up to which entry all
       were published. The first run starts at the newest settled entry: history
       written before the catch-up existed is not replayed.
    2. Only settled entries are read: written at least WEBHOOK_CATCH_UP_LAG_MINUTES
       ago. Ids are handed out when a row is written, not when it commits, so a
       lower id may become visible after a higher one; waiting that long means every
       transaction that commits within the lag is seen in id order.
    3. Each batch runs in one transaction that holds the mark's row
       (select_for_update, skip_locked): a second run at the same time skips the
       table instead of publishing the same entries; the mark moves with the batch.
    """
    now = now or timezone.now()
    settled_before = now - timedelta(minutes=settings.WEBHOOK_CATCH_UP_LAG_MINUTES)
    published = 0
    for source in HISTORY_SOURCES:
        published += _catch_up(source, settled_before=settled_before, now=now)
    return published


def _catch_up(source: HistorySource, *, settled_before: datetime, now: datetime) -> int:
    label = source.model._meta.label_lower
    if not HistoryFanOutMark.objects.filter(history=label).exists():
        settled = source.model.objects.filter(created_at__lte=settled_before)
        start = settled.aggregate(last=Max("pk"))["last"] or 0
        HistoryFanOutMark.objects.get_or_create(history=label, defaults={"last_id": start})
        return 0
    published = 0
    while True:
        with transaction.atomic():
            mark = (
                HistoryFanOutMark.objects.select_for_update(skip_locked=True)
                .filter(history=label)
                .first()
            )
            if mark is None:  # another run holds it: it publishes these entries
                return published
            following = list(
                source.model.objects.filter(pk__gt=mark.last_id)
                .select_related(*source.related)
                .order_by("pk")[:CATCH_UP_BATCH]
            )
            # Up to the first entry not settled yet: the mark never passes it, even
            # when a later id carries an earlier time (another machine's clock).
            entries = list(takewhile(lambda entry: entry.created_at <= settled_before, following))
            if not entries:
                return published
            events = [source.event(entry) for entry in entries]
            published += len(
                events_publish([event for event in events if event is not None], now=now)
            )
            mark.last_id = entries[-1].pk
            mark.save(update_fields=["last_id", "updated_at"])
        if len(entries) < CATCH_UP_BATCH:
            return published


def events_publish(events: list[OutgoingEvent], *, now: datetime | None = None) -> list[int]:
    """One delivery per (event, subscribed active endpoint of its project or site-wide,
    whose owner may see the project); each handed to a task after commit. An event
    already delivered to an endpoint is not added again. Returns the new deliveries.

    Queries: none without events; one for the endpoints; then one visibility
    check per (owner, project), the read of what exists, the insert and the read
    of the new ids.
    """
    if not events:
        return []
    now = now or timezone.now()
    project_ids = {event.project.pk for event in events}
    endpoints = list(
        WebhookEndpoint.objects.filter(
            Q(project_id__in=project_ids) | Q(project__isnull=True), active=True
        ).select_related("created_by")
    )
    if not endpoints:
        return []
    allowed: dict[tuple[int, int], bool] = {}
    payloads: dict[str, dict] = {}
    rows = []
    for event in events:
        for endpoint in endpoints:
            if endpoint.project_id not in (None, event.project.pk):
                continue
            if event.event_type not in endpoint.events:
                continue
            if event.recorded and endpoint.active_since > event.occurred_at:
                continue
            key = (endpoint.created_by_id, event.project.pk)
            if key not in allowed:
                allowed[key] = _owner_may_see(endpoint.created_by, event.project)
            if not allowed[key]:
                continue
            if event.event_id not in payloads:
                payloads[event.event_id] = {
                    "type": event.event_type,
                    "timestamp": event.occurred_at.isoformat(),
                    "data": event.data(),
                }
            rows.append(
                WebhookDelivery(
                    endpoint=endpoint,
                    project=event.project,
                    event_id=event.event_id,
                    event_type=event.event_type,
                    payload=payloads[event.event_id],
                    next_attempt_at=now,
                )
            )
    if not rows:
        return []
    with transaction.atomic():
        # Events delivered already (a repeated announcement, the next overdue sweep)
        # are left out; a race between two publishers ends in the unique constraint.
        existing = set(
            WebhookDelivery.objects.filter(
                endpoint__in={row.endpoint_id for row in rows}, event_id__in=payloads
            ).values_list("endpoint_id", "event_id")
        )
        rows = [row for row in rows if (row.endpoint_id, row.event_id) not in existing]
        if not rows:
            return []
        WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
        keys = {(row.endpoint_id, row.event_id) for row in rows}
        new = [
            pk
            for pk, endpoint_id, event_id in WebhookDelivery.objects.filter(
                endpoint__in={row.endpoint_id for row in rows},
                event_id__in={row.event_id for row in rows},
                attempts=0,
            ).values_list("pk", "endpoint_id", "event_id")
            if (endpoint_id, event_id) in keys
        ]
        _enqueue_on_commit(new)
    return new


def _enqueue_on_commit(delivery_ids: list[int]) -> None:
    from .tasks import deliver_webhook

    def enqueue() -> None:
        for delivery_id in delivery_ids:
            try:
                deliver_webhook.delay(delivery_id)
            except Exception:  # the broker may be down: the delivery sweep hands it over
                logger.exception("Could not hand webhook delivery %s over", delivery_id)

    transaction.on_commit(enqueue)


def overdue_fan_out(*, today: date, now: datetime | None = None) -> int:
    """One `deliverable.overdue` event per open deliverable of an active project
    that is overdue on `today` and per due date (its id says which: moving the due
    date and missing it again is a new event). Idempotent: run it as often as you like.
    Only projects with an endpoint subscribed to it are read."""
    subscribed = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(active=True).only("project_id", "events")
        if WebhookEvent.DELIVERABLE_OVERDUE in endpoint.events
    ]
    if not subscribed:
        return 0
    late = Deliverable.objects.overdue(today).filter(
        project__in=Project.objects.active().values("pk")
    )
    if not any(endpoint.project_id is None for endpoint in subscribed):
        late = late.filter(project_id__in={endpoint.project_id for endpoint in subscribed})
    events = []
    for deliverable in late.select_related("project", "type", "owner").iterator(chunk_size=500):

        def data(deliverable=deliverable) -> dict:
            return {
                "project": _project_data(deliverable.project),
                "deliverable": _deliverable_data(deliverable),
                "actor": None,
                "before": None,
                "after": None,
            }

        due = deliverable.due_date
        events.append(
            OutgoingEvent(
                event_id=event_id_for(f"overdue:{deliverable.pk}:{due.isoformat()}"),
                event_type=WebhookEvent.DELIVERABLE_OVERDUE,
                project=deliverable.project,
                occurred_at=timezone.make_aware(
                    datetime.combine(due + timedelta(days=1), datetime.min.time())
                ),
                data=data,
            )
        )
    return len(events_publish(events, now=now))


@transaction.atomic
def delivery_replay(*, delivery: WebhookDelivery, actor, now: datetime | None = None) -> None:
    """Send a past delivery again, as a new attempt of the same row (same webhook-id)."""
    _check_allowed(actor, delivery.endpoint.project)
    now = now or timezone.now()
    again = WebhookDelivery.objects.filter(ledger.replay_condition(), pk=delivery.pk).update(
        status=DeliveryStatus.PENDING, next_attempt_at=now, error="", updated_at=now
    )
    if not again:
        raise ValidationError(REPLAY_BUSY_MESSAGE, code="busy")
    _enqueue_on_commit([delivery.pk])


def _rename_in(value, user_id: int, names: set[str], placeholder: str) -> bool:
    """Rename the person values (`mlteam.history.person_value`) of `user_id` found
    anywhere in a payload, in place; True when one was renamed."""
    renamed = False
    if isinstance(value, dict):
        # A person value is exactly {"id", "name"} (a project's has its url too);
        # renamed by id, whatever they were called then, or by name when it has no id.
        person = set(value) == {"id", "name"}
        if person and (value["id"] == user_id or (value["id"] is None and value["name"] in names)):
            value["name"] = placeholder
            renamed = True
        for inner in value.values():
            renamed = _rename_in(inner, user_id, names, placeholder) or renamed
    elif isinstance(value, list):
        for inner in value:
            renamed = _rename_in(inner, user_id, names, placeholder) or renamed
    return renamed


def deliveries_rename_person(*, user, names: set[str], placeholder: str) -> int:
    """Anonymisation (mlteam.services.person_anonymise): the delivery ledger's
    payloads, shown to managers and replayed as stored, stop naming `user`.
    Returns how many deliveries changed."""
    changed = []
    for row in WebhookDelivery.objects.only("payload").iterator(chunk_size=500):
        if _rename_in(row.payload, user.pk, names, placeholder):
            changed.append(row)
    WebhookDelivery.objects.bulk_update(changed, ["payload"], batch_size=500)
    return len(changed)


# --- sending ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SendResult:
    status: str | None  # None: nothing to do (not due, or another worker has it)
    retry_at: datetime | None = None


def delivery_send(*, delivery_id: int, now: datetime | None = None) -> SendResult:
    """Make one attempt of a delivery, if it is due and this worker wins it.

    1. Claim it (`delivery.claim`); lost: nothing to do.
    2. Skip it for good if the endpoint is off or its owner may no longer see
       the project (the payload is about it).
    3. Check the address again (what it resolves to now); refused: a failure.
    4. POST the payload, signed, and record the outcome; failures are retried
       with backoff and count against the endpoint (`_endpoint_failed`).
    """
    now = now or timezone.now()
    taken = ledger.claim(WebhookDelivery, delivery_id, now)
    if taken is None:
        return SendResult(None)
    row = (
        WebhookDelivery.objects.select_related("endpoint__created_by", "project")
        .filter(pk=delivery_id)
        .first()
    )
    if row is None:  # its endpoint was deleted meanwhile
        return SendResult(None)
    endpoint = row.endpoint
    if not endpoint.active:
        ledger.record_skipped(WebhookDelivery, taken, now=now, reason="endpoint disabled")
        return SendResult(DeliveryStatus.SKIPPED)
    if not _owner_may_see(endpoint.created_by, row.project):
        ledger.record_skipped(
            WebhookDelivery, taken, now=now, reason="the owner may no longer see the project"
        )
        return SendResult(DeliveryStatus.SKIPPED)
    try:
        target = check_url(endpoint.url)
    except UnsafeAddress as error:
        reason = " ".join(error.messages)
        retry_at = ledger.record_failure(
            WebhookDelivery, taken, now=now, status_code=None, duration_ms=None, error=reason
        )
        _endpoint_failed(endpoint, now)
        return SendResult(_status(retry_at), retry_at)
    body = json.dumps(row.payload, separators=(",", ":"), ensure_ascii=False)
    headers = signature_headers(
        secret=endpoint.secret, message_id=row.event_id, sent_at=timezone.now(), body=body
    )
    outcome = post(target, body=body.encode(), headers=headers)
    finished = now + timedelta(milliseconds=outcome.duration_ms)
    if outcome.succeeded:
        ledger.record_success(
            WebhookDelivery,
            taken,
            now=finished,
            status_code=outcome.status_code,
            duration_ms=outcome.duration_ms,
        )
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            consecutive_failures=0, failing_since=None
        )
        return SendResult(DeliveryStatus.SUCCEEDED)
    retry_at = ledger.record_failure(
        WebhookDelivery,
        taken,
        now=finished,
        status_code=outcome.status_code,
        duration_ms=outcome.duration_ms,
        error=outcome.error,
    )
    logger.info(
        "Webhook delivery %s to endpoint %s failed (attempt %s): %s",
        delivery_id,
        endpoint.pk,
        taken.attempt,
        outcome.error,
    )
    _endpoint_failed(endpoint, finished)
    return SendResult(_status(retry_at), retry_at)


def _status(retry_at: datetime | None) -> str:
    return DeliveryStatus.FAILED if retry_at else DeliveryStatus.GAVE_UP


def _endpoint_failed(endpoint: WebhookEndpoint, now: datetime) -> None:
    """Count a failed attempt; an endpoint failing WEBHOOK_DISABLE_AFTER_FAILURES
    times in a row, over at least WEBHOOK_DISABLE_AFTER_HOURS, is disabled (one
    conditional UPDATE: told once) and its owner told."""
    rows = WebhookEndpoint.objects.filter(pk=endpoint.pk)
    rows.update(
        consecutive_failures=F("consecutive_failures") + 1,
        failing_since=Coalesce(F("failing_since"), now),
    )
    disabled = rows.filter(
        active=True,
        consecutive_failures__gte=settings.WEBHOOK_DISABLE_AFTER_FAILURES,
        failing_since__lte=now - timedelta(hours=settings.WEBHOOK_DISABLE_AFTER_HOURS),
    ).update(
        active=False,
        disabled_at=now,
        disabled_reason=WebhookEndpoint.DISABLED_FAILING,
        version=F("version") + 1,
    )
    if disabled:
        endpoint.refresh_from_db()
        _tell_owner_disabled(endpoint)


def _tell_owner_disabled(endpoint: WebhookEndpoint) -> None:
    owner = endpoint.created_by
    if not owner.email:
        return
    if endpoint.project_id:
        link = settings.SITE_URL + reverse("notifications:endpoints", args=[endpoint.project_id])
    else:
        link = settings.SITE_URL + reverse("admin:notifications_webhookendpoint_changelist")
    context = {
        "owner": owner,
        "endpoint": endpoint,
        "project": endpoint.project,
        "failures": endpoint.consecutive_failures,
        "link": link,
    }
    with translation.override(preference_for(owner).email_language):
        subject = " ".join(render_to_string("emails/webhook_disabled_subject.txt", context).split())
        text = render_to_string("emails/webhook_disabled.txt", context)
        html = render_to_string("emails/webhook_disabled.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[owner.email])
    message.attach_alternative(html, "text/html")
    try:
        message.send()
    except (smtplib.SMTPException, OSError, BadHeaderError):
        logger.exception(
            "Could not tell user %s their webhook %s was disabled", owner.pk, endpoint.pk
        )


# --- the in-app inbox -----------------------------------------------------------------------
#
# Fed inside the transaction of the change (`mlteam.history.history_recorded`,
# `deliverables.mentions.mentions_recorded`): an entry commits or rolls back with
# it. Each entry's `source` names the change, unique per person, so feeding the
# same change twice writes one entry. Nobody is told of their own change. Whether
# the person may still see the project is decided when the inbox is read.

INBOX_RETENTION = timedelta(days=90)


def _inbox_entry(*, person_id, kind: str, source: str, project_id, actor_id, **fields):
    if person_id is None or person_id == actor_id:
        return None
    return InboxEntry(
        person_id=person_id,
        kind=kind,
        source=source,
        project_id=project_id,
        actor_id=actor_id,
        **fields,
    )


def _from_deliverable_events(entries: list[DeliverableEvent]) -> list[InboxEntry | None]:
    """1. A new owner (on planning, or an edit): owner_assigned, to them.
    2. A status move, a done override, a comment: status_changed or commented, to
       the deliverable's owner (a done override stands for its status move)."""
    overridden = {
        entry.deliverable_id for entry in entries if entry.kind == EventKind.DONE_OVERRIDE
    }
    wanted = []
    for entry in entries:
        deliverable = entry.deliverable
        common = {
            "source": f"event:{entry.pk}",
            "project_id": entry.project_id,
            "actor_id": entry.actor_id,
            "deliverable_id": entry.deliverable_id,
            "created_at": entry.created_at,
        }
        after = (entry.payload or {}).get("after") or {}
        if entry.kind == EventKind.CREATED:
            wanted.append(
                _inbox_entry(
                    person_id=deliverable.owner_id, kind=InboxKind.OWNER_ASSIGNED, **common
                )
            )
        elif entry.kind == EventKind.OWNER:
            wanted.append(
                _inbox_entry(person_id=after.get("id"), kind=InboxKind.OWNER_ASSIGNED, **common)
            )
        elif entry.kind == EventKind.STATUS and entry.deliverable_id not in overridden:
            wanted.append(
                _inbox_entry(
                    person_id=deliverable.owner_id,
                    kind=InboxKind.STATUS_CHANGED,
                    detail=str(after.get("status", "")),
                    **common,
                )
            )
        elif entry.kind == EventKind.DONE_OVERRIDE:
            wanted.append(
                _inbox_entry(
                    person_id=deliverable.owner_id,
                    kind=InboxKind.STATUS_CHANGED,
                    detail=DONE_OVERRIDE_DETAIL,
                    **common,
                )
            )
        elif entry.kind == EventKind.COMMENT:
            wanted.append(
                _inbox_entry(person_id=deliverable.owner_id, kind=InboxKind.COMMENTED, **common)
            )
    return wanted


def _from_team_changes(entries: list[TeamChange]) -> list[InboxEntry | None]:
    """A role given to a person: role_assigned, to them (the role's name kept as its
    source text, worded when shown)."""
    return [
        _inbox_entry(
            person_id=entry.person_id,
            kind=InboxKind.ROLE_ASSIGNED,
            source=f"team:{entry.pk}",
            project_id=entry.project_id,
            actor_id=entry.actor_id,
            detail=entry.role.name if entry.role_id else "",
            created_at=entry.created_at,
        )
        for entry in entries
        if entry.action == TeamChangeAction.ROLE_ASSIGNED
    ]


# A review's changes its person is told of: the rest (a draft, their own
# acknowledgements and self-assessment) are not theirs to read, or are theirs.
# (Keyed by value: an enum member hashes by its name, a loaded row's kind is text.)
REVIEW_KINDS = {
    ReviewEventKind.EXPECTATIONS_WRITTEN.value: InboxKind.EXPECTATIONS,
    ReviewEventKind.EXPECTATIONS_CHANGED.value: InboxKind.EXPECTATIONS,
    ReviewEventKind.EVALUATION_SHARED.value: InboxKind.EVALUATION,
    ReviewEventKind.EVALUATION_CHANGED.value: InboxKind.EVALUATION,
}


def _from_review_events(entries: list[ReviewEvent]) -> list[InboxEntry | None]:
    """Expectations or an evaluation to read: to the reviewed person only (never the
    manager, never anyone else), naming the review but keeping none of its content;
    the change's kind words it (`InboxEntry.message`)."""
    return [
        _inbox_entry(
            person_id=entry.review.person_id,
            kind=REVIEW_KINDS[str(entry.kind)],
            source=f"review:{entry.pk}",
            project_id=None,
            actor_id=entry.actor_id,
            review_id=entry.review_id,
            detail=str(entry.kind),
            created_at=entry.created_at,
        )
        for entry in entries
        if str(entry.kind) in REVIEW_KINDS
    ]


def _inbox_write(entries: Iterable[InboxEntry | None]) -> int:
    """One INSERT of the entries not written yet (the (person, source) constraint
    skips the others); nothing at all when nobody is to be told. The people who
    chose email or chat for an entry's kind get a delivery each, in the same
    transaction (`personal.entries_deliver`: sent after commit)."""
    entries = [entry for entry in entries if entry is not None]
    if not entries:
        return 0
    InboxEntry.objects.bulk_create(entries, ignore_conflicts=True)
    entries_deliver(entries)
    return len(entries)


def inbox_feed_history(sender, entries, **kwargs) -> int:
    """`history_recorded`'s receiver: the inbox entries `entries` call for."""
    if sender is DeliverableEvent:
        return _inbox_write(_from_deliverable_events(entries))
    if sender is TeamChange:
        return _inbox_write(_from_team_changes(entries))
    if sender is ReviewEvent:
        return _inbox_write(_from_review_events(entries))
    return 0


def inbox_summary_add(*, person, digest, overdue: int, due_soon: int) -> int:
    """The daily summary in the inbox when a digest went out (`personal.DigestChatOutlet`):
    once per digest, linking to My work."""
    return _inbox_write(
        [
            InboxEntry(
                person=person,
                kind=InboxKind.DIGEST,
                source=f"digest:{digest.pk}",
                detail=f"{overdue},{due_soon}",
            )
        ]
    )


def inbox_feed_mentions(sender, comment, mentions, **kwargs) -> int:
    """`mentions_recorded`'s receiver: mentioned, to each person named."""
    deliverable = comment.deliverable
    return _inbox_write(
        _inbox_entry(
            person_id=mention.person_id,
            kind=InboxKind.MENTIONED,
            source=f"mention:{mention.pk}",
            project_id=deliverable.project_id,
            actor_id=comment.author_id,
            deliverable_id=deliverable.pk,
            created_at=mention.created_at,
        )
        for mention in mentions
    )


def inbox_mark_read(*, user, entry_id: int, now: datetime | None = None) -> bool:
    """Mark one of `user`'s own entries read (a conditional UPDATE: reading it twice,
    or someone else's entry, changes nothing). Returns whether it was unread."""
    rows = InboxEntry.objects.filter(pk=entry_id, person=user, read_at__isnull=True)
    return rows.update(read_at=now or timezone.now()) == 1


def inbox_mark_all_read(*, user, newest_id: int, now: datetime | None = None) -> int:
    """Mark `user`'s unread entries read up to `newest_id`, the newest entry the
    page they looked at drew (`selectors.inbox_newest_id`): what arrived since stays
    unread, as they have not seen it (one UPDATE). Returns how many."""
    rows = InboxEntry.objects.filter(person=user, read_at__isnull=True, pk__lte=newest_id)
    return rows.update(read_at=now or timezone.now())


def inbox_purge(*, now: datetime | None = None) -> int:
    """Delete entries older than INBOX_RETENTION, read or not (one DELETE;
    idempotent), and the personal deliveries as old that are done (sent, skipped
    or given up: a retry in progress stays). Returns how many entries went."""
    cutoff = (now or timezone.now()) - INBOX_RETENTION
    deleted, _by_model = InboxEntry.objects.filter(created_at__lt=cutoff).delete()
    PersonalDelivery.objects.filter(
        created_at__lt=cutoff,
        status__in=[DeliveryStatus.SUCCEEDED, DeliveryStatus.SKIPPED, DeliveryStatus.GAVE_UP],
    ).delete()
    return deleted
