"""Deliverables can be cancelled: dropped from the plan with a reason, by a manager,
instead of deleted (their history, checklist, links and comments stay).

Cancelled work is not open, like done work: the partial indexes of open work and the
open-work tally's triggers (migration 0010 compared with 'done' alone) now leave out
every closed status. The triggers are created again here in any case: on SQLite,
adding a column with a default and a check constraint rebuilds the table, which
drops them (deliverables/checks.py reports that).

The closed statuses are written out below as they are in
`deliverables.models.CLOSED_STATUSES` today, frozen as a migration must be: applying
this migration later must install the same triggers. Should CLOSED_STATUSES change,
tests/deliverables/test_open_work.py (every status counted as the constant says)
fails until a new migration creates the triggers for the new set.
"""

import importlib

from django.conf import settings
from django.db import migrations, models

CLOSED = ("done", "cancelled")
CLOSED_SQL = ", ".join(f"'{status}'" for status in CLOSED)

TABLE = "deliverables_deliverable"
TRIGGERS = (
    "deliverables_open_work_insert",
    "deliverables_open_work_update",
    "deliverables_open_work_delete",
)

# As migration 0010, with "not closed" for "not done". Each write appends tally rows
# (+1 where a deliverable now counts, -1 where it no longer does) and updates none.
POSTGRESQL = [
    *(f"DROP TRIGGER IF EXISTS {name} ON {TABLE}" for name in TRIGGERS),
    f"""
    CREATE OR REPLACE FUNCTION deliverables_open_work_track() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        tally_day date := COALESCE(
            (SELECT max(as_of) FROM deliverables_openwork), DATE '0001-01-01'
        );
    BEGIN
        IF TG_OP <> 'INSERT' AND OLD.status NOT IN ({CLOSED_SQL}) THEN
            INSERT INTO deliverables_openwork
                (project_id, owner_id, type_id, open_count, overdue_count, as_of, delta)
            VALUES (
                OLD.project_id, COALESCE(OLD.owner_id, 0), OLD.type_id, -1,
                CASE WHEN OLD.due_date < tally_day THEN -1 ELSE 0 END, tally_day, true
            );
        END IF;
        IF TG_OP <> 'DELETE' AND NEW.status NOT IN ({CLOSED_SQL}) THEN
            INSERT INTO deliverables_openwork
                (project_id, owner_id, type_id, open_count, overdue_count, as_of, delta)
            VALUES (
                NEW.project_id, COALESCE(NEW.owner_id, 0), NEW.type_id, 1,
                CASE WHEN NEW.due_date < tally_day THEN 1 ELSE 0 END, tally_day, true
            );
        END IF;
        RETURN NULL;
    END
    $$
    """,
    f"""
    CREATE TRIGGER deliverables_open_work_insert
    AFTER INSERT ON {TABLE} FOR EACH ROW
    WHEN (NEW.status NOT IN ({CLOSED_SQL}))
    EXECUTE FUNCTION deliverables_open_work_track()
    """,
    f"""
    CREATE TRIGGER deliverables_open_work_update
    AFTER UPDATE ON {TABLE} FOR EACH ROW
    WHEN (
        OLD.project_id IS DISTINCT FROM NEW.project_id
        OR OLD.owner_id IS DISTINCT FROM NEW.owner_id
        OR OLD.type_id IS DISTINCT FROM NEW.type_id
        OR OLD.due_date IS DISTINCT FROM NEW.due_date
        OR (OLD.status IN ({CLOSED_SQL})) IS DISTINCT FROM (NEW.status IN ({CLOSED_SQL}))
    )
    EXECUTE FUNCTION deliverables_open_work_track()
    """,
    f"""
    CREATE TRIGGER deliverables_open_work_delete
    AFTER DELETE ON {TABLE} FOR EACH ROW
    WHEN (OLD.status NOT IN ({CLOSED_SQL}))
    EXECUTE FUNCTION deliverables_open_work_track()
    """,
]


def _sqlite_add(row: str, delta: int) -> str:
    """One row appended for the OLD or NEW deliverable (SQLite has no functions)."""
    return f"""
        INSERT INTO deliverables_openwork
            (project_id, owner_id, type_id, open_count, overdue_count, as_of, delta)
        SELECT {row}.project_id, COALESCE({row}.owner_id, 0), {row}.type_id, {delta},
               CASE WHEN {row}.due_date < tally.day THEN {delta} ELSE 0 END, tally.day, 1
        FROM (
            SELECT COALESCE(max(as_of), '0001-01-01') AS day FROM deliverables_openwork
        ) AS tally
        WHERE {row}.status NOT IN ({CLOSED_SQL});
    """


