"""Reads for pages about deliverables. Each decides its page's queries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.core.paginator import Page, Paginator
from django.db.models import (
    BooleanField,
    Case,
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext

from roles.models import Membership, Project, RoleAssignment, TeamChange

from . import services
from .models import (
    AnswerKind,
    ChecklistItem,
    Deliverable,
    DeliverableEvent,
    DeliverableStatus,
    DeliverableType,
    DigestStatus,
    OpenWork,
    Reminder,
)

COMPLETE_ITEM = (
    Q(answer_kind=AnswerKind.TICK, checked=True)
    | (Q(answer_kind=AnswerKind.TEXT) & ~Q(answer=""))
    | (Q(answer_kind=AnswerKind.LINK) & ~Q(link=""))
)


def _item_count(condition: Q) -> Coalesce:
    rows = (
        ChecklistItem.objects.filter(condition, deliverable=OuterRef("pk"))
        .order_by()
        .values("deliverable")
        .annotate(n=Count("*"))  # not COUNT(id): the count can come from an index alone
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))


def visible_deliverables(*, user) -> QuerySet[Deliverable]:
    """Deliverables of the active projects `user` may see."""
    return Deliverable.objects.filter(
        project__in=Project.objects.visible_to(user).active().values("pk")
    )


def _with_progress(deliverables: QuerySet[Deliverable], today: date) -> QuerySet[Deliverable]:
    return deliverables.select_related("project", "type__role", "owner").annotate(
        overdue=ExpressionWrapper(
            Q(due_date__lt=today) & ~Q(status=DeliverableStatus.DONE), output_field=BooleanField()
        ),
        items_total=_item_count(Q()),
        items_done=_item_count(COMPLETE_ITEM),
        required_open=_item_count(Q(required=True) & ~COMPLETE_ITEM),
    )


@dataclass
class DeliverableFilters:
    project: int | None = None
    role: int | None = None
    type: int | None = None
    status: str = ""
    owner: int | None = None
    overdue: bool = False
    due_within: int | None = None
    query: str = ""
    sort: str = "due"


SORTS = {
    "due": (F("due_date").asc(nulls_last=True), "pk"),
    "-due": (F("due_date").desc(nulls_last=True), "-pk"),
    "title": ("title", "pk"),
    "project": ("project__name", "due_date", "pk"),
    "status": ("status", "due_date", "pk"),
    "owner": ("owner__first_name", "owner__username", "pk"),
    "updated": ("-updated_at", "-pk"),
}


def _filtered(*, user, filters: DeliverableFilters, today: date) -> QuerySet[Deliverable]:
    """The filtered, sorted deliverables `user` may see: no joins but those the sort needs."""
    rows = visible_deliverables(user=user)
    if filters.project:
        rows = rows.filter(project_id=filters.project)
    if filters.role:
        rows = rows.filter(type__role_id=filters.role)
    if filters.type:
        rows = rows.filter(type_id=filters.type)
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.owner:
        rows = rows.filter(owner_id=filters.owner)
    if filters.overdue:
        rows = rows.overdue(today)
    if filters.due_within is not None:
        rows = rows.open().filter(
            due_date__gte=today, due_date__lte=today + timedelta(days=filters.due_within)
        )
    if filters.query:
        rows = rows.filter(title__icontains=filters.query)
    return rows.order_by(*SORTS.get(filters.sort, SORTS["due"]))


def deliverable_list(*, user, filters: DeliverableFilters, today: date) -> QuerySet[Deliverable]:
    """The filtered, sorted deliverables `user` may see (the CSV export: every row)."""
    return _with_progress(_filtered(user=user, filters=filters, today=today), today)


def deliverable_list_page(
    *, user, filters: DeliverableFilters, today: date, page_number, per_page: int
) -> Page:
    """One page of the list (two queries: the count, then the rows).

    The page is chosen on the deliverables table alone (`pk IN (SELECT ... ORDER BY
    ... LIMIT)`); only its rows are joined to project, type, role and owner and get
    their checklist progress. Sorting 50,000 rows already joined to those tables
    cost ~100 ms on PostgreSQL; sorting the bare rows costs ~15 ms."""
    rows = _filtered(user=user, filters=filters, today=today)
    page = Paginator(rows.values("pk"), per_page).get_page(page_number)
    page.object_list = list(
        _with_progress(Deliverable.objects.filter(pk__in=page.object_list), today).order_by(
            *rows.query.order_by
        )
    )
    return page


def my_work(*, user, today: date, soon_days: int = 7) -> QuerySet[Deliverable]:
    """The open deliverables `user` owns: overdue first, then due soon, then the rest."""
    rows = visible_deliverables(user=user).open().filter(owner=user)
    return (
        _with_progress(rows, today)
        .annotate(
            urgency=Case(
                When(due_date__lt=today, then=Value(0)),
                When(due_date__lte=today + timedelta(days=soon_days), then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            )
        )
        .order_by("urgency", F("due_date").asc(nulls_last=True), "pk")
    )


def deliverable_get_for_user(*, user, pk: int) -> Deliverable | None:
    """One deliverable, also of an archived project (read-only there)."""
    return (
        Deliverable.objects.filter(project__in=Project.objects.visible_to(user).values("pk"))
        .filter(pk=pk)
        .select_related("project", "type__role", "owner")
        .prefetch_related(
            Prefetch(
                "checklist_items", queryset=ChecklistItem.objects.select_related("answered_by")
            ),
            "links__added_by",
            "comments__author",
            "project__managers",
        )
        .first()
    )


def deliverable_history(*, deliverable: Deliverable, limit: int = 100) -> list[DeliverableEvent]:
    return list(deliverable.events.select_related("actor").order_by("-created_at", "-pk")[:limit])


def project_activity(*, project: Project, limit: int = 30) -> list:
    """Team changes and deliverable changes of a project, newest first (two queries)."""
    return ProjectActivity(project)[:limit]


class ProjectActivity:
    """A project's team and deliverable changes as one newest-first sequence, for a
    Paginator: counting is two COUNTs, and a page reads the newest rows of both
    tables up to the page's end and merges them (two queries, whatever the page)."""

    def __init__(self, project: Project):
        self.team = (
            TeamChange.objects.filter(project=project)
            .select_related("actor", "person", "role")
            .order_by("-created_at", "-pk")
        )
        self.work = (
            DeliverableEvent.objects.filter(project=project)
            .select_related("actor", "deliverable")
            .order_by("-created_at", "-pk")
        )

    def count(self) -> int:
        return self.team.count() + self.work.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list:
        stop = index.stop
        merged = sorted(
            [*self.team[:stop], *self.work[:stop]],
            key=lambda entry: entry.created_at,
            reverse=True,
        )
        return merged[index]


