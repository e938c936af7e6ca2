"""The history catch-up: a mark per history table (how far its entries were
published to webhooks), and its beat schedule, every minute (editable in the admin)."""

from django.db import migrations, models

from mlteam.migration_ops import BeatSchedule

NAME = "Webhook history catch-up"
TASK = "notifications.history_catch_up"


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0003_endpoint_version_in_admin_forms"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.CreateModel(
            name="HistoryFanOutMark",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "history",
                    models.CharField(max_length=100, unique=True, verbose_name="history table"),
                ),
                (
                    "last_id",
                    models.PositiveBigIntegerField(default=0, verbose_name="last entry published"),
                ),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated")),
            ],
            options={
                "verbose_name": "history fan-out mark",
                "verbose_name_plural": "history fan-out marks",
            },
        ),
        BeatSchedule(NAME, TASK, every=1, period="minutes"),
    ]
