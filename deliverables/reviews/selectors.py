"""Reads for review cycles and reviews.

Every selector of reviews filters through `Review.objects.visible_to(viewer)`
(the person, the writing manager, admins), so a page built from them cannot
leak one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.contrib.auth import get_user_model
from django.db.models import BooleanField, Count, ExpressionWrapper, Q, QuerySet

from deliverables.models import Deliverable
from mlteam.people import person_name
from roles.models import Membership, Project
from roles.permissions import is_admin, is_manager

from .models import Review, ReviewAccess, ReviewCycle, ReviewEvent, ReviewEventKind


def cycle_list() -> QuerySet[ReviewCycle]:
    """Cycles are not private (a name and two dates); what is in them is."""
    return ReviewCycle.objects.select_related("created_by").order_by("-start_date", "name")


def cycle_get(*, pk: int) -> ReviewCycle | None:
    return ReviewCycle.objects.select_related("created_by").filter(pk=pk).first()


def managed_people(*, user) -> QuerySet:
    """People `user` may write expectations for: members of the active projects
    that list them as a manager (admins too: they see every review, but write
    only for their own teams), not themselves."""
    User = get_user_model()
    if not user.is_authenticated or not (is_admin(user) or is_manager(user)):
        return User.objects.none()
    projects = Project.objects.active().filter(
        pk__in=Project.managers.through.objects.filter(user=user).values("project_id")
    )
    members = Membership.objects.filter(project__in=projects.values("pk")).values("user_id")
    return (
        User.objects.filter(pk__in=members, is_active=True)
        .exclude(pk=user.pk)
        .order_by("first_name", "last_name", "username")
    )


@dataclass
class ReviewRow:
    person: object
    review: Review | None


def cycle_rows_for_manager(*, cycle: ReviewCycle, user) -> list[ReviewRow]:
    """The people `user` manages, with the review `user` wrote for them in `cycle`
    (or None). Also people who left the team but already have one from `user`."""
    reviews = {
        review.person_id: review
        for review in Review.objects.visible_to(user)
        .filter(cycle=cycle, manager=user)
        .select_related("person")
    }
    people = {person.pk: person for person in managed_people(user=user)}
    for person_id, review in reviews.items():
        people.setdefault(person_id, review.person)
    ordered = sorted(
        people.values(), key=lambda p: ((p.get_full_name() or p.username).lower(), p.pk)
    )
    return [ReviewRow(person, reviews.get(person.pk)) for person in ordered]


def reviews_of(*, cycle: ReviewCycle, person) -> list[Review]:
    """The reviews written about `person` in `cycle`: only ever shown to `person`."""
    return list(
        Review.objects.visible_to(person)
        .filter(cycle=cycle, person=person)
        .select_related("manager")
        .order_by("pk")
    )


def all_reviews(*, cycle: ReviewCycle, viewer) -> list[Review]:
    """Every review in the cycle, for admins only (empty for anyone else)."""
    if not is_admin(viewer):
        return []
    return list(
        Review.objects.visible_to(viewer)
        .filter(cycle=cycle)
        .select_related("person", "manager")
        .order_by("person__username", "pk")
    )


def cycle_summaries(*, user) -> dict[int, dict]:
    """Per cycle, what concerns `user` only: reviews about them, and reviews they wrote."""
    reviews = Review.objects.visible_to(user)
    about_me = dict(
        reviews.filter(person=user)
        .values("cycle_id")
        .annotate(count=Count("pk"))
        .values_list("cycle_id", "count")
    )
    written = {
        row["cycle_id"]: row
        for row in reviews.filter(manager=user)
        .values("cycle_id")
        .annotate(
            count=Count("pk"),
            evaluated=Count("pk", filter=Q(evaluation_shared_at__isnull=False)),
        )
    }
    return {"about_me": about_me, "written": written}


def review_written_by(*, cycle: ReviewCycle, person, manager) -> Review | None:
    """The review `manager` wrote about `person` in `cycle`, if any (their own only)."""
    return (
        Review.objects.visible_to(manager)
        .filter(cycle=cycle, person=person, manager=manager)
        .first()
    )


def review_get_for_user(*, user, pk: int) -> Review | None:
    """The review, if `user` may see it (else None: the view answers 404)."""
    return (
        Review.objects.visible_to(user)
        .select_related("cycle", "person", "manager")
        .filter(pk=pk)
        .first()
    )


def review_deliverables(*, review: Review, viewer, today: date) -> list[Deliverable]:
    """The deliverables linked to the review that `viewer` may see: a person who
    left a project (or never was on it) no longer sees its work here, as nowhere
    else; the writing manager and admins see what they may see themselves. Each
    says whether it is `overdue` on `today`."""
    return list(
        review.deliverables.visible_to(viewer)
        .with_overdue(today)
        .select_related("project", "type")
        .order_by("due_date", "pk")
    )


def review_linked_ids(*, review: Review, viewer) -> list[int]:
    """Ids of the deliverables linked to the review that `viewer` may see."""
    return list(review.deliverables.visible_to(viewer).values_list("pk", flat=True))


def review_history(*, review: Review, viewer, limit: int = 50) -> list[ReviewEvent]:
    """The review's changes; the person does not see the manager's draft saves."""
    events = review.events.select_related("actor")
    if viewer.pk == review.person_id:
        events = events.exclude(kind=ReviewEventKind.EVALUATION_SAVED)
    return list(events[:limit])


def review_reads(*, review: Review) -> QuerySet[ReviewAccess]:
    """Who read the review, newest first (index `reviewaccess_review_new`), with
    their accounts: one query for any page of it. Callers check
    `permissions.can_view_review_reads` first."""
    return review.accesses.select_related("reader").order_by("-created_at", "-pk")


def review_reads_latest(*, review: Review, limit: int) -> tuple[list[ReviewAccess], bool]:
    """The `limit` latest reads of the review, and whether there are older ones."""
    rows = list(review_reads(review=review)[: limit + 1])
    return rows[:limit], len(rows) > limit


def linkable_deliverables(*, manager, person, also=()) -> QuerySet[Deliverable]:
    """Deliverables `person` owns on active projects `manager` manages (admins: any),
    plus those of `also` (already linked) that `manager` may see, which stay offered."""
    work = Deliverable.objects.filter(owner=person, project__archived_at__isnull=True)
    if not is_admin(manager):
        work = work.filter(
            project__in=Project.managers.through.objects.filter(user=manager).values("project_id")
        )
    if also:
        # Already linked work stays offered only while `manager` may see it.
        kept = Deliverable.objects.filter(pk__in=list(also)).visible_to(manager)
        work = Deliverable.objects.filter(Q(pk__in=work.values("pk")) | Q(pk__in=kept.values("pk")))
    return work.select_related("project", "type").order_by("project__name", "due_date", "pk")


@dataclass(frozen=True)
class ReviewWaiting:
    """A review waiting for its person, as their home page lists it (plain values:
    the home page is cached, mlteam/cache.py)."""

    EVALUATION = "evaluation"
    EXPECTATIONS = "expectations"

    pk: int
    cycle_name: str
    manager_name: str
    what: str  # EVALUATION (shared, to acknowledge), else EXPECTATIONS


def reviews_waiting_for(*, user) -> list[ReviewWaiting]:
    """Reviews about `user` that wait for them: expectations or a shared evaluation
    still to acknowledge (shown only to `user`, on their home page)."""
    if not user.is_authenticated:
        return []
    evaluation_waiting = Q(
        evaluation_shared_at__isnull=False, evaluation_acknowledged_at__isnull=True
    )
    reviews = (
        Review.objects.visible_to(user)
        .filter(person=user)
        .filter(Q(expectations_acknowledged_at__isnull=True) | evaluation_waiting)
        .annotate(evaluation_waiting=ExpressionWrapper(evaluation_waiting, BooleanField()))
        .select_related("cycle", "manager")
        .order_by("cycle__start_date", "pk")[:10]
    )
    return [
        ReviewWaiting(
            pk=review.pk,
            cycle_name=review.cycle.name,
            manager_name=person_name(review.manager),
            what=ReviewWaiting.EVALUATION
            if review.evaluation_waiting
            else ReviewWaiting.EXPECTATIONS,
        )
        for review in reviews
    ]
