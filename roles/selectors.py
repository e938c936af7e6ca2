"""Reads for pages about roles, projects, teams and people.

Each selector decides its page's queries: counts come from annotations or
subqueries and related rows from prefetches, so a page costs the same number of
queries however much data there is. Everything is limited to what the viewer
may see (see `ProjectQuerySet.visible_to`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cache

from django.contrib.auth import get_user_model
from django.db.models import (
    CharField,
    Count,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from mlteam.cache import Scope
from mlteam.links import row_url
from mlteam.people import person_name

from . import models
from .models import (
    Membership,
    Project,
    Role,
    RoleAssignment,
    unfilled,
)
from .permissions import is_admin

OVERLOADED_ROLE_COUNT = 3
FULL_ALLOCATION = 100


def count_subquery(queryset: QuerySet, group_field: str) -> Coalesce:
    """COUNT(*) of `queryset` rows per outer row, as a correlated subquery (0 when none)."""
    # COUNT(*), not COUNT(id): the same number, and it can be read from an index alone.
    counted = queryset.order_by().values(group_field).annotate(n=Count("*")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


# Subqueries that read nothing but the outer row (OuterRef) are built once per
# process: a query that takes one resolves a copy (Subquery copies its query), never
# the one kept. Building their filters is most of what they cost a page (~0.4 ms each).


@cache
def _gap_count():
    """Required roles of the outer project that nobody on it holds."""
    return count_subquery(Role.objects.unfilled_on(OuterRef("pk")), "requiring_projects")


@cache
def _member_count():
    return count_subquery(Membership.objects.filter(project=OuterRef("pk")), "project")


# What the team's pages read of a member's account: the name (`person_name`), the
# email, and what tells an invitation from a deactivated account (`is_deactivated`).
_TEAM_USER_COLUMNS = (
    "username",
    "first_name",
    "last_name",
    "email",
    "is_active",
    "password",
    "last_login",
)
# ... and of a role they hold (its name, its link, its place in the catalogue).
_TEAM_ROLE_COLUMNS = ("role__name", "role__slug", "role__position")


def _team_prefetches(visible_active: QuerySet | None = None) -> list[Prefetch]:
    """The team as the team panel shows it: `project.team`, its memberships (each
    member's name, email and account state, `mlteam.people`), each one's `held`,
    their role assignments, and (given `visible_active`, the viewer's
    active projects as a values("pk") queryset) each member's allocation across
    them, read with the memberships (`allocation_total`, see `_allocation_totals`)
    rather than in a query of its own.

    Plain lists (Prefetch's `to_attr`) rather than the related managers' caches:
    Django builds a queryset for each instance whose cache it fills, ~0.15 ms a
    membership (1.4 ms for the team page's ten; ~3 ms for the portfolio's 200,
    `_held_role_prefetches`)."""
    memberships = Membership.objects.select_related("user").only(
        "pk",
        "project_id",
        "user_id",
        *(f"user__{name}" for name in _TEAM_USER_COLUMNS),
    )
    if visible_active is not None:
        memberships = memberships.annotate(
            allocation_total=_allocation_total(OuterRef("user_id"), visible_active)
        )
    return [
        Prefetch("required_roles", queryset=Role.objects.order_by("position")),
        Prefetch(
            "memberships",
            queryset=memberships.order_by("user__first_name", "user__last_name", "user__username"),
            to_attr="team",
        ),
        Prefetch(
            "team__assignments",
            queryset=RoleAssignment.objects.select_related("role")
            .only("pk", "membership_id", "role_id", "allocation_percent", *_TEAM_ROLE_COLUMNS)
            .order_by("role__position"),
            to_attr="held",
        ),
    ]


# --- projects -------------------------------------------------------------------------


PROJECT_SORTS = {
    "name": ("name",),
    "-name": ("-name",),
    "gaps": ("gap_count", "name"),
    "-gaps": ("-gap_count", "name"),
    "status": ("status", "name"),
    "target": ("target_date", "name"),
}


def project_search(
    *,
    user,
    query: str = "",
    status: str = "",
    manager_id: int | None = None,
    archived: bool = False,
    sort: str = "name",
) -> QuerySet[Project]:
    """The project list: filters, search and sort over the projects `user` may see,
    with their member and unfilled-role counts (deliverables adds the open work)."""
    projects = Project.objects.visible_to(user)
    projects = projects.filter(archived_at__isnull=not archived)
    if query:
        projects = projects.filter(Q(name__icontains=query) | Q(business_problem__icontains=query))
    if status:
        projects = projects.filter(status=status)
    if manager_id:
        projects = projects.filter(managers__id=manager_id)
    return (
        projects.annotate(
            member_count=_member_count(),
            gap_count=_gap_count(),
        )
        .prefetch_related("managers")
        .order_by(*PROJECT_SORTS.get(sort, PROJECT_SORTS["name"]))
    )


def project_manager_choices(*, user) -> QuerySet:
    """People who manage at least one project the viewer can see (list filter)."""
    visible = Project.objects.visible_to(user).values("pk")
    return (
        get_user_model()
        .objects.filter(managed_projects__in=visible)
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


def project_get_for_user(
    *,
    user,
    pk: int,
    with_team: bool = True,
    with_managers: bool = False,
    visible: Iterable[int] | None = None,
) -> Project | None:
    """The project if `user` may see it; with its managers and team unless the
    page has no use for them (`with_team=False`: one query; `with_managers` adds
    the managers alone). `visible`: the ids of `Project.objects.visible_to(user)`
    when the request has read them already (the cached pages' scope), so the
    condition is not built and run again (~1 ms of the project page)."""
    if visible is None:
        projects = Project.objects.visible_to(user).filter(pk=pk)
    elif pk in visible:
        projects = Project.objects.filter(pk=pk)
    else:
        return None
    if with_team:
        # The members' allocation totals over the viewer's active projects come with
        # the team (one query and one visibility condition fewer than
        # `_allocation_totals` reading them on their own).
        visible_active = visible_active_projects(user, visible).values("pk")
        projects = projects.prefetch_related("managers", *_team_prefetches(visible_active))
    elif with_managers:
        projects = projects.prefetch_related("managers")
    project = projects.first()
    if project is not None and with_team:
        project.allocation_totals_viewer = user.pk  # whose projects those totals cover
    return project


def _held_role_prefetches() -> list[Prefetch]:
    """What `unfilled_roles` reads: the required roles and which roles the team
    holds (`project.team`, each one's `held`, as `_team_prefetches` puts them),
    without the people or the roles' texts (`_team_prefetches` has those)."""
    return [
        Prefetch(
            "required_roles",
            queryset=Role.objects.only("pk", "name", "position").order_by("position"),
        ),
        Prefetch(
            "memberships", queryset=Membership.objects.only("pk", "project_id"), to_attr="team"
        ),
        Prefetch(
            "team__assignments",
            queryset=RoleAssignment.objects.only("pk", "membership_id", "role_id"),
            to_attr="held",
        ),
    ]


def portfolio_coverage(*, user, sort: str = "-gaps") -> QuerySet[Project]:
    """Every active project the viewer may see, with its unfilled roles."""
    return (
        Project.objects.visible_to(user)
        .active()
        .annotate(gap_count=_gap_count(), member_count=_member_count())
        .only("pk", "name", "status")  # what the page shows
        .prefetch_related(*_held_role_prefetches())
        .order_by(*PROJECT_SORTS.get(sort, PROJECT_SORTS["-gaps"]))
    )


def unfilled_roles(project: Project) -> list[Role]:
    """Required roles nobody holds; uses the prefetches of `_team_prefetches` or
    `_held_role_prefetches`."""
    held = {a.role_id for m in project.team for a in m.held}
    return unfilled(project.required_roles.all(), held)


# --- coverage matrix --------------------------------------------------------------------


@dataclass
class CoverageRow:
    role: Role
    required: bool
    cells: list[RoleAssignment | None]
    filled: bool  # as `models.unfilled` says
    suggestions: list = field(default_factory=list)


@dataclass
class PersonColumn:
    membership: Membership
    role_count: int
    allocation_here: int
    allocation_total: int

    @property
    def holds_many_roles(self) -> bool:
        return self.role_count >= OVERLOADED_ROLE_COUNT

    @property
    def overallocated(self) -> bool:
        return self.allocation_total > FULL_ALLOCATION


@dataclass
class Coverage:
    rows: list[CoverageRow]
    people: list[PersonColumn]

    @property
    def gaps(self) -> list[Role]:
        return [row.role for row in self.rows if not row.filled]

    @property
    def notes(self) -> list[PersonColumn]:
        return [p for p in self.people if p.holds_many_roles or p.overallocated]


def _allocation_total(person, visible_active) -> Subquery:
    """The sum of `person`'s allocations (an id or an `OuterRef` to one) over the
    projects `visible_active` (a values("pk") queryset)."""
    totals = (
        RoleAssignment.objects.filter(
            membership__user=person, membership__project__in=visible_active
        )
        .order_by()
        .values("membership__user")
        .annotate(total=Sum("allocation_percent"))
        .values("total")
    )
    return Subquery(totals, output_field=IntegerField())


def visible_active_projects(viewer, visible: Iterable[int] | None = None) -> QuerySet[Project]:
    """The active projects `viewer` may see. `visible`: the ids of
    `Project.objects.visible_to(viewer)` when the request has read them already (a
    cached page's scope, mlteam.cache.KeptScope): the visibility condition is then
    not built, compiled and planned again inside the query that uses this."""
    if visible is None:
        return Project.objects.visible_to(viewer).active()
    return Project.objects.filter(pk__in=list(visible)).active()


def _team(
    project: Project, viewer, visible: Iterable[int] | None = None
) -> tuple[list[Membership], dict[int, list], list[Role], dict[int, int]]:
    """The project's required roles, its memberships (people first-name first, as
    the team prefetch orders them), each one's role assignments and each member's
    allocation across the active projects `viewer` may see: one query (a UNION of
    the team's rows and the required roles) and no prefetch machinery, for pages
    that show the team without editing it.

    The rows become display-only instances holding the columns the coverage
    matrix shows (names, role, allocation); they are never saved."""
    User = get_user_model()
    visible_active = visible_active_projects(viewer, visible).values("pk")
    no_int = Value(None, output_field=IntegerField())
    no_text = Value(None, output_field=CharField())
    team = (
        Membership.objects.filter(project=project)
        .order_by()
        .values(
            part=Value(1),
            membership_id=F("pk"),
            person_id=F("user_id"),
            username=F("user__username"),
            first_name=F("user__first_name"),
            last_name=F("user__last_name"),
            assignment_id=F("assignments__pk"),
            role_id=F("assignments__role_id"),
            allocation=F("assignments__allocation_percent"),
            role_name=F("assignments__role__name"),
            role_slug=F("assignments__role__slug"),
            role_position=F("assignments__role__position"),
            total=_allocation_total(OuterRef("user_id"), visible_active),
        )
    )
    required_roles = (
        Role.objects.filter(requiring_projects=project)
        .order_by()
        .values(
            part=Value(0),
            membership_id=no_int,
            person_id=no_int,
            username=no_text,
            first_name=no_text,
            last_name=no_text,
            assignment_id=no_int,
            role_id=F("pk"),
            allocation=no_int,
            role_name=F("name"),
            role_slug=F("slug"),
            role_position=F("position"),
            total=no_int,
        )
    )
    rows = team.union(required_roles, all=True).order_by(
        "part", "first_name", "last_name", "username", "membership_id", "role_position"
    )
    required: list[Role] = []
    roles: dict[int, Role] = {}  # one instance a role, however many hold it
    memberships: dict[int, Membership] = {}
    held: dict[int, list[RoleAssignment]] = {}
    totals: dict[int, int] = {}
    for row in rows:
        role = None
        if row["role_id"] is not None:
            role = roles.get(row["role_id"])
            if role is None:
                role = roles[row["role_id"]] = Role(
                    pk=row["role_id"],
                    name=row["role_name"],
                    slug=row["role_slug"],
                    position=row["role_position"],
                )
        if row["part"] == 0:
            required.append(role)
            continue
        pk = row["membership_id"]
        totals[row["person_id"]] = row["total"] or 0
        if pk not in memberships:
            user = User(
                pk=row["person_id"],
                username=row["username"],
                first_name=row["first_name"],
                last_name=row["last_name"],
            )
            memberships[pk] = Membership(pk=pk, project=project, user=user)
            held[pk] = []
        if row["assignment_id"] is not None:
            held[pk].append(
                RoleAssignment(
                    pk=row["assignment_id"],
                    membership_id=pk,
                    role=role,
                    allocation_percent=row["allocation"],
                )
            )
    return list(memberships.values()), held, required, totals


def _allocation_totals(
    project: Project,
    memberships: list[Membership],
    viewer,
    visible: Iterable[int] | None = None,
) -> dict[int, int]:
    """Each member's allocation across the active projects `viewer` may see: as
    `project_get_for_user` read them with the team for this viewer, else one query
    (`visible`: see visible_active_projects)."""
    if getattr(project, "allocation_totals_viewer", None) == viewer.pk:
        return {m.user_id: m.allocation_total or 0 for m in memberships}
    visible_active = visible_active_projects(viewer, visible).values("pk")
    return dict(
        RoleAssignment.objects.filter(
            membership__user_id__in=[m.user_id for m in memberships],
            membership__project__in=visible_active,
        )
        .order_by()
        .values("membership__user_id")
        .annotate(total=Sum("allocation_percent"))
        .values_list("membership__user_id", "total")
    )


def project_coverage(*, project: Project, viewer, visible: Iterable[int] | None = None) -> Coverage:
    """Roles x people for a project (its team prefetched by `project_get_for_user`,
    or read here in one query).

    1. Rows: the required roles, then any other role someone holds.
    2. Columns: members, with roles held here and allocation here, plus total
       allocation across the active projects the viewer may see.
    3. For each unfilled required role, people who hold it on other projects the
       viewer may see (one query for all roles).

    `visible`: the ids of the projects `viewer` may see, when the request has them
    (as `project_get_for_user` takes them).
    """
    if hasattr(project, "team"):
        memberships = project.team
        held = {m.pk: m.held for m in memberships}
        required = list(project.required_roles.all())
        totals = _allocation_totals(project, memberships, viewer, visible)
    else:
        memberships, held, required, totals = _team(project, viewer, visible)
    required_ids = {role.pk for role in required}
    held_by_role: dict[int, dict[int, RoleAssignment]] = defaultdict(dict)
    extra_roles: dict[int, Role] = {}
    for membership in memberships:
        for assignment in held[membership.pk]:
            held_by_role[assignment.role_id][membership.pk] = assignment
            if assignment.role_id not in required_ids:
                extra_roles[assignment.role_id] = assignment.role

    people = [
        PersonColumn(
            membership=m,
            role_count=len(held[m.pk]),
            allocation_here=sum(a.allocation_percent for a in held[m.pk]),
            allocation_total=totals.get(m.user_id, 0),
        )
        for m in memberships
    ]

    roles = required + sorted(extra_roles.values(), key=lambda r: r.position)
    gap_ids = {role.pk for role in unfilled(required, held_by_role.keys())}
    rows = [
        CoverageRow(
            role=role,
            required=role.pk in required_ids,
            cells=[held_by_role[role.pk].get(m.pk) for m in memberships],
            filled=role.pk not in gap_ids,
        )
        for role in roles
    ]
    gaps = {row.role.pk: row for row in rows if not row.filled}
    if gaps:
        visible_active = visible_active_projects(viewer, visible).values("pk")
        member_ids = {m.user_id for m in memberships}
        candidates = (
            RoleAssignment.objects.filter(
                role_id__in=gaps,
                membership__project__in=visible_active,
                # Someone deactivated (or anonymised) keeps their roles on the record
                # but can take on no new one: not a suggestion.
                membership__user__is_active=True,
            )
            .exclude(membership__project=project)
            .select_related("membership__user", "membership__project")
            .order_by("membership__user__username", "membership__project__name")
        )
        seen: set[tuple[int, int]] = set()
        for assignment in candidates:
            key = (assignment.role_id, assignment.membership.user_id)
            if key in seen:
                continue
            seen.add(key)
            gaps[assignment.role_id].suggestions.append(
                {
                    "user": assignment.membership.user,
                    "project": assignment.membership.project,
                    "on_team": assignment.membership.user_id in member_ids,
                }
            )
    return Coverage(rows=rows, people=people)


# --- what the project page caches: plain values, worded for the reader -----------------


@dataclass(frozen=True)
class ProjectSummary:
    """The project page's header: what it shows of the project, no model instance,
    so that it can be cached (mlteam/cache.py) with the rest of the page."""

    pk: int
    name: str
    status_label: str
    is_archived: bool
    start_date: date | None
    target_date: date | None
    business_problem: str
    manager_names: tuple[str, ...]


def project_summary(project: Project) -> ProjectSummary:
    """`project` as its page's header shows it (its managers prefetched by
    `project_get_for_user`), labels in the reader's language."""
    return ProjectSummary(
        pk=project.pk,
        name=project.name,
        status_label=project.get_status_display(),
        is_archived=project.is_archived,
        start_date=project.start_date,
        target_date=project.target_date,
        business_problem=project.business_problem,
        manager_names=tuple(person_name(manager) for manager in project.managers.all()),
    )


@dataclass(frozen=True)
class MatrixPerson:
    """A column of the coverage matrix: a member and what `PersonColumn` says of them."""

    membership_id: int
    user_id: int
    name: str
    role_count: int
    allocation_here: int
    allocation_total: int
    holds_many_roles: bool
    overallocated: bool


@dataclass(frozen=True)
class MatrixSuggestion:
    """Someone holding an unfilled role on another project the viewer may see."""

    user_id: int
    name: str
    project_id: int
    project_name: str
    on_team: bool


@dataclass(frozen=True)
class MatrixRow:
    """A role of the matrix; `cells` holds, per person column, the allocation in
    that role (None: not held)."""

    role_id: int
    role_slug: str
    role_name: str
    role_url: str  # the role's page
    required: bool
    filled: bool
    cells: tuple[int | None, ...]
    suggestions: tuple[MatrixSuggestion, ...]


@dataclass(frozen=True)
class CoverageMatrix:
    """`Coverage` as plain values for the templates (`roles/_coverage_matrix.html`)
    and the cache: names and role labels already in the reader's language."""

    rows: tuple[MatrixRow, ...]
    people: tuple[MatrixPerson, ...]
    gaps: tuple[str, ...]  # the unfilled required roles' names
    notes: tuple[MatrixPerson, ...]


def coverage_matrix(coverage: Coverage) -> CoverageMatrix:
    """The plain form of `coverage`: every rule (gaps, notes, suggestions) is
    `project_coverage`'s, only worded here."""
    role_url = row_url("roles:role_detail")  # reversed once, not once a row (~30 us each)
    people = {
        column.membership.pk: MatrixPerson(
            membership_id=column.membership.pk,
            user_id=column.membership.user_id,
            name=person_name(column.membership.user),
            role_count=column.role_count,
            allocation_here=column.allocation_here,
            allocation_total=column.allocation_total,
            holds_many_roles=column.holds_many_roles,
            overallocated=column.overallocated,
        )
        for column in coverage.people
    }
    rows = tuple(
        MatrixRow(
            role_id=row.role.pk,
            role_slug=row.role.slug,
            role_name=row.role.display_name,
            role_url=role_url(row.role.slug),
            required=row.required,
            filled=row.filled,
            cells=tuple(None if cell is None else cell.allocation_percent for cell in row.cells),
            suggestions=tuple(
                MatrixSuggestion(
                    user_id=suggestion["user"].pk,
                    name=person_name(suggestion["user"]),
                    project_id=suggestion["project"].pk,
                    project_name=suggestion["project"].name,
                    on_team=suggestion["on_team"],
                )
                for suggestion in row.suggestions
            ),
        )
        for row in coverage.rows
    )
    return CoverageMatrix(
        rows=rows,
        people=tuple(people.values()),
        gaps=tuple(role.display_name for role in coverage.gaps),
        notes=tuple(people[column.membership.pk] for column in coverage.notes),
    )


def remaining_capacity(allocation_total: int) -> int:
    """What is left of a person's time, given their allocation across projects: what
    a new role of theirs is offered by default (never below nothing)."""
    return max(0, FULL_ALLOCATION - allocation_total)


@dataclass(frozen=True)
class TeamColumn:
    """A role in the team matrix's columns (`team_matrix`)."""

    role_id: int
    role_name: str
    role_url: str
    required: bool
    filled: bool


@dataclass(frozen=True)
class TeamCell:
    """A person x role cell: the allocation in that role (None: not held)."""

    role_id: int
    role_name: str
    allocation: int | None


@dataclass(frozen=True)
class TeamRow:
    """A person in the team matrix's rows, with a cell per column."""

    person: MatrixPerson
    remaining: int  # `remaining_capacity` of their allocation across projects
    cells: tuple[TeamCell, ...]


@dataclass(frozen=True)
class TeamMatrix:
    """The team page's matrix: people down the side, the project's roles across
    (required ones first, then those held here, then the rest of the catalogue)."""

    columns: tuple[TeamColumn, ...]
    rows: tuple[TeamRow, ...]


def team_matrix(matrix: CoverageMatrix, catalogue: Iterable[Role]) -> TeamMatrix:
    """`matrix` (roles x people) turned to people x roles, with the catalogue's other
    roles as optional columns so that any role can be given from the matrix. Every
    rule (filled, over-allocated, suggestions) stays `project_coverage`'s."""
    role_url = row_url("roles:role_detail")
    shown = {row.role_id for row in matrix.rows}
    columns = [
        TeamColumn(row.role_id, row.role_name, row.role_url, row.required, row.filled)
        for row in matrix.rows
    ]
    columns += [
        TeamColumn(role.pk, role.display_name, role_url(role.slug), False, True)
        for role in catalogue
        if role.pk not in shown
    ]
    held = {row.role_id: row.cells for row in matrix.rows}
    rows = tuple(
        TeamRow(
            person=person,
            remaining=remaining_capacity(person.allocation_total),
            cells=tuple(
                TeamCell(
                    column.role_id,
                    column.role_name,
                    held[column.role_id][index] if column.role_id in held else None,
                )
                for column in columns
            ),
        )
        for index, person in enumerate(matrix.people)
    )
    return TeamMatrix(columns=tuple(columns), rows=rows)


def person_allocation_total(*, user_id: int, viewer) -> int:
    """`user_id`'s allocation across the active projects `viewer` may see (the
    total the coverage matrix shows for them), in one query."""
    visible_active = visible_active_projects(viewer).values("pk")
    total = (
        RoleAssignment.objects.filter(
            membership__user_id=user_id, membership__project__in=visible_active
        )
        .order_by()
        .aggregate(total=Sum("allocation_percent"))["total"]
    )
    return total or 0


# --- role catalogue ---------------------------------------------------------------------


def role_catalogue() -> QuerySet[Role]:
    return Role.objects.prefetch_related("deliverable_types").order_by("position", "name")


def role_catalogue_plain() -> QuerySet[Role]:
    return Role.objects.order_by("position", "name")


def role_get(*, slug: str) -> Role | None:
    return Role.objects.filter(slug=slug).prefetch_related("deliverable_types").first()


def role_holders(*, role: Role, user) -> QuerySet[RoleAssignment]:
    """Who holds `role` on which project, among the projects `user` may see."""
    return (
        RoleAssignment.objects.filter(
            role=role,
            membership__project__in=visible_active_projects(user).values("pk"),
        )
        .select_related("membership__user", "membership__project")
        .order_by("membership__project__name", "membership__user__username")
    )


# --- people -----------------------------------------------------------------------------


def people_matching(people: QuerySet, query: str) -> QuerySet:
    """THE people search: those of `people` whose username, first name, last name
    or email contains `query`, ignoring case (all of them for no query). The people
    page and the team page's "Add a person" both search with it."""
    if not query:
        return people
    return people.filter(
        Q(username__icontains=query)
        | Q(first_name__icontains=query)
        | Q(last_name__icontains=query)
        | Q(email__icontains=query)
    )


def team_candidates(*, project: Project, query: str = "") -> QuerySet:
    """THE rule of who may join `project`'s team: every active person not on it
    yet, by name; with a query, those of them it matches (`people_matching`).
    The add form validates against it (web and API), the team page searches it.

    NOT IN the team, not NOT EXISTS: a filter on the scan of the index that reads
    active people in this order (roles/migrations/0010), where an anti join would
    lose the order and sort them all again; a search stops reading that index as
    soon as it has the rows it shows."""
    team = Membership.objects.filter(project=project).values("user_id")
    people = (
        get_user_model()
        .objects.filter(is_active=True)
        .exclude(pk__in=team)
        .order_by("first_name", "last_name", "username")
    )
    return people_matching(people, query)


@dataclass(frozen=True)
class CandidateSearch:
    """The first matches of a search for people to add (`team_candidate_search`)."""

    query: str
    people: list  # users with pk, username, first and last name loaded
    more: bool  # more people match than are shown


TEAM_CANDIDATES_SHOWN = 10


def team_candidate_search(
    *, project: Project, query: str, limit: int = TEAM_CANDIDATES_SHOWN
) -> CandidateSearch:
    """The first `limit` people a search finds among `team_candidates`, by name,
    and whether there are more: one query (`limit` + 1 rows), none without a query."""
    if not query:
        return CandidateSearch(query="", people=[], more=False)
    rows = list(
        team_candidates(project=project, query=query).only(
            "pk", "username", "first_name", "last_name"
        )[: limit + 1]
    )
    return CandidateSearch(query=query, people=rows[:limit], more=len(rows) > limit)


def people_visible_to(*, user) -> QuerySet:
    """Active people the viewer may see (`models.people_visible_to`), by name:
    the choices of people filters."""
    return (
        models.people_visible_to(user)
        .filter(is_active=True)
        .order_by("first_name", "last_name", "username")
    )


def people_with_allocation(*, user, query: str = "") -> QuerySet:
    """People the viewer may see, with their total allocation counted on visible,
    active projects only (deliverables adds their open work)."""
    visible_active = visible_active_projects(user).values("pk")
    people = people_matching(people_visible_to(user=user), query)
    return people.annotate(
        total_allocation=Coalesce(_allocation_total(OuterRef("pk"), visible_active), Value(0)),
    )


def people_directory(*, user, query: str = "") -> QuerySet:
    """The people page: `people_with_allocation` plus each person's roles on
    visible projects."""
    visible_active = visible_active_projects(user).values("pk")
    return people_with_allocation(user=user, query=query).prefetch_related(
        Prefetch(
            "memberships",
            queryset=Membership.objects.filter(project__in=visible_active)
            .select_related("project")
            .order_by("project__name"),
            to_attr="visible_memberships",
        ),
        Prefetch(
            "visible_memberships__assignments",
            queryset=RoleAssignment.objects.select_related("role").order_by("role__position"),
        ),
    )


# --- what a viewer's cached dashboards cover --------------------------------------------


def dashboard_scope(*, user) -> Scope:
    """The projects `user`'s dashboards may show, for `mlteam.cache.cached`: those
    they may see, archived ones included (a restored project comes back), read
    only when a dashboard is recomputed; admins see every project, a new one too."""
    return Scope(
        projects=Project.objects.visible_to(user).order_by().values_list("pk", flat=True),
        every_project=is_admin(user),
    )
