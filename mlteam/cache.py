"""Dashboard results cached until the data behind them changes.

Every write to a table a dashboard reads (projects, teams, deliverables, their
checklists and history, the role catalogue, people and their permissions) moves
a global *generation* number; cached results are keyed by it, so the next read
after any change recomputes. The writes are seen where every write passes: a
database execute wrapper installed on each connection (`install`), so ORM
saves, `update()`, bulk operations, many-to-many changes, the Django admin and
raw SQL through Django all count, whatever code issues them.

The generation moves at once (a test transaction never commits) and again
after the commit, so a reader that computed from the old rows between the two
does not keep its result. Entries also expire after `TIMEOUT` seconds, a net
for writes made outside Django (psql). The cache is Django's: per process
locally, Redis in production (`CACHE_URL`), shared by every web worker.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache
from django.db import connection as default_connection
from django.db import transaction
from django.utils import translation

T = TypeVar("T")
logger = logging.getLogger(__name__)

KEY = "mlteam:generation"
TIMEOUT = 300
# Tables whose rows a dashboard shows or counts, or that decide who may see what.
WATCHED_PREFIXES = ("roles_", "deliverables_", "auth_")
# Reminder bookkeeping changes every sweep and is on no dashboard; the open-work
# tally only follows the deliverables (its rebuild changes no number).
IGNORED = {
    "deliverables_openwork",
    "deliverables_digest",
    "deliverables_reminder",
    "deliverables_reviewreminder",
    "deliverables_reminderpreference",
}
_WRITE = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?([A-Za-z0-9_]+)"?', re.I)


def generation() -> int:
    value = cache.get(KEY)
    if value is None:
        # A fresh start (or an evicted key) never reuses an earlier number.
        cache.add(KEY, time.time_ns(), timeout=None)
        value = cache.get(KEY, 0)
    return value


def bump() -> None:
    """Move the generation. Never fails the write that caused it: with the cache
    unreachable, entries written before expire within TIMEOUT."""
    try:
        try:
            cache.incr(KEY)
        except ValueError:  # not there: start afresh
            cache.set(KEY, time.time_ns(), timeout=None)
    except Exception:
        logger.warning("Could not move the cache generation", exc_info=True)


def watched_write(sql: str) -> bool:
    match = _WRITE.match(sql)
    if not match:
        return False
    table = match.group(1).lower()
    return table.startswith(WATCHED_PREFIXES) and table not in IGNORED


def _wrapper(execute, sql, params, many, context):
    result = execute(sql, params, many, context)
    if isinstance(sql, str) and watched_write(sql):
        bump()
        connection = context["connection"]
        # Once more after the commit; one callback per transaction is enough.
        if connection.in_atomic_block and not any(
            entry[1] is bump for entry in connection.run_on_commit
        ):
            transaction.on_commit(bump, using=connection.alias)
    return result


def install(connection=default_connection, **kwargs) -> None:
    """Watch this connection's writes (connected to `connection_created`)."""
    if _wrapper not in connection.execute_wrappers:
        connection.execute_wrappers.append(_wrapper)


def cached(name: str, user, parts: tuple, compute: Callable[[], T]) -> T:
    """`compute()`, or its result from the cache while nothing it reads has changed.

    Keyed by the generation, the viewer (results are filtered by what they may
    see), the language (labels inside) and `parts` (today, page, project...).
    """
    try:
        key = ":".join(
            str(part)
            for part in (
                "mlteam",
                name,
                generation(),
                user.pk,
                translation.get_language(),
                *parts,
            )
        )
        value = cache.get(key)
    except Exception:  # cache unreachable: the page still works, uncached
        logger.warning("Cache unreachable; computing %s directly", name, exc_info=True)
        return compute()
    if value is None:
        value = compute()
        try:
            cache.set(key, value, TIMEOUT)
        except Exception:
            logger.warning("Could not cache %s", name, exc_info=True)
    return value
