"""Reads for pages about deliverables. Each decides its page's queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import islice

from django.contrib.auth import get_user_model
from django.contrib.postgres.fields import ArrayField
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Count,
    F,
    Func,
    IntegerField,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext

from mlteam.sql import day, moment, placeholders, select
from roles.models import Membership, Project, Role, RoleAssignment, TeamChange
from roles.selectors import visible_people_sql, visible_projects_sql

from . import services
from .forms import OPEN
from .models import (
    CLOSED_STATUSES,
    COMPLETE,
    DIGEST_DELIVERED,
    ChecklistItem,
    Deliverable,
    DeliverableEvent,
    DeliverableStatus,
    DeliverableType,
    Digest,
    DigestStatus,
    Reminder,
    due_within_condition,
    overdue_condition,
    short_label_of,
)
from .practices.selectors import PROCESS_DOCUMENTATION, HandbookSummary

# A complete checklist item: models.COMPLETE (its one definition), under the name
# the dashboards' selectors use.
COMPLETE_ITEM = COMPLETE


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
    return Deliverable.objects.visible_to(user, active_only=True)


def _with_progress(deliverables: QuerySet[Deliverable], today: date) -> QuerySet[Deliverable]:
    return (
        deliverables.select_related("project", "type__role", "owner")
        .with_overdue(today)
        .annotate(
            items_total=_item_count(Q()),
            items_done=_item_count(COMPLETE),
            required_open=_item_count(Q(required=True) & ~COMPLETE),
        )
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


# The workflow's order (DeliverableStatus as declared), not the alphabet of its codes.
STATUS_ORDER = Case(
    *(
        When(status=status, then=Value(position))
        for position, status in enumerate(DeliverableStatus)
    ),
    output_field=IntegerField(),
)

SORTS = {
    "due": (F("due_date").asc(nulls_last=True), "pk"),
    "-due": (F("due_date").desc(nulls_last=True), "-pk"),
    # By name (Deliverable.label): the type in catalogue order, then the own title.
    "title": ("type__role__position", "type__position", "type__name", "title", "pk"),
    "project": ("project__name", "due_date", "pk"),
    "status": (STATUS_ORDER, "due_date", "pk"),
    "owner": ("owner__first_name", "owner__username", "pk"),
    "updated": ("-updated_at", "-pk"),
}


def _types_named(query: str) -> list[int]:
    """Types whose name, in the reader's language or the source one, contains
    `query`: a deliverable is named by its type (the catalogue is a few rows)."""
    needle = query.casefold()
    return [
        deliverable_type.pk
        for deliverable_type in DeliverableType.objects.only("pk", "name")
        if needle in deliverable_type.name.casefold()
        or needle in deliverable_type.display_name.casefold()
    ]


def _filtered(*, user, filters: DeliverableFilters, today: date) -> QuerySet[Deliverable]:
    """The filtered, sorted deliverables `user` may see: no joins but those the sort needs."""
    rows = visible_deliverables(user=user)
    if filters.project:
        rows = rows.filter(project_id=filters.project)
    if filters.role:
        rows = rows.filter(type__role_id=filters.role)
    if filters.type:
        rows = rows.filter(type_id=filters.type)
    if filters.status == OPEN:  # neither done nor cancelled
        rows = rows.open()
    elif filters.status:
        rows = rows.filter(status=filters.status)
    if filters.owner:
        rows = rows.filter(owner_id=filters.owner)
    if filters.overdue:
        rows = rows.overdue(today)
    if filters.due_within is not None:
        rows = rows.due_within(filters.due_within, today)
    if filters.query:
        rows = rows.filter(
            Q(title__icontains=filters.query) | Q(type__in=_types_named(filters.query))
        )
    return rows.order_by(*SORTS.get(filters.sort, SORTS["due"]))


def deliverable_list(*, user, filters: DeliverableFilters, today: date) -> QuerySet[Deliverable]:
    """The filtered, sorted deliverables `user` may see, each with its checklist
    progress (every row: what the list pages through)."""
    return _with_progress(_filtered(user=user, filters=filters, today=today), today)


EXPORT_CHUNK_SIZE = 2000


@dataclass(slots=True)
class ExportRow:
    """One deliverable as the CSV export writes it (plain values)."""

    pk: int
    project: str
    short_label: str  # Deliverable.short_label
    type: str  # the type's display_name
    role: str  # the type's role's display_name
    owner_username: str
    owner_name: str  # get_full_name()
    status: str
    due_date: date | None
    overdue: bool
    items_done: int
    items_total: int


def _deliverable_in(ids: list[int]) -> Q:
    """Checklist items of these deliverables: on PostgreSQL with the ids as one
    array parameter (`deliverable_id = ANY(%s)`), elsewhere as `IN (...)`. Two
    thousand placeholders a query, prepared by Django and split by psycopg one by
    one, cost 1.2 s of the 1.4 s of Python the admin's 50,000-row export spent
    reading its rows (bench/pages.py)."""
    if connection.vendor != "postgresql":
        return Q(deliverable_id__in=ids)
    return Q(
        Func(
            F("deliverable_id"),
            Value(ids, output_field=ArrayField(IntegerField())),
            arg_joiner=" = ANY(",
            template="%(expressions)s)",
            output_field=BooleanField(),
        )
    )


def _item_counts(items: QuerySet[ChecklistItem]) -> dict[int, int]:
    """Per deliverable, how many of `items` it has (deliverables with none are absent)."""
    return dict(
        items.order_by()
        .values("deliverable_id")
        .annotate(n=Count("*"))
        .values_list("deliverable_id", "n")
    )


def deliverable_export_rows(
    *, user, filters: DeliverableFilters, today: date, chunk_size: int | None = None
) -> Iterator[ExportRow]:
    """Every row of `deliverable_list`, in its order, as plain values for the CSV.

    1. The types with their roles, once (a few rows): their names in the reader's
       language are looked up once, not once per row.
    2. The filtered rows as tuples, read through a cursor `chunk_size` at a time,
       so memory stays flat however many rows there are.
    3. Per chunk, one grouped query counts the chunk's checklist items, one its
       complete items (each read from an index alone: the deliverable foreign key's,
       the partial index of complete items), and one reads the owners not met in
       an earlier chunk.
    So three queries per chunk, none per row. (Model instances and three correlated
    COUNT subqueries per row, as a page of the list uses, cost 1.3 s for a manager's
    250 rows, mostly PostgreSQL compiling the query, and 5.2 s for 50,000 rows.)"""
    types = {
        deliverable_type.pk: (deliverable_type.display_name, deliverable_type.role.display_name)
        for deliverable_type in DeliverableType.objects.select_related("role")
    }
    chunk_size = chunk_size or EXPORT_CHUNK_SIZE
    people: dict[int, tuple[str, str]] = {}
    rows = (
        _filtered(user=user, filters=filters, today=today)
        .with_overdue(today)
        .values_list(
            "pk", "project__name", "title", "type_id", "owner_id", "status", "due_date", "overdue"
        )
    )
    stream = rows.iterator(chunk_size=chunk_size)
    while chunk := list(islice(stream, chunk_size)):
        of_chunk = _deliverable_in([row[0] for row in chunk])
        totals = _item_counts(ChecklistItem.objects.filter(of_chunk))
        done = _item_counts(ChecklistItem.objects.complete().filter(of_chunk))
        new_owners = {row[4] for row in chunk} - people.keys() - {None}
        for person in get_user_model().objects.filter(pk__in=new_owners):
            people[person.pk] = (person.get_username(), person.get_full_name())
        for pk, project, title, type_id, owner_id, status, due, overdue in chunk:
            type_name, role_name = types[type_id]
            username, name = people.get(owner_id, ("", ""))
            yield ExportRow(
                pk=pk,
                project=project,
                short_label=short_label_of(title, type_name),
                type=type_name,
                role=role_name,
                owner_username=username,
                owner_name=name,
                status=status,
                due_date=due,
                overdue=bool(overdue),
                items_done=done.get(pk, 0),
                items_total=totals.get(pk, 0),
            )


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
                When(overdue_condition(today), then=Value(0)),
                When(due_within_condition(soon_days, today), then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            )
        )
        .order_by("urgency", F("due_date").asc(nulls_last=True), "pk")
    )


def deliverable_get_for_user(*, user, pk: int) -> Deliverable | None:
    """One deliverable, also of an archived project (read-only there)."""
    return (
        Deliverable.objects.visible_to(user)
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


def project_activity(*, project: Project, limit: int = 15) -> list:
    """A project's newest team and deliverable changes, newest first (one query)."""
    return _activity("p.id = %s", [project.pk], limit)


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
            .select_related("actor", "deliverable__type")
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


