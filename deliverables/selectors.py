"""Reads for pages about deliverables. Each decides its page's queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import cache
from itertools import islice
from math import ceil

from django.contrib.auth import get_user_model
from django.contrib.postgres.fields import ArrayField
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    Func,
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
    Window,
    prefetch_related_objects,
)
from django.db.models.functions import Coalesce, JSONObject, RowNumber
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext

from mlteam.links import row_url
from mlteam.people import person_name
from roles import selectors as roles_selectors
from roles.models import (
    VIEW,
    Membership,
    Project,
    ProjectStatus,
    Role,
    RoleAssignment,
    TeamChange,
    choice_label,
    project_grounds,
)
from roles.selectors import _gap_count, people_visible_to

from . import extensions
from .forms import OPEN, DeliverableFilterForm
from .models import (
    COMPLETE,
    DIGEST_DELIVERED,
    STATUS_ORDER,
    ChecklistItem,
    CommentMention,
    Deliverable,
    DeliverableComment,
    DeliverableEvent,
    DeliverableLink,
    DeliverableStatus,
    DeliverableType,
    Digest,
    DigestStatus,
    Reminder,
    comment_shown,
    deliverable_label,
    due_within_condition,
    overdue_condition,
    short_label_of,
)
from .practices.selectors import HandbookSummary, handbook_candidates

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


def _figures(rows: QuerySet, group_field: str, **figures) -> Subquery:
    """Several aggregates of `rows` (filtered on an OuterRef) per outer row, read by
    one subquery as a JSON object ({name: value}; None when there are no rows): one
    subquery for Django to build and the database to plan instead of one a figure
    (each more took ~0.3-0.5 ms of a dashboard or list page, bench/pages.py)."""
    rows = rows.order_by().values(group_field).annotate(figures=JSONObject(**figures))
    return Subquery(rows.values("figures"))


def _counted(condition: Q) -> Count:
    """How many of the grouped rows meet `condition` (all of them for an empty one)."""
    return Count("pk", filter=condition) if condition else Count("*")


def visible_deliverables(*, user) -> QuerySet[Deliverable]:
    """Deliverables of the active projects `user` may see."""
    return Deliverable.objects.visible_to(user, active_only=True)


# A list row's checklist progress: what each of its figures counts.
_PROGRESS = {
    "items_total": Q(),
    "items_done": COMPLETE,
    "required_open": Q(required=True) & ~COMPLETE,
}


@cache
def _progress() -> dict[str, Coalesce]:
    """`_PROGRESS` as columns, one subquery each, built once: a query that takes
    them resolves a copy (Subquery copies its query), never these. Building the
    three subqueries' filters cost ~1 ms of every list page (bench/pages.py)."""
    return {name: _item_count(condition) for name, condition in _PROGRESS.items()}


@cache
def _progress_figures() -> Subquery:
    """`_PROGRESS` as one column (`_figures`), built once like `_progress`."""
    items = ChecklistItem.objects.filter(deliverable=OuterRef("pk"))
    return _figures(
        items, "deliverable", **{name: _counted(condition) for name, condition in _PROGRESS.items()}
    )


def _with_progress_of_page(rows: QuerySet[Deliverable]) -> list[Deliverable]:
    """`rows` (a page: a few dozen) with `_PROGRESS`'s figures as attributes, as
    `_with_progress` gives them, read by one subquery instead of three (~0.7 ms of
    the list page, bench/pages.py)."""
    page = list(rows.annotate(progress_figures=_progress_figures()))
    for deliverable in page:
        figures = deliverable.progress_figures or {}
        for name in _PROGRESS:
            setattr(deliverable, name, figures.get(name, 0))
    return page


def _with_progress(deliverables: QuerySet[Deliverable], today: date) -> QuerySet[Deliverable]:
    return (
        deliverables.select_related("project", "type__role", "owner")
        .with_overdue(today)
        .annotate(**_progress())
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
    # By name (Deliverable.label): the type in catalogue order, then the own title.
    "title": ("type__role__position", "type__position", "type__name", "title", "pk"),
    "project": ("project__name", "due_date", "pk"),
    "status": (STATUS_ORDER, "due_date", "pk"),
    "owner": ("owner__first_name", "owner__username", "pk"),
    "updated": ("-updated_at", "-pk"),
}


def deliverable_filter_form(*, user, data) -> DeliverableFilterForm:
    """The list's filters as a form (the list page, its CSV export and the API read
    them through it): projects and owners to pick from are those `user` may see."""
    return DeliverableFilterForm(
        data,
        projects=roles_selectors.visible_active_projects(user).only("pk", "name").order_by("name"),
        owners=people_visible_to(user=user).only("pk", "username", "first_name", "last_name"),
    )


def deliverable_filters(data: dict) -> DeliverableFilters:
    """`DeliverableFilters` from the filter form's valid values (`QueryForm.values`)."""
    return DeliverableFilters(
        project=data["project"].pk if data.get("project") else None,
        role=data["role"].pk if data.get("role") else None,
        type=data["type"].pk if data.get("type") else None,
        status=data.get("status") or "",
        owner=data["owner"].pk if data.get("owner") else None,
        overdue=bool(data.get("overdue")),
        due_within=data.get("due_within"),
        query=(data.get("q") or "").strip(),
        sort=data.get("sort") or "due",
    )


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


class _IdArray(ArrayField):
    """An array of ids read from the database, handed to psycopg as they are:
    ArrayField prepares each element through its base field, 0.4 s for the
    100,000 ids of the admin's 50,000-row export (bench/pages.py)."""

    def get_db_prep_value(self, value, connection, prepared=False):
        return list(value)


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
            Value(ids, output_field=_IdArray(IntegerField())),
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


# The list counts at most this many rows for its paginator (see BoundedPaginator).
LIST_COUNT_LIMIT = 10_000


