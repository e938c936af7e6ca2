"""Admins define review cycles in the Django admin and may read reviews there."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "reviewcycle": ["add", "change", "delete", "view"],
    "review": ["view"],
    "reviewevent": ["view"],
    "reviewreminder": ["view"],
}


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    admins, _ = Group.objects.get_or_create(name="Admins")
    for model, actions in GRANTS.items():
        admins.permissions.add(
            *Permission.objects.filter(
                content_type__app_label="deliverables",
                codename__in=[f"{action}_{model}" for action in actions],
            )
        )


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    admins = Group.objects.filter(name="Admins").first()
    if admins:
        admins.permissions.remove(
            *Permission.objects.filter(
                content_type__app_label="deliverables", content_type__model__in=list(GRANTS)
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("deliverables", "0006_handbook_and_reviews"),
        ("roles", "0002_groups"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
