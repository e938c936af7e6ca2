"""Work: deliverable types (with checklist templates) and the deliverables themselves."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from mlteam.dates import format_day
from mlteam.history import TEXT_LIMIT, HistoryEntry, render_value
from roles.models import Membership, Project, Role, choice_label

from .extensions import history_values


class DeliverableType(models.Model):
    """What a role typically owes a project, such as a PRD or a deployed model."""

    name = models.CharField(_("name"), max_length=150, unique=True)
    slug = models.SlugField(_("slug"), max_length=150, unique=True)
    role = models.ForeignKey(
        Role,
        verbose_name=_("owning role"),
        on_delete=models.PROTECT,
        related_name="deliverable_types",
    )
    description = models.TextField(_("description"), blank=True)
    default_due_offset_days = models.PositiveSmallIntegerField(
        _("default due (days after project start)"), default=30
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    # Whether the plan proposes it to projects whose team holds its role. A type such
    # as "Other" is only ever added by hand (`deliverable_add`), never proposed.
    proposed = models.BooleanField(
        _("proposed in plans"),
        default=True,
        help_text=_("Offered when a project's deliverables are planned from its roles."),
    )
    # Moved on by every save of the type or of its checklist templates
    # (services.deliverable_type_update, checklist_template_*); the admin's forms carry it.
    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        verbose_name = _("deliverable type")
        verbose_name_plural = _("deliverable types")
        ordering = ["role__position", "position", "name"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return gettext(self.name)

    @property
    def display_description(self) -> str:
        return gettext(self.description) if self.description else ""


# The free-form type: a deliverable of it says what it is in its own title (required).
OTHER_TYPE_SLUG = "other"


class AnswerKind(models.TextChoices):
    TICK = "tick", _("Tick")
    TEXT = "text", _("Written answer")
    LINK = "link", _("Link")


class ChecklistItemBase(models.Model):
    """What a checklist item says and asks for, shared by templates and their copies."""

    area = models.CharField(
        _("area"), max_length=60, blank=True, help_text=_("Groups items, e.g. Data or Monitoring.")
    )
    text = models.CharField(_("item"), max_length=300)
    answer_kind = models.CharField(
        _("answer"), max_length=10, choices=AnswerKind.choices, default=AnswerKind.TICK
    )
    required = models.BooleanField(_("required"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.display_text

    @property
    def display_text(self) -> str:
        return gettext(self.text)

    @property
    def display_area(self) -> str:
        return gettext(self.area) if self.area else ""


class ChecklistItemTemplate(ChecklistItemBase):
    """One acceptance item on a deliverable type; new deliverables get a copy."""

    deliverable_type = models.ForeignKey(
        DeliverableType,
        verbose_name=_("deliverable type"),
        on_delete=models.CASCADE,
        related_name="checklist_items",
    )

    class Meta:
        verbose_name = _("checklist item template")
        verbose_name_plural = _("checklist item templates")
        ordering = ["deliverable_type", "position", "pk"]


class DeliverableStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("Not started")
    IN_PROGRESS = "in_progress", _("In progress")
    IN_REVIEW = "in_review", _("In review")
    DONE = "done", _("Done")
    BLOCKED = "blocked", _("Blocked")
    CANCELLED = "cancelled", _("Cancelled")


# Work nobody is expected to do any more: done (approved), or cancelled (dropped from
# the plan by a manager). Every other status is open. This is the one definition of
# "open": `DeliverableQuerySet.open()` and `Deliverable.is_open` read it, and so do
# the partial indexes below, the dashboards, the reminders, the people and project
# counts and the load data.
CLOSED_STATUSES = (DeliverableStatus.DONE, DeliverableStatus.CANCELLED)
IS_OPEN = ~models.Q(status__in=CLOSED_STATUSES)

# The workflow's order (DeliverableStatus as declared), not the alphabet of its codes:
# the lists' status sort, and the index that serves it for open work.
STATUS_ORDER = models.Case(
    *(
        models.When(status=status, then=models.Value(position))
        for position, status in enumerate(DeliverableStatus)
    ),
    output_field=models.IntegerField(),
)


def overdue_condition(today: date) -> models.Q:
    """Open, and due before `today` (`objects.overdue`, `with_overdue`, `is_overdue`)."""
    return IS_OPEN & models.Q(due_date__lt=today)


def due_within_condition(days: int, today: date) -> models.Q:
    """Open, and due from `today` up to `days` days after it, both included
    (`objects.due_within`): the list's "due within" filter and My work's "due soon"."""
    return IS_OPEN & models.Q(due_date__gte=today, due_date__lte=today + timedelta(days=days))


def is_escalated(due_date: date, today: date, escalation_days: int) -> bool:
    """THE escalation rule, for overdue work: late by more than its project's
    `escalation_days` on `today` (the managers' digests, a chat channel's summary)."""
    return (today - due_date).days > escalation_days


# Why a change to a done deliverable's checklist or type is refused (`checklist_locked`).
DONE_LOCKED_MESSAGE = _(
    "This deliverable is done. Reopen it before changing its checklist or type."
)


class DeliverableQuerySet(models.QuerySet):
    def open(self) -> DeliverableQuerySet:
        """Neither done nor cancelled (CLOSED_STATUSES)."""
        return self.filter(IS_OPEN)

    def overdue(self, today: date) -> DeliverableQuerySet:
        """Open, and due before `today` (overdue_condition)."""
        return self.filter(overdue_condition(today))

    def due_within(self, days: int, today: date) -> DeliverableQuerySet:
        """Open, and due from `today` up to `days` days after it (due_within_condition)."""
        return self.filter(due_within_condition(days, today))

    def with_overdue(self, today: date) -> DeliverableQuerySet:
        """Each row with `overdue` (what `overdue(today)` selects), for lists that
        show every deliverable and flag the late ones."""
        return self.annotate(
            overdue=models.ExpressionWrapper(
                overdue_condition(today), output_field=models.BooleanField()
            )
        )

    def visible_to(self, user, *, active_only: bool = False) -> DeliverableQuerySet:
        """Deliverables `user` may see: those of the projects `user` may see
        (`ProjectQuerySet.visible_to`; archived projects included, read-only there,
        unless `active_only`)."""
        projects = Project.objects.visible_to(user)
        if active_only:
            projects = projects.active()
        return self.filter(project__in=projects.values("pk"))


def short_label_of(title: str, type_name: str) -> str:
    """A deliverable's name where its type is already shown beside it: its own
    title, or its type's name when it has none (`Deliverable.short_label`; the CSV
    export passes the type's display_name)."""
    return title or type_name


