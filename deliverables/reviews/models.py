"""Performance reviews: cycles, what a manager expects of a person in a cycle,
the evaluation at its end, their history, the log of who read them, and the
ledger of review mentions in managers' reminder digests.

The tables up to the reminders were created by the deliverables app and keep
their names (`deliverables_review` and so on): the models moved here without
moving data. The access log was born here (`reviews_reviewaccess`).

Review visibility is written once, on `ReviewQuerySet.visible_to`: every page,
list, count and object check of reviews goes through it.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from deliverables.models import Deliverable, Digest, deliverable_label
from mlteam.history import HistoryEntry, render_value
from mlteam.people import person_name, stored_name
from roles.permissions import is_admin


class ReviewCycle(models.Model):
    """A period in which managers set expectations early and evaluate at the end.

    Not private: anyone signed in sees a cycle's name and dates; what is in it
    (the reviews) follows `ReviewQuerySet.visible_to`.
    """

    name = models.CharField(_("name"), max_length=120)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    expectations_due_days = models.PositiveSmallIntegerField(
        _("expectations due after (days)"),
        default=14,
        validators=[MaxValueValidator(365)],
        help_text=_(
            "A person still without expectations this many days into the cycle is "
            "mentioned in their manager's reminder digest."
        ),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Moved on by every save (services.cycle_update); edit forms carry it.
    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        db_table = "deliverables_reviewcycle"
        verbose_name = _("review cycle")
        verbose_name_plural = _("review cycles")
        ordering = ["-start_date", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("start_date")),
                name="reviewcycle_end_after_start",
                violation_error_message=_("The cycle cannot end before it starts."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        for day in (self.start_date, self.end_date):
            if day and not (date(2000, 1, 1) <= day <= date(2100, 12, 31)):
                raise ValidationError(
                    _("Use dates between the years 2000 and 2100."), code="date_range"
                )

    def expectations_due_on(self) -> date:
        return self.start_date + timedelta(days=self.expectations_due_days)


class Rating(models.IntegerChoices):
    WELL_BELOW = 1, _("1 - well below expectations")
    BELOW = 2, _("2 - below expectations")
    MEETS = 3, _("3 - meets expectations")
    ABOVE = 4, _("4 - above expectations")
    WELL_ABOVE = 5, _("5 - well above expectations")


class ReviewQuerySet(models.QuerySet):
    def visible_to(self, user) -> ReviewQuerySet:
        """THE review visibility rule: the person reviewed, the manager who wrote
        the review, and admins see it; nobody else, and no one signed out or
        deactivated. Every list, count and selector of reviews filters through
        this; `permissions.can_view_review` asks it about one review."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if is_admin(user):
            return self
        return self.filter(models.Q(person=user) | models.Q(manager=user))


