"""Schedule the webhook sweeps (editable in the admin): due deliveries every minute,
overdue events every hour. Admins manage site-wide endpoints and the allow-list in
the Django admin, and read the deliveries there."""

from django.db import migrations

from mlteam.migration_grants import AdminsGrant

ADMIN_PERMISSIONS = [
    f"{action}_{model}"
    for model in ("webhookendpoint", "webhookallowedhost")
    for action in ("add", "change", "delete", "view")
] + ["view_webhookdelivery"]

SCHEDULES = [
    ("Webhook delivery sweep", "notifications.delivery_sweep", 1),
    ("Webhook overdue events", "notifications.overdue_sweep", 60),
]


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, minutes in SCHEDULES:
        interval, _ = IntervalSchedule.objects.get_or_create(every=minutes, period="minutes")
        PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "interval": interval})


def unschedule(apps, schema_editor):
    names = [name for name, _task, _minutes in SCHEDULES]
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=names).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
        ("roles", "0002_groups"),
    ]

    operations = [
        migrations.RunPython(schedule, unschedule),
        AdminsGrant({"notifications": ADMIN_PERMISSIONS}),
    ]