def owner_choices(*, project: Project, current=None) -> QuerySet:
    """People on the project who may take work on: not deactivated (`is_deactivated`:
    invited people who have not signed in yet may), plus `current`, the
    deliverable's owner now, so that a form saved without changing the owner keeps
    them. A project's members are few: the rule is applied to them in Python."""
    from django.contrib.auth import get_user_model

    from mlteam.people import is_deactivated

    members = get_user_model().objects.filter(memberships__project=project)
    ids = [person.pk for person in members if not is_deactivated(person)]
    if current is not None:
        ids.append(current.pk)
    return (
        get_user_model().objects.filter(pk__in=ids).order_by("first_name", "last_name", "username")
    )


def _planned_types(project: Project) -> tuple[set[int], set[int]]:
    """The types the project has deliverables of: those with one not cancelled, and
    those whose every deliverable was cancelled (one query)."""
    kept: set[int] = set()
    cancelled: set[int] = set()
    for type_id, status in project.deliverables.values_list("type_id", "status"):
        (cancelled if status == DeliverableStatus.CANCELLED else kept).add(type_id)
    return kept, cancelled - kept


def plan_cancelled_types(*, project: Project) -> list[DeliverableType]:
    """Types the plan does not propose again because their deliverables on the
    project were cancelled (unless the manager asks: `include_cancelled`)."""
    _kept, cancelled = _planned_types(project)
    return list(DeliverableType.objects.filter(pk__in=cancelled).select_related("role"))


