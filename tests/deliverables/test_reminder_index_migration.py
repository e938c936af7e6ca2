"""Migration 0036 drops the ledger's index on its deliverable column (the once-a-day
unique constraint starts with that column) and nothing else: the foreign key is not
dropped and added again, which would check every line of the ledger under a lock."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.migrations import migrate_to, migrate_to_latest

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

BEFORE = [("deliverables", "0035_project_type_index_covers_status")]
AFTER = [("deliverables", "0036_reminder_deliverable_index_in_unique")]


def _on_deliverable_column(apps) -> dict[str, dict]:
    table = apps.get_model("deliverables", "Reminder")._meta.db_table
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return {
        name: found
        for name, found in constraints.items()
        if found["columns"] and found["columns"][0] == "deliverable_id"
    }


def _kinds(found: dict[str, dict]) -> list[str]:
    return sorted(
        "foreign key"
        if one["foreign_key"]
        else "unique"
        if one["unique"]
        else f"index on {','.join(one['columns'])}"
        for one in found.values()
    )


def test_only_the_columns_own_index_goes_and_comes_back():
    try:
        apps = migrate_to(BEFORE)
        assert _kinds(_on_deliverable_column(apps)) == [
            "foreign key",
            "index on deliverable_id",
            "unique",
        ]
        with CaptureQueriesContext(connection) as forwards:
            apps = migrate_to(AFTER)
        assert _kinds(_on_deliverable_column(apps)) == ["foreign key", "unique"]
        statements = " ".join(query["sql"].upper() for query in forwards.captured_queries)
        assert "DROP INDEX" in statements
        assert "CONSTRAINT" not in statements  # no foreign key dropped nor added
        # Undone, the index is back, as before.
        apps = migrate_to(BEFORE)
        assert _kinds(_on_deliverable_column(apps)) == [
            "foreign key",
            "index on deliverable_id",
            "unique",
        ]
    finally:
        migrate_to_latest()
