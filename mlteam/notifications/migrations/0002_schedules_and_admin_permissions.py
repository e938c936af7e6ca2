"""Schedule the webhook sweeps (editable in the admin): due deliveries every minute,
overdue events every hour. Admins manage site-wide endpoints and the allow-list in
the Django admin, and read the deliveries there."""

from django.db import migrations

from mlteam.migration_ops import AdminsGrant, BeatSchedule

ADMIN_PERMISSIONS = [
    f"{action}_{model}"
    for model in ("webhookendpoint", "webhookallowedhost")
    for action in ("add", "change", "delete", "view")
] + ["view_webhookdelivery"]

SCHEDULES = [
    ("Webhook delivery sweep", "notifications.delivery_sweep", 1),
    ("Webhook overdue events", "notifications.overdue_sweep", 60),
]


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
        ("roles", "0002_groups"),
    ]

    operations = [
        *(BeatSchedule(name, task, every=minutes) for name, task, minutes in SCHEDULES),
        AdminsGrant({"notifications": ADMIN_PERMISSIONS}),
    ]