def owner_choices(*, project: Project) -> QuerySet:
    """People on the project, the only ones who may own its deliverables."""
    from django.contrib.auth import get_user_model

    return (
        get_user_model()
        .objects.filter(memberships__project=project)
        .order_by("first_name", "last_name", "username")
    )


def plan_proposal(*, project: Project) -> list[dict]:
    """One proposed deliverable per standard type of each role held on the project.

    Types the project already has are left out. The owner is the person holding
    the type's role (the one with the largest allocation); the due date is the
    type's offset from the project start (or from today when there is none).
    """
    existing = set(project.deliverables.values_list("type_id", flat=True))
    holders: dict[int, Membership] = {}
    for assignment in (
        RoleAssignment.objects.filter(membership__project=project)
        .select_related("membership__user")
        .order_by("-allocation_percent", "pk")
    ):
        holders.setdefault(assignment.role_id, assignment.membership.user)
    start = project.start_date or date.today()
    proposal = []
    for deliverable_type in DeliverableType.objects.filter(role_id__in=holders).select_related(
        "role"
    ):
        if deliverable_type.pk in existing:
            continue
        proposal.append(
            {
                "include": True,
                "type": deliverable_type.pk,
                "type_name": deliverable_type.display_name,
                "role_name": deliverable_type.role.display_name,
                "title": f"{deliverable_type.display_name}: {project.name}",
                "owner": holders[deliverable_type.role_id].pk,
                "due_date": start + timedelta(days=deliverable_type.default_due_offset_days),
            }
        )
    return proposal


