"""Readiness rubrics: a scored rubric per deliverable type (sections of items), each
deliverable's marks on it, and the waivers managers record to mark work done below
the score its type needs.

The scoring follows the ML Test Score (Breck et al., 2017): an item done by hand is
worth half a point, an automated one a point; a section scores the sum of its items'
points, and the rubric the lowest of its sections' scores (a section without items
is left out). `rubric_score` is that rule, written once; pages, lists, the done gate
and the admin all read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from deliverables.models import Deliverable, DeliverableType


class Mark(models.TextChoices):
    NOT_DONE = "not_done", _("Not done")
    MANUAL = "manual", _("Done manually")
    AUTOMATED = "automated", _("Automated")


# What each mark is worth (ML Test Score: half a point for a manual check).
MARK_POINTS = {
    Mark.NOT_DONE: Decimal("0"),
    Mark.MANUAL: Decimal("0.5"),
    Mark.AUTOMATED: Decimal("1"),
}

EVIDENCE_REQUIRED_MESSAGE = _(
    "Give evidence for this mark: a link (a test run, a dashboard, a pull request) or a "
    "short note saying how it is checked."
)


class Rubric(models.Model):
    """The readiness rubric of one deliverable type, and the score it needs for done."""

    deliverable_type = models.OneToOneField(
        DeliverableType,
        verbose_name=_("deliverable type"),
        on_delete=models.CASCADE,
        related_name="readiness_rubric",
    )
    name = models.CharField(_("name"), max_length=150)
    description = models.TextField(_("description"), blank=True)
    required_score = models.DecimalField(
        _("score needed for done"),
        max_digits=4,
        decimal_places=1,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("99"))],
        help_text=_(
            "The lowest section's score a deliverable needs before a manager can mark it "
            "done without a waiver. 0: no gate."
        ),
    )
    # Moved on by every save of the rubric, its sections or items (services).
    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        verbose_name = _("readiness rubric")
        verbose_name_plural = _("readiness rubrics")
        ordering = ["deliverable_type__name"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return gettext(self.name) if self.name else ""

    @property
    def display_description(self) -> str:
        return gettext(self.description) if self.description else ""


class RubricSection(models.Model):
    rubric = models.ForeignKey(
        Rubric, verbose_name=_("rubric"), on_delete=models.CASCADE, related_name="sections"
    )
    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("rubric section")
        verbose_name_plural = _("rubric sections")
        ordering = ["rubric", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["rubric", "name"], name="rubric_section_name_unique")
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return gettext(self.name)


class RubricItem(models.Model):
    section = models.ForeignKey(
        RubricSection, verbose_name=_("section"), on_delete=models.CASCADE, related_name="items"
    )
    text = models.CharField(_("item"), max_length=300)
    guidance = models.TextField(
        _("guidance"), blank=True, help_text=_("What counts as done, and as automated.")
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("rubric item")
        verbose_name_plural = _("rubric items")
        ordering = ["section", "position", "pk"]

    def __str__(self) -> str:
        return self.display_text

    @property
    def display_text(self) -> str:
        return gettext(self.text)

    @property
    def display_guidance(self) -> str:
        return gettext(self.guidance) if self.guidance else ""


# A mark above "not done" carries evidence: a link or a note (the rule, in the table).
HAS_EVIDENCE = (
    models.Q(mark=Mark.NOT_DONE) | ~models.Q(evidence_url="") | ~models.Q(evidence_note="")
)


class RubricMark(models.Model):
    """One deliverable's mark on one rubric item (no row: not done yet)."""

    deliverable = models.ForeignKey(
        Deliverable,
        verbose_name=_("deliverable"),
        on_delete=models.PROTECT,
        related_name="rubric_marks",
    )
    # PROTECT: an item someone marked stays (the admin says why it cannot be deleted).
    item = models.ForeignKey(
        RubricItem, verbose_name=_("item"), on_delete=models.PROTECT, related_name="marks"
    )
    mark = models.CharField(_("mark"), max_length=10, choices=Mark.choices, default=Mark.NOT_DONE)
    evidence_url = models.URLField(_("evidence link"), max_length=500, blank=True)
    evidence_note = models.TextField(_("evidence note"), max_length=2000, blank=True)
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("marked by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    marked_at = models.DateTimeField(_("marked at"), null=True, blank=True)
    # The page draws 0 for an item nobody marked yet (no row).
    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        verbose_name = _("rubric mark")
        verbose_name_plural = _("rubric marks")
        constraints = [
            models.UniqueConstraint(fields=["deliverable", "item"], name="rubric_mark_unique"),
            models.CheckConstraint(condition=HAS_EVIDENCE, name="rubric_mark_has_evidence"),
        ]

    def __str__(self) -> str:
        return f"{self.item}: {self.get_mark_display()}"

    @property
    def points(self) -> Decimal:
        return MARK_POINTS[Mark(self.mark)]

    def clean(self) -> None:
        super().clean()
        if self.mark != Mark.NOT_DONE and not (self.evidence_url or self.evidence_note.strip()):
            raise ValidationError({"evidence_note": EVIDENCE_REQUIRED_MESSAGE}, code="evidence")


class RubricWaiver(models.Model):
    """A manager marked the deliverable done below its type's required score: what
    was missing then (the items, as source strings worded at display), the scores,
    and why."""

    deliverable = models.ForeignKey(
        Deliverable,
        verbose_name=_("deliverable"),
        on_delete=models.PROTECT,
        related_name="rubric_waivers",
    )
    reason = models.TextField(_("reason"))
    score = models.DecimalField(_("score"), max_digits=4, decimal_places=1)
    required_score = models.DecimalField(_("score needed"), max_digits=4, decimal_places=1)
    # [{"section": source name, "item": source text, "mark": code}, ...]
    missing = models.JSONField(_("missing items"), default=list, blank=True)
    waived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("waived by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        verbose_name = _("readiness waiver")
        verbose_name_plural = _("readiness waivers")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["deliverable", "-created_at"], name="waiver_recent_idx")]

    def __str__(self) -> str:
        return f"{self.deliverable_id}: {self.score}/{self.required_score}"

    @property
    def missing_labels(self) -> list[str]:
        return [missing_label(entry) for entry in self.missing or []]


