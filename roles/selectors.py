"""Reads for pages about roles, projects, teams and people.

Each selector decides its page's queries: counts come from annotations or
subqueries and related rows from prefetches, so a page costs the same number of
queries however much data there is. Everything is limited to what the viewer
may see (see `ProjectQuerySet.visible_to`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import (
    Count,
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
from mlteam.sql import placeholders, select

from .models import Membership, Project, Role, RoleAssignment, visible_project_ids_sql
from .permissions import is_admin

OVERLOADED_ROLE_COUNT = 3
FULL_ALLOCATION = 100


def _count_subquery(queryset: QuerySet, group_field: str) -> Coalesce:
    """COUNT(*) of `queryset` rows per outer row, as a correlated subquery (0 when none)."""
    # COUNT(*), not COUNT(id): the same number, and it can be read from an index alone.
    counted = queryset.order_by().values(group_field).annotate(n=Count("*")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _gap_count():
    """Required roles of the outer project that nobody on it holds."""
    unfilled = Role.objects.filter(requiring_projects=OuterRef("pk")).exclude(
        assignments__membership__project=OuterRef("pk")
    )
    return _count_subquery(unfilled, "requiring_projects")


def _open_deliverable_count():
    from deliverables.models import Deliverable

    rows = Deliverable.objects.filter(project=OuterRef("pk")).open()
    return _count_subquery(rows, "project")


def _member_count():
    return _count_subquery(Membership.objects.filter(project=OuterRef("pk")), "project")


def _team_prefetches() -> list[Prefetch]:
    return [
        Prefetch("required_roles", queryset=Role.objects.order_by("position")),
        Prefetch(
            "memberships",
            queryset=Membership.objects.select_related("user").order_by(
                "user__first_name", "user__last_name", "user__username"
            ),
        ),
        Prefetch(
            "memberships__assignments",
            queryset=RoleAssignment.objects.select_related("role").order_by("role__position"),
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
    """The project list: filters, search and sort over the projects `user` may see."""
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
            open_deliverable_count=_open_deliverable_count(),
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
    *, user, pk: int, with_team: bool = True, with_managers: bool = False
) -> Project | None:
    """The project if `user` may see it; with its managers and team unless the
    page has no use for them (`with_team=False`: one query; `with_managers` adds
    the managers alone)."""
    projects = Project.objects.visible_to(user).filter(pk=pk)
    if with_team:
        projects = projects.prefetch_related("managers", *_team_prefetches())
    elif with_managers:
        projects = projects.prefetch_related("managers")
    return projects.first()


def portfolio_coverage(*, user, sort: str = "-gaps") -> QuerySet[Project]:
    """Every active project the viewer may see, with its unfilled roles."""
    return (
        Project.objects.visible_to(user)
        .active()
        .annotate(gap_count=_gap_count(), member_count=_member_count())
        .prefetch_related(*_team_prefetches())
        .order_by(*PROJECT_SORTS.get(sort, PROJECT_SORTS["-gaps"]))
    )


def unfilled_roles(project: Project) -> list[Role]:
    """Required roles nobody holds; uses the prefetches of `_team_prefetches`."""
    held = {a.role_id for m in project.memberships.all() for a in m.assignments.all()}
    return [role for role in project.required_roles.all() if role.pk not in held]


def visible_projects_sql(user, visible_ids: list[int] | None = None) -> tuple[str, list]:
    """For hand-written SQL: a condition on a project joined in as `p`, true for the
    active projects `user` may see, as `ProjectQuerySet.visible_to` says.

    Admins see every active project: the project's own column, rather than hundreds
    of ids for PostgreSQL to parse and plan. Others see few: their ids when the
    caller has them (`visible_ids`), else `visible_project_ids_sql`."""
    if visible_ids is not None and not is_admin(user):
        return f"p.id IN ({placeholders(visible_ids)})", list(visible_ids)
    ids_sql, params = visible_project_ids_sql(user)
    if ids_sql is None:
        return "p.archived_at IS NULL", []
    return f"p.archived_at IS NULL AND p.id IN ({ids_sql})", params


def visible_people_sql(user, column: str) -> tuple[str, list]:
    """For hand-written SQL: a condition true when `column` is a person the viewer may
    see, as `people_visible_to` says (the viewer, and the people on the projects the
    viewer may see; everyone for admins). Whether they are active is the caller's."""
    ids_sql, params = visible_project_ids_sql(user)
    if ids_sql is None:
        return "1 = 1", []
    return (
        f"({column} = %s OR {column} IN "  # noqa: S608 (constants only; values go as parameters)
        f"(SELECT pm.user_id FROM roles_membership pm WHERE pm.project_id IN ({ids_sql})))",
        [user.pk, *params],
    )