def deliverable_reminders(*, deliverable: Deliverable, user, limit: int = 20) -> list[Reminder]:
    """Reminders sent about this deliverable. Escalations went to managers, so only
    those who may manage the project see them."""
    from .permissions import can_manage_deliverable

    rows = Reminder.objects.filter(deliverable=deliverable, digest__status=DigestStatus.SENT)
    if not can_manage_deliverable(user, deliverable):
        rows = rows.filter(recipient=user)
    return list(rows.select_related("recipient", "digest").order_by("-local_date", "kind")[:limit])


# --- dashboards ---------------------------------------------------------------------------


@dataclass
class PortfolioDashboard:
    projects: list[Project]
    overdue_by_role: list[dict]
    activity: list
    workload: list = field(default_factory=list)
    page: Page | None = None


PORTFOLIO_PAGE_SIZE = 20


def portfolio_dashboard(*, user, today: date, page_number=None) -> PortfolioDashboard:
    """Where the active projects the viewer may see stand, a page of projects at a time.

    Set-based, one GROUP BY per table (correlated subqueries next to a join to
    50,000 deliverables made PostgreSQL evaluate them once per deliverable row);
    per-project numbers are counted for the projects of the page only:
    1. the ids of the visible active projects, in page order (bare integers: the
       paginator's list, and the project filter of every later query, so the
       visibility subqueries are neither built by Django nor joined by the database
       again and again); 2. the page's projects with their unfilled required roles;
    3. the page's deliverables grouped by project, status and due-date band;
    4. the checklist of the page's process documentation, grouped by project;
    5.-6. overdue deliverables per type, and which role owns each type;
    7.-8. recent activity; 9. workload.
    """
    from roles.selectors import _gap_count

    visible_ids = list(
        Project.objects.visible_to(user)
        .active()
        .order_by("name", "pk")
        .values_list("pk", flat=True)
    )
    page = Paginator(visible_ids, PORTFOLIO_PAGE_SIZE).get_page(page_number)
    page_ids = list(page.object_list)
    projects = list(
        Project.objects.filter(pk__in=page_ids)
        .annotate(gap_count=_gap_count())
        .order_by("name", "pk")
    )
    page.object_list = projects
    open_statuses = [s for s in DeliverableStatus.values if s != DeliverableStatus.DONE]
    soon = today + timedelta(days=7)
    per_project: dict[int, dict] = defaultdict(lambda: defaultdict(int))
    # Few groups (projects x statuses x 3 bands): cheaper than one FILTER per column.
    for project_id, status, band, n in (
        Deliverable.objects.filter(project_id__in=page_ids)
        .annotate(
            band=Case(
                When(due_date__lt=today, then=Value(1)),
                When(due_date__lte=soon, then=Value(2)),
                default=Value(0),
                output_field=IntegerField(),
            )
        )
        .values_list("project_id", "status", "band")
        .annotate(n=Count("*"))
        .order_by()
    ):
        row = per_project[project_id]
        row["total"] += n
        row[f"count_{status}"] += n
        if status in open_statuses and band == 1:
            row["overdue"] += n
        elif status in open_statuses and band == 2:
            row["due_soon"] += n
    # The handbook is each project's first process documentation (as on its handbook
    # page); its items and complete items are counted from two indexes alone.
    first_handbooks = (
        Deliverable.objects.filter(
            project_id__in=page_ids,
            type__in=DeliverableType.objects.filter(slug="process-documentation").values("pk"),
        )
        .order_by()
        .values("project_id")
        .annotate(first=Min("pk"))
        .values("first")
    )
    handbooks = {
        project_id: (total, done)
        for project_id, total, done in Deliverable.objects.filter(pk__in=first_handbooks)
        .annotate(total=_item_count(Q()), done=_item_count(COMPLETE_ITEM))
        .values_list("project_id", "total", "done")
        .order_by()
    }
    for project in projects:
        row = per_project.get(project.pk, {})
        project.total = row.get("total", 0)
        project.overdue = row.get("overdue", 0)
        project.due_soon = row.get("due_soon", 0)
        project.by_status = []
        for status, label in DeliverableStatus.choices:
            count = row.get(f"count_{status}", 0)
            setattr(project, f"count_{status}", count)
            project.by_status.append((status, label, count))
        done = getattr(project, f"count_{DeliverableStatus.DONE}")
        project.completion = round(100 * done / project.total) if project.total else None
        total, done = handbooks.get(project.pk, (0, 0))
        project.handbook = round(100 * done / total) if total else None
    tally = open_work(today=today)
    return PortfolioDashboard(
        projects,
        _overdue_by_role(tally, visible_ids),
        _recent_activity(user=user, visible_ids=visible_ids),
        workload(user=user, today=today, visible_ids=visible_ids, tally=tally),
        page,
    )