def plan_proposal(*, project: Project, include_cancelled: bool = False) -> list[dict]:
    """One proposed deliverable per standard type of each role held on the project.

    Types the project already has are left out; so are types whose deliverables were
    all cancelled, unless `include_cancelled` (those rows say `cancelled_before`).
    The owner is the person holding the type's role (the one with the largest
    allocation); the due date is the type's offset from the project start (or from
    today when there is none).
    """
    kept, cancelled = _planned_types(project)
    existing = kept if include_cancelled else kept | cancelled
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
                "title": "",  # named by its type, in each reader's language
                "owner": holders[deliverable_type.role_id].pk,
                "due_date": start + timedelta(days=deliverable_type.default_due_offset_days),
                "cancelled_before": deliverable_type.pk in cancelled,
            }
        )
    return proposal


def deliverable_reminders(*, deliverable: Deliverable, user, limit: int = 20) -> list[Reminder]:
    """Reminders sent about this deliverable. Escalations went to managers, so only
    those who may manage the project see them."""
    from .permissions import can_manage_deliverable

    rows = Reminder.objects.filter(deliverable=deliverable, digest__status__in=DIGEST_DELIVERED)
    if not can_manage_deliverable(user, deliverable):
        rows = rows.filter(recipient=user)
    return list(rows.select_related("recipient", "digest").order_by("-local_date", "kind")[:limit])


# --- reminder delivery ----------------------------------------------------------------------


@dataclass
class DigestTrouble:
    """Reminder digests that are not getting through (Digest.objects.needing_attention)."""

    failing: int
    undelivered: int
    unknown: int
    failing_since: datetime | None
    last_error: str

    @property
    def alarming(self) -> bool:
        """Mail is failing now, or gave up in the last day: /healthz is red, the admin
        shows a banner. An unknown outcome alone is not: the message likely went."""
        return bool(self.failing or self.undelivered)


def digest_trouble(*, now: datetime) -> DigestTrouble:
    """Counts and the latest error of the digests needing attention. Two queries."""
    rows = Digest.objects.needing_attention(now)
    counts = rows.aggregate(
        failing=Count("pk", filter=Q(status=DigestStatus.PENDING)),
        undelivered=Count("pk", filter=Q(status=DigestStatus.UNDELIVERED)),
        unknown=Count("pk", filter=Q(status=DigestStatus.UNKNOWN)),
        failing_since=Min("failing_since", filter=Q(status=DigestStatus.PENDING)),
    )
    last_error = ""
    if counts["failing"] or counts["undelivered"] or counts["unknown"]:
        last_error = (
            rows.exclude(last_error="")
            .order_by(F("next_attempt_at").desc(nulls_last=True), "-deliver_by")
            .values_list("last_error", flat=True)
            .first()
        ) or ""
    return DigestTrouble(last_error=last_error, **counts)


def digests_needing_attention(*, now: datetime, limit: int = 100) -> list[Digest]:
    """The digests behind `digest_trouble`, oldest day first, with their recipients."""
    return list(
        Digest.objects.needing_attention(now)
        .select_related("recipient")
        .order_by("local_date", "recipient__username")[:limit]
    )


# --- dashboards ---------------------------------------------------------------------------


@dataclass
class PortfolioDashboard:
    projects: list[Project]
    overdue_by_role: list[dict]
    activity: list
    workload: list = field(default_factory=list)
    page: Page | None = None


PORTFOLIO_PAGE_SIZE = 20

