"""Admins see sign-in lockouts in the Django admin and clear them (django-axes'
AccessAttempt: deleting its rows ends the lockout), and read the sign-in logs."""

from django.db import migrations

from mlteam.migration_ops import AdminsGrant


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_admins_manage_sign_in"),
        ("roles", "0002_groups"),
        ("axes", "0010_accessattemptexpiration"),
    ]

    operations = [
        AdminsGrant(
            {
                "axes": [
                    "view_accessattempt",
                    "delete_accessattempt",
                    "view_accesslog",
                    "view_accessfailurelog",
                ]
            }
        )
    ]
