"""Migration 0023 removes the open-work tally with its content type and
permissions, so the admin's permission lists offer nothing for a model that no
longer exists."""

from __future__ import annotations

import pytest

from tests.migrations import migrate_to, migrate_to_latest

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

BEFORE = [("deliverables", "0022_reviews_move_to_own_app")]
AFTER = [("deliverables", "0023_remove_open_work")]


def test_the_tally_leaves_no_permission_behind():
    apps = migrate_to(BEFORE)
    try:
        ContentType = apps.get_model("contenttypes", "ContentType")
        Permission = apps.get_model("auth", "Permission")
        Group = apps.get_model("auth", "Group")
        # As a database that ran the tally has them: its content type, its
        # permissions, one of them held by a group. (Whether they are there yet
        # depends on how the test database was built.)
        tally, _created = ContentType.objects.get_or_create(
            app_label="deliverables", model="openwork"
        )
        view, _created = Permission.objects.get_or_create(
            content_type=tally,
            codename="view_openwork",
            defaults={"name": "Can view open work tally"},
        )
        group = Group.objects.create(name="Auditors")
        group.permissions.add(view)
        kept = ContentType.objects.get(app_label="deliverables", model="deliverable")

        apps = migrate_to(AFTER)
        ContentType = apps.get_model("contenttypes", "ContentType")
        Permission = apps.get_model("auth", "Permission")
        Group = apps.get_model("auth", "Group")
        assert not ContentType.objects.filter(app_label="deliverables", model="openwork").exists()
        assert not Permission.objects.filter(codename__endswith="_openwork").exists()
        assert list(Group.objects.get(name="Auditors").permissions.all()) == []
        assert ContentType.objects.filter(pk=kept.pk).exists()
        assert Permission.objects.filter(content_type_id=kept.pk).exists()
    finally:
        migrate_to_latest()
