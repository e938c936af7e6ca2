"""Admins see who has calendar feeds in the Django admin and may turn any of them off."""

from django.db import migrations

from mlteam.migration_ops import AdminsGrant


class Migration(migrations.Migration):
    dependencies = [
        ("calendars", "0001_feeds"),
        # The Admins group and its permissions (set there, so this adds after it).
        ("roles", "0002_groups"),
    ]

    operations = [AdminsGrant({"calendars": ["view_calendarfeed", "delete_calendarfeed"]})]
