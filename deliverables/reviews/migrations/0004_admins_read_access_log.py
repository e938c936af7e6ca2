"""Admins read the review access log in the Django admin (view only: the admin
offers no add, change or delete on it to anyone)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CODENAME = "view_reviewaccess"


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    admins, _ = Group.objects.get_or_create(name="Admins")
    admins.permissions.add(
        *Permission.objects.filter(content_type__app_label="reviews", codename=CODENAME)
    )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    admins = Group.objects.filter(name="Admins").first()
    if admins:
        admins.permissions.remove(
            *Permission.objects.filter(content_type__app_label="reviews", codename=CODENAME)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("reviews", "0003_review_access_log"),
        # The Admins group and its permissions (set there, so this adds after it).
        ("roles", "0002_groups"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
