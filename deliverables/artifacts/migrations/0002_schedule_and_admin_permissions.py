"""Schedule the artifact polling sweep every minute (editable in the admin); admins
connect systems in the Django admin and read the polls' states there."""

from django.db import migrations

from mlteam.migration_ops import AdminsGrant, BeatSchedule

ADMIN_PERMISSIONS = [
    f"{action}_artifactsystem" for action in ("add", "change", "delete", "view")
] + ["view_artifactstate"]


class Migration(migrations.Migration):
    dependencies = [
        ("artifacts", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
        ("roles", "0002_groups"),
    ]

    operations = [
        BeatSchedule("Artifact polling sweep", "polling.artifacts_sweep", every=1),
        AdminsGrant({"artifacts": ADMIN_PERMISSIONS}),
    ]