class Deliverable(models.Model):
    # PROTECT here and on every history row below (events, comments, reminders):
    # a deliverable and the people who worked on it are never deleted with their
    # history; projects are archived and people deactivated or anonymised instead
    # (docs/data-retention.md).
    project = models.ForeignKey(
        Project, verbose_name=_("project"), on_delete=models.PROTECT, related_name="deliverables"
    )
    type = models.ForeignKey(
        DeliverableType,
        verbose_name=_("type"),
        on_delete=models.PROTECT,
        related_name="deliverables",
    )
    # Only what a person typed: a deliverable is named by its type, in the reader's
    # language, and this title when there is one (see `label`).
    title = models.CharField(
        _("own title"),
        max_length=200,
        blank=True,
        help_text=_(
            "Optional. The deliverable is named by its type; add a title only to tell "
            "it apart, such as “Churn model v2”."
        ),
    )
    description = models.TextField(
        _("description"),
        blank=True,
        help_text=_("Optional. What is expected, for work the type does not describe."),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_deliverables",
    )
    due_date = models.DateField(_("due date"), null=True, blank=True)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=DeliverableStatus.choices,
        default=DeliverableStatus.NOT_STARTED,
    )
    blocked_reason = models.TextField(_("reason blocked"), blank=True)
    cancelled_reason = models.TextField(_("reason cancelled"), blank=True)
    done_override_reason = models.TextField(
        _("reason for marking done with required items open"), blank=True
    )
    # Bumped by every change; forms carry the version they were drawn from so
    # that a second, stale save is refused instead of overwriting the first.
    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = DeliverableQuerySet.as_manager()

    class Meta:
        verbose_name = _("deliverable")
        verbose_name_plural = _("deliverables")
        ordering = ["due_date", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status=DeliverableStatus.BLOCKED)
                | ~models.Q(blocked_reason=""),
                name="deliverable_blocked_needs_reason",
                violation_error_message=_("Say why the deliverable is blocked."),
            ),
            models.CheckConstraint(
                condition=~models.Q(status=DeliverableStatus.CANCELLED)
                | ~models.Q(cancelled_reason=""),
                name="deliverable_cancelled_needs_reason",
                violation_error_message=_("Say why the deliverable is cancelled."),
            ),
        ]
        indexes = [
            # Overdue and due-soon lookups (home page, reminder sweep).
            models.Index(fields=["status", "due_date"], name="deliverable_status_due_idx"),
            # The deliverables list in its default order (due date, then id): its page
            # is read off the index in order instead of sorting every visible row.
            models.Index(fields=["due_date", "id"], name="deliverable_due_idx"),
            # Dashboards, read from the index alone (index-only scans; plain key
            # columns rather than INCLUDE, which SQLite does not have):
            # a page of projects' counts per status and due-date band, and one
            # project's status breakdown;
            models.Index(
                fields=["project", "status", "due_date"], name="deliverable_project_status_idx"
            ),
            # overdue work per type ("Overdue by role"): open rows by due date;
            models.Index(
                fields=["due_date", "type", "project"],
                condition=IS_OPEN,
                name="deliverable_open_due_idx",
            ),
            # open and overdue work per person (workload, people's load).
            models.Index(
                fields=["owner", "due_date", "project"],
                condition=IS_OPEN,
                name="deliverable_open_owner_idx",
            ),
            # The list's overdue (or open) work sorted by status: its page is read off
            # the index in order (the expression is the list's sort, STATUS_ORDER)
            # instead of sorting every overdue row (bench/pages.py).
            models.Index(
                STATUS_ORDER,
                models.F("due_date"),
                models.F("id"),
                condition=IS_OPEN,
                name="deliverable_open_status_idx",
            ),
            # A project's deliverables of one type: its process documentation, read
            # as the handbook by the portfolio's page of projects and the project page,
            # and the scored work and cards of a page of projects (readiness, cards):
            # status and id ride along so that those are read from the index alone.
            models.Index(
                fields=["project", "type"],
                include=["status", "id"],
                name="deliverable_project_type_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """The deliverable's name wherever one is shown: its type in the reader's
        language, then its own title when someone typed one ("Deployed model: v2").
        Reads `type`, so callers load it with the row (select_related or SQL)."""
        try:
            type_name = self.type.display_name
        except Deliverable.type.RelatedObjectDoesNotExist:  # not chosen yet (a blank form)
            return self.title
        return deliverable_label(type_name, self.title)

    @property
    def short_label(self) -> str:
        """The name where the type is already shown beside it (short_label_of)."""
        return short_label_of(self.title, self.label)

    def clean(self) -> None:
        super().clean()
        if self.type_id and not self.title.strip() and self.type.slug == OTHER_TYPE_SLUG:
            raise ValidationError(
                {"title": _("Say what this deliverable is: its type is “Other”.")},
                code="other_needs_title",
            )
        if (
            self.owner_id
            and self.project_id
            and not Membership.objects.filter(
                project_id=self.project_id, user_id=self.owner_id
            ).exists()
        ):
            raise ValidationError(
                {"owner": _("The owner must be a member of the project.")}, code="owner_not_member"
            )
        start = self.project.start_date if self.project_id else None
        if self.due_date and start and self.due_date < start:
            raise ValidationError(
                {
                    "due_date": _("The due date cannot be before the project starts (%(start)s).")
                    % {"start": format_day(start)}
                },
                code="due_before_start",
            )

    @property
    def is_open(self) -> bool:
        """Neither done nor cancelled (CLOSED_STATUSES), as `objects.open()` selects."""
        return self.status not in CLOSED_STATUSES

    @property
    def is_done(self) -> bool:
        return self.status == DeliverableStatus.DONE

    @property
    def is_blocked(self) -> bool:
        return self.status == DeliverableStatus.BLOCKED

    @property
    def is_cancelled(self) -> bool:
        return self.status == DeliverableStatus.CANCELLED

    def is_overdue(self, today: date) -> bool:
        return bool(self.due_date and self.due_date < today and self.is_open)

    @property
    def checklist_locked(self) -> bool:
        """A done deliverable's checklist (its answers and questions) and type are what
        was approved: they change only after it is reopened. The services refuse such
        changes by this rule, and the pages draw those fields as fixed by it."""
        return self.is_done

    @property
    def status_label(self) -> str:
        """The status in the reader's language: get_status_display's answer, from the
        enumeration directly (that method rebuilds the choices on every call, and
        lists print it once a row). A value no longer among the choices shows as is."""
        return choice_label(DeliverableStatus, self.status)


def deliverable_label(type_name: str, title: str) -> str:
    """How a deliverable is named: its type (already in the reader's language),
    then its own title when someone typed one. `Deliverable.label` and the
    deliverables a review's history names word it the same way."""
    if not title:
        return type_name
    return gettext("%(type)s: %(title)s") % {"type": type_name, "title": title}


# When a checklist item is complete: a tick item ticked, a written answer given, a
# link given (the services store answers and links stripped, so blank means empty).
# The one definition: the partial index below is built on it, queries filter by it
# (`ChecklistItem.objects.complete()`, the lists' and dashboards' counts), and
# `ChecklistItem.is_complete` evaluates it on a loaded item (`holds`).
COMPLETE = (
    models.Q(answer_kind=AnswerKind.TICK, checked=True)
    | (models.Q(answer_kind=AnswerKind.TEXT) & ~models.Q(answer=""))
    | (models.Q(answer_kind=AnswerKind.LINK) & ~models.Q(link=""))
)


def holds(condition: models.Q, row: models.Model) -> bool:
    """Whether a loaded `row` meets `condition`, evaluated in Python: the object form
    of a condition made of exact (or `isnull`) lookups on the row's own fields,
    combined with AND, OR and NOT (as COMPLETE is), so that one definition serves
    queries and objects."""
    results = []
    for child in condition.children:
        if isinstance(child, models.Q):
            results.append(holds(child, row))
            continue
        lookup, value = child
        field, _sep, operator = lookup.partition("__")
        if operator == "isnull":
            results.append((getattr(row, field) is None) == bool(value))
            continue
        if operator:
            raise ValueError(f"holds() takes exact lookups on the row's own fields, not {lookup!r}")
        results.append(getattr(row, lookup) == value)
    met = all(results) if condition.connector == models.Q.AND else any(results)
    return not met if condition.negated else met


class ChecklistItemQuerySet(models.QuerySet):
    def complete(self) -> ChecklistItemQuerySet:
        """The complete items (COMPLETE)."""
        return self.filter(COMPLETE)

    def visible_to(self, user) -> ChecklistItemQuerySet:
        """Items of the deliverables `user` may see (`DeliverableQuerySet.visible_to`)."""
        return self.filter(deliverable__in=Deliverable.objects.visible_to(user).values("pk"))


class ChecklistItem(ChecklistItemBase):
    """A deliverable's own copy of a checklist item, with its tick, answer or link."""

    # CASCADE: part of its deliverable, which can only go once it has no history
    # left (its events PROTECT it), so never in practice.
    deliverable = models.ForeignKey(
        Deliverable,
        verbose_name=_("deliverable"),
        on_delete=models.CASCADE,
        related_name="checklist_items",
    )
    checked = models.BooleanField(_("ticked"), default=False)
    answer = models.TextField(_("written answer"), blank=True)
    link = models.URLField(_("link"), max_length=500, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("answered by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    # A question the project's managers added to their own team handbook, not copied
    # from the deliverable type (removable, shown as the project's own).
    project_question = models.BooleanField(_("project's own question"), default=False)

    objects = ChecklistItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        ordering = ["deliverable", "position", "pk"]
        indexes = [
            # The complete items only (COMPLETE): counting a deliverable's done items
            # reads this index alone, as counting all its items reads the deliverable
            # foreign key's index alone.
            models.Index(
                fields=["deliverable"], condition=COMPLETE, name="checklistitem_complete_idx"
            ),
        ]

    @property
    def is_complete(self) -> bool:
        """COMPLETE, for an item already loaded (`holds`)."""
        return holds(COMPLETE, self)


class LinkKind(models.TextChoices):
    DOCUMENT = "document", _("Document")
    REPOSITORY = "repository", _("Repository")
    DASHBOARD = "dashboard", _("Dashboard")
    MODEL_REGISTRY = "model_registry", _("Model registry")
    OTHER = "other", _("Other")
    # Typed links (deliverables/links.py parses them; their address has a format).
    MLFLOW_MODEL = "mlflow_model", _("MLflow model version or alias")
    MLFLOW_RUN = "mlflow_run", _("MLflow run")
    WANDB_RUN = "wandb_run", _("Weights & Biases run")
    GITHUB_PR = "github_pr", _("GitHub pull request")
    GITHUB_COMMIT = "github_commit", _("GitHub commit")
    GITLAB_MR = "gitlab_mr", _("GitLab merge request")
    GITLAB_COMMIT = "gitlab_commit", _("GitLab commit")
    AIRFLOW_DAG_RUN = "airflow_dag_run", _("Airflow DAG run")


# The kinds whose address has a format (deliverables/links.py).
TYPED_LINK_KINDS = [
    LinkKind.MLFLOW_MODEL,
    LinkKind.MLFLOW_RUN,
    LinkKind.WANDB_RUN,
    LinkKind.GITHUB_PR,
    LinkKind.GITHUB_COMMIT,
    LinkKind.GITLAB_MR,
    LinkKind.GITLAB_COMMIT,
    LinkKind.AIRFLOW_DAG_RUN,
]


class DeliverableLink(models.Model):
    # CASCADE: part of its deliverable (see ChecklistItem.deliverable); who added it
    # is history, so `added_by` is PROTECT.
    deliverable = models.ForeignKey(
        Deliverable, verbose_name=_("deliverable"), on_delete=models.CASCADE, related_name="links"
    )
    kind = models.CharField(
        _("kind"), max_length=20, choices=LinkKind.choices, default=LinkKind.DOCUMENT
    )
    # Web addresses, and MLflow's models:/ and runs:/ URIs (checked by clean()).
    url = models.CharField(_("address"), max_length=500)
    label = models.CharField(_("label"), max_length=120, blank=True)
    # What the address points at, parsed by deliverables.links.parse_link (repository
    # and number, model name and alias, DAG and run...); {} for kinds without a format.
    target = models.JSONField(_("target"), default=dict, blank=True, editable=False)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("added by"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("added at"), auto_now_add=True)

    class Meta:
        verbose_name = _("link")
        verbose_name_plural = _("links")
        ordering = ["created_at", "pk"]
        indexes = [
            # The artifact polling sweep (deliverables.artifacts) looks for typed links
            # without a state each minute: the typed kinds only, a small part of all.
            models.Index(
                fields=["kind"],
                name="deliverable_link_typed_idx",
                condition=models.Q(kind__in=TYPED_LINK_KINDS),
            ),
        ]

    def __str__(self) -> str:
        return self.label or self.url

    def clean(self) -> None:
        from .links import parse_link

        try:
            parsed = parse_link(self.kind, self.url)
        except ValidationError as error:
            raise ValidationError({"url": error.messages}) from error
        self.url, self.target = parsed.url, parsed.target


def comment_shown(prefix: str = "") -> models.Q:
    """THE rule of a comment still shown (not deleted), on the comment's own rows
    or, with `prefix` ("comment__"), through a relation to it."""
    return models.Q(**{f"{prefix}deleted_at__isnull": True})


class DeliverableCommentQuerySet(models.QuerySet):
    def shown(self) -> DeliverableCommentQuerySet:
        """Not deleted (comment_shown)."""
        return self.filter(comment_shown())

    def visible_to(self, user) -> DeliverableCommentQuerySet:
        """Comments on the deliverables `user` may see (`DeliverableQuerySet.visible_to`)."""
        return self.filter(deliverable__in=Deliverable.objects.visible_to(user).values("pk"))


class DeliverableComment(models.Model):
    deliverable = models.ForeignKey(
        Deliverable,
        verbose_name=_("deliverable"),
        on_delete=models.PROTECT,
        related_name="comments",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
    )
    body = models.TextField(_("comment"))
    created_at = models.DateTimeField(_("written at"), auto_now_add=True)
    # Set by `comment_edit` / `comment_delete`. A deleted comment keeps its row (and
    # its text, which the history quotes) but is shown as a placeholder.
    edited_at = models.DateTimeField(_("edited at"), null=True, blank=True)
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    objects = DeliverableCommentQuerySet.as_manager()

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.body[:60]

    @property
    def is_deleted(self) -> bool:
        """Not comment_shown, for a comment already loaded."""
        return not holds(comment_shown(), self)

    @property
    def shown_body(self) -> str:
        """What readers get: the text, or nothing once deleted."""
        return "" if self.is_deleted else self.body


class CommentMention(models.Model):
    """A person named with `@username` in a comment, who may see its deliverable.

    Written by `services.comment_mentions_record` (the one place mentions are
    decided); the reminder digests tell the person (`mentions.MentionDigestSection`
    claims each row once by setting `digest`).
    """

    comment = models.ForeignKey(
        DeliverableComment,
        verbose_name=_("comment"),
        on_delete=models.PROTECT,
        related_name="mentions",
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("mentioned at"), auto_now_add=True)
    digest = models.ForeignKey(
        "Digest",
        verbose_name=_("digest"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="mentions",
    )

    class Meta:
        verbose_name = _("mention")
        verbose_name_plural = _("mentions")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["comment", "person"], name="mention_once_per_comment")
        ]
        indexes = [
            # The digest sweep: mentions nobody has been told of yet (`MentionDigestSection`).
            models.Index(
                fields=["person"],
                condition=models.Q(digest__isnull=True),
                name="mention_untold_idx",
            )
        ]

    def __str__(self) -> str:
        return f"@{self.person} in {self.comment_id}"


class EventKind(models.TextChoices):
    CREATED = "created", _("planned the deliverable")
    STATUS = "status", _("changed the status")
    DONE_OVERRIDE = "done_override", _("marked it done with required items open")
    OWNER = "owner", _("changed the owner")
    DUE_DATE = "due_date", _("changed the due date")
    TYPE = "type", _("changed the type")
    TITLE = "title", _("renamed it")
    DESCRIPTION = "description", _("changed the description")
    CHECKLIST = "checklist", _("updated the checklist")
    LINK_ADDED = "link_added", _("added a link")
    LINK_REMOVED = "link_removed", _("removed a link")
    COMMENT = "comment", _("commented")
    COMMENT_EDITED = "comment_edited", _("edited a comment")
    COMMENT_DELETED = "comment_deleted", _("deleted a comment")
    # Written by deliverables.readiness (worded through `extensions.history_values`).
    RUBRIC = "rubric", _("marked the readiness rubric")
    RUBRIC_WAIVER = "rubric_waiver", _("waived the readiness score to mark it done")
    # Written by deliverables.cards (worded through `extensions.history_values`).
    CARD = "card", _("answered a card section")
    CARD_LINK = "card_link", _("changed what the card describes")
    CARD_REVIEW = "card_review", _("card review")


# A handbook question's addition or removal, kept in a checklist event as
# {"question": text, "change": QUESTION_ADDED} and worded in the reader's language.
QUESTION_ADDED = "added"
QUESTION_REMOVED = "removed"


def status_value(status: str, reason: str = "") -> dict:
    """A status in a history entry: its code, and the reason given for it."""
    value = {"status": str(status)}
    if reason:
        value["reason"] = reason[:TEXT_LIMIT]
    return value


def type_value(deliverable_type: DeliverableType) -> dict:
    """A type in a history entry: its id and source name (worded in the reader's language)."""
    return {"id": deliverable_type.pk, "name": deliverable_type.name}


def question_value(text: str, change: str) -> dict:
    return {"question": text[:TEXT_LIMIT], "change": change}


def progress_value(done: int, total: int) -> dict:
    """How much of the checklist is complete after an update."""
    return {"done": done, "total": total}


def url_value(url: str) -> dict:
    return {"url": url}


class DeliverableEvent(HistoryEntry):
    """One entry of a deliverable's history: who changed what, and when (the
    payload's values: `mlteam.history` and the `*_value` functions above)."""

    deliverable = models.ForeignKey(
        Deliverable, verbose_name=_("deliverable"), on_delete=models.PROTECT, related_name="events"
    )
    # Denormalised so a project's activity is one indexed query.
    project = models.ForeignKey(
        Project,
        verbose_name=_("project"),
        on_delete=models.PROTECT,
        related_name="deliverable_events",
    )
    kind = models.CharField(_("change"), max_length=20, choices=EventKind.choices)

    class Meta:
        verbose_name = _("deliverable change")
        verbose_name_plural = _("deliverable changes")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["deliverable", "-created_at"], name="event_deliverable_recent_idx"
            ),
            models.Index(fields=["project", "-created_at"], name="event_project_recent_idx"),
            # The newest changes across many projects (the portfolio's recent activity):
            # walked newest first until enough belong to visible projects, rather than
            # sorting every change of every project.
            models.Index(fields=["-created_at", "-id"], name="event_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.actor} {self.get_kind_display()}"

    @property
    def kind_label(self) -> str:
        """What changed, in the reader's language (see Deliverable.status_label)."""
        return choice_label(EventKind, self.kind)

    def render_value(self, value: dict | None) -> str:
        """What was stored, in the reader's language: statuses as labels (with the
        reason), a type's name translated, handbook questions with a phrase; dates,
        owners (an anonymised one as "Former member") and text as every history does."""
        if not value:
            return ""
        if (worded := history_values.get(self.kind)) is not None:
            return worded(value)
        if "status" in value and value["status"] in DeliverableStatus.values:
            label = str(DeliverableStatus(value["status"]).label)
            return f"{label}: {value['reason']}" if value.get("reason") else label
        if self.kind == EventKind.TYPE and "name" in value:
            return gettext(value["name"]) if value["name"] else ""  # a type's source name
        if "question" in value:
            if value.get("change") == QUESTION_REMOVED:
                return gettext("removed the question: %(text)s") % {"text": value["question"]}
            return gettext("added the question: %(text)s") % {"text": value["question"]}
        if "done" in value:
            return f"{value['done']}/{value['total']}"
        if "url" in value:
            return str(value["url"])
        return render_value(value)


# --- reminders ---------------------------------------------------------------------------

WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]


def default_time_zone() -> str:
    return settings.TIME_ZONE


def validate_time_zone(value: str) -> None:
    import zoneinfo

    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("%(value)s is not a time zone; use a name such as Asia/Tokyo."),
            params={"value": value},
            code="time_zone",
        )


def parse_working_days(value: str) -> list[int]:
    """The stored working days ("0,1,2,3,4", Monday is 0) as sorted day numbers."""
    return sorted({int(day) for day in value.split(",") if day.strip().isdigit()})


def format_working_days(days) -> str:
    """Day numbers as stored: sorted, distinct, comma-separated."""
    return ",".join(str(day) for day in sorted({int(day) for day in days}))


def validate_working_days(value: str) -> None:
    days = [day.strip() for day in value.split(",")] if value else []
    if any(not day.isdigit() or int(day) > 6 for day in days):
        raise ValidationError(
            _("Working days are day numbers from 0 (Monday) to 6 (Sunday), such as 0,1,2,3,4."),
            code="working_days",
        )


# The email language's blank choice: follow the interface language.
EMAIL_LANGUAGE_CHOICES = [("", _("Same as my interface language")), *settings.LANGUAGES]


class WorkView(models.TextChoices):
    """The two ways deliverables are drawn on My work and a project's work."""

    LIST = "list", _("List")
    BOARD = "board", _("Board")


class ReminderPreference(models.Model):
    """When and how a person wants their daily digest, and their languages.
    Missing row = the defaults."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="reminder_preference",
    )
    hour = models.PositiveSmallIntegerField(
        _("send at (hour)"), default=9, help_text=_("Local hour of the day, 0 to 23.")
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default=default_time_zone, validators=[validate_time_zone]
    )
    working_days = models.CharField(
        _("working days"),
        max_length=20,
        default="0,1,2,3,4",
        blank=True,
        validators=[validate_working_days],
        help_text=_("Monday is 0."),
    )
    due_soon_days = models.PositiveSmallIntegerField(_("due-soon window (days)"), default=3)
    paused_until = models.DateField(
        _("paused until"),
        null=True,
        blank=True,
        help_text=_("No digest up to and including this day."),
    )
    language = models.CharField(
        _("email language"),
        max_length=10,
        choices=EMAIL_LANGUAGE_CHOICES,
        blank=True,
        default="",
        help_text=_("Emails come in this language."),
    )
    # Remembered when the person switches the interface language while signed in,
    # so that emails can follow it and a new browser starts in it.
    interface_language = models.CharField(
        _("interface language"),
        max_length=10,
        choices=settings.LANGUAGES,
        blank=True,
        default="",
        editable=False,
    )
    # How the person last chose to see deliverables, on My work and a project's
    # work: as a list or as a board by status (services.work_view_remember).
    work_view = models.CharField(
        _("deliverables shown as"),
        max_length=10,
        choices=WorkView.choices,
        default=WorkView.LIST,
        editable=False,
    )
    # Moved on by every save (services.reminder_preference_update); forms carry it.
    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        verbose_name = _("reminder preference")
        verbose_name_plural = _("reminder preferences")
        constraints = [
            models.CheckConstraint(condition=models.Q(hour__lte=23), name="reminder_hour_0_23"),
        ]

    def __str__(self) -> str:
        return str(self.user)

    @property
    def working_day_numbers(self) -> set[int]:
        return set(parse_working_days(self.working_days))

    @property
    def email_language(self) -> str:
        """The language of every email to this person: their choice for emails, else
        their interface language, else the site's."""
        return self.language or self.interface_language or settings.LANGUAGE_CODE


class DigestStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENDING = "sending", _("Being sent")
    HANDED_OVER = "handed_over", _("Handed to the mail server, waiting for its answer")
    SENT = "sent", _("Sent")
    MERGED = "merged", _("Sent with another digest")
    UNKNOWN = "unknown", _("Outcome unknown (the mail server never answered)")
    UNDELIVERED = "undelivered", _("Not delivered (mail failed until the catch-up window ended)")
    CANCELLED = "cancelled", _("Not sent (nothing left to say)")


# The recipient got the message that carried it (their own, or one it went with).
DIGEST_DELIVERED = [DigestStatus.SENT, DigestStatus.MERGED]
# Still to be decided by a send (an unknown outcome may still have its one repeat).
DIGEST_UNFINISHED = [
    DigestStatus.PENDING,
    DigestStatus.SENDING,
    DigestStatus.HANDED_OVER,
    DigestStatus.UNKNOWN,
]
# A digest is "failing" once its first failed attempt is this old: a short blip of
# the mail server raises no alarm, an outage does (/healthz, admin, send_reminders).
DIGEST_FAILING_AFTER = timedelta(minutes=30)
# Digests given up on (or with an unknown outcome) are reported for this long.
DIGEST_TROUBLE_SHOWN_FOR = timedelta(days=1)


class DigestQuerySet(models.QuerySet):
    def due_for_sending(self, now) -> DigestQuerySet:
        """What the sweep hands over again: retries whose time has come (within the
        catch-up window), and sends whose worker stopped before its lease ended."""
        return self.filter(
            models.Q(
                status__in=[DigestStatus.PENDING, DigestStatus.UNKNOWN],
                next_attempt_at__lte=now,
                deliver_by__gt=now,
            )
            | models.Q(
                status__in=[DigestStatus.SENDING, DigestStatus.HANDED_OVER], lease_until__lt=now
            )
        )

    def past_window(self, now) -> DigestQuerySet:
        """Unsent digests whose catch-up window has ended, and no send is running."""
        return self.filter(deliver_by__lte=now).filter(
            models.Q(status=DigestStatus.PENDING)
            | models.Q(status=DigestStatus.UNKNOWN, next_attempt_at__isnull=False)
            | models.Q(
                status__in=[DigestStatus.SENDING, DigestStatus.HANDED_OVER], lease_until__lt=now
            )
        )

    def failing(self, now) -> DigestQuerySet:
        """Waiting for a retry after failed attempts for longer than DIGEST_FAILING_AFTER."""
        return self.filter(
            status=DigestStatus.PENDING, failing_since__lte=now - DIGEST_FAILING_AFTER
        )

    def undelivered_recently(self, now) -> DigestQuerySet:
        return self.filter(
            status=DigestStatus.UNDELIVERED, deliver_by__gt=now - DIGEST_TROUBLE_SHOWN_FOR
        )

    def unknown_recently(self, now) -> DigestQuerySet:
        return self.filter(
            status=DigestStatus.UNKNOWN, handed_over_at__gt=now - DIGEST_TROUBLE_SHOWN_FOR
        )

    def needing_attention(self, now) -> DigestQuerySet:
        """Failing now, or given up on or left with an unknown outcome in the last day."""
        return self.failing(now) | self.undelivered_recently(now) | self.unknown_recently(now)


class Digest(models.Model):
    """One reminder email for one person on one local day. The unique constraint is
    the claim: whoever inserts the row for (recipient, day) builds and sends it.

    A digest not delivered on its day is retried until `deliver_by` (the end of its
    catch-up window); when mail works again, the recipient's owed digests go out as
    one message, sent by the newest of them, the others marked as sent with it."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.PROTECT,
        related_name="digests",
    )
    local_date = models.DateField(_("day (recipient's time)"))
    status = models.CharField(
        _("status"), max_length=12, choices=DigestStatus.choices, default=DigestStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    lease_until = models.DateTimeField(_("being sent until"), null=True, blank=True)
    deliver_by = models.DateTimeField(
        _("catch-up window ends"),
        help_text=_("Not delivered by then, the digest is given up (REMINDER_CATCH_UP_DAYS)."),
    )
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    handed_over_at = models.DateTimeField(
        _("handed to the mail server at"),
        null=True,
        blank=True,
        help_text=_("When the text of the latest message carrying it went to the mail server."),
    )
    unknown_outcomes = models.PositiveSmallIntegerField(
        _("sends with no answer"),
        default=0,
        help_text=_("Sends the mail server took but never answered; one repeat at most."),
    )
    sent_with = models.ForeignKey(
        "self",
        verbose_name=_("sent with"),
        on_delete=models.RESTRICT,
        null=True,
        blank=True,
        related_name="carried",
        help_text=_("The digest whose message also carried this one."),
    )
    # Set by the sweep that inserted the row, so it can tell its rows from a rival's.
    sweep_token = models.UUIDField(_("sweep"), null=True, blank=True, editable=False)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    objects = DigestQuerySet.as_manager()

    class Meta:
        verbose_name = _("digest")
        verbose_name_plural = _("digests")
        ordering = ["-local_date", "recipient"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "local_date"], name="digest_one_per_recipient_day"
            ),
        ]
        indexes = [
            # The sweep's retry and give-up passes (reminder_sweep) and the health
            # check (Digest.objects.failing, undelivered_recently): unfinished and
            # given-up digests by when they are next due. Sent ones are most rows.
            models.Index(
                fields=["status", "next_attempt_at"],
                name="digest_unfinished_idx",
                condition=models.Q(status__in=[*DIGEST_UNFINISHED, DigestStatus.UNDELIVERED]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recipient} {self.local_date}"


class ReminderKind(models.TextChoices):
    OVERDUE = "overdue", _("Overdue")
    DUE_SOON = "due_soon", _("Due soon")
    STALE = "stale", _("No update for a while")
    ESCALATION = "escalation", _("Escalated to managers")


class Reminder(models.Model):
    """The ledger: one line per deliverable, recipient, kind and local day, so a
    deliverable is never mentioned twice to the same person for the same reason
    on the same day, however often the sweep runs."""

    # No index of its own: the unique constraint below starts with the deliverable
    # and serves its lookups (one index fewer to write for each of the sweep's tens
    # of thousands of lines, bench/reminder_sweep.py).
    deliverable = models.ForeignKey(
        Deliverable,
        verbose_name=_("deliverable"),
        on_delete=models.PROTECT,
        related_name="reminders",
        db_index=False,
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.PROTECT,
        related_name="reminders",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=ReminderKind.choices)
    local_date = models.DateField(_("day (recipient's time)"))
    digest = models.ForeignKey(
        Digest, verbose_name=_("digest"), on_delete=models.PROTECT, related_name="reminders"
    )
    days = models.IntegerField(_("days late or left"), default=0)

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        ordering = ["-local_date", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["deliverable", "recipient", "kind", "local_date"],
                name="reminder_once_per_day",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.deliverable} → {self.recipient}"
