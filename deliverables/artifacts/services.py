"""Writes: the systems admins connect, and the polling of linked artifacts.

Polling, in the house's order (healthchecks' sweep, claim before acting):
1. `artifacts_sweep(now)` (beat, every minute): gives each typed link that an
   active system serves a state row (the first poll due at once), and returns
   the ids of states due now whose system is not waiting out a rate limit.
2. `artifact_poll(state_id)` (one task per id): claims the state with a
   conditional UPDATE (due, unclaimed or its lease run out) and acts only if it won,
   so two workers given the same id ask the system once.
3. asks the system (`clients.observe`) outside any transaction,
4. `_record` writes what it saw under the claim (status and facts, or the error
   kind and when; the next poll; a rate limit's reset on the system), bumps the
   project page's cache when the state changed, and sends
   `deliverables.signals.model_version_changed` in the same transaction when the model
   version moved (a receiver's failure undoes the record: the change is seen again).
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from deliverables.models import DeliverableLink
from deliverables.signals import model_version_changed
from mlteam import cache
from mlteam.versions import claim_version

from . import clients
from .models import (
    POLLED_KINDS,
    SYSTEM_OF_KIND,
    ArtifactState,
    ArtifactSystem,
    ErrorKind,
    scope_patterns,
)

logger = logging.getLogger(__name__)

SYSTEM_FIELDS = ("kind", "name", "base_url", "link_host", "scopes", "active", "poll_minutes")
SYSTEM_STALE_MESSAGE = _(
    "This system was changed by someone else after you opened it. Nothing was saved."
)
BASE_URL_MESSAGE = _(
    "Enter the API's address as http(s)://host[:port][/path], without a user name, "
    "password, query or fragment: the token goes in its own field."
)


HTTPS_FOR_TOKEN_MESSAGE = _(
    "A token is sent to https:// addresses only, so that it does not cross the network "
    "in clear: enter the system's https:// address, or remove the token."
)
LINK_LOCAL_MESSAGE = _(
    "This is a link-local address (such as a cloud metadata service); it cannot be polled."
)


def _check_system(system: ArtifactSystem) -> None:
    """An admin's base address: http(s), a host, no credentials, query or fragment.
    Hosts inside the network are allowed (the admin chose them: an MLflow or Airflow
    server rarely faces the internet), link-local addresses never."""
    parts = urlsplit(system.base_url or "")
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.username
        or parts.password
        or parts.query
        or parts.fragment
    ):
        raise ValidationError({"base_url": BASE_URL_MESSAGE}, code="invalid")
    if clients.link_local(parts.hostname):
        raise ValidationError({"base_url": LINK_LOCAL_MESSAGE}, code="link_local")
    if system.token_refused_over_http:
        raise ValidationError({"base_url": HTTPS_FOR_TOKEN_MESSAGE}, code="https_for_token")
    system.link_host = (system.link_host or "").strip().lower()
    system.scopes = "\n".join(scope_patterns(system.scopes))
    system.full_clean()


def systems_changed() -> None:
    # Whether a link is polled at all shows on every project page that has typed
    # links: the whole site's cache moves on (systems change rarely).
    cache.bump()


@transaction.atomic
def artifact_system_create(*, token: str = "", **fields) -> ArtifactSystem:
    unknown = set(fields) - set(SYSTEM_FIELDS)
    if unknown:
        raise TypeError(f"artifact_system_create: unknown fields {sorted(unknown)}")
    system = ArtifactSystem(**fields, token=token.strip())
    _check_system(system)
    system.save()
    transaction.on_commit(systems_changed)
    return system


@transaction.atomic
def artifact_system_update(
    *, system: ArtifactSystem, version: int | None, token: str | None = None, **fields
) -> ArtifactSystem:
    """Change a system; `token` None keeps the current one, "" removes it. A new
    address or token clears the recorded error and rate limit (they were the old
    one's), and makes every link it serves due now."""
    unknown = set(fields) - set(SYSTEM_FIELDS)
    if unknown:
        raise TypeError(f"artifact_system_update: unknown fields {sorted(unknown)}")
    claim_version(system, version, message=SYSTEM_STALE_MESSAGE)
    matching = ("active", "link_host", "scopes")  # what decides which links it serves
    before = {name: getattr(system, name) for name in matching}
    for name, value in fields.items():
        setattr(system, name, value)
    reconnected = "base_url" in fields or token is not None
    if token is not None:
        system.token = token.strip()
    if reconnected:
        system.backoff_until = None
        system.last_error, system.last_error_at = "", None
    _check_system(system)
    system.save()
    # Compared once normalised (_check_system): a form sends the same scopes with
    # \r\n line breaks, which is no change.
    if reconnected or any(getattr(system, name) != before[name] for name in matching):
        # Links are matched to systems again by the next sweep.
        ArtifactState.objects.filter(system=system).delete()
    transaction.on_commit(systems_changed)
    return system


def artifact_systems_poll_now(*, systems) -> int:
    """Make every link these systems serve due at once (the admin's "Poll now"),
    and lift a rate limit's wait: the next sweep asks again. Returns how many links."""
    ids = [system.pk for system in systems]
    ArtifactSystem.objects.filter(pk__in=ids).update(backoff_until=None)
    return ArtifactState.objects.filter(system_id__in=ids).update(next_poll_at=timezone.now())


# --- polling -----------------------------------------------------------------------------


def _system_for(systems: list[ArtifactSystem], kind: str, target: dict) -> ArtifactSystem | None:
    wanted = SYSTEM_OF_KIND.get(kind)
    for system in systems:
        if system.kind == wanted and system.serves(target):
            return system
    return None


def _ensure_states(now: datetime) -> int:
    """A state row for every typed link an active system serves and that has none
    yet (links on archived projects are not polled). Two queries plus one insert."""
    systems = list(ArtifactSystem.objects.filter(active=True).order_by("pk"))
    if not systems:
        return 0
    links = (
        DeliverableLink.objects.filter(
            kind__in=POLLED_KINDS,
            artifact_state__isnull=True,
            deliverable__project__archived_at__isnull=True,
        )
        .order_by("pk")
        .values_list("pk", "kind", "target")
    )
    rows = []
    for link_id, kind, target in links:
        system = _system_for(systems, kind, target or {})
        if system is not None:
            rows.append(ArtifactState(link_id=link_id, system=system, next_poll_at=now))
    ArtifactState.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def _due(now: datetime) -> Q:
    return Q(next_poll_at__lte=now) & (Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))