def open_work(*, today: date) -> QuerySet[OpenWork]:
    """The open-work tally, current for `today` (rebuilt first when a day has begun
    and the beat task has not rebuilt it yet: once a day, not once a page)."""
    if not services.open_work_is_current(today=today):
        services.open_work_refresh(today=today)
    return OpenWork.objects.all()


def _overdue_by_role(tally: QuerySet[OpenWork], visible_ids: list[int]) -> list[dict]:
    """Overdue deliverables of the given projects per owning role, most first.

    Summed per type from the open-work tally (a few rows per project, not one per
    deliverable), then per role over the few types in Python."""
    per_type = dict(
        tally.filter(project_id__in=visible_ids, overdue_count__gt=0)
        .values_list("type_id")
        .annotate(n=Sum("overdue_count"))
        .order_by()
    )
    per_role: dict[int, dict] = {}
    for type_id, role_id, role_name in DeliverableType.objects.values_list(
        "pk", "role_id", "role__name"
    ).order_by():
        if per_type.get(type_id):
            row = per_role.setdefault(
                role_id, {"type__role": role_id, "type__role__name": role_name, "count": 0}
            )
            row["count"] += per_type[type_id]
    rows = sorted(per_role.values(), key=lambda row: (-row["count"], row["type__role__name"]))
    for row in rows:
        row["role_name"] = gettext(row["type__role__name"])
    return rows


def workload(
    *,
    user,
    today: date,
    limit: int = 15,
    visible_ids: list[int] | None = None,
    tally: QuerySet[OpenWork] | None = None,
) -> list:
    """The busiest people on the projects the viewer may see: open and overdue
    deliverables, roles held and total allocation (counted on visible projects).

    1. The `limit` busiest owners among the people the viewer may see, summed from
       the open-work tally; 2. those people with their roles and allocation.
    `visible_ids` (the visible active projects) and `tally` save their queries when
    the caller has them."""
    from django.contrib.auth import get_user_model

    from roles.selectors import people_visible_to

    if visible_ids is None:
        visible_ids = list(Project.objects.visible_to(user).active().values_list("pk", flat=True))
    if tally is None:
        tally = open_work(today=today)
    busiest = list(
        tally.filter(
            project_id__in=visible_ids,
            owner_id__in=people_visible_to(user=user).order_by().values("pk"),
        )
        .values("owner_id")
        .annotate(open_n=Sum("open_count"), overdue_n=Sum("overdue_count"))
        .filter(open_n__gt=0)
        .order_by("-overdue_n", "-open_n", "owner_id")[:limit]
    )
    if not busiest:
        return []
    people = list(
        get_user_model()
        .objects.filter(pk__in=[row["owner_id"] for row in busiest])
        .annotate(
            role_count=Count(
                "memberships__assignments",
                filter=Q(memberships__project_id__in=visible_ids),
            ),
            total_allocation=Coalesce(
                Sum(
                    "memberships__assignments__allocation_percent",
                    filter=Q(memberships__project_id__in=visible_ids),
                ),
                Value(0),
            ),
        )
        .order_by()
    )
    counts = {row["owner_id"]: row for row in busiest}
    for person in people:
        person.open_deliverable_count = counts[person.pk]["open_n"]
        person.overdue_count = counts[person.pk]["overdue_n"]
    return sorted(
        people,
        key=lambda p: (-p.overdue_count, -p.open_deliverable_count, p.username),
    )


