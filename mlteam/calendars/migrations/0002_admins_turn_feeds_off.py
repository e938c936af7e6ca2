"""Admins see who has calendar feeds in the Django admin and may turn any of them off."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CODENAMES = ["view_calendarfeed", "delete_calendarfeed"]


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    admins, _ = Group.objects.get_or_create(name="Admins")
    admins.permissions.add(
        *Permission.objects.filter(content_type__app_label="calendars", codename__in=CODENAMES)
    )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    admins = Group.objects.filter(name="Admins").first()
    if admins:
        admins.permissions.remove(
            *Permission.objects.filter(content_type__app_label="calendars", codename__in=CODENAMES)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("calendars", "0001_feeds"),
        # The Admins group and its permissions (set there, so this adds after it).
        ("roles", "0002_groups"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
