"""Admins define review cycles in the Django admin and may read reviews there."""

from django.db import migrations

from mlteam.migration_ops import AdminsGrant

GRANTS = {
    "reviewcycle": ["add", "change", "delete", "view"],
    "review": ["view"],
    "reviewevent": ["view"],
    "reviewreminder": ["view"],
}


class Migration(migrations.Migration):
    dependencies = [
        ("deliverables", "0006_handbook_and_reviews"),
        ("roles", "0002_groups"),
    ]

    operations = [
        AdminsGrant(
            {
                "deliverables": [
                    f"{action}_{model}" for model, actions in GRANTS.items() for action in actions
                ]
            }
        )
    ]