# --- coverage matrix --------------------------------------------------------------------


@dataclass
class CoverageRow:
    role: Role
    required: bool
    cells: list[RoleAssignment | None]
    suggestions: list = field(default_factory=list)

    @property
    def filled(self) -> bool:
        return any(self.cells)


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
        return [row.role for row in self.rows if row.required and not row.filled]

    @property
    def notes(self) -> list[PersonColumn]:
        return [p for p in self.people if p.holds_many_roles or p.overallocated]


# The required roles (part 0), then each member with their role assignments here
# and their allocation across the projects the viewer may see ({visible}, on `p`).
_TEAM_SQL = """
    SELECT 1 AS part, m.id AS membership_id, m.user_id, u.username, u.first_name,
        u.last_name, a.id, r.id, a.allocation_percent, r.name, r.slug, r.position AS position,
        (SELECT SUM(other.allocation_percent) FROM roles_roleassignment other
         JOIN roles_membership om ON om.id = other.membership_id
         JOIN roles_project p ON p.id = om.project_id
         WHERE om.user_id = m.user_id AND {visible})
    FROM roles_membership m
    JOIN auth_user u ON u.id = m.user_id
    LEFT JOIN roles_roleassignment a ON a.membership_id = m.id
    LEFT JOIN roles_role r ON r.id = a.role_id
    WHERE m.project_id = %s
    UNION ALL
    SELECT 0, NULL, NULL, NULL, NULL, NULL, NULL, r.id, NULL, r.name, r.slug, r.position, NULL
    FROM roles_role r
    JOIN roles_project_required_roles rr ON rr.role_id = r.id
    WHERE rr.project_id = %s
    ORDER BY part, first_name, last_name, username, membership_id, position
"""


def _team(
    project: Project, viewer
) -> tuple[list[Membership], dict[int, list], list[Role], dict[int, int]]:
    """The project's required roles, its memberships (people first-name first, as
    the team prefetch orders them), each one's role assignments and each member's
    allocation across the projects `viewer` may see: one query and no prefetch
    machinery, for pages that show the team without editing it."""
    User = get_user_model()
    required: list[Role] = []
    memberships: dict[int, Membership] = {}
    held: dict[int, list[RoleAssignment]] = {}
    totals: dict[int, int] = {}
    visible, visible_params = visible_projects_sql(viewer)
    for (
        part, pk, user_id, username, first_name, last_name,
        assignment_id, role_id, allocation, role_name, role_slug, position, total,
    ) in select(
        _TEAM_SQL.format(visible=visible), [*visible_params, project.pk, project.pk]
    ):  # fmt: skip
        if part == 0:
            required.append(Role(pk=role_id, name=role_name, slug=role_slug, position=position))
            continue
        totals[user_id] = total or 0
        if pk not in memberships:
            user = User(pk=user_id, username=username, first_name=first_name, last_name=last_name)
            memberships[pk] = Membership(pk=pk, project=project, user=user)
            held[pk] = []
        if assignment_id is not None:
            role = Role(pk=role_id, name=role_name, slug=role_slug, position=position)
            held[pk].append(
                RoleAssignment(
                    pk=assignment_id,
                    membership=memberships[pk],
                    role=role,
                    allocation_percent=allocation,
                )
            )
    return list(memberships.values()), held, required, totals


def _allocation_totals(member_ids: list[int], viewer) -> dict[int, int]:
    """Each person's allocation across the active projects `viewer` may see."""
    visible, visible_params = visible_projects_sql(viewer)
    return dict(
        select(
            f"""
            SELECT m.user_id, SUM(a.allocation_percent) FROM roles_roleassignment a
            JOIN roles_membership m ON m.id = a.membership_id
            JOIN roles_project p ON p.id = m.project_id
            WHERE m.user_id IN ({placeholders(member_ids)}) AND {visible}
            GROUP BY m.user_id
            """,  # noqa: S608 (constants only; values go as parameters)
            [*member_ids, *visible_params],
        )
    )


