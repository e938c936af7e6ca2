"""Reviews moved from deliverables to their own app without moving a row: data
written under the old schema (deliverables 0021) reads the same through the new
models, and the permissions granted on the old content types stay attached."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tests.migrations import migrate_to, migrate_to_latest

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

BEFORE = [("deliverables", "0021_digest_delivery_outcomes")]
AFTER = [("reviews", "0001_initial")]


def _old_data(apps) -> dict:
    """A cycle, a review linked to a deliverable with two history rows, a digest
    with a review reminder, written through the old (deliverables) models."""
    User = apps.get_model("auth", "User")
    Group = apps.get_model("auth", "Group")
    Project = apps.get_model("roles", "Project")
    DeliverableType = apps.get_model("deliverables", "DeliverableType")
    Deliverable = apps.get_model("deliverables", "Deliverable")
    Digest = apps.get_model("deliverables", "Digest")
    ReviewCycle = apps.get_model("deliverables", "ReviewCycle")
    Review = apps.get_model("deliverables", "Review")
    ReviewEvent = apps.get_model("deliverables", "ReviewEvent")
    ReviewReminder = apps.get_model("deliverables", "ReviewReminder")

    manager = User.objects.create(username="mari", email="mari@example.com")
    person = User.objects.create(username="aiko", email="aiko@example.com")
    admin = User.objects.create(username="root-of-admins", email="a@example.com")
    admin.groups.add(Group.objects.get(name="Admins"))
    project = Project.objects.create(name="Churn")
    work = Deliverable.objects.create(
        project=project, type=DeliverableType.objects.order_by("pk").first(), owner=person
    )
    cycle = ReviewCycle.objects.create(
        name="First half",
        start_date=date(2026, 1, 1),
        end_date=date(2026, 6, 30),
        expectations_due_days=10,
        created_by=manager,
        version=3,
    )
    written = datetime(2026, 1, 5, 9, tzinfo=UTC)
    review = Review.objects.create(
        cycle=cycle,
        person=person,
        manager=manager,
        expectations="Own the churn report.",
        expectations_set_at=written,
        expectations_acknowledged_at=datetime(2026, 1, 6, 9, tzinfo=UTC),
        quality_code=4,
        evaluation_comment="Careful work.",
        version=5,
        evaluation_version=2,
    )
    review.deliverables.add(work)
    ReviewEvent.objects.create(review=review, actor=manager, kind="expectations_written")
    ReviewEvent.objects.create(
        review=review, actor=person, kind="expectations_acknowledged", before="a", after="b"
    )
    digest = Digest.objects.create(
        recipient=manager, local_date=date(2026, 7, 2), deliver_by=datetime(2026, 7, 5, tzinfo=UTC)
    )
    ReviewReminder.objects.create(
        cycle=cycle,
        recipient=manager,
        person=person,
        kind="evaluation_missing",
        local_date=date(2026, 7, 2),
        digest=digest,
    )
    return {"cycle": cycle.pk, "review": review.pk, "work": work.pk, "admin": admin.pk}


def test_reviews_written_under_the_old_schema_read_the_same_after_the_move():
    apps = migrate_to(BEFORE)
    try:
        ids = _old_data(apps)
        migrate_to(AFTER)
        migrate_to_latest()

        from django.contrib.auth import get_user_model
        from django.contrib.contenttypes.models import ContentType

        from deliverables.reviews.models import Review, ReviewCycle, ReviewEvent, ReviewReminder

        cycle = ReviewCycle.objects.get(pk=ids["cycle"])
        assert (cycle.name, cycle.start_date, cycle.end_date, cycle.version) == (
            "First half", date(2026, 1, 1), date(2026, 6, 30), 3
        )  # fmt: skip
        assert cycle.created_by.username == "mari"
        review = Review.objects.get(pk=ids["review"])
        assert (review.cycle_id, review.person.username, review.manager.username) == (
            cycle.pk, "aiko", "mari"
        )  # fmt: skip
        assert review.expectations == "Own the churn report."
        assert review.expectations_acknowledged_at == datetime(2026, 1, 6, 9, tzinfo=UTC)
        assert (review.quality_code, review.evaluation_comment) == (4, "Careful work.")
        assert (review.version, review.evaluation_version) == (5, 2)
        assert list(review.deliverables.values_list("pk", flat=True)) == [ids["work"]]
        assert sorted(
            (event.kind, event.actor.username, event.display_before, event.display_after)
            for event in review.events.all()
        ) == [
            ("expectations_acknowledged", "aiko", "a", "b"),
            ("expectations_written", "mari", "", ""),
        ]
        assert ReviewEvent.objects.count() == 2
        (reminder,) = ReviewReminder.objects.all()
        assert (reminder.cycle_id, reminder.person.username, reminder.kind) == (
            cycle.pk, "aiko", "evaluation_missing"
        )  # fmt: skip
        assert reminder.digest.review_reminders.get() == reminder

        # The content types moved with the models: no row is left under deliverables,
        # and the Admins group keeps what migration 0007 granted it.
        moved = ["reviewcycle", "review", "reviewevent", "reviewreminder"]
        assert not ContentType.objects.filter(app_label="deliverables", model__in=moved).exists()
        admin = get_user_model().objects.get(pk=ids["admin"])
        assert admin.has_perm("reviews.view_review")
        assert admin.has_perm("reviews.change_reviewcycle")
        assert not admin.has_perm("deliverables.view_review")
        # Read through the visibility rule: the person, the writer, admins.
        assert Review.objects.visible_to(review.person).get() == review
        assert Review.objects.visible_to(admin).get() == review
    finally:
        migrate_to_latest()


def test_the_move_can_be_reversed_without_losing_rows():
    apps = migrate_to(BEFORE)
    try:
        ids = _old_data(apps)
        migrate_to(AFTER)
        apps = migrate_to(BEFORE)
        Review = apps.get_model("deliverables", "Review")
        ContentType = apps.get_model("contenttypes", "ContentType")
        assert Review.objects.get(pk=ids["review"]).events.count() == 2
        assert ContentType.objects.filter(app_label="deliverables", model="review").exists()
        assert not ContentType.objects.filter(app_label="reviews").exists()
    finally:
        migrate_to_latest()
