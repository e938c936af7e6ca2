"""Reads for the team handbook, review cycles and reviews.

Review selectors only ever return reviews the viewer may see (the person, the
writing manager, admins), so a page built from them cannot leak one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.contrib.auth import get_user_model
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.utils.translation import gettext_lazy as _

from roles.models import Membership, Project
from roles.permissions import is_admin, is_manager

from ..models import (
    ChecklistItem,
    Deliverable,
    DeliverableStatus,
    Review,
    ReviewCycle,
    ReviewEvent,
    ReviewEventKind,
)

PROCESS_DOCUMENTATION = "process-documentation"

# The handbook page follows the guide's areas; a newcomer reads who to ask and
# what runs where first, then data, then models, then running them.
HANDBOOK_AREAS = [
    "Data",
    "Model",
    "Training",
    "Production and monitoring",
    "Pipelines",
    "SQL",
    "Infrastructure",
    "Communication",
]
NEWCOMER_ORDER = [
    "Communication",
    "Infrastructure",
    "Data",
    "SQL",
    "Pipelines",
    "Model",
    "Training",
    "Production and monitoring",
]
PROJECT_QUESTIONS_LABEL = _("This project's own questions")


# --- handbook -----------------------------------------------------------------------------


@dataclass
class HandbookArea:
    key: str
    label: str
    items: list[ChecklistItem]

    @property
    def answered(self) -> int:
        return sum(1 for item in self.items if item.is_complete)


@dataclass
class Handbook:
    project: Project
    deliverable: Deliverable | None
    items: list[ChecklistItem] = field(default_factory=list)
    today: date | None = None

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def answered(self) -> int:
        return sum(1 for item in self.items if item.is_complete)

    @property
    def required_total(self) -> int:
        return sum(1 for item in self.items if item.required)

    @property
    def required_answered(self) -> int:
        return sum(1 for item in self.items if item.required and item.is_complete)

    @property
    def percent(self) -> int | None:
        return round(100 * self.answered / self.total) if self.total else None

    @property
    def review_on(self) -> date | None:
        return self.project.handbook_review_on

    @property
    def review_overdue(self) -> bool:
        return bool(self.review_on and self.today and self.review_on < self.today)

    def areas(self, order: list[str] = HANDBOOK_AREAS, answered_only: bool = False):
        """Questions grouped by area in `order`, other areas after; the project's own
        questions sit in the area chosen for them, or last when they have none."""
        groups: dict[str, list[ChecklistItem]] = {}
        own: list[ChecklistItem] = []
        for item in self.items:
            if answered_only and not item.is_complete:
                continue
            if item.project_question and not item.area:
                own.append(item)
            else:
                groups.setdefault(item.area, []).append(item)
        keys = [key for key in order if key in groups]
        keys += sorted(key for key in groups if key not in order)
        result = [
            HandbookArea(key, groups[key][0].display_area or str(_("Other")), groups[key])
            for key in keys
        ]
        if own:
            result.append(HandbookArea("project", str(PROJECT_QUESTIONS_LABEL), own))
        return result

    def newcomer_areas(self):
        return self.areas(NEWCOMER_ORDER, answered_only=True)


def handbook_candidates(*, project) -> QuerySet[Deliverable]:
    """A project's process documentation, the handbook first: the first not
    cancelled, if several were planned (one planned again after the first was
    cancelled takes over); when every one is cancelled, the first, whose answers stay
    readable. `project` may be an OuterRef, so the dashboards pick the same one."""
    cancelled_last = Case(
        When(status=DeliverableStatus.CANCELLED, then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )
    return Deliverable.objects.filter(project=project, type__slug=PROCESS_DOCUMENTATION).order_by(
        cancelled_last, "pk"
    )


def handbook_deliverable(*, project: Project) -> Deliverable | None:
    """The project's process documentation shown as its handbook (`handbook_candidates`)."""
    return handbook_candidates(project=project).select_related("owner", "type").first()


def project_handbook(*, project: Project, today: date) -> Handbook:
    deliverable = handbook_deliverable(project=project)
    items = []
    if deliverable is not None:
        items = list(
            deliverable.checklist_items.select_related("answered_by").order_by("position", "pk")
        )
    return Handbook(project=project, deliverable=deliverable, items=items, today=today)


@dataclass
class HandbookSummary:
    """How complete a project's handbook is, for the project page (counts only)."""

    project: Project
    deliverable_id: int | None
    total: int = 0
    answered: int = 0
    today: date | None = None

    @property
    def deliverable(self) -> bool:
        return self.deliverable_id is not None

    percent = Handbook.percent
    review_on = Handbook.review_on
    review_overdue = Handbook.review_overdue


def handbook_item_get(*, project: Project, pk: int) -> ChecklistItem | None:
    return ChecklistItem.objects.filter(
        pk=pk, deliverable__project=project, deliverable__type__slug=PROCESS_DOCUMENTATION
    ).first()


# --- review cycles and reviews --------------------------------------------------------------


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
        for review in Review.objects.filter(cycle=cycle, manager=user).select_related("person")
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
        Review.objects.filter(cycle=cycle, person=person).select_related("manager").order_by("pk")
    )


def all_reviews(*, cycle: ReviewCycle, viewer) -> list[Review]:
    """Every review in the cycle, for admins only (empty for anyone else)."""
    if not is_admin(viewer):
        return []
    return list(
        Review.objects.filter(cycle=cycle)
        .select_related("person", "manager")
        .order_by("person__username", "pk")
    )


def cycle_summaries(*, user) -> dict[int, dict]:
    """Per cycle, what concerns `user` only: reviews about them, and reviews they wrote."""
    about_me = dict(
        Review.objects.filter(person=user)
        .values("cycle_id")
        .annotate(count=Count("pk"))
        .values_list("cycle_id", "count")
    )
    written = {
        row["cycle_id"]: row
        for row in Review.objects.filter(manager=user)
        .values("cycle_id")
        .annotate(
            count=Count("pk"),
            evaluated=Count("pk", filter=Q(evaluation_shared_at__isnull=False)),
        )
    }
    return {"about_me": about_me, "written": written}


def review_written_by(*, cycle: ReviewCycle, person, manager) -> Review | None:
    """The review `manager` wrote about `person` in `cycle`, if any (their own only)."""
    return Review.objects.filter(cycle=cycle, person=person, manager=manager).first()


def review_get_for_user(*, user, pk: int) -> Review | None:
    """The review, if `user` may see it (else None: the view answers 404)."""
    if not user.is_authenticated or not user.is_active:
        return None
    reviews = Review.objects.select_related("cycle", "person", "manager")
    if not is_admin(user):
        reviews = reviews.filter(Q(person=user) | Q(manager=user))
    return reviews.filter(pk=pk).first()


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


def reviews_waiting_for(*, user) -> list[Review]:
    """Reviews about `user` that wait for them: expectations or a shared evaluation
    still to acknowledge (shown only to `user`, on their home page)."""
    if not user.is_authenticated:
        return []
    return list(
        Review.objects.filter(person=user)
        .filter(
            Q(expectations_acknowledged_at__isnull=True)
            | Q(evaluation_shared_at__isnull=False, evaluation_acknowledged_at__isnull=True)
        )
        .select_related("cycle", "manager")
        .order_by("cycle__start_date", "pk")[:10]
    )
