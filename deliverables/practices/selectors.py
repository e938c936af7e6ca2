"""Reads for the team handbook (review cycles and reviews: `deliverables.reviews`)."""

from __future__ import annotations

from dataclasses import InitVar, dataclass, field
from datetime import date

from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.utils.translation import gettext_lazy as _

from roles.models import Project

from ..models import ChecklistItem, Deliverable, DeliverableStatus

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
    """How complete a project's handbook is, for the project page (counts only).

    Plain values, as the project page is cached (mlteam/cache.py): of the project
    it keeps only the review date."""

    project: InitVar[Project]
    deliverable_id: int | None
    total: int = 0
    answered: int = 0
    today: date | None = None
    review_on: date | None = field(init=False)

    def __post_init__(self, project: Project) -> None:
        self.review_on = project.handbook_review_on

    @property
    def deliverable(self) -> bool:
        return self.deliverable_id is not None

    percent = Handbook.percent
    review_overdue = Handbook.review_overdue


def handbook_item_get(*, project: Project, pk: int) -> ChecklistItem | None:
    return ChecklistItem.objects.filter(
        pk=pk, deliverable__project=project, deliverable__type__slug=PROCESS_DOCUMENTATION
    ).first()
