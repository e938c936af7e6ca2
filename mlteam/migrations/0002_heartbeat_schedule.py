"""Schedule the worker heartbeat every minute (editable in the admin)."""

from django.db import migrations

from mlteam.migration_ops import BeatSchedule


class Migration(migrations.Migration):
    dependencies = [
        ("mlteam", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [BeatSchedule("Worker heartbeat", "mlteam.heartbeat", every=1, period="minutes")]
