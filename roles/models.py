"""People on projects: the role catalogue, projects, memberships and role assignments."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from mlteam.history import HistoryEntry

from .permissions import ADMIN_PERMISSION, MANAGER_PERMISSION, holders_condition, holds


class RoleQuerySet(models.QuerySet):
    def unfilled_on(self, project) -> RoleQuerySet:
        """THE filled-role rule: the roles `project` (a project, its id or an
        `OuterRef` to one) requires that nobody on its team holds, whatever the
        allocation. `unfilled` says the same over rows a page already read."""
        return self.filter(requiring_projects=project).exclude(
            assignments__membership__project=project
        )


def unfilled(required_roles, held_role_ids) -> list:
    """`RoleQuerySet.unfilled_on` over rows already read (no query): the required
    roles whose id is not among the roles held on the project's team."""
    return [role for role in required_roles if role.pk not in held_role_ids]


class Role(models.Model):
    """One of the roles an ML project needs (catalogue, configured by admins).

    Seeded names and texts are English source strings that also sit in the
    translation catalogue, so `display_*` shows them in the reader's language;
    text an admin types later shows as typed.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    knowledge_and_skills = models.TextField(_("knowledge and skills"), blank=True)
    required_by_default = models.BooleanField(
        _("required by default"),
        default=True,
        help_text=_("New projects require this role unless the manager says otherwise."),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    # Moved on by every save (services.role_update); the admin's form carries it.
    version = models.PositiveIntegerField(_("version"), default=1)

    objects = RoleQuerySet.as_manager()

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return gettext(self.name)

    @property
    def display_summary(self) -> str:
        return gettext(self.summary) if self.summary else ""

    @property
    def display_knowledge_and_skills(self) -> str:
        return gettext(self.knowledge_and_skills) if self.knowledge_and_skills else ""


def choice_label(choices: type[models.TextChoices], value: str) -> str:
    """`value`'s label in the reader's language, from the enumeration directly
    (get_FOO_display rebuilds the choices on every call, and lists print one a row);
    a value no longer among the choices shows as stored."""
    try:
        return choices(value).label
    except ValueError:
        return value


class ProjectStatus(models.TextChoices):
    PLANNING = "planning", _("Planning")
    ACTIVE = "active", _("Active")
    ON_HOLD = "on_hold", _("On hold")
    COMPLETED = "completed", _("Completed")


# What a person may do with a project; `project_grounds` says who may.
VIEW = "view"
MANAGE = "manage"

# The relations to a project that give a person access to it.
LISTED_MANAGER = "listed_manager"  # among the project's managers
ON_TEAM = "on_team"  # a member of its team

# THE project rule, as data: which relation lets a person do what with a project,
# and the permission they must also hold (None: being signed in is enough).
# Admins (ADMIN_PERMISSION) may do everything with every project, whatever their
# relations. A listed manager who lost the manager permission keeps no right
# through the listing.
GROUND_RULES: dict[tuple[str, str], str | None] = {
    (VIEW, ON_TEAM): None,
    (VIEW, LISTED_MANAGER): MANAGER_PERMISSION,
    (MANAGE, LISTED_MANAGER): MANAGER_PERMISSION,
}

# The rule is read in two forms, both from GROUND_RULES and `project_links`:
#
# - for one person (pages, lists, counts, object checks):
#   `project_grounds(user, action)`, turned into a condition on projects by
#   `ProjectQuerySet.restrict` / `visible_to` / `managed_by`, and tested against
#   one project by `permissions.can_view_project` / `can_manage_project`;
# - for many people at once (the reminder sweep and the digests, in a constant
#   number of queries): `project_access_links(action, ground, user_ids)`, the
#   (project, person) rows through which the person may do `action`, and
#   `project_access_condition`, the same as a condition on rows that carry a
#   project and a person (a deliverable and its owner).
#
# Permissions are tested likewise: `permissions.holds` for one person,
# `permissions.holders_condition` for many.


def project_grounds(user, action: str = VIEW) -> tuple[str, ...] | None:
    """Which relations to a project let `user` do `action` (`VIEW` or `MANAGE`)
    with it (see GROUND_RULES); None when every project does:

    - admins: every project;
    - managers (holding the manager permission): the projects listing them as a
      manager; a listed manager who lost the permission has no such right;
    - anyone signed in may also view the projects whose team they are on.

    Answered from the person's permissions alone (no query of its own).
    `ProjectQuerySet.restrict` turns it into a condition for lists and counts;
    `permissions.can_view_project` / `can_manage_project` test one project.
    """
    if not user.is_authenticated:
        return ()
    if holds(user, ADMIN_PERMISSION):
        return None
    return tuple(
        ground
        for (allowed, ground), permission in GROUND_RULES.items()
        if allowed == action and (permission is None or holds(user, permission))
    )


def project_links(ground: str) -> models.QuerySet:
    """The rows relating people to projects by `ground`, each with a `project_id`
    and a `user_id`: the project's manager list, or its team."""
    if ground == LISTED_MANAGER:
        return Project.managers.through.objects.all()
    return Membership.objects.all()