# The portfolio's numbers are read with SQL written out here (PostgreSQL and SQLite
# alike) rather than built by the ORM: at 50,000 deliverables building and planning
# these queries cost more than running them. Each query is one round trip.
# Open work is `status {OPEN_STATUS_SQL}` with CLOSED_STATUSES as its parameters (the
# rule is CLOSED_STATUSES); COMPLETE_ITEM_SQL is COMPLETE_ITEM's test, on `c`.
OPEN_STATUS_SQL = f"NOT IN ({placeholders(CLOSED_STATUSES)})"
COMPLETE_ITEM_SQL = (
    "((c.answer_kind = 'tick' AND c.checked) OR (c.answer_kind = 'text' AND c.answer <> '')"
    " OR (c.answer_kind = 'link' AND c.link <> ''))"
)
# Per project of the page: unfilled required roles, and the handbook (as on the
# handbook page: the first process documentation not cancelled, else the first) with
# its items and complete items.
_PAGE_PROJECTS_SQL = f"""
    SELECT p.id, p.name,
        (SELECT COUNT(*) FROM roles_project_required_roles rr
         WHERE rr.project_id = p.id AND NOT EXISTS (
            SELECT 1 FROM roles_roleassignment a
            JOIN roles_membership m ON m.id = a.membership_id
            WHERE m.project_id = p.id AND a.role_id = rr.role_id)),
        (SELECT COUNT(*) FROM deliverables_checklistitem c WHERE c.deliverable_id = h.first_id),
        (SELECT COUNT(*) FROM deliverables_checklistitem c
         WHERE c.deliverable_id = h.first_id AND {COMPLETE_ITEM_SQL})
    FROM roles_project p
    LEFT JOIN (
        SELECT d.project_id,
            COALESCE(MIN(CASE WHEN d.status <> %s THEN d.id END), MIN(d.id)) AS first_id
        FROM deliverables_deliverable d
        JOIN deliverables_deliverabletype t ON t.id = d.type_id AND t.slug = %s
        WHERE d.project_id IN ({{ids}})
        GROUP BY d.project_id
    ) h ON h.project_id = p.id
    WHERE p.id IN ({{ids}})
    ORDER BY p.name, p.id
"""  # noqa: S608 (constants only; values go as parameters)
# Per project of the page, status and due-date band (1 late, 2 due within 7 days):
# few groups, read from the (project, status, due date) index alone.
_PAGE_COUNTS_SQL = """
    SELECT project_id, status,
        CASE WHEN due_date < %s THEN 1 WHEN due_date <= %s THEN 2 ELSE 0 END, COUNT(*)
    FROM deliverables_deliverable WHERE project_id IN ({ids})
    GROUP BY 1, 2, 3
"""
# Overdue work of the visible projects per owning role, from the open-work tally
# (whose rows of a group add up: see OpenWork).
_OVERDUE_BY_ROLE_SQL = """
    SELECT r.id, r.name, SUM(w.overdue_count)
    FROM deliverables_openwork w
    JOIN roles_project p ON p.id = w.project_id
    JOIN deliverables_deliverabletype t ON t.id = w.type_id
    JOIN roles_role r ON r.id = t.role_id
    WHERE {visible}
    GROUP BY r.id, r.name
    HAVING SUM(w.overdue_count) > 0
"""
# The busiest people the viewer may see (most overdue, then most open work, on the
# visible projects, from the tally), then for those only: roles held and allocation.
_WORKLOAD_SQL = """
    SELECT u.id, u.username, u.first_name, u.last_name, busiest.open_n, busiest.overdue_n,
        (SELECT COUNT(*) FROM roles_roleassignment a
         JOIN roles_membership m ON m.id = a.membership_id
         JOIN roles_project p ON p.id = m.project_id
         WHERE m.user_id = u.id AND {visible}),
        (SELECT COALESCE(SUM(a.allocation_percent), 0) FROM roles_roleassignment a
         JOIN roles_membership m ON m.id = a.membership_id
         JOIN roles_project p ON p.id = m.project_id
         WHERE m.user_id = u.id AND {visible})
    FROM (
        SELECT w.owner_id, SUM(w.open_count) AS open_n, SUM(w.overdue_count) AS overdue_n
        FROM deliverables_openwork w
        JOIN roles_project p ON p.id = w.project_id
        JOIN auth_user person ON person.id = w.owner_id AND person.is_active
        WHERE {visible} AND {people}
        GROUP BY w.owner_id
        HAVING SUM(w.open_count) > 0
        ORDER BY overdue_n DESC, open_n DESC, w.owner_id
        LIMIT %s
    ) busiest
    JOIN auth_user u ON u.id = busiest.owner_id
    ORDER BY busiest.overdue_n DESC, busiest.open_n DESC, u.username
"""


def portfolio_dashboard(*, user, today: date, page_number=None) -> PortfolioDashboard:
    """Where the active projects the viewer may see stand, a page of projects at a time.

    Per-project numbers are counted for the projects of the page only:
    1. the ids of the visible active projects, in page order (the paginator's list);
    2. the page's projects, their unfilled required roles and handbook completeness;
    3. the page's deliverables grouped by project, status and due-date band;
    4. whether the open-work tally is current (once a day: its rebuild);
    5. overdue work per role, from the tally; 6.-7. recent activity; 8. workload.
    """
    visible_ids = list(
        Project.objects.visible_to(user)
        .active()
        .order_by("name", "pk")
        .values_list("pk", flat=True)
    )
    page = Paginator(visible_ids, PORTFOLIO_PAGE_SIZE).get_page(page_number)
    page_ids = list(page.object_list)
    projects = []
    if page_ids:
        ids = placeholders(page_ids)
        for pk, name, gaps, items, answered in select(
            _PAGE_PROJECTS_SQL.format(ids=ids),
            [DeliverableStatus.CANCELLED, PROCESS_DOCUMENTATION, *page_ids, *page_ids],
        ):
            project = Project(pk=pk, name=name)
            project.gap_count = gaps
            project.handbook = round(100 * answered / items) if items else None
            projects.append(project)
        counts = select(
            _PAGE_COUNTS_SQL.format(ids=ids), [today, today + timedelta(days=7), *page_ids]
        )
    else:
        counts = []
    page.object_list = projects
    per_project: dict[int, dict] = defaultdict(lambda: defaultdict(int))
    for project_id, status, band, n in counts:
        row = per_project[project_id]
        row["total"] += n
        row[status] += n
        if status not in CLOSED_STATUSES and band:
            row["overdue" if band == 1 else "due_soon"] += n
    for project in projects:
        row = per_project[project.pk]
        project.total, project.overdue, project.due_soon = (
            row["total"],
            row["overdue"],
            row["due_soon"],
        )
        project.by_status = []
        for status, label in DeliverableStatus.choices:
            setattr(project, f"count_{status}", row[status])
            project.by_status.append((status, label, row[status]))
        # Cancelled work left the plan: completion is done out of the rest.
        done, planned = row[DeliverableStatus.DONE], row["total"] - row[DeliverableStatus.CANCELLED]
        project.completion = round(100 * done / planned) if planned else None
    open_work_make_current(today=today)
    return PortfolioDashboard(
        projects,
        _overdue_by_role(user=user, visible_ids=visible_ids),
        _recent_activity(user=user, visible_ids=visible_ids),
        workload(user=user, today=today, visible_ids=visible_ids, tally_current=True),
        page,
    )


