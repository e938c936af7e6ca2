"""Create the Admins, Managers and Members groups with their permissions."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ADMIN_MODELS = {
    "roles": ["role", "project", "membership", "roleassignment"],
    "deliverables": ["deliverabletype", "checklistitemtemplate", "deliverable"],
    "django_celery_beat": [
        "periodictask", "intervalschedule", "crontabschedule", "clockedschedule", "solarschedule",
    ],
}


def create_groups(apps, schema_editor):
    # Permissions are normally created after migrate finishes; make sure they exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    admins, _ = Group.objects.get_or_create(name="Admins")
    admin_perms = Permission.objects.filter(codename="administer_projects")
    for app_label, models in ADMIN_MODELS.items():
        admin_perms = admin_perms | Permission.objects.filter(
            content_type__app_label=app_label, content_type__model__in=models
        )
    admins.permissions.set(admin_perms)

    managers, _ = Group.objects.get_or_create(name="Managers")
    managers.permissions.set(
        Permission.objects.filter(content_type__app_label="roles", codename="add_project")
    )
    Group.objects.get_or_create(name="Members")


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["Admins", "Managers", "Members"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("roles", "0001_initial"),
        ("deliverables", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
