"""Schedule the daily purge of inbox entries older than 90 days (editable in the
admin). Data only: the table came with 0007."""

from django.db import migrations

from mlteam.migration_ops import BeatSchedule

NAME = "Inbox purge"
TASK = "notifications.inbox_purge"


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0007_inbox_entry"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [BeatSchedule(NAME, TASK, every=1, period="days")]