def open_work_make_current(*, today: date) -> None:
    """Before reading the open-work tally: rebuild it for `today` if a day has begun
    and the beat task has not rebuilt it yet (once a day, not once a page)."""
    if not services.open_work_is_current(today=today):
        services.open_work_refresh(today=today)


def _overdue_by_role(*, user, visible_ids: list[int]) -> list[dict]:
    """Overdue deliverables of the visible projects per owning role, most first
    (from a current open-work tally)."""
    visible, params = visible_projects_sql(user, visible_ids)
    rows = [
        {"type__role": role_id, "type__role__name": name, "role_name": gettext(name), "count": n}
        for role_id, name, n in select(_OVERDUE_BY_ROLE_SQL.format(visible=visible), params)
    ]
    return sorted(rows, key=lambda row: (-row["count"], row["type__role__name"]))


def workload(
    *,
    user,
    today: date,
    limit: int = 15,
    visible_ids: list[int] | None = None,
    tally_current: bool = False,
) -> list:
    """The busiest people on the projects the viewer may see: open and overdue
    deliverables, roles held and total allocation (counted on visible projects), in
    one query over the open-work tally. `visible_ids` (the visible active projects)
    saves a query when the caller has them, `tally_current` another."""
    from django.contrib.auth import get_user_model

    User = get_user_model()
    if visible_ids is None:
        visible_ids = list(Project.objects.visible_to(user).active().values_list("pk", flat=True))
    if not tally_current:
        open_work_make_current(today=today)
    visible, visible_params = visible_projects_sql(user, visible_ids)
    people, people_params = visible_people_sql(user, "w.owner_id")
    sql = _WORKLOAD_SQL.format(visible=visible, people=people)
    params = [*visible_params, *visible_params, *visible_params, *people_params, limit]
    people_rows = []
    for pk, username, first_name, last_name, open_n, overdue_n, roles, allocation in select(
        sql, params
    ):
        person = User(pk=pk, username=username, first_name=first_name, last_name=last_name)
        person.open_deliverable_count, person.overdue_count = open_n, overdue_n
        person.role_count, person.total_allocation = roles, allocation
        people_rows.append(person)
    return people_rows


# The newest team changes and deliverable changes of the visible projects, merged,
# with the names the feed shows. Each side picks its rows by the newest-first
# indexes before anything is joined to them. (NULLs are cast: a column must have
# one type on both sides.)
_ACTIVITY_SQL = """
    SELECT * FROM (
        SELECT 'team' AS source, t.id, t.created_at, t.project_id, t.actor_id,
            t.action AS code, t.person_id, t.role_id, t.detail,
            CAST(NULL AS BIGINT) AS deliverable_id, CAST(NULL AS TEXT) AS before_value,
            CAST(NULL AS TEXT) AS after_value
        FROM roles_teamchange t JOIN roles_project p ON p.id = t.project_id
        WHERE {visible}
        ORDER BY t.created_at DESC, t.id DESC LIMIT %s
    ) team
    UNION ALL
    SELECT * FROM (
        SELECT 'work', e.id, e.created_at, e.project_id, e.actor_id,
            e.kind, CAST(NULL AS INTEGER), CAST(NULL AS BIGINT), '', e.deliverable_id,
            e.before, e.after
        FROM deliverables_deliverableevent e JOIN roles_project p ON p.id = e.project_id
        WHERE {visible}
        ORDER BY e.created_at DESC, e.id DESC LIMIT %s
    ) work
"""
_ACTIVITY_NAMES_SQL = """
    SELECT entry.*, p.name, a.username, a.first_name, a.last_name,
        pe.username, pe.first_name, pe.last_name, r.name, d.title, d.type_id, dt.name
    FROM ({entries}) entry
    JOIN roles_project p ON p.id = entry.project_id
    LEFT JOIN auth_user a ON a.id = entry.actor_id
    LEFT JOIN auth_user pe ON pe.id = entry.person_id
    LEFT JOIN roles_role r ON r.id = entry.role_id
    LEFT JOIN deliverables_deliverable d ON d.id = entry.deliverable_id
    LEFT JOIN deliverables_deliverabletype dt ON dt.id = d.type_id
    ORDER BY entry.created_at DESC, entry.id DESC
    LIMIT %s
"""


