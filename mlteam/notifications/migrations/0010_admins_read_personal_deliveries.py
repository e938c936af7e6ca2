"""Admins read personal deliveries in the Django admin (read only there)."""

from django.db import migrations

from mlteam.migration_ops import AdminsGrant


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0009_personal_delivery"),
        ("roles", "0002_groups"),
    ]

    operations = [AdminsGrant({"notifications": ["view_personaldelivery"]})]
