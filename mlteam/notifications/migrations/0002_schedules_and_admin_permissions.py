"""Schedule the webhook sweeps (editable in the admin): due deliveries every minute,
overdue events every hour. Admins manage site-wide endpoints and the allow-list in
the Django admin, and read the deliveries there."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

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
    app_config = apps.get_app_config("notifications")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    admins, _ = apps.get_model("auth", "Group").objects.get_or_create(name="Admins")
    admins.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="notifications", codename__in=ADMIN_PERMISSIONS
        )
    )


def unschedule(apps, schema_editor):
    names = [name for name, _task, _minutes in SCHEDULES]
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=names).delete()
    admins = apps.get_model("auth", "Group").objects.filter(name="Admins").first()
    if admins:
        admins.permissions.remove(
            *apps.get_model("auth", "Permission").objects.filter(
                content_type__app_label="notifications", codename__in=ADMIN_PERMISSIONS
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
        ("roles", "0002_groups"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