class ReadinessScore(models.Model):
    """A deliverable's score as the rule (`section_scores`) last gave it, kept by the
    services in the same transaction as every change that moves it (a mark; its
    type's rubric, sections, items or required score), so that lists count ready
    work per project with one grouped query instead of scoring every deliverable.
    The deliverable's own page scores its marks directly. No row: nothing marked
    yet, which scores as its type's rubric with no marks (`selectors.scores_for`)."""

    deliverable = models.OneToOneField(
        Deliverable,
        verbose_name=_("deliverable"),
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="readiness_score",
    )
    overall = models.DecimalField(_("score"), max_digits=4, decimal_places=1, null=True)
    ready = models.BooleanField(_("ready"))

    class Meta:
        verbose_name = _("readiness score")
        verbose_name_plural = _("readiness scores")

    def __str__(self) -> str:
        return f"{self.deliverable_id}: {format_score(self.overall)}"


def missing_label(entry: dict) -> str:
    """A missing item as a waiver keeps it, in the reader's language."""
    section, item = entry.get("section", ""), entry.get("item", "")
    label = f"{gettext(section)}: {gettext(item)}" if section else gettext(item)
    if entry.get("mark") == Mark.MANUAL:
        return gettext("%(item)s (done manually, not automated)") % {"item": label}
    return label


# --- scoring: the one rule --------------------------------------------------------------


@dataclass(frozen=True)
class SectionScore:
    name: str  # the source name (worded with gettext where shown)
    points: Decimal
    items: int  # the most it can score

    @property
    def display_name(self) -> str:
        return gettext(self.name)

    @property
    def percent(self) -> int:
        return round(self.points * 100 / self.items) if self.items else 0


@dataclass(frozen=True)
class RubricScore:
    sections: tuple[SectionScore, ...]
    required: Decimal

    @property
    def overall(self) -> Decimal | None:
        """The lowest score of the sections that have items; None: nothing to score."""
        scored = [section.points for section in self.sections if section.items]
        return min(scored) if scored else None

    @property
    def ready(self) -> bool:
        """Meets the score its type needs for done (a rubric with no items has no gate)."""
        overall = self.overall
        return overall is None or overall >= self.required


def rubric_score(sections, marks: dict[int, str], required: Decimal) -> RubricScore:
    """The score of one deliverable: `sections` as (name, [item ids]) in order,
    `marks` item id -> mark code (an item without one is not done)."""
    return RubricScore(
        sections=tuple(
            SectionScore(
                name=name,
                points=sum(
                    (MARK_POINTS[Mark(marks.get(item, Mark.NOT_DONE))] for item in items),
                    Decimal("0"),
                ),
                items=len(items),
            )
            for name, items in sections
        ),
        required=required,
    )


def points_expression() -> models.Case:
    """MARK_POINTS as SQL, to sum a section's points in the database (lists)."""
    return models.Case(
        *(
            models.When(mark=mark, then=models.Value(points))
            for mark, points in MARK_POINTS.items()
        ),
        default=models.Value(Decimal("0")),
        output_field=models.DecimalField(max_digits=6, decimal_places=1),
    )


def section_scores(sections, points: dict[int, Decimal], required: Decimal) -> RubricScore:
    """The score from points already summed per section: `sections` as
    (section id, name, item count) in order, `points` section id -> its sum."""
    return RubricScore(
        sections=tuple(
            SectionScore(name=name, points=points.get(pk, Decimal("0")), items=count)
            for pk, name, count in sections
        ),
        required=required,
    )


def format_score(value: Decimal | None) -> str:
    """A score as pages show it: one decimal ("1.5", "2.0"); "—" for none."""
    if value is None:
        return "—"
    return f"{value:.1f}"
