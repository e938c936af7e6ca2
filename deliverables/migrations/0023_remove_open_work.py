"""The open-work tally is gone: the dashboards count open and overdue work with the
ORM from the partial indexes of open deliverables (deliverable_open_due_idx,
deliverable_open_owner_idx) and the (project, status, due date) index, so nothing is
written on a read path and no second copy of "open" lives in triggers.

Dropped here: the triggers on the deliverables table (PostgreSQL: insert, update,
delete and truncate, and their two functions, from migrations 0010 and 0019; SQLite:
insert, update and delete), the beat task that rebuilt the tally every day, the
tally's content type with its four permissions (left behind, the admin's permission
lists would offer "openwork | Can add open work tally" for a model that no longer
exists), and the table. Going back installs them again as migration 0019 left
them; the emptied tally is rebuilt by that code's first read.
"""

import importlib

from django.db import migrations

TABLE = "deliverables_deliverable"

POSTGRESQL = [
    f"DROP TRIGGER IF EXISTS deliverables_open_work_insert ON {TABLE}",
    f"DROP TRIGGER IF EXISTS deliverables_open_work_update ON {TABLE}",
    f"DROP TRIGGER IF EXISTS deliverables_open_work_delete ON {TABLE}",
    f"DROP TRIGGER IF EXISTS deliverables_open_work_truncate ON {TABLE}",
    "DROP FUNCTION IF EXISTS deliverables_open_work_track()",
    "DROP FUNCTION IF EXISTS deliverables_open_work_truncate()",
]
SQLITE = [
    "DROP TRIGGER IF EXISTS deliverables_open_work_insert",
    "DROP TRIGGER IF EXISTS deliverables_open_work_update",
    "DROP TRIGGER IF EXISTS deliverables_open_work_delete",
]
BEAT_TASK = "Open work tally"


def drop_tally_machinery(apps, schema_editor):
    statements = {"postgresql": POSTGRESQL, "sqlite": SQLITE}[schema_editor.connection.vendor]
    for statement in statements:
        schema_editor.execute(statement, params=None)
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=BEAT_TASK).delete()
    # Its permissions (and any group's or person's hold on them) go with it.
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="deliverables", model="openwork").delete()


def restore_tally_machinery(apps, schema_editor):
    """Backwards, after the table is created again: migration 0010's triggers (the
    truncate trigger among them) with migration 0019's rule for open work, and the
    beat task. The content type and permissions come back with the next migrate's
    post_migrate step, as for any model."""
    first = importlib.import_module("deliverables.migrations.0010_open_work")
    latest = importlib.import_module("deliverables.migrations.0019_cancelled_deliverables")
    first.create_triggers(apps, schema_editor)
    latest.create_triggers(apps, schema_editor)
    first.schedule_refresh(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
        ("deliverables", "0022_reviews_move_to_own_app"),
    ]

    operations = [
        migrations.RunPython(drop_tally_machinery, restore_tally_machinery),
        migrations.DeleteModel(name="OpenWork"),
    ]