def _recent_activity(*, user, limit: int = 15, visible_ids: list[int] | None = None) -> list:
    """The newest changes on the visible projects' teams and deliverables."""
    if visible_ids is None:
        visible_ids = list(Project.objects.visible_to(user).active().values_list("pk", flat=True))
    visible, params = visible_projects_sql(user, visible_ids)
    return _activity(visible, params, limit)


def _activity(condition: str, params: list, limit: int) -> list:
    """The newest team and deliverable changes of the projects `p` that meet
    `condition` (one query), as TeamChange and DeliverableEvent objects carrying
    what the feed shows of them: names, the project's name, the deliverable's title and
    type (its label)."""
    from django.contrib.auth import get_user_model

    User = get_user_model()
    sql = _ACTIVITY_NAMES_SQL.format(entries=_ACTIVITY_SQL.format(visible=condition))

    def person(pk, username, first_name, last_name):
        if pk is None:
            return None
        return User(pk=pk, username=username, first_name=first_name, last_name=last_name)

    feed = []
    for row in select(sql, [*params, limit, *params, limit, limit]):
        (source, pk, created_at, project_id, actor_id, code, person_id, role_id, detail,
         deliverable_id, before, after, project_name, *names, role_name, title, type_id,
         type_name) = row  # fmt: skip
        created_at = moment(created_at)
        common = {"pk": pk, "created_at": created_at, "project_id": project_id}
        if source == "team":
            entry = TeamChange(**common, action=code, detail=detail or "", role_id=role_id)
            entry.person = person(person_id, *names[3:])
            if role_id is not None:
                entry.role = Role(pk=role_id, name=role_name)
        else:
            entry = DeliverableEvent(
                **common, kind=code, deliverable_id=deliverable_id, before=before, after=after
            )
            entry.deliverable = Deliverable(
                pk=deliverable_id, title=title, type=DeliverableType(pk=type_id, name=type_name)
            )
        entry.actor = person(actor_id, *names[:3])
        entry.project = Project(pk=project_id, name=project_name)
        feed.append(entry)
    return feed


@dataclass
class MemberHome:
    overdue: list[Deliverable]
    due_soon: list[Deliverable]
    roles: list[RoleAssignment]
    recent_changes: list[DeliverableEvent]
    projects: list[Project] = field(default_factory=list)
    overdue_total: int = 0
    due_soon_total: int = 0
    projects_total: int = 0


# The signed-in person's open work: the most overdue, then what is due within a week,
# each with how many there are in all (counted before the limit).
_HOME_WORK_SQL = f"""
    SELECT * FROM (
        SELECT 1 AS band, d.id, d.title, d.status, d.due_date, p.id AS project_id, p.name,
            t.id AS type_id, t.name AS type_name, r.id AS role_id, r.name AS role_name,
            COUNT(*) OVER () AS total
        FROM deliverables_deliverable d
        JOIN roles_project p ON p.id = d.project_id
        JOIN deliverables_deliverabletype t ON t.id = d.type_id
        JOIN roles_role r ON r.id = t.role_id
        WHERE d.owner_id = %s AND d.status {OPEN_STATUS_SQL} AND d.due_date < %s AND {{visible}}
        ORDER BY d.due_date, d.id LIMIT %s
    ) late
    UNION ALL
    SELECT * FROM (
        SELECT 2, d.id, d.title, d.status, d.due_date, p.id, p.name, t.id, t.name, r.id,
            r.name, COUNT(*) OVER ()
        FROM deliverables_deliverable d
        JOIN roles_project p ON p.id = d.project_id
        JOIN deliverables_deliverabletype t ON t.id = d.type_id
        JOIN roles_role r ON r.id = t.role_id
        WHERE d.owner_id = %s AND d.status {OPEN_STATUS_SQL} AND d.due_date >= %s
            AND d.due_date <= %s AND {{visible}}
        ORDER BY d.due_date, d.id LIMIT %s
    ) soon
"""  # noqa: S608 (constants only; values go as parameters)
_HOME_ROLES_SQL = """
    SELECT a.id, a.allocation_percent, r.id, r.name, r.slug, p.id, p.name
    FROM roles_roleassignment a
    JOIN roles_membership m ON m.id = a.membership_id
    JOIN roles_project p ON p.id = m.project_id
    JOIN roles_role r ON r.id = a.role_id
    WHERE m.user_id = %s AND {visible}
    ORDER BY p.name, r.position, a.id
"""
# What others changed on the person's deliverables, newest first.
_HOME_CHANGES_SQL = """
    SELECT e.id, e.created_at, e.kind, e.before, e.after, e.deliverable_id, d.title,
        d.type_id, t.name, p.id, p.name, e.actor_id, a.username, a.first_name, a.last_name
    FROM deliverables_deliverableevent e
    JOIN deliverables_deliverable d ON d.id = e.deliverable_id
    JOIN deliverables_deliverabletype t ON t.id = d.type_id
    JOIN roles_project p ON p.id = d.project_id
    LEFT JOIN auth_user a ON a.id = e.actor_id
    WHERE d.owner_id = %s AND (e.actor_id IS NULL OR e.actor_id <> %s) AND {visible}
    ORDER BY e.created_at DESC, e.id DESC LIMIT %s
"""
_HOME_PROJECTS_SQL = f"""
    SELECT p.id, p.name, p.status, COUNT(*) OVER (),
        (SELECT COUNT(*) FROM roles_membership m WHERE m.project_id = p.id),
        (SELECT COUNT(*) FROM deliverables_deliverable d
         WHERE d.project_id = p.id AND d.status {OPEN_STATUS_SQL})
    FROM roles_project p
    WHERE {{visible}}
    ORDER BY p.name, p.id LIMIT %s
"""  # noqa: S608 (constants only; values go as parameters)


