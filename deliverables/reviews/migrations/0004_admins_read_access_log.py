"""Admins read the review access log in the Django admin (view only: the admin
offers no add, change or delete on it to anyone)."""

from django.db import migrations

from mlteam.migration_ops import AdminsGrant


class Migration(migrations.Migration):
    dependencies = [
        ("reviews", "0003_review_access_log"),
        # The Admins group and its permissions (set there, so this adds after it).
        ("roles", "0002_groups"),
    ]

    operations = [AdminsGrant({"reviews": ["view_reviewaccess"]})]