def project_ground_condition(user, *grounds: str) -> models.Q:
    """A condition on projects, true where one of `grounds` relates `user` to the
    project: one IN over the union of the link rows. (An OR of one IN per ground
    made PostgreSQL expect most projects to match, 150 of 200 for a manager on two
    grounds, and walk every deliverable in due-date order for their CSV export:
    30 ms; with the union, 1.2 ms.) Subqueries rather than joins + DISTINCT, so
    counts annotated on the result are not multiplied and the condition nests
    cheaply inside other queries."""
    links = [project_links(g).filter(user=user).order_by().values("project_id") for g in grounds]
    return models.Q(pk__in=links[0].union(*links[1:]) if len(links) > 1 else links[0])


def project_ground_holders(action: str, ground: str, prefix: str = "") -> models.Q | None:
    """`project_grounds` over many people: a condition on people (through `prefix`,
    e.g. "user__"), true for those whom `ground` lets `action` a project, admins
    included; None when it lets everyone."""
    if (action, ground) in GROUND_RULES and GROUND_RULES[(action, ground)] is None:
        return None
    permissions = [ADMIN_PERMISSION]
    if GROUND_RULES.get((action, ground)):
        permissions.append(GROUND_RULES[(action, ground)])
    return holders_condition(*permissions, prefix=prefix)


def project_access_links(action: str, ground: str, user_ids=None) -> models.QuerySet:
    """The batch form of `restrict`: the `project_links(ground)` rows (project_id,
    user_id) through which the person may `action` the project, for the people in
    `user_ids` (everyone when None). One query, whatever the number of people.

    For each person it lists the projects of `Project.objects.restrict(person,
    action)` that `ground` relates them to; admins, who may do anything with
    every project, get exactly their links."""
    links = project_links(ground)
    if user_ids is not None:
        links = links.filter(user_id__in=user_ids)
    holders = project_ground_holders(action, ground, prefix="user__")
    return links if holders is None else links.filter(holders)


def project_access_condition(
    action: str, ground: str, *, project: str = "project", person: str = "owner"
) -> models.Exists:
    """`project_access_links` as a condition on rows that carry a project and a
    person (fields `project` and `person`): true where that person may `action`
    that project through `ground`. An EXISTS, so the rows are not multiplied."""
    return models.Exists(
        project_access_links(action, ground).filter(
            project_id=models.OuterRef(project), user_id=models.OuterRef(person)
        )
    )


class ProjectQuerySet(models.QuerySet):
    def active(self) -> ProjectQuerySet:
        return self.filter(archived_at__isnull=True)

    def archived(self) -> ProjectQuerySet:
        """The complement of `active()`."""
        return self.filter(archived_at__isnull=False)

    def restrict(self, user, action: str = VIEW) -> ProjectQuerySet:
        """The projects `user` may `action` (NetBox's `RestrictedQuerySet.restrict`)."""
        grounds = project_grounds(user, action)
        if grounds is None:
            return self
        if not grounds:
            return self.none()
        return self.filter(project_ground_condition(user, *grounds))

    def visible_to(self, user) -> ProjectQuerySet:
        """Projects `user` may see, archived ones included (see `project_grounds`)."""
        return self.restrict(user, VIEW)

    def managed_by(self, user) -> ProjectQuerySet:
        """Projects `user` may change (see `project_grounds`)."""
        return self.restrict(user, MANAGE)


