"""The ledger's mechanics, for any `DeliveryBase` table (webhooks now, chat later).

1. `claim`: one conditional UPDATE moves a due row to "sending" with a lease and
   counts the attempt; only the worker whose UPDATE changed the row acts (a second
   worker, a repeated message or a replay finds nothing to do).
2. The caller checks, sends, and reports with `record_success`, `record_failure`
   or `record_skipped`, each a conditional UPDATE on the attempt it claimed (a
   worker whose lease ran out and was overtaken writes nothing).
3. Failures come back after `RETRY_DELAYS` (about 28 hours in all); after the
   last one the row has given up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Q

from .models import DeliveryBase, DeliveryStatus

# After the 1st, 2nd, ... failed attempt. Sum: 27 h 42 min (at least 24 hours).
RETRY_DELAYS = [
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
]
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1


def lease() -> timedelta:
    """How long a claimed send may take before another worker may take it over:
    the connect and answer timeouts, and a margin."""
    return timedelta(seconds=2 * settings.WEBHOOK_TIMEOUT_SECONDS + 30)


def retry_delay(attempts: int) -> timedelta | None:
    """The wait after `attempts` failed attempts; None: give up."""
    if attempts < 1 or attempts > len(RETRY_DELAYS):
        return None
    return RETRY_DELAYS[attempts - 1]


@dataclass(frozen=True)
class Claim:
    pk: int
    attempt: int  # the attempt this worker makes (attempts after the claim)


def claim(model: type[DeliveryBase], pk: int, now: datetime) -> Claim | None:
    rows = model.objects.filter(pk=pk).due(now)
    if not rows.update(
        status=DeliveryStatus.SENDING,
        attempts=F("attempts") + 1,
        next_attempt_at=now + lease(),
        updated_at=now,
    ):
        return None
    attempt = model.objects.values_list("attempts", flat=True).get(pk=pk)
    return Claim(pk=pk, attempt=attempt)


def _ours(model: type[DeliveryBase], taken: Claim):
    return model.objects.filter(pk=taken.pk, status=DeliveryStatus.SENDING, attempts=taken.attempt)


def record_success(
    model: type[DeliveryBase], taken: Claim, *, now: datetime, status_code: int, duration_ms: int
) -> bool:
    return bool(
        _ours(model, taken).update(
            status=DeliveryStatus.SUCCEEDED,
            last_response_code=status_code,
            duration_ms=duration_ms,
            error="",
            next_attempt_at=None,
            updated_at=now,
        )
    )


def record_failure(
    model: type[DeliveryBase],
    taken: Claim,
    *,
    now: datetime,
    status_code: int | None,
    duration_ms: int | None,
    error: str,
) -> datetime | None:
    """Failed: due again after the backoff (returned), or given up (None)."""
    delay = retry_delay(taken.attempt)
    retry_at = now + delay if delay is not None else None
    _ours(model, taken).update(
        status=DeliveryStatus.FAILED if retry_at else DeliveryStatus.GAVE_UP,
        last_response_code=status_code,
        duration_ms=duration_ms,
        error=error[:500],
        next_attempt_at=retry_at,
        updated_at=now,
    )
    return retry_at


def record_skipped(model: type[DeliveryBase], taken: Claim, *, now: datetime, reason: str) -> None:
    """Not sent, for good (the reader may no longer see it, the destination is off):
    the attempt it claimed is not counted."""
    _ours(model, taken).update(
        status=DeliveryStatus.SKIPPED,
        attempts=F("attempts") - 1,
        error=reason[:500],
        next_attempt_at=None,
        updated_at=now,
    )


def record_unknown(model: type[DeliveryBase], taken: Claim, *, now: datetime, error: str) -> None:
    """Sent, but no answer came (a mail server that took the text and went quiet): it
    may have arrived, so it is never sent again (at most once, rather than twice)."""
    _ours(model, taken).update(
        status=DeliveryStatus.GAVE_UP,
        error=f"outcome unknown: {error}"[:500],
        next_attempt_at=None,
        updated_at=now,
    )


def replay_condition() -> Q:
    """Rows that may be sent again by hand: anything not being sent right now."""
    return ~Q(status=DeliveryStatus.SENDING)
