"""Schedule the chat sweeps (editable in the admin): due summaries every five
minutes, due messages every minute. Admins manage channels in the Django admin
and read their messages there."""

from django.db import migrations

from mlteam.migration_ops import AdminsGrant, BeatSchedule

ADMIN_PERMISSIONS = [
    f"{action}_chatchannel" for action in ("add", "change", "delete", "view")
] + ["view_chatdelivery"]

SCHEDULES = [
    ("Chat summary sweep", "chat.summary_sweep", 5),
    ("Chat delivery sweep", "chat.delivery_sweep", 1),
]


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
        ("roles", "0002_groups"),
    ]

    operations = [
        *(BeatSchedule(name, task, every=minutes) for name, task, minutes in SCHEDULES),
        AdminsGrant({"chat": ADMIN_PERMISSIONS}),
    ]
