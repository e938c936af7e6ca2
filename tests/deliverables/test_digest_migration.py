"""Migration 0016 gives existing digests a catch-up window and names old give-ups
"undelivered"; it can be reversed."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tests.migrations import migrate_to, migrate_to_latest

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

BEFORE = [("deliverables", "0020_reminder_preference_version")]
AFTER = [("deliverables", "0021_digest_delivery_outcomes")]


def test_existing_digests_get_a_window_and_old_give_ups_become_undelivered(settings):
    settings.REMINDER_CATCH_UP_DAYS = 3
    apps = migrate_to(BEFORE)
    try:
        User = apps.get_model("auth", "User")
        Digest = apps.get_model("deliverables", "Digest")
        Preference = apps.get_model("deliverables", "ReminderPreference")
        tokyo = User.objects.create(username="tokyo", email="t@example.com")
        Preference.objects.create(user=tokyo, time_zone="Asia/Tokyo")
        plain = User.objects.create(username="plain", email="p@example.com")
        day = date(2026, 11, 30)
        pending = Digest.objects.create(recipient=tokyo, local_date=day, status="pending")
        Digest.objects.create(recipient=plain, local_date=day, status="sending")
        Digest.objects.create(
            recipient=plain,
            local_date=date(2026, 11, 27),
            status="cancelled",
            last_error="gave up: [Errno 111] Connection refused",
        )
        Digest.objects.create(
            recipient=tokyo,
            local_date=date(2026, 11, 27),
            status="cancelled",
            last_error="nothing left to send",
        )

        apps = migrate_to(AFTER)
        Digest = apps.get_model("deliverables", "Digest")
        rows = {(d.recipient.username, d.local_date): d for d in Digest.objects.all()}
        # The end of Dec 3 in Tokyo, and in the site's zone (UTC) for the other.
        assert rows[("tokyo", day)].deliver_by == datetime(2026, 12, 3, 15, tzinfo=UTC)
        assert rows[("plain", day)].deliver_by == datetime(2026, 12, 4, tzinfo=UTC)
        assert rows[("plain", date(2026, 11, 27))].status == "undelivered"
        assert rows[("tokyo", date(2026, 11, 27))].status == "cancelled"
        Group = apps.get_model("auth", "Group")
        granted = set(
            Group.objects.get(name="Admins").permissions.values_list("codename", flat=True)
        )
        assert {"view_digest", "view_reminder"} <= granted
        assert pending.pk in {d.pk for d in Digest.objects.filter(status="pending")}

        Digest.objects.filter(pk=pending.pk).update(status="handed_over")
        apps = migrate_to(BEFORE)  # back: statuses the old code knows
        Digest = apps.get_model("deliverables", "Digest")
        assert set(Digest.objects.values_list("status", flat=True)) == {"sending", "cancelled"}
    finally:
        migrate_to_latest()
