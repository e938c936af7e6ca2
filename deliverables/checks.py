"""System checks: the database triggers the open-work tally depends on are there.

SQLite rebuilds a table to alter most of its columns, and the triggers of the old
table go with it; a migration that alters the deliverables table must create them
again (migrations/0019_cancelled_deliverables.py holds their latest form, which
counts every status but CLOSED_STATUSES as open). `migrate` and `check --database default`
report it when they are missing.
"""

from __future__ import annotations

from django.core.checks import Error, Tags, register
from django.db import connections

TABLE = "deliverables_deliverable"
TRIGGERS = {
    "deliverables_open_work_insert",
    "deliverables_open_work_update",
    "deliverables_open_work_delete",
}


def installed_triggers(connection) -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal",
                [TABLE],
            )
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
                [TABLE],
            )
        return {name for (name,) in cursor.fetchall()}


@register(Tags.database)
def open_work_triggers(app_configs=None, databases=None, **kwargs) -> list[Error]:
    errors = []
    for alias in databases or []:
        connection = connections[alias]
        tables = set(connection.introspection.table_names())
        if not {TABLE, "deliverables_openwork"} <= tables:
            continue  # not migrated that far yet
        missing = TRIGGERS - installed_triggers(connection)
        if missing:
            errors.append(
                Error(
                    f"The open-work tally's triggers are missing: {', '.join(sorted(missing))}.",
                    hint="A migration that altered the deliverables table dropped them "
                    "(SQLite rebuilds the table); create them again as "
                    "deliverables/migrations/0019_cancelled_deliverables.py does.",
                    id="deliverables.E001",
                )
            )
    return errors