def member_home(*, user, today: date, limit: int = 8, projects: int = 10) -> MemberHome:
    """What is the signed-in person's to do: their late and soon-due work, the
    roles they hold, what others changed on their deliverables, and the first of
    their projects with their team size and open work (four queries)."""
    from django.contrib.auth import get_user_model

    User = get_user_model()
    visible, params = visible_projects_sql(user)
    overdue: list[Deliverable] = []
    due_soon: list[Deliverable] = []
    totals = {1: 0, 2: 0}
    late = [user.pk, *CLOSED_STATUSES, today, *params, limit]
    soon = [user.pk, *CLOSED_STATUSES, today, today + timedelta(days=7), *params, limit]
    for (
        band, pk, title, status, due, project_id, name, type_id, type_name, role_id, role_name,
        total,
    ) in select(_HOME_WORK_SQL.format(visible=visible), [*late, *soon]):  # fmt: skip
        totals[band] = total
        deliverable = Deliverable(pk=pk, title=title, status=status, due_date=day(due))
        deliverable.project = Project(pk=project_id, name=name)
        deliverable.type = DeliverableType(
            pk=type_id, name=type_name, role=Role(pk=role_id, name=role_name)
        )
        deliverable.overdue = band == 1
        (overdue if band == 1 else due_soon).append(deliverable)
    roles = []
    for pk, allocation, role_id, role_name, slug, project_id, name in select(
        _HOME_ROLES_SQL.format(visible=visible), [user.pk, *params]
    ):
        membership = Membership(project=Project(pk=project_id, name=name), user=user)
        role = Role(pk=role_id, name=role_name, slug=slug)
        roles.append(
            RoleAssignment(pk=pk, allocation_percent=allocation, role=role, membership=membership)
        )
    changes = []
    changed = select(_HOME_CHANGES_SQL.format(visible=visible), [user.pk, user.pk, *params, limit])
    for (
        pk, created_at, kind, before, after, deliverable_id, title, type_id, type_name,
        project_id, project_name, actor_id, username, first_name, last_name,
    ) in changed:  # fmt: skip
        event = DeliverableEvent(
            pk=pk, created_at=moment(created_at), kind=kind, before=before, after=after,
            deliverable_id=deliverable_id,
        )  # fmt: skip
        event.deliverable = Deliverable(
            pk=deliverable_id,
            title=title,
            type=DeliverableType(pk=type_id, name=type_name),
            project=Project(pk=project_id, name=project_name),
        )
        event.actor = (
            User(pk=actor_id, username=username, first_name=first_name, last_name=last_name)
            if actor_id is not None
            else None
        )
        changes.append(event)
    cards = []
    projects_total = 0
    for pk, name, status, total, members, open_count in select(
        _HOME_PROJECTS_SQL.format(visible=visible), [*CLOSED_STATUSES, *params, projects]
    ):
        projects_total = total
        project = Project(pk=pk, name=name, status=status)
        project.member_count, project.open_deliverable_count = members, open_count
        cards.append(project)
    return MemberHome(
        overdue=overdue,
        due_soon=due_soon,
        roles=roles,
        recent_changes=changes,
        projects=cards,
        overdue_total=totals[1],
        due_soon_total=totals[2],
        projects_total=projects_total,
    )


@dataclass
class ProjectDashboard:
    by_status: list[tuple[str, str, int]]
    overdue: list[Deliverable]
    upcoming: list[Deliverable]
    progress: list[Deliverable]
    total: int
    overdue_total: int = 0
    upcoming_total: int = 0
    handbook: object = None  # practices.selectors.HandbookSummary