def _recent_activity(*, user, limit: int = 15, visible_ids: list[int] | None = None) -> list:
    visible = (
        Project.objects.visible_to(user).active().values("pk")
        if visible_ids is None
        else visible_ids
    )
    team = list(
        TeamChange.objects.filter(project__in=visible)
        .select_related("actor", "person", "role", "project")
        .order_by("-created_at", "-pk")[:limit]
    )
    work = list(
        DeliverableEvent.objects.filter(project__in=visible)
        .select_related("actor", "deliverable", "project")
        .order_by("-created_at", "-pk")[:limit]
    )
    return sorted(team + work, key=lambda entry: entry.created_at, reverse=True)[:limit]


@dataclass
class MemberHome:
    overdue: list[Deliverable]
    due_soon: list[Deliverable]
    roles: list[RoleAssignment]
    recent_changes: list[DeliverableEvent]


def member_home(*, user, today: date, limit: int = 8) -> MemberHome:
    """What is the signed-in person's to do: their late and soon-due work, the
    roles they hold, and what others changed on their deliverables (four queries)."""
    mine = my_work(user=user, today=today)
    return MemberHome(
        overdue=list(mine.filter(due_date__lt=today)[:limit]),
        due_soon=list(
            mine.filter(due_date__gte=today, due_date__lte=today + timedelta(days=7))[:limit]
        ),
        roles=list(
            RoleAssignment.objects.filter(
                membership__user=user,
                membership__project__in=Project.objects.visible_to(user).active().values("pk"),
            )
            .select_related("role", "membership__project")
            .order_by("membership__project__name", "role__position")
        ),
        recent_changes=list(
            DeliverableEvent.objects.filter(
                deliverable__in=visible_deliverables(user=user).filter(owner=user).values("pk")
            )
            .exclude(actor=user)
            .select_related("actor", "deliverable")
            .order_by("-created_at", "-pk")[:limit]
        ),
    )


@dataclass
class ProjectDashboard:
    by_status: list[tuple[str, str, int]]
    overdue: list[Deliverable]
    upcoming: list[Deliverable]
    progress: list[Deliverable]
    total: int


def project_dashboard(*, project: Project, today: date, limit: int = 20) -> ProjectDashboard:
    """Status breakdown, overdue work, the next 30 days' due dates and checklist
    progress of one project's open deliverables (two queries)."""
    counts = dict(project.deliverables.order_by().values_list("status").annotate(n=Count("pk")))
    open_rows = list(
        _with_progress(project.deliverables.open(), today).order_by(
            F("due_date").asc(nulls_last=True), "pk"
        )[:limit]
    )
    horizon = today + timedelta(days=30)
    return ProjectDashboard(
        by_status=[
            (status, label, counts.get(status, 0)) for status, label in DeliverableStatus.choices
        ],
        overdue=[d for d in open_rows if d.overdue],
        upcoming=[d for d in open_rows if d.due_date and today <= d.due_date <= horizon],
        progress=open_rows,
        total=sum(counts.values()),
    )
