"""What the calendar feeds list, decided when a feed is read.

Every row goes through the apps' own rules: `Deliverable.objects.visible_to`
(archived projects left out) and `.open()` for work, `Review.objects.visible_to`
for the review cycles that concern the person. Constant queries per feed: the
feed and its person (one), the work (one), the review cycles (one, own feeds).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from deliverables.models import Deliverable
from deliverables.reviews.models import Review, ReviewCycle
from roles.models import Project

from .models import CalendarFeed, secret_digest

# Review cycles that ended longer ago than this drop out of the feeds.
PAST_CYCLE_DAYS = 90
# At most this many deliverables in one feed (the soonest due first).
FEED_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class CalendarEntry:
    """One all-day event of a feed. `uid` is the same in every feed and every
    time the feed is read, so a calendar subscribed twice shows it once."""

    uid: str
    day: date
    summary: str
    description: str
    path: str  # the product page it links to, without the site address
    changed: datetime | None
    sequence: int


def feeds_of(*, user) -> list[CalendarFeed]:
    return list(CalendarFeed.objects.filter(person=user).select_related("project"))


def feed_projects(*, user) -> QuerySet[Project]:
    """The active projects `user` may see, for a project feed (a queryset: the
    form's choices)."""
    return Project.objects.visible_to(user).active().order_by("name", "pk")


def feed_for_secret(secret: str) -> CalendarFeed | None:
    """The feed this secret opens, if its person may still sign in."""
    return (
        CalendarFeed.objects.select_related("person__reminder_preference", "project")
        .filter(digest=secret_digest(secret), person__is_active=True)
        .first()
    )


def _work_entries(feed: CalendarFeed) -> list[CalendarEntry]:
    work = Deliverable.objects.visible_to(feed.person, active_only=True).open()
    if feed.project_id is None:
        work = work.filter(owner=feed.person)
    else:
        work = work.filter(project_id=feed.project_id)
    work = (
        work.filter(due_date__isnull=False)
        .select_related("type", "project", "owner")
        .order_by("due_date", "pk")[:FEED_LIMIT]
    )
    entries = []
    for deliverable in work:
        status = deliverable.get_status_display()
        if deliverable.owner:
            owner = deliverable.owner.get_full_name() or deliverable.owner.get_username()
        else:
            owner = _("nobody")
        entries.append(
            CalendarEntry(
                uid=f"deliverable-{deliverable.pk}",
                day=deliverable.due_date,
                summary=_("Due: %(deliverable)s (%(project)s)")
                % {"deliverable": deliverable.label, "project": deliverable.project.name},
                description=_("Status: %(status)s. Owner: %(owner)s.")
                % {"status": status, "owner": owner},
                path=reverse("deliverables:detail", args=[deliverable.pk]),
                changed=deliverable.updated_at,
                sequence=deliverable.version,
            )
        )
    return entries


def _cycle_entries(feed: CalendarFeed, today: date) -> list[CalendarEntry]:
    """The dates of the review cycles in which the person is reviewed or reviews
    someone: names and dates only, nothing of what a review says."""
    concerned = Review.objects.visible_to(feed.person).filter(
        Q(person=feed.person) | Q(manager=feed.person)
    )
    cycles = ReviewCycle.objects.filter(
        pk__in=concerned.values("cycle"), end_date__gte=today - timedelta(days=PAST_CYCLE_DAYS)
    ).order_by("start_date", "pk")
    entries = []
    for cycle in cycles:
        path = reverse("reviews:cycle_detail", args=[cycle.pk])
        entries.append(
            CalendarEntry(
                uid=f"review-cycle-{cycle.pk}-expectations",
                day=cycle.expectations_due_on(),
                summary=_("Expectations due: %(cycle)s") % {"cycle": cycle.name},
                description=_("Expectations for this review cycle should be written by now."),
                path=path,
                changed=None,
                sequence=cycle.version,
            )
        )
        entries.append(
            CalendarEntry(
                uid=f"review-cycle-{cycle.pk}-end",
                day=cycle.end_date,
                summary=_("Review cycle ends: %(cycle)s") % {"cycle": cycle.name},
                description=_("Evaluations of this review cycle are written after it ends."),
                path=path,
                changed=None,
                sequence=cycle.version,
            )
        )
    return entries


def feed_entries(*, feed: CalendarFeed, today: date) -> list[CalendarEntry]:
    """What `feed` lists now, for its person: their open work (own feed) or the
    project's (project feed) with a due date, and on their own feed the dates of
    the review cycles that concern them."""
    entries = _work_entries(feed)
    if feed.project_id is None:
        entries += _cycle_entries(feed, today)
    return entries
