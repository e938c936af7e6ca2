"""Hand-written SQL, for the few reads whose ORM form costs more to build and plan
than to run (the dashboards at 50,000 deliverables; see README, Benchmarks).

The SQL runs on PostgreSQL and SQLite alike; values always go as parameters.
"""

from __future__ import annotations

from datetime import date

from django.db import connection


def select(sql: str, params: list | tuple = ()) -> list[tuple]:
    """Every row of one query, as tuples."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def placeholders(values: list) -> str:
    """`%s, %s, ...` for an IN list of `values` (NULL for none, which matches nothing)."""
    return ", ".join(["%s"] * len(values)) or "NULL"


def moment(value):
    """A timestamp read by hand-written SQL, made what the ORM would return: SQLite
    hands them back naive (in UTC) or as text, PostgreSQL already aware."""
    if value is not None and connection.vendor == "sqlite":
        return connection.ops.convert_datetimefield_value(value, None, connection)
    return value


def day(value):
    """A date read by hand-written SQL (SQLite hands them back as text)."""
    if isinstance(value, str):
        return date.fromisoformat(value)
    return value