class Review(models.Model):
    """What one manager expects of one person in a cycle, and their evaluation.

    Private (`ReviewQuerySet.visible_to`): nothing about it is shown elsewhere.
    """

    cycle = models.ForeignKey(
        ReviewCycle, verbose_name=_("cycle"), on_delete=models.PROTECT, related_name="reviews"
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="reviews_received",
    )
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("manager"),
        on_delete=models.PROTECT,
        null=True,
        related_name="reviews_written",
    )
    expectations = models.TextField(_("expectations"))
    deliverables = models.ManyToManyField(
        Deliverable,
        verbose_name=_("linked deliverables"),
        related_name="+",
        blank=True,
        db_table="deliverables_review_deliverables",
    )
    expectations_set_at = models.DateTimeField(_("expectations written at"))
    expectations_acknowledged_at = models.DateTimeField(
        _("expectations acknowledged at"), null=True, blank=True
    )
    quality_code = models.PositiveSmallIntegerField(
        _("quality of code"), choices=Rating.choices, null=True, blank=True
    )
    quality_documentation = models.PositiveSmallIntegerField(
        _("quality of documentation"), choices=Rating.choices, null=True, blank=True
    )
    quality_collaboration = models.PositiveSmallIntegerField(
        _("collaboration"), choices=Rating.choices, null=True, blank=True
    )
    expectations_met = models.PositiveSmallIntegerField(
        _("meeting the agreed expectations"), choices=Rating.choices, null=True, blank=True
    )
    evaluation_comment = models.TextField(_("evaluation"), blank=True)
    project_outcome = models.TextField(_("project outcome (context only)"), blank=True)
    evaluation_written_at = models.DateTimeField(_("evaluation written at"), null=True, blank=True)
    evaluation_shared_at = models.DateTimeField(_("evaluation shared at"), null=True, blank=True)
    self_assessment = models.TextField(_("self-assessment"), blank=True)
    self_assessment_at = models.DateTimeField(
        _("self-assessment written at"), null=True, blank=True
    )
    evaluation_acknowledged_at = models.DateTimeField(
        _("evaluation acknowledged at"), null=True, blank=True
    )
    # `version` changes with everything the person sees (their forms carry it);
    # `evaluation_version` with every save of the evaluation, drafts included, so
    # a draft save guards the manager's own edits without disturbing the person.
    version = models.PositiveIntegerField(_("version"), default=1)
    evaluation_version = models.PositiveIntegerField(_("evaluation version"), default=1)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ReviewQuerySet.as_manager()

    class Meta:
        db_table = "deliverables_review"
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        ordering = ["cycle", "person__username", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["cycle", "person", "manager"],
                name="review_one_per_cycle_person_manager",
                violation_error_message=_(
                    "You already wrote expectations for this person in this cycle."
                ),
            ),
            models.CheckConstraint(
                condition=~models.Q(person=models.F("manager")),
                name="review_not_of_oneself",
                violation_error_message=_("Managers do not review themselves."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} ({self.cycle})"

    @property
    def ratings(self) -> list[tuple[str, int | None, str]]:
        return [
            (
                str(self._meta.get_field(name).verbose_name),
                getattr(self, name),
                getattr(self, f"get_{name}_display")() if getattr(self, name) else "",
            )
            for name in RATING_FIELDS
        ]

    @property
    def stage_label(self) -> str:
        """Where the review stands, as its writer and admins see it."""
        if self.evaluation_written_at and not self.evaluation_shared_at:
            return gettext("Evaluation draft (not shared yet)")
        return self.person_stage_label

    @property
    def person_stage_label(self) -> str:
        """Where the review stands, as the person sees it (drafts are not theirs yet)."""
        if self.evaluation_acknowledged_at:
            return gettext("Evaluation acknowledged")
        if self.evaluation_shared_at:
            return gettext("Evaluation shared, waiting for acknowledgement")
        if self.expectations_acknowledged_at:
            return gettext("Expectations acknowledged")
        return gettext("Expectations waiting for acknowledgement")


RATING_FIELDS = (
    "quality_code",
    "quality_documentation",
    "quality_collaboration",
    "expectations_met",
)


class ReviewEventKind(models.TextChoices):
    EXPECTATIONS_WRITTEN = "expectations_written", _("wrote the expectations")
    EXPECTATIONS_CHANGED = "expectations_changed", _("changed the expectations")
    EXPECTATIONS_ACKNOWLEDGED = "expectations_acknowledged", _("acknowledged the expectations")
    EVALUATION_SAVED = "evaluation_saved", _("saved the evaluation as a draft")
    EVALUATION_SHARED = "evaluation_shared", _("shared the evaluation")
    EVALUATION_CHANGED = "evaluation_changed", _("changed the shared evaluation")
    SELF_ASSESSMENT = "self_assessment", _("wrote the self-assessment")
    EVALUATION_ACKNOWLEDGED = "evaluation_acknowledged", _("acknowledged the evaluation")


def linked_value(deliverable) -> dict:
    """A linked deliverable as a review's history keeps it: its type's source name
    and its title, worded as `Deliverable.label` in the reader's language."""
    return {"type": deliverable.type.name, "title": deliverable.title}


def expectations_value(text: str, linked) -> dict:
    """Expectations as the history keeps them: the text as typed and the linked
    deliverables (the caller names only those everyone reading the history may see)."""
    return {"text": text, "linked": sorted((linked_value(d) for d in linked), key=_linked_key)}


def evaluation_value(ratings: dict, comment: str, outcome: str) -> dict:
    """An evaluation as the history keeps it: each rating (None when not given),
    the comment and the project outcome as typed."""
    return {
        "ratings": {name: ratings.get(name) for name in RATING_FIELDS},
        "comment": comment,
        "outcome": outcome,
    }


def _linked_key(value: dict) -> tuple:
    return (value.get("type", ""), value.get("title", ""), value.get("text", ""))


class ReviewEvent(HistoryEntry):
    """History of a review. Shown only on the review itself, under the same rule.

    Payload (`mlteam.history`): "before" and "after" of a change to the
    expectations (`expectations_value`) or to a shared evaluation
    (`evaluation_value`), worded in the reader's language by `render_value`.
    Entries written before the history kept structured values were read back by
    reviews migration 0002: a linked deliverable's name as written ({"text": ...}),
    the language the labels were in ("written_in", used only to migrate back), and
    what could not be read back as {"text": ...}, shown as written.
    """

    review = models.ForeignKey(
        Review, verbose_name=_("review"), on_delete=models.PROTECT, related_name="events"
    )
    kind = models.CharField(_("change"), max_length=30, choices=ReviewEventKind.choices)

    class Meta:
        db_table = "deliverables_reviewevent"
        verbose_name = _("review change")
        verbose_name_plural = _("review changes")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.actor} {self.get_kind_display()}"

    def render_value(self, value: dict | None) -> str:
        """Expectations or an evaluation as the review page shows them, with the
        labels (ratings, linked deliverables, project outcome) in the reader's
        language; anything else as every history shows it."""
        if not value:
            return ""
        if "ratings" in value:
            return _evaluation_text(value)
        if "linked" in value:
            return _expectations_text(value)
        return render_value(value)


