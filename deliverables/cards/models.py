"""Model cards and datasheets: a card template per deliverable type (sections, each
with guidance and a few guiding questions), each deliverable's answers, and the
link from a card to the deliverable it describes (a deployed model, a data
pipeline) with its "needs review" flag.

Completeness, the one rule (`section_completeness`, `card_completeness`): each
guiding question of a section is a prompt; a section without questions has one
prompt, its free answer. A prompt counts as answered when its answer holds more
than white space. A section is as complete as the share of its prompts answered;
the whole card as the share of all its prompts answered. Pages, the project page,
the export and the admin all read it from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from deliverables.models import Deliverable, DeliverableType

# The key of the one free answer of a section that has no guiding questions.
FREE_ANSWER = "section"
ANSWER_MAX_LENGTH = 20_000


class CardKind(models.TextChoices):
    MODEL_CARD = "model_card", _("Model card")
    DATASHEET = "datasheet", _("Datasheet")


class CardTemplate(models.Model):
    """The sections a deliverable type's card asks about, and what it describes."""

    deliverable_type = models.OneToOneField(
        DeliverableType,
        verbose_name=_("deliverable type"),
        on_delete=models.CASCADE,
        related_name="card_template",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=CardKind.choices)
    name = models.CharField(_("name"), max_length=150)
    description = models.TextField(_("description"), blank=True)
    subject_type = models.ForeignKey(
        DeliverableType,
        verbose_name=_("describes deliverables of type"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_(
            "A card links to one deliverable of this type in its project (a model card to "
            "its deployed model, a datasheet to its data pipeline)."
        ),
    )
    # Moved on by every save of the template, its sections or questions (services).
    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        verbose_name = _("card template")
        verbose_name_plural = _("card templates")
        ordering = ["deliverable_type__name"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return gettext(self.name) if self.name else ""

    @property
    def display_description(self) -> str:
        return gettext(self.description) if self.description else ""


class CardSection(models.Model):
    template = models.ForeignKey(
        CardTemplate, verbose_name=_("template"), on_delete=models.CASCADE, related_name="sections"
    )
    title = models.CharField(_("title"), max_length=150)
    guidance = models.TextField(
        _("guidance"), blank=True, help_text=_("What this section is for, in a sentence or two.")
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("card section")
        verbose_name_plural = _("card sections")
        ordering = ["template", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["template", "title"], name="card_section_title_unique")
        ]

    def __str__(self) -> str:
        return self.display_title

    @property
    def display_title(self) -> str:
        return gettext(self.title)

    @property
    def display_guidance(self) -> str:
        return gettext(self.guidance) if self.guidance else ""


class CardQuestion(models.Model):
    section = models.ForeignKey(
        CardSection, verbose_name=_("section"), on_delete=models.CASCADE, related_name="questions"
    )
    text = models.CharField(_("question"), max_length=300)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("guiding question")
        verbose_name_plural = _("guiding questions")
        ordering = ["section", "position", "pk"]

    def __str__(self) -> str:
        return self.display_text

    @property
    def display_text(self) -> str:
        return gettext(self.text)


def prompt_keys(question_ids: list[int]) -> list[str]:
    """The keys a section's answers are kept under: one per guiding question, or the
    one free answer of a section without questions."""
    return [str(pk) for pk in question_ids] or [FREE_ANSWER]


class CardAnswer(models.Model):
    """One deliverable's answers to one section: markdown per prompt
    (`prompt_keys`), saved together with one version."""

    deliverable = models.ForeignKey(
        Deliverable,
        verbose_name=_("deliverable"),
        on_delete=models.PROTECT,
        related_name="card_answers",
    )
    # PROTECT: a section someone answered stays (the admin says why it cannot go).
    section = models.ForeignKey(
        CardSection, verbose_name=_("section"), on_delete=models.PROTECT, related_name="answers"
    )
    # {prompt key: markdown}
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("answered by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        verbose_name = _("card answer")
        verbose_name_plural = _("card answers")
        constraints = [
            models.UniqueConstraint(fields=["deliverable", "section"], name="card_answer_unique")
        ]

    def __str__(self) -> str:
        return f"{self.deliverable_id}: {self.section_id}"

    def answer(self, key: str) -> str:
        value = (self.answers or {}).get(key, "")
        return value if isinstance(value, str) else ""


class CardLink(models.Model):
    """What a card deliverable describes (another deliverable of its project), and
    whether that changed since the card was last confirmed."""

    card = models.OneToOneField(
        Deliverable,
        verbose_name=_("card"),
        on_delete=models.PROTECT,
        related_name="card_link",
    )
    subject = models.ForeignKey(
        Deliverable,
        verbose_name=_("describes"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="describing_cards",
    )
    needs_review = models.BooleanField(_("needs review"), default=False)
    review_reason = models.TextField(_("why it needs review"), blank=True)
    # What flagged it, as values (a model version's change: {"old": "3", "new": "4"}),
    # worded in each reader's language when shown (`review_words`), not in the
    # language of the worker that noticed the change.
    review_change = models.JSONField(_("what changed"), default=dict, blank=True)
    flagged_at = models.DateTimeField(_("flagged at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        verbose_name = _("card link")
        verbose_name_plural = _("card links")
        indexes = [
            # flag_for_review: the cards of one model that are not flagged yet.
            models.Index(fields=["subject", "needs_review"], name="card_link_subject_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.card_id} -> {self.subject_id}"

    @property
    def review_words(self) -> str:
        return review_words(self.review_reason, self.review_change)


def review_words(reason: str, change: dict | None) -> str:
    """Why a card needs review, in the reader's language: a model version's change
    worded from its values, otherwise the reason as it was given."""
    if change and "new" in change:
        return gettext("The linked model version changed from %(old)s to %(new)s.") % {
            "old": change.get("old") or "—",
            "new": change.get("new") or "—",
        }
    return reason or ""


# --- completeness: the one rule -----------------------------------------------------------


def is_answered(text) -> bool:
    return isinstance(text, str) and bool(text.strip())


@dataclass(frozen=True)
class SectionCompleteness:
    title: str  # the source title (worded with gettext where shown)
    answered: int
    prompts: int

    @property
    def display_title(self) -> str:
        return gettext(self.title)

    @property
    def percent(self) -> int:
        return round(self.answered * 100 / self.prompts) if self.prompts else 0

    @property
    def complete(self) -> bool:
        return self.answered == self.prompts


@dataclass(frozen=True)
class CardCompleteness:
    sections: tuple[SectionCompleteness, ...]

    @property
    def answered(self) -> int:
        return sum(section.answered for section in self.sections)

    @property
    def prompts(self) -> int:
        return sum(section.prompts for section in self.sections)

    @property
    def percent(self) -> int:
        return round(self.answered * 100 / self.prompts) if self.prompts else 0

    @property
    def complete_sections(self) -> int:
        return sum(section.complete for section in self.sections)


def section_completeness(title: str, keys: list[str], answers: dict | None) -> SectionCompleteness:
    """How complete one section is: `keys` its prompts (`prompt_keys`), `answers`
    the deliverable's saved answers to it (None: not answered yet)."""
    answers = answers or {}
    return SectionCompleteness(
        title=title,
        answered=sum(is_answered(answers.get(key)) for key in keys),
        prompts=len(keys),
    )


def card_completeness(sections, answers: dict[int, dict]) -> CardCompleteness:
    """A card's completeness: `sections` as (section id, title, prompt keys) in order,
    `answers` section id -> its saved answers."""
    return CardCompleteness(
        sections=tuple(
            section_completeness(title, keys, answers.get(pk)) for pk, title, keys in sections
        )
    )
