"""Admins edit readiness rubrics (a rubric, its sections and items) in the Django
admin, and read the waivers managers recorded."""

from django.db import migrations

from mlteam.migration_ops import AdminsGrant

GRANTS = {
    "rubric": ["add", "change", "delete", "view"],
    "rubricsection": ["add", "change", "delete", "view"],
    "rubricitem": ["add", "change", "delete", "view"],
    "rubricwaiver": ["view"],
}


class Migration(migrations.Migration):
    dependencies = [
        ("readiness", "0002_seed_rubrics"),
        ("roles", "0002_groups"),
    ]

    operations = [
        AdminsGrant(
            {
                "readiness": [
                    f"{action}_{model}" for model, actions in GRANTS.items() for action in actions
                ]
            }
        )
    ]