def artifacts_sweep(*, now: datetime | None = None) -> list[int]:
    """Ids of the states due now (at most ARTIFACT_POLL_BATCH, longest waiting
    first), of active systems not waiting out a rate limit. Reads only: each id is
    claimed by the poll itself, so a repeated or overlapping sweep is harmless."""
    now = now or timezone.now()
    _ensure_states(now)
    for system in ArtifactSystem.objects.filter(active=True).exclude(encrypted_token=""):
        if system.token_refused_over_http:  # said once a sweep, not once a request
            logger.warning(
                "artifact system %s: its token is not sent to a plain http address; "
                "give it an https:// address or remove the token",
                system.pk,
            )
    due = (
        ArtifactState.objects.filter(
            _due(now),
            system__active=True,
            link__deliverable__project__archived_at__isnull=True,
        )
        .exclude(system__backoff_until__gt=now)
        .order_by("next_poll_at", "pk")
        .values_list("pk", flat=True)[: settings.ARTIFACT_POLL_BATCH]
    )
    return list(due)


def _claim(state_id: int, now: datetime) -> uuid.UUID | None:
    """Take the state for this poll if it is due and nobody holds it: one
    conditional UPDATE; None when another poll got there first."""
    token = uuid.uuid4()
    lease = now + timedelta(seconds=settings.ARTIFACT_POLL_LEASE_SECONDS)
    won = ArtifactState.objects.filter(_due(now), pk=state_id).update(
        claimed_until=lease, claim_token=token
    )
    return token if won else None


