"""Admins see everyone's API tokens in the Django admin and may revoke any of them
(mlteam.accounts.permissions.REVOKE_ANY_PERMISSION)."""

from django.db import migrations

from mlteam.migration_ops import AdminsGrant


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_token_name_per_person"),
        # The Admins group and its permissions (set there, so this adds after it).
        ("roles", "0002_groups"),
    ]

    operations = [AdminsGrant({"accounts": ["view_apitoken", "delete_apitoken"]})]