def _linked_label(value: dict) -> str:
    """A linked deliverable's name as `Deliverable.label` words it now."""
    if "type" not in value:
        return str(value.get("text", ""))  # an old entry's name, as written
    return deliverable_label(gettext(value["type"]), value.get("title", ""))


def _expectations_text(value: dict) -> str:
    text = str(value.get("text", ""))
    titles = sorted(_linked_label(linked) for linked in value.get("linked") or [])
    if not titles:
        return text
    return f"{text}\n\n{gettext('Linked deliverables')}: {'; '.join(titles)}"


def _evaluation_text(value: dict) -> str:
    ratings = value.get("ratings") or {}
    lines = [
        f"{Review._meta.get_field(name).verbose_name}: {ratings.get(name) or '-'}"
        for name in RATING_FIELDS
    ]
    lines += ["", str(value.get("comment", ""))]
    if value.get("outcome"):
        label = gettext("Project outcome (context only)")
        lines += ["", f"{label}: {value['outcome']}"]
    return "\n".join(lines)


class ReviewReminderKind(models.TextChoices):
    EXPECTATIONS_MISSING = "expectations_missing", _("No expectations yet")
    EVALUATION_MISSING = "evaluation_missing", _("No evaluation yet")


class ReviewReminder(models.Model):
    """Ledger of review mentions in managers' digests: once per cycle, manager,
    person, reason and local day (as `Reminder` is for deliverables)."""

    cycle = models.ForeignKey(
        ReviewCycle, verbose_name=_("cycle"), on_delete=models.PROTECT, related_name="+"
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=30, choices=ReviewReminderKind.choices)
    local_date = models.DateField(_("day (recipient's time)"))
    digest = models.ForeignKey(
        Digest, verbose_name=_("digest"), on_delete=models.PROTECT, related_name="review_reminders"
    )

    class Meta:
        db_table = "deliverables_reviewreminder"
        verbose_name = _("review reminder")
        verbose_name_plural = _("review reminders")
        ordering = ["-local_date", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["cycle", "recipient", "person", "kind", "local_date"],
                name="review_reminder_once_per_day",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.person} → {self.recipient}"


class ReviewPart(models.TextChoices):
    """What of a review a reader was shown (`ReviewAccess.parts`)."""

    EXPECTATIONS = "expectations", _("expectations")
    EVALUATION = "evaluation", _("evaluation")
    SELF_ASSESSMENT = "self_assessment", _("self-assessment")
    HISTORY = "history", _("history")


def review_parts_written(review: Review) -> list[str]:
    """The parts of `review` a page showing all of it to its manager or an admin
    shows: the expectations and the history always (writing the expectations is
    its first entry), the evaluation (draft or shared) and the self-assessment once
    written."""
    parts = [ReviewPart.EXPECTATIONS]
    if review.evaluation_written_at:
        parts.append(ReviewPart.EVALUATION)
    if review.self_assessment:
        parts.append(ReviewPart.SELF_ASSESSMENT)
    parts.append(ReviewPart.HISTORY)
    return [str(part) for part in parts]


class ReviewSurface(models.TextChoices):
    """Where a review was read. Reviews are not in the API (docs/api-deliverables.md)."""

    WEB = "web", _("review pages")
    ADMIN = "admin", _("Django admin")


class ReviewAccess(models.Model):
    """One read of a review by someone other than its person: who, when, what and
    where (`services.review_access_record`, the only writer). The person sees the
    reads of their review on its page; admins see every read in the Django admin,
    where the log is read-only.

    The reader's name is kept as text too, so a read stays attributed if the
    account row ever goes; anonymising the reader rewrites it (`mlteam.services`).
    """

    review = models.ForeignKey(
        Review,
        verbose_name=_("review"),
        on_delete=models.PROTECT,
        related_name="accesses",
        db_index=False,  # `reviewaccess_review_new` leads with it
    )
    reader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reader"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reader_name = models.CharField(_("reader's name"), max_length=300)
    # A list of `ReviewPart` values, in that order.
    parts = models.JSONField(_("what was read"), default=list)
    surface = models.CharField(_("where"), max_length=10, choices=ReviewSurface.choices)
    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("review read")
        verbose_name_plural = _("review access log")
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The person's list of reads of their review, newest first.
            models.Index(fields=["review", "-created_at", "-id"], name="reviewaccess_review_new"),
        ]

    def __str__(self) -> str:
        return f"{self.reader_label} · {self.review}"

    @property
    def reader_label(self) -> str:
        """The reader as pages show them: their name now ("Former member" once
        anonymised), else the name kept with the read."""
        if self.reader_id is not None:
            return person_name(self.reader)
        return stored_name(self.reader_name)

    @property
    def part_labels(self) -> list[str]:
        """What was read, in the reader's language (values no longer known: as stored)."""
        labels = dict(ReviewPart.choices)
        return [str(labels.get(part, part)) for part in self.parts]
