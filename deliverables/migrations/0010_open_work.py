# The open-work tally: its table, the triggers that keep it, and its daily rebuild;
# and the index recent activity across projects reads the newest changes from.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# The tally of open deliverables (deliverables.OpenWork) follows every write to the
# deliverables table from these triggers. Each write only appends rows (+1 where a
# deliverable now counts, -1 where it no longer does): no tally row is updated, so
# writes never wait for one another or deadlock over it; readers add the rows up.
# 'done' is DeliverableStatus.DONE; the day overdue is counted against is the
# newest `as_of` in the tally (see the model).
POSTGRESQL = [
    """
    CREATE FUNCTION deliverables_open_work_track() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        tally_day date := COALESCE(
            (SELECT max(as_of) FROM deliverables_openwork), DATE '0001-01-01'
        );
    BEGIN
        IF TG_OP <> 'INSERT' AND OLD.status <> 'done' THEN
            INSERT INTO deliverables_openwork
                (project_id, owner_id, type_id, open_count, overdue_count, as_of, delta)
            VALUES (
                OLD.project_id, COALESCE(OLD.owner_id, 0), OLD.type_id, -1,
                CASE WHEN OLD.due_date < tally_day THEN -1 ELSE 0 END, tally_day, true
            );
        END IF;
        IF TG_OP <> 'DELETE' AND NEW.status <> 'done' THEN
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
    """
    CREATE TRIGGER deliverables_open_work_insert
    AFTER INSERT ON deliverables_deliverable FOR EACH ROW
    WHEN (NEW.status <> 'done')
    EXECUTE FUNCTION deliverables_open_work_track()
    """,
    """
    CREATE TRIGGER deliverables_open_work_update
    AFTER UPDATE ON deliverables_deliverable FOR EACH ROW
    WHEN (
        OLD.project_id IS DISTINCT FROM NEW.project_id
        OR OLD.owner_id IS DISTINCT FROM NEW.owner_id
        OR OLD.type_id IS DISTINCT FROM NEW.type_id
        OR OLD.due_date IS DISTINCT FROM NEW.due_date
        OR (OLD.status = 'done') IS DISTINCT FROM (NEW.status = 'done')
    )
    EXECUTE FUNCTION deliverables_open_work_track()
    """,
    """
    CREATE TRIGGER deliverables_open_work_delete
    AFTER DELETE ON deliverables_deliverable FOR EACH ROW
    WHEN (OLD.status <> 'done')
    EXECUTE FUNCTION deliverables_open_work_track()
    """,
    # TRUNCATE fires no row trigger: empty the tally too, so the next read rebuilds it.
    """
    CREATE FUNCTION deliverables_open_work_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM deliverables_openwork;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER deliverables_open_work_truncate
    AFTER TRUNCATE ON deliverables_deliverable FOR EACH STATEMENT
    EXECUTE FUNCTION deliverables_open_work_truncate()
    """,
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER IF EXISTS deliverables_open_work_insert ON deliverables_deliverable",
    "DROP TRIGGER IF EXISTS deliverables_open_work_update ON deliverables_deliverable",
    "DROP TRIGGER IF EXISTS deliverables_open_work_delete ON deliverables_deliverable",
    "DROP TRIGGER IF EXISTS deliverables_open_work_truncate ON deliverables_deliverable",
    "DROP FUNCTION IF EXISTS deliverables_open_work_track()",
    "DROP FUNCTION IF EXISTS deliverables_open_work_truncate()",
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
        WHERE {row}.status <> 'done';
    """


SQLITE = [
    f"""
    CREATE TRIGGER deliverables_open_work_insert
    AFTER INSERT ON deliverables_deliverable FOR EACH ROW
    WHEN NEW.status <> 'done'
    BEGIN {_sqlite_add("NEW", 1)} END
    """,
    f"""
    CREATE TRIGGER deliverables_open_work_update
    AFTER UPDATE ON deliverables_deliverable FOR EACH ROW
    WHEN OLD.project_id IS NOT NEW.project_id
        OR OLD.owner_id IS NOT NEW.owner_id
        OR OLD.type_id IS NOT NEW.type_id
        OR OLD.due_date IS NOT NEW.due_date
        OR (OLD.status = 'done') IS NOT (NEW.status = 'done')
    BEGIN {_sqlite_add("OLD", -1)} {_sqlite_add("NEW", 1)} END
    """,
    f"""
    CREATE TRIGGER deliverables_open_work_delete
    AFTER DELETE ON deliverables_deliverable FOR EACH ROW
    WHEN OLD.status <> 'done'
    BEGIN {_sqlite_add("OLD", -1)} END
    """,
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS deliverables_open_work_insert",
    "DROP TRIGGER IF EXISTS deliverables_open_work_update",
    "DROP TRIGGER IF EXISTS deliverables_open_work_delete",
]


def _run(statements: dict[str, list[str]]):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor not in statements:
            raise RuntimeError(f"No open-work triggers for the {vendor} database.")
        for statement in statements[vendor]:
            schema_editor.execute(statement, params=None)

    return run


def schedule_refresh(apps, schema_editor):
    """Rebuild the tally soon after each day starts (a no-op the rest of the day)."""
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_10, _ = IntervalSchedule.objects.get_or_create(every=10, period="minutes")
    PeriodicTask.objects.get_or_create(
        name="Open work tally",
        defaults={"task": "deliverables.open_work_refresh", "interval": every_10},
    )


def unschedule_refresh(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name="Open work tally"
    ).delete()


create_triggers = _run({"postgresql": POSTGRESQL, "sqlite": SQLITE})
drop_triggers = _run({"postgresql": POSTGRESQL_REVERSE, "sqlite": SQLITE_REVERSE})



class Migration(migrations.Migration):

    dependencies = [
        ("django_celery_beat", "0019_alter_periodictasks_options"),
        ('deliverables', '0009_review_history_and_draft_version'),
        ('roles', '0005_handbook_review_date'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='OpenWork',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('open_count', models.IntegerField(default=0)),
                ('overdue_count', models.IntegerField(default=0)),
                ('as_of', models.DateField()),
            ],
            options={
                'verbose_name': 'open work tally',
                'verbose_name_plural': 'open work tallies',
            },
        ),
        migrations.AddIndex(
            model_name='deliverableevent',
            index=models.Index(fields=['-created_at', '-id'], name='event_recent_idx'),
        ),
        migrations.AddField(
            model_name='openwork',
            name='owner',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='openwork',
            name='project',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='roles.project'),
        ),
        migrations.AddField(
            model_name='openwork',
            name='type',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='deliverables.deliverabletype'),
        ),
        migrations.AddIndex(
            model_name='openwork',
            index=models.Index(fields=['as_of'], name='open_work_as_of_idx'),
        ),
        migrations.AddField(
            model_name='openwork',
            name='delta',
            field=models.BooleanField(default=False),
        ),
        migrations.AddIndex(
            model_name='openwork',
            index=models.Index(condition=models.Q(('delta', True)), fields=['delta'], name='open_work_delta_idx'),
        ),
        migrations.RunPython(create_triggers, drop_triggers),
        migrations.RunPython(schedule_refresh, unschedule_refresh),
    ]