class Project(models.Model):
    name = models.CharField(_("name"), max_length=200)
    business_problem = models.TextField(
        _("business problem"),
        blank=True,
        help_text=_("The business problem this project solves with ML."),
    )
    managers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("managers"),
        related_name="managed_projects",
        blank=True,
    )
    status = models.CharField(
        _("status"), max_length=20, choices=ProjectStatus.choices, default=ProjectStatus.PLANNING
    )
    start_date = models.DateField(_("start date"), null=True, blank=True)
    target_date = models.DateField(_("target date"), null=True, blank=True)
    required_roles = models.ManyToManyField(
        Role, verbose_name=_("required roles"), related_name="requiring_projects", blank=True
    )
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True)
    escalation_days = models.PositiveSmallIntegerField(
        _("escalate after (days overdue)"),
        default=3,
        help_text=_("Deliverables overdue longer than this also appear in the managers' digest."),
    )
    handbook_review_on = models.DateField(
        _("review the team handbook by"),
        null=True,
        blank=True,
        help_text=_("The handbook is flagged for review once this day has passed."),
    )
    # Bumped by every change to the project or its team; forms carry the value
    # they were drawn from, so a stale submission is refused instead of
    # silently overwriting someone else's change.
    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        ordering = ["name"]
        permissions = [
            ("administer_projects", _("Can see and change every project")),
        ]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="project_name_unique_ci",
                violation_error_message=_("A project with this name already exists."),
            ),
            models.CheckConstraint(
                condition=models.Q(target_date__isnull=True)
                | models.Q(start_date__isnull=True)
                | models.Q(target_date__gte=models.F("start_date")),
                name="project_target_after_start",
                violation_error_message=_("The target date cannot be before the start date."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class Membership(models.Model):
    """A person on a project. Roles are held through assignments on a membership."""

    project = models.ForeignKey(
        Project, verbose_name=_("project"), on_delete=models.CASCADE, related_name="memberships"
    )
    # PROTECT: a person leaves a team through `membership_remove`, which records it;
    # deleting the account must not take them off their teams unrecorded.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="memberships",
    )
    joined_at = models.DateTimeField(_("joined at"), auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["project", "user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "user"],
                name="membership_unique_person_per_project",
                violation_error_message=_("This person is already on the project."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.project}"


def person_visible_condition(user, field: str = "pk") -> models.Q:
    """THE people rule, as a condition on `field` (a person's id, or a foreign key
    to a person): true for the people `user` may see, that is themselves and
    everyone on the team of a project they may see (archived ones included);
    every person for admins, who see every project.

    Whether someone is active is the caller's concern: choices offer active
    people, history names everyone."""
    if not user.is_authenticated:
        return models.Q(**{f"{field}__in": []})
    if project_grounds(user, VIEW) is None:
        return models.Q()
    teams = Membership.objects.filter(project__in=Project.objects.visible_to(user).values("pk"))
    # A subquery, not a join + DISTINCT: per-person counts annotated on the result
    # are then computed once per person, not once per membership row.
    return models.Q(**{field: user.pk}) | models.Q(**{f"{field}__in": teams.values("user_id")})


def people_visible_to(user) -> models.QuerySet:
    """The people `user` may see, active or not (see `person_visible_condition`)."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(person_visible_condition(user))


class RoleAssignment(models.Model):
    """A member holding a role on their project, with a share of their time.

    One person may hold several roles on a project, but never the same role twice.
    """

    membership = models.ForeignKey(
        Membership,
        verbose_name=_("membership"),
        on_delete=models.CASCADE,
        related_name="assignments",
    )
    role = models.ForeignKey(
        Role, verbose_name=_("role"), on_delete=models.PROTECT, related_name="assignments"
    )
    allocation_percent = models.PositiveSmallIntegerField(
        _("allocation (%)"),
        default=100,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_("Share of this person's working time spent in this role, 0 to 100."),
    )
    assigned_at = models.DateTimeField(_("assigned at"), auto_now_add=True)

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        ordering = ["membership", "role__position"]
        constraints = [
            models.UniqueConstraint(
                fields=["membership", "role"],
                name="assignment_unique_role_per_member",
                violation_error_message=_("This person already holds this role on the project."),
            ),
            models.CheckConstraint(
                condition=models.Q(allocation_percent__gte=0, allocation_percent__lte=100),
                name="assignment_allocation_0_100",
                violation_error_message=_("Allocation must be between 0 and 100%%."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.membership.user} as {self.role}"


class TeamChangeAction(models.TextChoices):
    PROJECT_CREATED = "project_created", _("created the project")
    PROJECT_UPDATED = "project_updated", _("edited the project")
    PROJECT_ARCHIVED = "project_archived", _("archived the project")
    PROJECT_UNARCHIVED = "project_unarchived", _("restored the project")
    MEMBER_ADDED = "member_added", _("added a person")
    MEMBER_INVITED = "member_invited", _("invited a person")
    MEMBER_REMOVED = "member_removed", _("removed a person")
    ROLE_ASSIGNED = "role_assigned", _("assigned a role")
    ASSIGNMENT_CHANGED = "assignment_changed", _("changed an allocation")
    ROLE_UNASSIGNED = "role_unassigned", _("unassigned a role")


class TeamChange(HistoryEntry):
    """Who changed what on a project's team, and when (shown on the project page).

    History: nothing it points to may be deleted while it exists (PROTECT), so an
    entry never loses its project, author, person or role. A null actor is a change
    made by the system (a command or task), not a deleted person.

    The payload (`mlteam.history`) keeps what an edit changed, `{"changes": {field
    name: [before, after]}}` with values as stored (ISO dates, choice codes, names
    of people and roles; worded by `change_lines`), and an allocation, `{"allocation":
    50}` when a role is assigned or `{"allocation": [50, 70]}` when it changes.
    """

    project = models.ForeignKey(
        Project, verbose_name=_("project"), on_delete=models.PROTECT, related_name="team_changes"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=30, choices=TeamChangeAction.choices)
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    role = models.ForeignKey(
        Role,
        verbose_name=_("role"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("team change")
        verbose_name_plural = _("team changes")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["project", "-created_at"], name="teamchange_project_recent_idx")
        ]

    def __str__(self) -> str:
        return f"{self.actor} {self.get_action_display()} ({self.project})"

    @property
    def action_label(self) -> str:
        """What was done, in the reader's language (see `choice_label`)."""
        return choice_label(TeamChangeAction, self.action)

    @property
    def changes(self) -> dict:
        """{field name: [before, after]} of a project edit (None: long text that changed)."""
        return (self.payload or {}).get("changes") or {}

    @property
    def detail(self) -> str:
        """The allocation an assignment was given ("50%") or changed ("50% → 70%")."""
        payload = self.payload or {}
        allocation = payload.get("allocation")
        if isinstance(allocation, list):
            return "{}% → {}%".format(*allocation)
        if allocation is not None:
            return f"{allocation}%"
        return str(payload.get("detail", ""))  # older text that was not an allocation

    def change_lines(self) -> list[tuple[str, str, str]]:
        """(field, before, after) for each changed field, in the reader's language."""
        return [
            (project_field_label(name), *(project_value_label(name, value) for value in pair))
            if pair
            else (project_field_label(name), "", "")  # long text: only that it changed
            for name, pair in self.changes.items()
        ]


def project_field_label(name: str) -> str:
    """A project field's name as its forms say it (an unknown name shows as is)."""
    try:
        return str(Project._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name


def project_value_label(name: str, value) -> str:
    """A value kept in a project edit's changes (`TeamChange.changes`), worded for the reader."""
    from mlteam.dates import format_day

    if value in (None, "", []):
        return "—"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if name == "status":
        return str(choice_label(ProjectStatus, value))
    if name in {"start_date", "target_date", "handbook_review_on"}:
        try:
            return format_day(date.fromisoformat(value))
        except (TypeError, ValueError):
            return str(value)
    return str(value)