SQLITE = [
    *(f"DROP TRIGGER IF EXISTS {name}" for name in TRIGGERS),
    f"""
    CREATE TRIGGER deliverables_open_work_insert
    AFTER INSERT ON {TABLE} FOR EACH ROW
    WHEN NEW.status NOT IN ({CLOSED_SQL})
    BEGIN {_sqlite_add("NEW", 1)} END
    """,
    f"""
    CREATE TRIGGER deliverables_open_work_update
    AFTER UPDATE ON {TABLE} FOR EACH ROW
    WHEN OLD.project_id IS NOT NEW.project_id
        OR OLD.owner_id IS NOT NEW.owner_id
        OR OLD.type_id IS NOT NEW.type_id
        OR OLD.due_date IS NOT NEW.due_date
        OR (OLD.status IN ({CLOSED_SQL})) IS NOT (NEW.status IN ({CLOSED_SQL}))
    BEGIN {_sqlite_add("OLD", -1)} {_sqlite_add("NEW", 1)} END
    """,
    f"""
    CREATE TRIGGER deliverables_open_work_delete
    AFTER DELETE ON {TABLE} FOR EACH ROW
    WHEN OLD.status NOT IN ({CLOSED_SQL})
    BEGIN {_sqlite_add("OLD", -1)} END
    """,
]

# The tally was counted by the old rule: emptied, it is rebuilt by the new one at the
# next read (`open_work_make_current`) or the beat task's next run.
EMPTY_TALLY = "DELETE FROM deliverables_openwork"


def _vendor_statements(schema_editor, statements: dict[str, list[str]]) -> list[str]:
    vendor = schema_editor.connection.vendor
    if vendor not in statements:
        raise RuntimeError(f"No open-work triggers for the {vendor} database.")
    return statements[vendor]


def create_triggers(apps, schema_editor):
    statements = _vendor_statements(schema_editor, {"postgresql": POSTGRESQL, "sqlite": SQLITE})
    for statement in [*statements, EMPTY_TALLY]:
        schema_editor.execute(statement, params=None)


def restore_done_only_triggers(apps, schema_editor):
    """Backwards, last (after SQLite rebuilt the table again): migration 0010's
    triggers, which count every status but done as open."""
    previous = importlib.import_module("deliverables.migrations.0010_open_work")
    statements = {
        "postgresql": [*previous.POSTGRESQL_REVERSE, *previous.POSTGRESQL],
        "sqlite": [*previous.SQLITE_REVERSE, *previous.SQLITE],
    }
    for statement in [*_vendor_statements(schema_editor, statements), EMPTY_TALLY]:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('deliverables', '0018_protect_history'),
        ('roles', '0005_handbook_review_date'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, restore_done_only_triggers),
        migrations.RemoveIndex(
            model_name='deliverable',
            name='deliverable_open_due_idx',
        ),
        migrations.RemoveIndex(
            model_name='deliverable',
            name='deliverable_open_owner_idx',
        ),
        migrations.AddField(
            model_name='deliverable',
            name='cancelled_reason',
            field=models.TextField(blank=True, verbose_name='reason cancelled'),
        ),
        migrations.AlterField(
            model_name='deliverable',
            name='status',
            field=models.CharField(choices=[('not_started', 'Not started'), ('in_progress', 'In progress'), ('in_review', 'In review'), ('done', 'Done'), ('blocked', 'Blocked'), ('cancelled', 'Cancelled')], default='not_started', max_length=20, verbose_name='status'),
        ),
        migrations.AddIndex(
            model_name='deliverable',
            index=models.Index(condition=models.Q(('status__in', ('done', 'cancelled')), _negated=True), fields=['due_date', 'type', 'project'], name='deliverable_open_due_idx'),
        ),
        migrations.AddIndex(
            model_name='deliverable',
            index=models.Index(condition=models.Q(('status__in', ('done', 'cancelled')), _negated=True), fields=['owner', 'due_date', 'project'], name='deliverable_open_owner_idx'),
        ),
        migrations.AddConstraint(
            model_name='deliverable',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('status', 'cancelled'), _negated=True), models.Q(('cancelled_reason', ''), _negated=True), _connector='OR'), name='deliverable_cancelled_needs_reason', violation_error_message='Say why the deliverable is cancelled.'),
        ),
        # Backwards, nothing here: the first operation restores 0010's triggers last.
        migrations.RunPython(create_triggers, migrations.RunPython.noop),
    ]