# The first open deliverables by due date with their checklist progress, and those
# due in the next 30 days (their own part: behind `limit` overdue rows, the first
# open ones hold none of them).
_PROJECT_WORK_SQL = f"""
    SELECT * FROM (
        SELECT 1 AS part, d.id, d.title, d.status, d.due_date, d.type_id, t.name, t.slug,
            d.owner_id,
            u.username, u.first_name, u.last_name,
            (SELECT COUNT(*) FROM deliverables_checklistitem c WHERE c.deliverable_id = d.id),
            (SELECT COUNT(*) FROM deliverables_checklistitem c
             WHERE c.deliverable_id = d.id AND {COMPLETE_ITEM_SQL}),
            (SELECT COUNT(*) FROM deliverables_checklistitem c
             WHERE c.deliverable_id = d.id AND c.required AND NOT {COMPLETE_ITEM_SQL})
        FROM deliverables_deliverable d
        JOIN deliverables_deliverabletype t ON t.id = d.type_id
        LEFT JOIN auth_user u ON u.id = d.owner_id
        WHERE d.project_id = %s AND d.status {OPEN_STATUS_SQL}
        ORDER BY CASE WHEN d.due_date IS NULL THEN 1 ELSE 0 END, d.due_date, d.id
        LIMIT %s
    ) first_open
    UNION ALL
    SELECT * FROM (
        SELECT 2, d.id, d.title, d.status, d.due_date, d.type_id, t.name, t.slug, d.owner_id,
            u.username, u.first_name, u.last_name, 0, 0, 0
        FROM deliverables_deliverable d
        JOIN deliverables_deliverabletype t ON t.id = d.type_id
        LEFT JOIN auth_user u ON u.id = d.owner_id
        WHERE d.project_id = %s AND d.status {OPEN_STATUS_SQL}
            AND d.due_date >= %s AND d.due_date <= %s
        ORDER BY d.due_date, d.id
        LIMIT %s
    ) upcoming
"""  # noqa: S608 (constants only; values go as parameters)


# The project's deliverables per status (with how many are late, and how many due in
# the next 30 days), and on every row its handbook (as on the handbook page: the first
# process documentation not cancelled, else the first), with its questions and answers.
_PROJECT_COUNTS_SQL = f"""
    SELECT d.status, COUNT(*), SUM(CASE WHEN d.due_date < %s THEN 1 ELSE 0 END),
        SUM(CASE WHEN d.due_date >= %s AND d.due_date <= %s THEN 1 ELSE 0 END),
        handbook.id,
        (SELECT COUNT(*) FROM deliverables_checklistitem c
         WHERE c.deliverable_id = handbook.id),
        (SELECT COUNT(*) FROM deliverables_checklistitem c
         WHERE c.deliverable_id = handbook.id AND {COMPLETE_ITEM_SQL})
    FROM deliverables_deliverable d
    LEFT JOIN (
        SELECT COALESCE(MIN(CASE WHEN first.status <> %s THEN first.id END), MIN(first.id)) AS id
        FROM deliverables_deliverable first
        JOIN deliverables_deliverabletype t ON t.id = first.type_id AND t.slug = %s
        WHERE first.project_id = %s
    ) handbook ON 1 = 1
    WHERE d.project_id = %s
    GROUP BY d.status, handbook.id
"""  # noqa: S608 (constants only; values go as parameters)


def project_dashboard(*, project: Project, today: date, limit: int = 10) -> ProjectDashboard:
    """Status breakdown, overdue work, the next 30 days' due dates and checklist
    progress of one project's open deliverables, and its handbook's completeness
    (two queries: the counts with the handbook's, then the first `limit` open
    deliverables with their progress and the next ones due)."""
    from django.contrib.auth import get_user_model

    User = get_user_model()
    horizon = today + timedelta(days=30)
    counts: dict[str, int] = {}
    overdue_total = upcoming_total = 0
    handbook = HandbookSummary(project=project, deliverable_id=None, today=today)
    counted = [today, today, horizon, DeliverableStatus.CANCELLED, PROCESS_DOCUMENTATION]
    for status, n, late, coming, handbook_id, questions, answered in select(
        _PROJECT_COUNTS_SQL, [*counted, project.pk, project.pk]
    ):
        counts[status] = n
        if status not in CLOSED_STATUSES:
            overdue_total += late
            upcoming_total += coming
        if handbook_id is not None:
            handbook = HandbookSummary(
                project=project, deliverable_id=handbook_id, total=questions,
                answered=answered, today=today,
            )  # fmt: skip
    first_open: list[Deliverable] = []
    upcoming: list[Deliverable] = []
    for (
        part, pk, title, status, due, type_id, type_name, type_slug, owner_id, username,
        first_name, last_name, items, items_done, required_open,
    ) in select(
        _PROJECT_WORK_SQL,
        [project.pk, *CLOSED_STATUSES, limit, project.pk, *CLOSED_STATUSES, today, horizon, limit],
    ):  # fmt: skip
        deliverable = Deliverable(
            pk=pk, project=project, title=title, status=status, due_date=day(due),
            type=DeliverableType(pk=type_id, name=type_name, slug=type_slug), owner_id=owner_id,
        )  # fmt: skip
        if owner_id is not None:
            deliverable.owner = User(
                pk=owner_id, username=username, first_name=first_name, last_name=last_name
            )
        deliverable.items_total, deliverable.items_done = items, items_done
        deliverable.required_open = required_open
        deliverable.overdue = deliverable.is_overdue(today)
        (first_open if part == 1 else upcoming).append(deliverable)
    return ProjectDashboard(
        by_status=[
            (status, label, counts.get(status, 0)) for status, label in DeliverableStatus.choices
        ],
        overdue=[d for d in first_open if d.overdue],
        upcoming=upcoming,
        progress=first_open,
        total=sum(counts.values()),
        overdue_total=overdue_total,
        upcoming_total=upcoming_total,
        handbook=handbook,
    )
