"""Inbox entries of issue 18 beyond the work: expectations and an evaluation to
read (to the reviewed person only, with nothing of the review's content), the
daily summary when a digest goes out, and "Mark all read" leaving what arrived
after the page was drawn unread."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from deliverables import reminders
from deliverables.models import ReminderPreference
from deliverables.reviews import services as review_services
from deliverables.reviews.models import RATING_FIELDS, Review
from deliverables.services import comment_add, deliverable_create
from mlteam.notifications import selectors, services
from mlteam.notifications.models import InboxEntry, InboxKind
from tests.factories import UserFactory, deliverable_type
from tests.practices.conftest import EVALUATION, EXPECTATIONS, practices  # noqa: F401

pytestmark = pytest.mark.django_db

MONDAY = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)


def _entries(person) -> list[tuple[str, str]]:
    return [(entry.kind, entry.message) for entry in selectors.inbox_entries(person).reverse()]


# --- reviews ---------------------------------------------------------------------------------


def test_expectations_and_a_shared_evaluation_tell_the_person_only(practices):  # noqa: F811
    person, manager = practices.people["person"], practices.people["manager"]
    review_entries = [
        entry
        for entry in _entries(person)
        if entry[0] in (InboxKind.EXPECTATIONS, InboxKind.EVALUATION)
    ]
    assert review_entries == [
        (InboxKind.EXPECTATIONS, "Mari Kobayashi set your expectations for H2"),
        (InboxKind.EVALUATION, "Mari Kobayashi shared your evaluation for H2"),
    ]
    for persona in ("manager", "other_manager", "other_member", "admin"):
        reader = practices.people[persona]
        assert not InboxEntry.objects.filter(
            person=reader, kind__in=[InboxKind.EXPECTATIONS, InboxKind.EVALUATION]
        ).exists(), persona
    # The person's own self-assessment and acknowledgements tell the manager nothing.
    review_services.expectations_acknowledge(
        review=practices.review, actor=person, version=practices.review.version
    )
    assert not InboxEntry.objects.filter(person=manager, review__isnull=False).exists()


def test_a_draft_evaluation_is_not_announced_and_a_change_is(practices):  # noqa: F811
    person, manager = practices.people["person"], practices.people["manager"]
    other = UserFactory(username="newcomer", first_name="Nao", last_name="Mori")
    from roles.services import membership_add

    membership_add(project=practices.project, user=other, actor=manager)
    review = review_services.expectations_write(
        cycle=practices.cycle, person=other, actor=manager, text="Ship it.", deliverables=[]
    )
    review_services.evaluation_save(
        review=review,
        actor=manager,
        version=review.evaluation_version,
        ratings=dict.fromkeys(RATING_FIELDS, 3),
        comment="Draft",
        project_outcome="",
        share=False,
    )
    assert [kind for kind, _message in _entries(other) if kind == InboxKind.EVALUATION] == []
    review.refresh_from_db()
    review_services.expectations_update(
        review=review, actor=manager, version=review.version, text="Ship it twice.", deliverables=[]
    )
    assert _entries(other)[-1] == (
        InboxKind.EXPECTATIONS,
        "Mari Kobayashi changed your expectations for H2",
    )
    assert person not in {entry.person for entry in InboxEntry.objects.filter(review=review)}


def test_review_entries_keep_no_content_and_open_the_review(client, practices):  # noqa: F811
    person = practices.people["person"]
    client.force_login(person)
    page = client.get(reverse("notifications:inbox")).content.decode()
    assert "set your expectations for H2" in page
    assert EXPECTATIONS not in page and EVALUATION not in page
    entry = InboxEntry.objects.get(person=person, kind=InboxKind.EVALUATION)
    assert (entry.detail, entry.project_id) == ("evaluation_shared", None)
    response = client.get(reverse("notifications:inbox_open", args=[entry.pk]))
    assert response["Location"] == reverse("reviews:review_detail", args=[practices.review.pk])


@pytest.mark.parametrize("persona", ["manager", "other_manager", "other_member", "admin"])
def test_nobody_else_can_read_or_open_a_review_entry(client, practices, persona):  # noqa: F811
    entry = InboxEntry.objects.get(person=practices.people["person"], kind=InboxKind.EVALUATION)
    client.force_login(practices.people[persona])
    assert client.get(reverse("notifications:inbox_open", args=[entry.pk])).status_code == 404
    assert client.post(reverse("notifications:inbox_read", args=[entry.pk])).status_code == 404
    page = client.get(reverse("notifications:inbox")).content.decode()
    assert "your evaluation for H2" not in page
    entry.refresh_from_db()
    assert entry.read_at is None


# --- the daily summary -----------------------------------------------------------------------


def test_a_sent_digest_adds_one_summary_entry_linking_to_my_work(
    client, django_capture_on_commit_callbacks
):
    from roles.services import membership_add, project_create
    from tests.factories import manager_user

    manager = manager_user(username="boss")
    owner = UserFactory(username="worker", first_name="Wren", last_name="Ko")
    project = project_create(name="Summary", managers=[manager])
    membership_add(project=project, user=owner)
    for due in (date(2026, 11, 27), date(2026, 11, 26), date(2026, 12, 1)):
        deliverable_create(
            project=project,
            type=deliverable_type("analysis-report"),
            title=f"Work due {due}",
            owner=owner,
            due_date=due,
            actor=manager,
        )
    ReminderPreference.objects.create(
        user=owner, hour=0, working_days="0,1,2,3,4,5,6", time_zone="UTC"
    )
    for now in (MONDAY, MONDAY + timedelta(hours=3)):  # the second sweep adds nothing
        with django_capture_on_commit_callbacks(execute=True):
            reminders.reminder_sweep(
                now=now, send=lambda pk, now=now: reminders.digest_send(digest_id=pk, now=now)
            )

    (entry,) = InboxEntry.objects.filter(person=owner, kind=InboxKind.DIGEST)
    assert entry.message == "Your daily summary: 2 overdue, 1 due soon"
    client.force_login(owner)
    page = client.get(reverse("notifications:inbox")).content.decode()
    assert "Your daily summary: 2 overdue, 1 due soon" in page
    response = client.get(reverse("notifications:inbox_open", args=[entry.pk]))
    assert response["Location"] == reverse("deliverables:my_work")


# --- mark all read: only what the page drew --------------------------------------------------


@pytest.fixture
def team():
    from roles.services import membership_add, project_create
    from tests.factories import manager_user

    manager = manager_user(username="mari", first_name="Mari", last_name="Kobayashi")
    owner = UserFactory(username="kenji")
    project = project_create(name="Churn", managers=[manager])
    membership_add(project=project, user=owner)
    deliverable = deliverable_create(
        project=project, type=deliverable_type("prd"), owner=owner, actor=manager
    )
    return manager, owner, deliverable


def test_mark_all_read_leaves_what_arrived_after_the_page_was_drawn_unread(client, team):
    manager, owner, deliverable = team
    comment_add(deliverable=deliverable, actor=manager, body="Seen on the page.")
    client.force_login(owner)
    drawn = client.get(reverse("notifications:inbox"))
    newest = drawn.context["newest_id"]
    assert f'name="newest" value="{newest}"' in drawn.content.decode()
    # Meanwhile, another comment arrives; the reader never saw it.
    comment_add(deliverable=deliverable, actor=manager, body="Arrived meanwhile.")

    response = client.post(reverse("notifications:inbox_read_all"), {"newest": newest}, follow=True)

    assert "still new" in response.content.decode()
    assert selectors.unread_count(owner) == 1
    (unread,) = selectors.inbox_entries(owner).filter(read_at__isnull=True)
    assert unread.pk > newest
    # The list htmx swaps in after marking offers the new one, with the new newest.
    again = client.post(
        reverse("notifications:inbox_read_all"),
        {"newest": newest},
        headers={"HX-Request": "true"},
    )
    assert f'name="newest" value="{unread.pk}"' in again.content.decode()
    assert selectors.unread_count(owner) == 1


@pytest.mark.parametrize("newest", ["", "abc", "-1", "١٢"])
def test_mark_all_read_without_a_drawn_page_marks_nothing(client, team, newest):
    _manager, owner, _deliverable = team
    client.force_login(owner)
    response = client.post(reverse("notifications:inbox_read_all"), {"newest": newest})
    assert response.status_code == 302
    assert selectors.unread_count(owner) == 1


def test_mark_all_read_marks_only_the_readers_entries(team):
    _manager, owner, _deliverable = team
    other = UserFactory(username="other")
    InboxEntry.objects.create(
        person=other, kind=InboxKind.DIGEST, source="digest:test", detail="1,0"
    )
    assert services.inbox_mark_all_read(user=owner, newest_id=10**9) == 1
    assert InboxEntry.objects.get(person=other).read_at is None


# --- the inbox's cost does not grow with its entries ------------------------------------------


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_inbox_costs_the_same_with_few_and_many_review_and_summary_entries(
    client,
    practices,  # noqa: F811
):
    # Page: session, user, the person's permissions (visibility), the paginator's
    # count, the newest entry, the page's entries with actor, project, deliverable
    # and its type, review and its cycle. Count: session, user, permissions, the count.
    person = practices.people["person"]
    client.force_login(person)
    page, count = reverse("notifications:inbox"), reverse("notifications:inbox_count")

    def grow(n):
        start = InboxEntry.objects.count()
        InboxEntry.objects.bulk_create(
            [
                InboxEntry(
                    person=person, kind=InboxKind.DIGEST, source=f"digest:{start + i}", detail="1,2"
                )
                for i in range(n)
            ]
        )
        review = practices.review
        InboxEntry.objects.bulk_create(
            [
                InboxEntry(
                    person=person,
                    kind=InboxKind.EVALUATION,
                    source=f"review-test:{start + i}",
                    review=review,
                    actor=practices.people["manager"],
                    detail="evaluation_changed",
                )
                for i in range(n)
            ]
        )

    grow(2)
    small = _queries(client, page), _queries(client, count)
    grow(20)
    assert (_queries(client, page), _queries(client, count)) == small


def test_reviews_stay_private_after_the_review_changes_hands(practices):  # noqa: F811
    """An entry is read under the review rule: should the person stop seeing the
    review (their account off), their entries go with it."""
    person = practices.people["person"]
    assert selectors.inbox_entries(person).filter(review__isnull=False).exists()
    person.is_active = False
    person.save()
    assert not selectors.inbox_entries(person).filter(review__isnull=False).exists()
    assert Review.objects.visible_to(person).count() == 0