class BoundedPaginator(Paginator):
    """A Paginator that counts at most `limit` + 1 rows (`COUNT(*)` over a LIMITed
    subquery), so that a page costs the same however many rows match.

    Up to `limit` rows, it is Django's Paginator: the exact count, every page.
    Beyond, `capped` is true, `count` is `limit` + 1 and the pages stop at the
    `limit`-th row (the page says "more than `limit`"; a filter or another sort
    reaches the rest). Counting all 50,000 deliverables took 11-20 ms at 50,000 and
    four times as long at 200,000 (bench/pages.py).

    `object_list` may also be a list already read with at most `limit` + 1 rows
    (the site search reads its ranked rows at once): it is counted as it is."""

    def __init__(self, object_list, per_page, *, limit: int, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.limit = limit

    @cached_property
    def count(self) -> int:
        if isinstance(self.object_list, list):
            return min(len(self.object_list), self.limit + 1)
        return self.object_list.order_by()[: self.limit + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > self.limit

    @cached_property
    def num_pages(self) -> int:
        if self.capped:
            return ceil(self.limit / self.per_page)
        return super().num_pages


def deliverable_list_page(
    *, user, filters: DeliverableFilters, today: date, page_number, per_page: int
) -> Page:
    """One page of the list as WorkItems (two queries: the count, at most
    LIST_COUNT_LIMIT + 1 rows, then the rows).

    The page is chosen on the deliverables table alone (`pk IN (SELECT ... ORDER BY
    ... LIMIT)`); only its rows are joined to project, type, role and owner and get
    their checklist progress. Sorting 50,000 rows already joined to those tables
    cost ~100 ms on PostgreSQL; sorting the bare rows costs ~15 ms. The rows load
    only the columns a WorkItem reads: the template then prints plain values (the
    page's rows as model instances, drawn through three includes and a `{% url %}`
    each, cost ~4.5 ms of its render at 50,000 deliverables, bench/pages.py)."""
    rows = _filtered(user=user, filters=filters, today=today)
    paginator = BoundedPaginator(rows.values("pk"), per_page, limit=LIST_COUNT_LIMIT)
    page = paginator.get_page(page_number)
    page_rows = _with_progress_of_page(
        Deliverable.objects.filter(pk__in=page.object_list)
        .select_related("project", "type__role", "owner")
        .only(*_WORK_ITEM_FIELDS, "project__name")
        .order_by(*rows.query.order_by)
    )
    page.object_list = [work_item(deliverable, today=today) for deliverable in page_rows]
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


def in_area_order(items) -> list:
    """Checklist items area by area (in the order areas first appear), so questions
    added later join their area; items without an area come last."""
    items = list(items)
    first: dict[str, int] = {}
    for index, item in enumerate(items):
        first.setdefault(item.area, index)
    if "" in first and len(first) > 1:
        first[""] = len(items)
    return sorted(items, key=lambda item: (first[item.area], item.position, item.pk))


def deliverable_history(*, deliverable: Deliverable, limit: int = 100) -> list[DeliverableEvent]:
    return list(deliverable_events(deliverable=deliverable)[:limit])


def deliverable_seen(*, user, pk: int) -> Deliverable | None:
    """One deliverable `user` may see (also of an archived project), without its
    related rows: for reading its comments, links or history page by page."""
    return Deliverable.objects.visible_to(user).filter(pk=pk).first()


def deliverable_events(*, deliverable: Deliverable) -> QuerySet[DeliverableEvent]:
    """A deliverable's history, newest first."""
    return deliverable.events.select_related("actor").order_by("-created_at", "-pk")


def deliverable_comments(*, deliverable: Deliverable) -> QuerySet[DeliverableComment]:
    """A deliverable's comments, oldest first (as its page shows them)."""
    return deliverable.comments.select_related("author").order_by("created_at", "pk")


def person_mentions(*, user) -> QuerySet[CommentMention]:
    """Where `user` was mentioned (`services.comment_mentions_record`), newest first:
    comments not deleted, on deliverables they may still see. What the in-app inbox
    will list (the digest tells them once, `mentions.MentionDigestSection`)."""
    return (
        CommentMention.objects.filter(
            comment_shown("comment__"),
            person=user,
            comment__deliverable__in=Deliverable.objects.visible_to(user).values("pk"),
        )
        .select_related(
            "comment__author", "comment__deliverable__type", "comment__deliverable__project"
        )
        .order_by("-created_at", "-pk")
    )


def deliverable_links(*, deliverable: Deliverable) -> QuerySet[DeliverableLink]:
    """A deliverable's links, oldest first (as its page shows them)."""
    return deliverable.links.select_related("added_by").order_by("created_at", "pk")


def project_activity(*, project: Project, limit: int = 15) -> list[ActivityEntry]:
    """A project's newest team and deliverable changes, newest first (two queries)."""
    return _activity(projects=[project.pk], limit=limit, project_name=Value(project.name))


class ProjectActivity:
    """A project's team and deliverable changes as one newest-first sequence of
    ActivityEntry, for a Paginator: counting is two COUNTs, and a page reads the
    newest rows of both tables up to the page's end and merges them (two queries,
    whatever the page)."""

    def __init__(self, project: Project):
        name = Value(project.name)
        self.team = _team_feed(TeamChange.objects.filter(project=project), name)
        self.work = _work_feed(DeliverableEvent.objects.filter(project=project), name)

    def count(self) -> int:
        return self.team.count() + self.work.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list[ActivityEntry]:
        stop = index.stop
        merged = _merged(list(self.team[:stop]), list(self.work[:stop]))
        return activity_entries(merged[index])


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
    proposed = DeliverableType.objects.filter(role_id__in=holders, proposed=True)
    for deliverable_type in proposed.select_related("role"):
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
# Every dashboard is read with the ORM, through the one definition of each rule:
# `Project.objects.visible_to` and `people_visible_to` for who sees what,
# `DeliverableQuerySet.open()` / `.overdue()` and IS_OPEN for open and late work,
# COMPLETE_ITEM for answered questions. What they return is frozen dataclasses of plain
# values (ids, numbers, dates, names and labels already in the reader's language):
# the pages cache them per language (mlteam.cache.cached), and none of them is a model
# instance that could be saved by mistake.


@dataclass(frozen=True)
class PageInfo:
    """Where a page of a list stands, as plain numbers. Reads like a django Page in
    _pagination.html (`page_obj.paginator.num_pages` included)."""

    number: int
    num_pages: int

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.num_pages

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def paginator(self) -> PageInfo:
        return self


@dataclass(frozen=True)
class ProjectSummary:
    """One row of the portfolio: a project's work per status and its gaps."""

    pk: int
    name: str
    gap_count: int  # required roles nobody on the project holds
    by_status: tuple[tuple[str, str, int], ...]  # (status, label, count), every status
    total: int
    overdue: int
    due_soon: int  # open and due within 7 days
    completion: int | None  # percent done of the work still planned (not cancelled)
    handbook: int | None  # percent of the handbook's questions answered
    # Addresses the portfolio's row links to, built once with the row rather than
    # by the template on every request (a page shows 20 rows of 10 links).
    url: str = ""
    handbook_url: str = ""
    status_links: tuple[tuple[str, int], ...] = ()  # (list of that status, count)
    # The registered columns' cells (extensions.portfolio_columns), in their order:
    # (heading, PortfolioCell or None where the column has nothing for the project).
    extra_cells: tuple = ()

    def count_of(self, status: str) -> int:
        return next((n for code, _label, n in self.by_status if code == status), 0)


@dataclass(frozen=True)
class RoleOverdue:
    role_id: int
    role_name: str
    count: int


@dataclass(frozen=True)
class PersonLoad:
    """A person's load on the projects the viewer may see."""

    pk: int
    name: str
    role_count: int
    total_allocation: int
    open_deliverable_count: int
    overdue_count: int


@dataclass(frozen=True)
class ActivityEntry:
    """A team change (`source` "team") or a deliverable change ("work"), worded by
    the model's own properties in the reader's language."""

    source: str
    pk: int
    created_at: datetime
    project_id: int
    project_name: str
    actor_name: str  # "" for a change the system made
    label: str  # what was done: TeamChange.action_label or DeliverableEvent.kind_label
    deliverable_id: int | None = None
    deliverable_label: str = ""
    deliverable_url: str = ""  # its page, built with the (cached) entry
    display_before: str = ""
    display_after: str = ""
    person_name: str = ""
    role_name: str = ""
    detail: str = ""
    change_lines: tuple[tuple[str, str, str], ...] = ()


@dataclass(frozen=True)
class WorkItem:
    """A deliverable as the dashboards list it."""

    pk: int
    label: str
    status: str
    status_label: str
    due_date: date | None
    overdue: bool
    project_id: int
    project_name: str
    type_slug: str
    role_name: str
    owner_name: str = ""
    items_total: int = 0
    items_done: int = 0
    required_open: int = 0
    url: str = ""  # the deliverable's page, built with the (cached) item
    owner_id: int | None = None
    version: int = 0  # what an inline edit of the row carries (`inline_controls`)


@dataclass(frozen=True)
class PortfolioDashboard:
    projects: list[ProjectSummary]
    overdue_by_role: list[RoleOverdue]
    page: PageInfo = PageInfo(1, 1)
    extra_headings: tuple[str, ...] = ()  # the registered columns' (extensions.py)


@dataclass(frozen=True)
class PortfolioActivity:
    """Who carries the work and what changed last, across the same projects as the
    portfolio: the page fetches it once drawn (`portfolio_activity`)."""

    workload: list[PersonLoad]
    activity: list[ActivityEntry]


PORTFOLIO_PAGE_SIZE = 20
DUE_SOON_DAYS = 7


def _count(rows: QuerySet, group_field: str) -> Coalesce:
    """COUNT(*) of `rows` per outer row (`rows` filtered on an OuterRef), 0 for none."""
    # COUNT(*), not COUNT(id): the same number, and it can come from an index alone.
    counted = rows.order_by().values(group_field).annotate(n=Count("*")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


@dataclass(frozen=True)
class VisibleActive:
    """The active projects a viewer may see, as a condition on rows that point at a
    project (`narrow`). `ids`: theirs, in name order.

    When `Project.objects.visible_to` filters nothing for the viewer (admins), rows
    are narrowed by leaving out the archived projects' (a NOT IN over a handful of
    ids, which PostgreSQL checks from a hash while it walks an index in order)
    rather than by 200 ids bound as parameters, or a join to every project: at
    50,000 deliverables the admin's workload went from about 15 ms (ids) or 25 ms
    (join) of PostgreSQL time to about 9 ms, and its activity planned in 1.5 ms
    rather than 9 (bench/pages.py). For others the ids lead PostgreSQL to their
    few projects' rows through the per-project indexes."""

    ids: list[int]
    every_project: bool

    @classmethod
    def of(cls, user, visible: list[int] | None = None) -> VisibleActive:
        """`visible`: the ids of the projects `user` may see, when the request has
        read them already (a cached page's scope, mlteam.cache.KeptScope)."""
        projects = roles_selectors.visible_active_projects(user, visible)
        ids = list(projects.order_by("name", "pk").values_list("pk", flat=True))
        # No relation needed: `restrict` filters nothing (the rule's own answer).
        return cls(ids=ids, every_project=project_grounds(user, VIEW) is None)

    def projects(self) -> QuerySet[Project]:
        """The projects themselves."""
        if self.every_project:
            return Project.objects.active()
        return Project.objects.filter(pk__in=self.ids)

    def narrow(self, rows: QuerySet) -> QuerySet:
        return self.narrow_through(rows, "project")

    def narrow_through(self, rows: QuerySet, project: str) -> QuerySet:
        """`narrow` for rows whose project is reached through the path `project`."""
        if self.every_project:
            return rows.exclude(**{f"{project}__in": Project.objects.archived().values("pk")})
        return rows.filter(**{f"{project}__in": self.ids})


def _percent(part: int, whole: int) -> int | None:
    return round(100 * part / whole) if whole else None


def portfolio_dashboard(
    *, user, today: date, page_number=None, visible: list[int] | None = None
) -> PortfolioDashboard:
    """Where the active projects the viewer may see stand, a page of projects at a time.

    Per-project numbers are counted for the projects of the page only:
    1. the ids of the visible active projects, in page order (the paginator's list);
    2. the page's projects, their unfilled required roles and their handbook;
    3. the page's deliverables counted per project and status, with the late ones
       and those due within 7 days (from the (project, status, due date) index);
    4. overdue work per role; 5. each registered column's cells for the page's
    projects (`extensions.portfolio_columns`, a constant number of queries each).
    Everything after 1. is narrowed to the visible active projects by
    `VisibleActive.narrow`. `visible`: see VisibleActive.of. The workload and the
    recent activity of the same projects are `portfolio_activity`'s.
    """
    scope = VisibleActive.of(user, visible)
    page = Paginator(scope.ids, PORTFOLIO_PAGE_SIZE).get_page(page_number)
    page_ids = list(page.object_list)
    columns = list(extensions.portfolio_columns)
    projects = _project_summaries(page_ids, today) if page_ids else []
    if projects and columns:
        # 5. Each registered column's cells for the page (the readiness scores).
        cells = [column.cells(project_ids=page_ids) for column in columns]
        projects = [
            replace(
                row,
                extra_cells=tuple(
                    (str(column.heading), found.get(row.pk))
                    for column, found in zip(columns, cells, strict=True)
                ),
            )
            for row in projects
        ]
    return PortfolioDashboard(
        extra_headings=tuple(str(column.heading) for column in columns),
        projects=projects,
        overdue_by_role=_overdue_by_role(scope=scope, today=today),
        page=PageInfo(page.number, page.paginator.num_pages),
    )


PORTFOLIO_ACTIVITY = 15  # the newest changes, and the busiest people, it shows


def portfolio_activity(*, user, today: date, visible: list[int] | None = None) -> PortfolioActivity:
    """The busiest people (`workload`) and the newest team and deliverable changes
    (`_activity`) of the active projects the viewer may see: the same projects as
    `portfolio_dashboard`, every page of them. `visible`: see VisibleActive.of."""
    scope = VisibleActive.of(user, visible)
    return PortfolioActivity(
        workload=workload(user=user, today=today, scope=scope, limit=PORTFOLIO_ACTIVITY),
        activity=_activity(narrow=scope.narrow, limit=PORTFOLIO_ACTIVITY),
    )


@cache
def _handbook_columns() -> tuple[Subquery, Subquery]:
    """A project's handbook and its questions and answers, for the portfolio's rows:
    built once per process (they read nothing but the outer row; see
    roles.selectors._gap_count). Both counts from one subquery (two repeated the
    handbook's own subquery: about 1 ms more to build and plan at 20 projects)."""
    handbook = Subquery(handbook_candidates(project=OuterRef("pk")).values("pk")[:1])
    items = _figures(
        ChecklistItem.objects.filter(deliverable=OuterRef("handbook_id")),
        "deliverable",
        questions=Count("*"),
        answered=_counted(COMPLETE_ITEM),
    )
    return handbook, items


def _project_summaries(page_ids: list[int], today: date) -> list[ProjectSummary]:
    handbook, items = _handbook_columns()
    projects = (
        Project.objects.filter(pk__in=page_ids)
        .annotate(gap_count=_gap_count(), handbook_id=handbook)
        .annotate(handbook_items=items)
        .order_by("name", "pk")
        .values_list("pk", "name", "gap_count", "handbook_items")
    )
    # Few groups per project; `due_date` is counted rather than rows so that the
    # counts come from the index alone (a late or due-soon row has a due date).
    counts = (
        Deliverable.objects.filter(project_id__in=page_ids)
        .order_by()
        .values_list("project_id", "status")
        .annotate(
            n=Count("*"),
            late=Count("due_date", filter=overdue_condition(today)),
            due_soon=Count("due_date", filter=due_within_condition(DUE_SOON_DAYS, today)),
        )
    )
    per_project: dict[int, dict] = defaultdict(lambda: defaultdict(int))
    for project_id, status, n, late, due_soon in counts:
        row = per_project[project_id]
        row[status] += n
        row["total"] += n
        row["overdue"] += late
        row["due_soon"] += due_soon
    summaries = []
    statuses = [(status, str(label)) for status, label in DeliverableStatus.choices]
    list_url = reverse("deliverables:list")
    project_url = row_url("roles:project_detail")
    handbook_url = row_url("practices:handbook")
    for pk, name, gaps, handbook_items in projects:
        handbook_items = handbook_items or {}
        questions, answered = handbook_items.get("questions", 0), handbook_items.get("answered", 0)
        row = per_project[pk]
        # Cancelled work left the plan: completion is done out of the rest.
        planned = row["total"] - row[DeliverableStatus.CANCELLED]
        summaries.append(
            ProjectSummary(
                pk=pk,
                name=name,
                gap_count=gaps,
                by_status=tuple((status, label, row[status]) for status, label in statuses),
                total=row["total"],
                overdue=row["overdue"],
                due_soon=row["due_soon"],
                completion=_percent(row[DeliverableStatus.DONE], planned),
                handbook=_percent(answered, questions),
                url=project_url(pk),
                handbook_url=handbook_url(pk),
                status_links=tuple(
                    (f"{list_url}?project={pk}&status={status}", row[status])
                    for status, _label in statuses
                ),
            )
        )
    return summaries


@cache
def _type_role_columns() -> dict[str, Subquery]:
    """The role (id and name) of the outer row's deliverable type, built once per
    process (see _handbook_columns)."""
    type_row = DeliverableType.objects.filter(pk=OuterRef("type")).order_by()
    return {
        "role": Subquery(type_row.values("role")),
        "role_name": Subquery(type_row.values("role__name")),
    }


def _overdue_by_role(*, scope: VisibleActive, today: date) -> list[RoleOverdue]:
    """Overdue deliverables of the visible active projects per owning role, most
    first (one query: the late rows counted per type off the partial index of open
    work by due date, without joins; each type's role read once per group, by
    subqueries PostgreSQL evaluates for the few groups only).
    Joining the types and roles to every late row before grouping cost twice as
    much at 50,000 deliverables (bench/pages.py, the admin's portfolio)."""
    per_type = (
        scope.narrow(Deliverable.objects.overdue(today))
        .order_by()
        .values_list("type")
        .annotate(n=Count("*"))
        # Added after the count, so that the GROUP BY stays the type alone (annotated
        # with the count, they would be grouped on and run for every late row).
        .annotate(**_type_role_columns())
    )
    counts: dict[int, list] = {}
    for _type_id, n, role_id, name in per_type:
        counts.setdefault(role_id, [role_id, name, 0])[2] += n
    ordered = sorted(counts.values(), key=lambda row: (-row[2], row[1]))
    return [RoleOverdue(role_id, gettext(name), n) for role_id, name, n in ordered]


@cache
def _owner_names() -> Subquery:
    """The names of the outer row's owner as one JSON object, built once per process
    (see _handbook_columns)."""
    people = get_user_model().objects.filter(pk=OuterRef("owner"))
    return Subquery(people.values(names=JSONObject(**{name: name for name in _PERSON})))


def workload(
    *, user, today: date, limit: int = 15, scope: VisibleActive | None = None
) -> list[PersonLoad]:
    """The busiest people the viewer may see (most overdue, then most open work, on
    the visible active projects; active people only), with the roles they hold and
    their total allocation there (two queries, after those of `scope` when the
    caller has not read it).

    1. Open work counted per owner off the partial index of open work by owner, the
       visible people kept among the groups, the `limit` busiest taken. The people
       rule is applied to the groups (HAVING, on the group's one owner) rather than
       joined to every open row before grouping: at 50,000 deliverables the admin's
       workload went from about 30 ms to about 10 ms of PostgreSQL time
       (bench/pages.py), and counting again for the busiest is no longer needed.
    2. In the same query, for those `limit` groups only (PostgreSQL evaluates
       select-list subqueries after the sort and LIMIT), the person's names, the
       roles they hold and their allocation on the visible active projects.
    """
    if scope is None:
        scope = VisibleActive.of(user)
    User = get_user_model()
    visible_people = people_visible_to(user=user).order_by().values("pk")
    # The person's names, and the roles they hold with their allocation, each pair of
    # values read by one subquery (a JSON object) rather than one subquery a value:
    # less for Django to build and PostgreSQL to plan.
    held = _figures(
        scope.narrow_through(
            RoleAssignment.objects.filter(membership__user=OuterRef("owner")),
            "membership__project",
        ),
        "membership__user",
        n=Count("*"),
        total=Sum("allocation_percent"),
    )
    busiest = (
        scope.narrow(Deliverable.objects.open())
        .order_by()
        .values_list("owner")
        .annotate(
            open_n=Count("*"),
            # These rows are open already; repeating IS_OPEN in the filter would make
            # PostgreSQL read each row's status from the table instead of answering
            # from the partial index of open work alone.
            overdue_n=Count("due_date", filter=Q(due_date__lt=today)),
            person=Min("owner"),  # the group's owner, as an aggregate: filtered in HAVING
        )
        .filter(person__in=visible_people)
        # Plain subqueries (None for none), not wrapped in Coalesce: a wrapped one
        # would be added to the GROUP BY and evaluated for every open row.
        .annotate(names=_owner_names(), held=held)
        .order_by("-overdue_n", "-open_n", "owner")[:limit]
    )
    loads = []
    for owner, open_n, overdue_n, _, names, held in busiest:
        held = held or {}
        loads.append(
            (
                names["username"],
                PersonLoad(
                    pk=owner,
                    name=person_name(User(pk=owner, **names)),
                    role_count=held.get("n") or 0,
                    total_allocation=held.get("total") or 0,
                    open_deliverable_count=open_n,
                    overdue_count=overdue_n,
                ),
            )
        )
    loads.sort(key=lambda row: (-row[1].overdue_count, -row[1].open_deliverable_count, row[0]))
    return [load for _username, load in loads]


# --- activity feeds ------------------------------------------------------------------------


# What activity_entry reads of the rows joined to a change: names only, as columns
# beside the change (annotations), not as model instances: a feed of 30 changes
# built ~140 instances (the change, its project, people, role, deliverable, type).
# The changes' own columns are all read, for their wording methods.
_PERSON = ("username", "first_name", "last_name")


def _names(relation: str) -> dict[str, F]:
    return {f"{relation}_{name}": F(f"{relation}__{name}") for name in _PERSON}


def _team_feed(changes: QuerySet[TeamChange], project_name=None) -> QuerySet[TeamChange]:
    """`changes` newest first, with the names activity_entry shows; `project_name`
    (a Value) when the caller knows the one project, so it is not joined."""
    return changes.annotate(
        project_name=F("project__name") if project_name is None else project_name,
        **_names("actor"),
        **_names("person"),
        role_name=F("role__name"),
    ).order_by("-created_at", "-pk")


def _work_feed(events: QuerySet[DeliverableEvent], project_name=None) -> QuerySet[DeliverableEvent]:
    """`events` newest first, with the names activity_entry shows (see _team_feed)."""
    return events.annotate(
        project_name=F("project__name") if project_name is None else project_name,
        **_names("actor"),
        deliverable_title=F("deliverable__title"),
        deliverable_type_name=F("deliverable__type__name"),
    ).order_by("-created_at", "-pk")


def _merged(team: list[TeamChange], work: list[DeliverableEvent]) -> list:
    """Both kinds of change, newest first (ties: the higher id first, team changes
    before deliverable changes)."""
    return sorted([*team, *work], key=lambda entry: (entry.created_at, entry.pk), reverse=True)


class _Wording:
    """What the entries of one feed share, worded once: people and roles by id,
    deliverable types by name (person_name, Role.display_name, DeliverableType's,
    on instances made of the read columns), and the deliverables' URL pattern
    (mlteam.links)."""

    def __init__(self) -> None:
        self.people: dict[int, str] = {}
        self.roles: dict[int, str] = {}
        self.types: dict[str, str] = {}
        self._deliverable_url = None

    def person(self, entry, relation: str) -> str:
        pk = getattr(entry, f"{relation}_id")
        if pk is None:
            return ""
        if pk not in self.people:
            names = {name: getattr(entry, f"{relation}_{name}") for name in _PERSON}
            self.people[pk] = person_name(get_user_model()(pk=pk, **names))
        return self.people[pk]

    def role(self, entry: TeamChange) -> str:
        if entry.role_id is None:
            return ""
        if entry.role_id not in self.roles:
            self.roles[entry.role_id] = Role(pk=entry.role_id, name=entry.role_name).display_name
        return self.roles[entry.role_id]

    def deliverable(self, entry: DeliverableEvent) -> str:
        type_name = entry.deliverable_type_name
        if type_name not in self.types:
            self.types[type_name] = DeliverableType(name=type_name).display_name
        return deliverable_label(self.types[type_name], entry.deliverable_title)

    def deliverable_url(self, pk: int) -> str:
        if self._deliverable_url is None:
            self._deliverable_url = row_url("deliverables:detail")
        return self._deliverable_url(pk)


def activity_entry(
    entry: TeamChange | DeliverableEvent, wording: _Wording | None = None
) -> ActivityEntry:
    """A change read by _team_feed or _work_feed, worded for the reader by the
    model's own properties; `wording` shared by the entries of one feed."""
    wording = wording or _Wording()
    common = {
        "pk": entry.pk,
        "created_at": entry.created_at,
        "project_id": entry.project_id,
        "project_name": entry.project_name,
        "actor_name": wording.person(entry, "actor"),
    }
    if isinstance(entry, TeamChange):
        return ActivityEntry(
            source="team",
            label=str(entry.action_label),  # the words, not a lazy string (see work_item)
            person_name=wording.person(entry, "person"),
            role_name=wording.role(entry),
            detail=entry.detail,
            change_lines=tuple(tuple(line) for line in entry.change_lines()),
            **common,
        )
    return ActivityEntry(
        source="work",
        label=str(entry.kind_label),
        deliverable_id=entry.deliverable_id,
        deliverable_label=wording.deliverable(entry),
        deliverable_url=wording.deliverable_url(entry.deliverable_id),
        display_before=entry.display_before,
        display_after=entry.display_after,
        **common,
    )


def activity_entries(entries: list) -> list[ActivityEntry]:
    """activity_entry of each change of one feed, sharing their wording."""
    wording = _Wording()
    return [activity_entry(entry, wording) for entry in entries]


def _activity(*, projects=None, narrow=None, limit: int, project_name=None) -> list[ActivityEntry]:
    """The newest team and deliverable changes of `projects` (ids, or a query of
    them), or of the rows `narrow` keeps; two queries, each reading the newest rows
    off its table's newest-first index. `project_name`: see _team_feed."""
    if narrow is None:

        def narrow(rows: QuerySet) -> QuerySet:
            return rows.filter(project__in=projects)

    team = list(_team_feed(narrow(TeamChange.objects.all()), project_name)[:limit])
    work = list(_work_feed(narrow(DeliverableEvent.objects.all()), project_name)[:limit])
    return activity_entries(_merged(team, work)[:limit])


# --- the member's home ---------------------------------------------------------------------


@dataclass(frozen=True)
class RoleHeld:
    role_slug: str
    role_name: str
    project_id: int
    project_name: str
    allocation_percent: int


@dataclass(frozen=True)
class ProjectCard:
    pk: int
    name: str
    status_label: str
    member_count: int
    open_deliverable_count: int


@dataclass(frozen=True)
class MemberHome:
    overdue: list[WorkItem]
    due_soon: list[WorkItem]
    roles: list[RoleHeld]
    recent_changes: list[ActivityEntry]
    projects: list[ProjectCard] = field(default_factory=list)
    overdue_total: int = 0
    due_soon_total: int = 0
    projects_total: int = 0


# The columns work_item reads, besides the project (for rows loaded without it).
_WORK_ITEM_FIELDS = (
    "project_id",
    "version",
    "title",
    "status",
    "due_date",
    "type__slug",
    "type__name",
    "type__role__name",
    *(f"owner__{name}" for name in _PERSON),
)


def work_item(
    deliverable: Deliverable, *, today: date, project: Project | None = None, url: str = ""
) -> WorkItem:
    """A deliverable loaded with its type, role and owner (and its project, unless
    given) as a WorkItem; `url` its page when the caller built it (`mlteam.links`)."""
    project = project or deliverable.project
    owner = deliverable.owner if deliverable.owner_id else None
    return WorkItem(
        pk=deliverable.pk,
        label=deliverable.label,
        status=deliverable.status,
        # str: the words themselves, not a lazy translation (cached pages unpickle
        # each lazy string by building a class: ~45 us apiece on every request).
        status_label=str(deliverable.status_label),
        due_date=deliverable.due_date,
        overdue=deliverable.is_overdue(today),
        project_id=project.pk,
        project_name=project.name,
        type_slug=deliverable.type.slug,
        role_name=deliverable.type.role.display_name,
        owner_name=person_name(owner),
        items_total=getattr(deliverable, "items_total", 0),
        items_done=getattr(deliverable, "items_done", 0),
        required_open=getattr(deliverable, "required_open", 0),
        url=url or reverse("deliverables:detail", args=[deliverable.pk]),
        owner_id=deliverable.owner_id,
        version=deliverable.version,
    )


@cache
def _card_columns() -> dict[str, Coalesce]:
    """A project card's team size and open work, built once per process (see
    _handbook_columns)."""
    return {
        "members": _count(Membership.objects.filter(project=OuterRef("pk")), "project"),
        "open_n": _count(Deliverable.objects.open().filter(project=OuterRef("pk")), "project"),
    }


def member_home(
    *, user, today: date, limit: int = 8, projects: int = 10, visible: list[int] | None = None
) -> MemberHome:
    """What is the signed-in person's to do: their late and soon-due work, the
    roles they hold, what others changed on their deliverables, and the first of
    their projects with their team size and open work (five queries).

    0. The ids of the visible active projects (VisibleActive; `visible` as there):
       the queries below
       filter by them, which PostgreSQL plans in a fraction of the time it takes
       over the visibility subquery (the recent changes: ~0.7 ms instead of 2-6).
    1. The person's open work on visible active projects due within a week: the
       first `limit` late ones and the first `limit` due soon, each band with how
       many it holds (window functions: one query however much there is).
    2. Their roles on visible active projects. 3. What others changed on their
       deliverables, newest first. 4. Their projects, with the number of them.
    """
    soon = today + timedelta(days=DUE_SOON_DAYS)
    scope = VisibleActive.of(user, visible)
    band = Case(When(due_date__lt=today, then=Value(1)), default=Value(2))
    work = (
        scope.narrow(Deliverable.objects.open())
        .filter(owner=user, due_date__lte=soon)
        .select_related("project", "type__role", "owner")
        .annotate(
            band=band,
            band_total=Window(Count("*"), partition_by=[band]),
            rank=Window(RowNumber(), partition_by=[band], order_by=[F("due_date"), F("pk")]),
        )
        .filter(rank__lte=limit)
        .order_by("band", "due_date", "pk")
    )
    late: list[WorkItem] = []
    due_soon: list[WorkItem] = []
    totals = {1: 0, 2: 0}
    for deliverable in work:
        totals[deliverable.band] = deliverable.band_total
        item = work_item(deliverable, today=today)
        (late if deliverable.band == 1 else due_soon).append(item)
    roles = [
        RoleHeld(
            role_slug=assignment.role.slug,
            role_name=assignment.role.display_name,
            project_id=assignment.membership.project_id,
            project_name=assignment.membership.project.name,
            allocation_percent=assignment.allocation_percent,
        )
        for assignment in scope.narrow_through(
            RoleAssignment.objects.filter(membership__user=user), "membership__project"
        )
        .select_related("role", "membership__project")
        # Names only: a role's descriptions and a project's business problem are long.
        .only(
            "allocation_percent",
            "role__slug",
            "role__name",
            "membership__project_id",
            "membership__project__name",
        )
        .order_by("membership__project__name", "role__position", "pk")
    ]
    changes = _work_feed(
        scope.narrow(
            DeliverableEvent.objects.filter(deliverable__owner=user).exclude(actor=user)
        )  # kept: changes the system made (no actor)
    )[:limit]
    cards = list(
        scope.projects()
        .annotate(
            total=Window(Count("*")),
            **_card_columns(),
        )
        .order_by("name", "pk")
        .values_list("pk", "name", "status", "members", "open_n", "total")[:projects]
    )
    return MemberHome(
        overdue=late,
        due_soon=due_soon,
        roles=roles,
        recent_changes=activity_entries(changes),
        projects=[
            ProjectCard(
                pk=pk,
                name=name,
                status_label=choice_label(ProjectStatus, status),
                member_count=members,
                open_deliverable_count=open_n,
            )
            for pk, name, status, members, open_n, _total in cards
        ],
        overdue_total=totals[1],
        due_soon_total=totals[2],
        projects_total=cards[0][-1] if cards else 0,
    )


# --- one project's dashboard ---------------------------------------------------------------


@dataclass(frozen=True)
class ProjectDashboard:
    by_status: list[tuple[str, str, int]]
    overdue: list[WorkItem]
    upcoming: list[WorkItem]
    progress: list[WorkItem]
    total: int
    overdue_total: int = 0
    upcoming_total: int = 0
    handbook: object = None  # practices.selectors.HandbookSummary


UPCOMING_DAYS = 30


def project_dashboard(*, project: Project, today: date, limit: int = 10) -> ProjectDashboard:
    """Status breakdown, overdue work, the next 30 days' due dates and checklist
    progress of one project's open deliverables, and its handbook's completeness
    (two queries).

    1. The deliverables per status, with how many are late and how many due in the
       next 30 days, and which is the handbook (as on the handbook page).
    2. The first `limit` open deliverables by due date, the first `limit` due in
       the next 30 days (their own rank: behind `limit` overdue rows, the first open
       ones hold none of them) and the handbook, with their checklist progress: the
       handbook's is how many of its questions are answered.
    """
    upcoming = due_within_condition(UPCOMING_DAYS, today)
    # The handbook rides along with the counts: a subquery without outer
    # references, which PostgreSQL runs once for the query. Plain Subquery, not
    # Coalesce: added after the counts, it then stays out of the GROUP BY.
    handbook_first = handbook_candidates(project=project).values("pk")[:1]
    counts = (
        Deliverable.objects.filter(project=project)
        .order_by()
        .values_list("status")
        .annotate(
            n=Count("*"),
            late=Count("due_date", filter=overdue_condition(today)),
            coming=Count("due_date", filter=upcoming),
        )
        .annotate(handbook_id=Subquery(handbook_first))
    )
    by_status: dict[str, int] = {}
    overdue_total = upcoming_total = 0
    handbook_pk = None
    for status, n, late, coming, handbook_id in counts:
        by_status[status] = n
        handbook_pk = handbook_id  # the same on every row
        overdue_total += late
        upcoming_total += coming
    # The rows kept are picked by LIMITs (the first open ones, the first due in the
    # window, the handbook) before anything is joined or counted, so checklist
    # progress is counted for those rows only, not for every open row of the project.
    work = Deliverable.objects.filter(project=project).order_by()
    in_order = [F("due_date").asc(nulls_last=True), "pk"]
    first_ids = work.open().order_by(*in_order).values("pk")[:limit]
    # (due_within_condition is about open work already: not filtered on twice.)
    coming_ids = work.filter(upcoming).order_by("due_date", "pk").values("pk")[:limit]
    # The handbook by the id the counts found, not by its candidates' query again.
    handbook_ids = work.filter(pk=handbook_pk).values("pk")
    if connection.features.supports_slicing_ordering_in_compound:
        # One UNION (PostgreSQL): the planner then expects the ~20 rows it gets and
        # fetches their owners by key; an OR of IN lists made it expect ~190 and
        # hash every user.
        picked = Q(pk__in=first_ids.union(coming_ids, handbook_ids))
    else:  # SQLite takes no LIMIT inside a UNION
        picked = Q(pk__in=first_ids) | Q(pk__in=coming_ids) | Q(pk__in=handbook_ids)
    # Only what work_item reads: the project is the one given, and lateness is
    # Deliverable.is_overdue on the row (fewer joins and columns to plan and load).
    # The checklist figures are the list pages' (_with_progress_of_page): one
    # subquery a row, built once per process, rather than a join grouped by every
    # selected table (~0.3-0.5 ms less to build and run on the 50,000-deliverable
    # bench data), and the handbook's counts come with them rather than as two
    # more subqueries of the first query.
    rows = _with_progress_of_page(
        Deliverable.objects.filter(picked)
        .select_related("type__role", "owner")
        .only(*_WORK_ITEM_FIELDS)
        .annotate(in_window=ExpressionWrapper(upcoming, output_field=BooleanField()))
        .order_by(*in_order)
    )
    handbook = HandbookSummary(project=project, deliverable_id=None, today=today)
    detail_url = row_url("deliverables:detail")
    items = []
    for row in rows:
        if row.pk == handbook_pk:
            handbook = HandbookSummary(
                project=project,
                deliverable_id=row.pk,
                total=row.items_total,
                answered=row.items_done,
                today=today,
            )
        items.append(work_item(row, today=today, project=project, url=detail_url(row.pk)))
    # The first `limit` open rows are the smallest in this order, so they are the
    # first open ones here: every other open row (picked by the second LIMIT, or
    # the handbook) sorts after them, and a closed handbook is not open. Likewise
    # the first `limit` rows due in the window are the first such rows here.
    first_open = [item for item, row in zip(items, rows, strict=True) if row.is_open][:limit]
    coming_up = [item for item, row in zip(items, rows, strict=True) if row.in_window][:limit]
    return ProjectDashboard(
        by_status=[
            (status, str(label), by_status.get(status, 0))
            for status, label in DeliverableStatus.choices
        ],
        overdue=[item for item in first_open if item.overdue],
        upcoming=coming_up,
        progress=first_open,
        total=sum(by_status.values()),
        overdue_total=overdue_total,
        upcoming_total=upcoming_total,
        handbook=handbook,
    )


# --- roles' pages that show work ------------------------------------------------------------
# roles never imports deliverables: the pages about projects and people that also
# count open work are composed here from the roles selectors.


def _open_work_of(field: str, visible_active=None):
    """Open deliverables per outer row (`field`: the deliverable's column that
    points at it), on the projects `visible_active` only when given."""
    rows = Deliverable.objects.filter(**{field: OuterRef("pk")}).open()
    if visible_active is not None:
        rows = rows.filter(project__in=visible_active)
    return roles_selectors.count_subquery(rows, field)


def project_list(*, user, **filters) -> QuerySet[Project]:
    """The project list (`roles.selectors.project_search`) with each project's open
    deliverables."""
    return roles_selectors.project_search(user=user, **filters).annotate(
        open_deliverable_count=_open_work_of("project")
    )


def people_with_load(*, user, query: str = "") -> QuerySet:
    """People the viewer may see with their allocation and open deliverables, both
    counted on visible, active projects only."""
    visible_active = roles_selectors.visible_active_projects(user).values("pk")
    return roles_selectors.people_with_allocation(user=user, query=query).annotate(
        open_deliverable_count=_open_work_of("owner", visible_active)
    )


def people_directory(*, user, query: str = "") -> QuerySet:
    """The people page (`roles.selectors.people_directory`) with each person's open
    deliverables on visible, active projects."""
    visible_active = roles_selectors.visible_active_projects(user).values("pk")
    return roles_selectors.people_directory(user=user, query=query).annotate(
        open_deliverable_count=_open_work_of("owner", visible_active)
    )


# --- the board --------------------------------------------------------------------------


@dataclass(frozen=True)
class BoardCard:
    """A deliverable on the board: what the card shows (`item`), the version its
    move form carries, and the moves the reader may make from its column."""

    item: WorkItem
    type_name: str
    title: str  # its own title, or its type's name when it has none
    version: int
    moves: list[BoardMove]  # in the workflow's order; none when the reader may not move it
    move_url: str
    asks_reason: bool  # one of its moves (blocked) needs a reason
    may_override: bool  # a manager may mark it done with required items open
    done_status: str = DeliverableStatus.DONE  # what "mark done anyway" moves it to
    refusal: object = None  # why its last move was refused (the view sets it)

    @property
    def move_names(self) -> str:
        """Its moves' statuses, space-separated (`data-moves`, for board.js's dragging)."""
        return " ".join(move.status for move in self.moves)

    def refused(self, refusal) -> BoardCard:
        return replace(self, refusal=refusal)


@dataclass(frozen=True)
class BoardMove:
    status: str
    label: str
    asks_reason: bool


@dataclass
class BoardColumn:
    status: str
    label: str
    cards: list[BoardCard] = field(default_factory=list)
    count: int = 0  # all its deliverables; it draws BOARD_COLUMN_LIMIT of them at most

    @property
    def more(self) -> int:
        """How many of its deliverables are not drawn (the list shows them all)."""
        return self.count - len(self.cards)


@dataclass
class Board:
    columns: list[BoardColumn]
    project: Project | None = None  # None: the reader's own work (My work)
    refusal: object = None  # a refused move whose card is no longer on the board

    @property
    def total(self) -> int:
        return sum(column.count for column in self.columns)

    def with_refusal(self, pk: int, refusal) -> Board:
        """The board with the card of deliverable `pk` drawn refused (see BoardCard);
        a card no longer on this board leaves its refusal to the board (`refusal`)."""
        self.refusal = refusal
        for column in self.columns:
            for index, card in enumerate(column.cards):
                if card.item.pk == pk:
                    column.cards[index] = card.refused(refusal)
                    self.refusal = None
        return self


# My work's board shows the reader's open work and their most recently changed done
# work only: a person's done work only grows, and the list holds all of it.
MY_BOARD_DONE_LIMIT = 20

# The most cards a column draws: the first by due date (done: the most recently
# changed); its heading gives the column's full count and links to the list.
BOARD_COLUMN_LIMIT = 20  # as many as My work shows of its done work (MY_BOARD_DONE_LIMIT)


def _board(
    *, user, rows: QuerySet[Deliverable], today: date, project=None, keep: int | None = None
) -> Board:
    """`rows` as cards in the board's columns (workflow.BOARD_COLUMNS), at most
    BOARD_COLUMN_LIMIT a column, plus the card of deliverable `keep` (just moved).

    Queries: each column's count (one grouped query), the cards drawn with their
    checklist progress (one subquery), then the managers of their projects
    (prefetched, so `can_manage_deliverable` and `can_update_deliverable` answer
    without a query per card)."""
    from . import workflow
    from .permissions import can_manage_deliverable, can_update_deliverable
    from .services import REASON_REQUIRED  # the moves that need a reason: one list

    counts = dict(rows.order_by().values_list("status").annotate(n=Count("pk")))
    place = Window(
        RowNumber(),
        partition_by=[F("status")],
        order_by=[
            # Done: the most recently changed first (null in the other columns).
            Case(When(status=DeliverableStatus.DONE, then=F("updated_at"))).desc(nulls_last=True),
            F("due_date").asc(nulls_last=True),
            F("pk").asc(),
        ],
    )
    # The cards drawn, chosen by id first: their progress is then read for them only.
    drawn = rows.annotate(board_place=place).filter(
        Q(board_place__lte=BOARD_COLUMN_LIMIT) | Q(pk=keep or 0)
    )
    # A project's board has the project already: its cards are not joined to it.
    related = ("type__role", "owner") if project else ("project", "type__role", "owner")
    project_fields = () if project else ("project__name", "project__archived_at")
    loaded = _with_progress_of_page(
        Deliverable.objects.filter(pk__in=drawn.values("pk"))
        .select_related(*related)
        .only(*_WORK_ITEM_FIELDS, *project_fields)
        .order_by(F("due_date").asc(nulls_last=True), "pk")
    )
    # One instance of each project for its cards, its managers prefetched on it
    # (one query, then one filter per project rather than per card).
    if project:
        projects = {project.pk: project}
    else:
        projects = {deliverable.project_id: deliverable.project for deliverable in loaded}
    prefetch_related_objects(list(projects.values()), "managers")
    for deliverable in loaded:
        deliverable.project = projects[deliverable.project_id]
    detail_url = row_url("deliverables:detail")
    move_url = row_url("deliverables:move")
    columns = {
        status: BoardColumn(
            status, str(DeliverableStatus(status).label), count=counts.get(status, 0)
        )
        for status in workflow.BOARD_COLUMNS
    }
    manages: dict[int, bool] = {}
    # The permission helpers read the card's project and owner only: asked once per
    # project (manage) and per (project, owner) (update), not once per card.
    updates: dict[tuple[int, int | None], bool] = {}
    # The moves offered depend on the column and the reader's rights only: built
    # once per (status, manages, may update) instead of once per card.
    offers: dict[tuple[str, bool, bool], tuple[list[BoardMove], bool, bool]] = {}
    type_names: dict[int, str] = {}  # each type's name in the reader's language, worded once
    for deliverable in loaded:
        column = columns.get(deliverable.status)
        if column is None:
            continue
        if deliverable.project_id not in manages:
            manages[deliverable.project_id] = can_manage_deliverable(user, deliverable)
        manager = manages[deliverable.project_id]
        whose = (deliverable.project_id, deliverable.owner_id)
        if whose not in updates:
            updates[whose] = can_update_deliverable(user, deliverable)
        key = (deliverable.status, manager, updates[whose])
        if key not in offers:
            moves = workflow.actions_for(key[0], manages=manager) if key[2] else {}
            board_moves = [
                BoardMove(target, str(label), target in REASON_REQUIRED)
                for target, label in moves.items()
                if target in workflow.BOARD_COLUMNS
            ]
            offers[key] = (
                board_moves,
                any(move.asks_reason for move in board_moves),
                manager and DeliverableStatus.DONE in moves,
            )
        board_moves, asks_reason, may_override = offers[key]
        if deliverable.type_id not in type_names:
            type_names[deliverable.type_id] = str(deliverable.type.display_name)
        type_name = type_names[deliverable.type_id]
        column.cards.append(
            BoardCard(
                item=work_item(deliverable, today=today, url=detail_url(deliverable.pk)),
                type_name=type_name,
                title=short_label_of(deliverable.title, type_name),
                version=deliverable.version,
                moves=board_moves,
                move_url=move_url(deliverable.pk),
                asks_reason=asks_reason,
                may_override=may_override,
            )
        )
    return Board(columns=list(columns.values()), project=project)


def project_board(*, user, project: Project, today: date, keep: int | None = None) -> Board:
    """A project's deliverables by status (all of them but the cancelled ones)."""
    from .workflow import BOARD_COLUMNS

    rows = Deliverable.objects.visible_to(user).filter(project=project, status__in=BOARD_COLUMNS)
    return _board(user=user, rows=rows, today=today, project=project, keep=keep)


def my_work_board(*, user, today: date, keep: int | None = None) -> Board:
    """The reader's deliverables by status: all their open work, and the done work
    they last saw change (MY_BOARD_DONE_LIMIT), on active projects they may see."""
    mine = visible_deliverables(user=user).filter(owner=user)
    recently_done = (
        mine.filter(status=DeliverableStatus.DONE)
        .order_by("-updated_at", "-pk")
        .values("pk")[:MY_BOARD_DONE_LIMIT]
    )
    rows = mine.open() | mine.filter(pk__in=recently_done)
    return _board(user=user, rows=rows, today=today, keep=keep)


def work_view_for(*, user) -> str:
    """How `user` last chose to see deliverables (`WorkView`; the list until they choose)."""
    from .models import ReminderPreference, WorkView

    saved = ReminderPreference.objects.filter(user=user).values_list("work_view", flat=True)
    return next(iter(saved), WorkView.LIST)


# --- inline edits on the lists ------------------------------------------------------------


# What `person_name` and `is_deactivated` read of a person (owner choices).
_PERSON_STATE = (*_PERSON, "is_active", "password", "last_login")


@dataclass(frozen=True)
class RowControls:
    """What the reader may change in place on a list row: the status moves offered
    (none: the status is only shown), and for the project's managers the owner
    (`owners` to choose from) and the due date. `refusal`: why the last change of
    the row was refused, drawn next to `refusal.field`."""

    pk: int
    version: int
    moves: list[BoardMove]
    manages: bool
    owners: list[tuple[int, str]]
    may_override: bool
    refusal: object = None

    def refused(self, refusal) -> RowControls:
        return replace(self, refusal=refusal)


def inline_controls(*, user, rows) -> dict[int, RowControls]:
    """RowControls for `rows` (WorkItems or deliverables: pk, project_id, owner_id,
    status, version), by deliverable id.

    Queries: the rows' projects, each marked whether the reader manages it
    (`ProjectQuerySet.managed_by`, as a subquery: one query however many projects),
    and the teams of the projects the reader manages (their owner choices, as
    `owner_choices` draws them, loading only the columns those read). None per row.
    (The projects with their managers prefetched for `can_manage_project`, and the
    memberships with their people, all whole rows: three queries and ~45 ms of the
    admin's list at 50,000 deliverables; now ~20 ms, timed in-process on the
    bench_pages data.)"""
    from mlteam.people import is_deactivated

    from . import workflow
    from .services import REASON_REQUIRED

    rows = list(rows)
    if not rows:
        return {}
    projects = (
        Project.objects.filter(pk__in={row.project_id for row in rows})
        .annotate(manages=Exists(Project.objects.managed_by(user).filter(pk=OuterRef("pk"))))
        .only("pk", "archived_at")
    )
    manages = {project.pk: project.manages for project in projects}
    archived = {project.pk for project in projects if project.is_archived}
    owners: dict[int, list[tuple[int, str]]] = defaultdict(list)
    managed = [pk for pk, yes in manages.items() if yes and pk not in archived]
    if managed:
        # People rather than their memberships: one model a person, not two (a page's
        # teams are ~250 people on the 50,000-deliverable bench data).
        members = (
            get_user_model()
            .objects.filter(memberships__project_id__in=managed)
            .annotate(team_of=F("memberships__project_id"))
            .only(*_PERSON_STATE)
            .order_by("first_name", "last_name", "username")
        )
        for person in members:
            if not is_deactivated(person):
                owners[person.team_of].append((person.pk, person_name(person)))
    controls = {}
    for row in rows:
        manager = manages.get(row.project_id, False) and row.project_id not in archived
        choices = owners.get(row.project_id, []) if manager else []
        if manager and row.owner_id and all(pk != row.owner_id for pk, _name in choices):
            # Their owner now stays a choice (`owner_choices`: a form saved unchanged keeps them).
            name = row.owner_name if isinstance(row, WorkItem) else person_name(row.owner)
            choices = [*choices, (row.owner_id, name)]
        may_update = row.project_id not in archived and (row.owner_id == user.pk or manager)
        moves = workflow.actions_for(row.status, manages=manager) if may_update else {}
        controls[row.pk] = RowControls(
            pk=row.pk,
            version=row.version,
            # Cancelling asks for a confirmation on a page of its own (the deliverable's).
            moves=[
                BoardMove(target, str(label), target in REASON_REQUIRED)
                for target, label in moves.items()
                if target != DeliverableStatus.CANCELLED
            ],
            manages=manager,
            owners=choices,
            may_override=manager and DeliverableStatus.DONE in moves,
        )
    return controls


def inline_rows(*, user, items: list[WorkItem]) -> list[tuple[WorkItem, RowControls]]:
    """A page's WorkItems, each with what the reader may change in place."""
    controls = inline_controls(user=user, rows=items)
    return [(item, controls[item.pk]) for item in items]


def inline_row(*, user, pk: int, today: date) -> tuple[WorkItem, RowControls] | None:
    """One list row as the list draws it (after an inline edit), if `user` may see it."""
    rows = _with_progress_of_page(
        visible_deliverables(user=user)
        .filter(pk=pk)
        .select_related("project", "type__role", "owner")
        .only(*_WORK_ITEM_FIELDS, "project__name")
    )
    if not rows:
        return None
    return inline_rows(user=user, items=[work_item(rows[0], today=today)])[0]