def project_coverage(*, project: Project, viewer) -> Coverage:
    """Roles x people for a project (its team prefetched by `project_get_for_user`,
    or read here in one query).

    1. Rows: the required roles, then any other role someone holds.
    2. Columns: members, with roles held here and allocation here, plus total
       allocation across the active projects the viewer may see.
    3. For each unfilled required role, people who hold it on other projects the
       viewer may see (one query for all roles).
    """
    if "memberships" in getattr(project, "_prefetched_objects_cache", {}):
        memberships = list(project.memberships.all())
        held = {m.pk: list(m.assignments.all()) for m in memberships}
        required = list(project.required_roles.all())
        totals = _allocation_totals([m.user_id for m in memberships], viewer)
    else:
        memberships, held, required, totals = _team(project, viewer)
    required_ids = {role.pk for role in required}
    held_by_role: dict[int, dict[int, RoleAssignment]] = defaultdict(dict)
    extra_roles: dict[int, Role] = {}
    for membership in memberships:
        for assignment in held[membership.pk]:
            held_by_role[assignment.role_id][membership.pk] = assignment
            if assignment.role_id not in required_ids:
                extra_roles[assignment.role_id] = assignment.role

    visible_active = Project.objects.visible_to(viewer).active().values("pk")
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
    rows = [
        CoverageRow(
            role=role,
            required=role.pk in required_ids,
            cells=[held_by_role[role.pk].get(m.pk) for m in memberships],
        )
        for role in roles
    ]
    unfilled = {row.role.pk: row for row in rows if row.required and not row.filled}
    if unfilled:
        member_ids = {m.user_id for m in memberships}
        candidates = (
            RoleAssignment.objects.filter(
                role_id__in=unfilled,
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
            unfilled[assignment.role_id].suggestions.append(
                {
                    "user": assignment.membership.user,
                    "project": assignment.membership.project,
                    "on_team": assignment.membership.user_id in member_ids,
                }
            )
    return Coverage(rows=rows, people=people)


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
            membership__project__in=Project.objects.visible_to(user).active().values("pk"),
        )
        .select_related("membership__user", "membership__project")
        .order_by("membership__project__name", "membership__user__username")
    )


# --- people -----------------------------------------------------------------------------


def people_visible_to(*, user) -> QuerySet:
    """Active people the viewer may see: on a project the viewer can see, or
    everyone for admins. Plain rows, for choices in filters."""
    people = get_user_model().objects.filter(is_active=True)
    if not is_admin(user):
        # A subquery, not a join + DISTINCT: per-person counts annotated later are
        # then computed once per person, not once per membership row.
        on_visible_projects = Membership.objects.filter(
            project__in=Project.objects.visible_to(user).values("pk")
        ).values("user_id")
        people = people.filter(Q(pk=user.pk) | Q(pk__in=on_visible_projects))
    return people.order_by("first_name", "last_name", "username")


def people_with_load(*, user, query: str = "", visible_projects=None) -> QuerySet:
    """People the viewer may see, with total allocation and open deliverables,
    counted on visible, active projects only (`visible_projects`: their ids, when
    the caller already has them)."""
    from deliverables.models import Deliverable

    visible_active = (
        Project.objects.visible_to(user).active().values("pk")
        if visible_projects is None
        else visible_projects
    )
    people = people_visible_to(user=user)
    if query:
        people = people.filter(
            Q(username__icontains=query)
            | Q(first_name__icontains=query)
            | Q(last_name__icontains=query)
            | Q(email__icontains=query)
        )
    allocation = (
        RoleAssignment.objects.filter(
            membership__user=OuterRef("pk"), membership__project__in=visible_active
        )
        .order_by()
        .values("membership__user")
        .annotate(total=Sum("allocation_percent"))
        .values("total")
    )
    open_deliverables = Deliverable.objects.filter(
        owner=OuterRef("pk"), project__in=visible_active
    ).open()
    return people.annotate(
        total_allocation=Coalesce(Subquery(allocation, output_field=IntegerField()), Value(0)),
        open_deliverable_count=_count_subquery(open_deliverables, "owner"),
    ).order_by("first_name", "last_name", "username")


def people_directory(*, user, query: str = "") -> QuerySet:
    """The people page: `people_with_load` plus each person's roles on visible projects."""
    visible_active = Project.objects.visible_to(user).active().values("pk")
    return people_with_load(user=user, query=query).prefetch_related(
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