def artifact_poll(*, state_id: int, now: datetime | None = None) -> bool:
    """Poll one link's artifact if this call wins its claim; True when it polled."""
    now = now or timezone.now()
    token = _claim(state_id, now)
    if token is None:
        return False
    state = (
        ArtifactState.objects.select_related("system", "link__deliverable__project")
        .filter(pk=state_id)
        .first()
    )
    if state is None:
        return False
    system = state.system
    if (
        not system.active
        or (system.backoff_until and system.backoff_until > now)
        or state.link.deliverable.project.archived_at is not None
    ):
        _release(state_id, token, now + timedelta(minutes=system.poll_minutes))
        return False
    try:
        observation = clients.observe(system, state.link.kind, state.link.target or {}, now=now)
    except clients.PollError as error:
        _record_error(state_id, token, system.pk, error, now)
    except SoftTimeLimitExceeded:
        _record_error(state_id, token, system.pk, clients.PollError(ErrorKind.TIMEOUT), now)
    except Exception:
        # A link or an answer this code did not foresee: recorded on the link (the
        # claim let go, the next poll at its time) and logged for the developers;
        # never the poll's worker stuck on it, nor the token in the message.
        logger.exception("Artifact poll of state %s failed unexpectedly", state_id)
        _record_error(state_id, token, system.pk, clients.PollError(ErrorKind.MALFORMED), now)
    else:
        _record(state_id, token, observation, now)
    return True


def _release(state_id: int, token: uuid.UUID, next_poll_at: datetime) -> None:
    ArtifactState.objects.filter(pk=state_id, claim_token=token).update(
        claimed_until=None, claim_token=None, next_poll_at=next_poll_at
    )


@transaction.atomic
def _record(state_id: int, token: uuid.UUID, observation: clients.Observation, now) -> None:
    state = (
        ArtifactState.objects.select_for_update(of=("self",))
        .select_related("system", "link__deliverable")
        .filter(pk=state_id, claim_token=token)
        .first()
    )
    if state is None:
        return  # the claim's lease ran out and another poll took it over
    changed = (state.status, state.facts) != (observation.status, observation.facts)
    old_version = state.model_version
    state.status, state.facts = observation.status, observation.facts
    state.observed_at = now
    state.error, state.error_at = "", None
    state.next_poll_at = now + timedelta(minutes=state.system.poll_minutes)
    state.claimed_until, state.claim_token = None, None
    if changed:
        state.changed_at = now
        state.version += 1
    version_moved = observation.model_version and observation.model_version != old_version
    if version_moved:
        state.model_version = observation.model_version
    state.save()
    deliverable = state.link.deliverable
    if changed:
        cache.project_changed(deliverable.project_id)
    if version_moved:
        # Inside the poll's transaction: what the receivers write (the cards' review
        # flags and their history) commits with the version seen, or neither does,
        # and the link is polled again once its claim's lease ends (never a version
        # recorded whose cards were not flagged).
        model_version_changed.send(
            sender=ArtifactState,
            deliverable=deliverable,
            link=state.link,
            old=old_version or None,
            new=observation.model_version,
        )


@transaction.atomic
def _record_error(
    state_id: int, token: uuid.UUID, system_id: int, error: clients.PollError, now
) -> None:
    state = (
        ArtifactState.objects.select_for_update(of=("self",))
        .select_related("system", "link__deliverable")
        .filter(pk=state_id, claim_token=token)
        .first()
    )
    if state is None:
        return
    system = state.system
    # What was seen last stays shown; the error is recorded beside it.
    next_poll = now + timedelta(minutes=system.poll_minutes)
    if error.kind == ErrorKind.RATE_LIMITED and error.retry_at:
        next_poll = max(next_poll, error.retry_at)
    was = state.error
    state.error, state.error_at = error.kind, now
    state.next_poll_at = next_poll
    state.claimed_until, state.claim_token = None, None
    state.save()
    system_fields = {"last_error": error.kind, "last_error_at": now}
    if error.kind == ErrorKind.RATE_LIMITED:
        system_fields["backoff_until"] = error.retry_at
    ArtifactSystem.objects.filter(pk=system_id).update(**system_fields)
    logger.warning(
        "Artifact poll failed: system %s, link %s: %s", system_id, state.link_id, error.kind
    )
    if was != error.kind:
        cache.project_changed(state.link.deliverable.project_id)
