"""Writes for cards: a section's answers, the link to what a card describes, the
"needs review" flag raised when that changes and cleared by a person, and the
card templates the admin edits.

Each write validates, saves and records the deliverable's history in one
transaction; a refusal is a ValidationError and nothing is saved then.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from deliverables.models import (
    DONE_LOCKED_MESSAGE,
    Deliverable,
    DeliverableEvent,
    DeliverableStatus,
    EventKind,
)
from deliverables.services import ARCHIVED_MESSAGE, deliverable_history_record
from mlteam import cache
from mlteam.history import TEXT_LIMIT, history_announce
from mlteam.versions import claim_version
from roles.models import Project

from .models import (
    ANSWER_MAX_LENGTH,
    CardAnswer,
    CardLink,
    CardQuestion,
    CardSection,
    CardTemplate,
    is_answered,
    prompt_keys,
    section_completeness,
)
from .permissions import can_confirm_card_review, can_edit_card

ANSWER_STALE_MESSAGE = _(
    "Someone else saved this section while you were writing. Your text is kept below and "
    "nothing of it was saved; compare it with what is saved now, then save again to "
    "replace it."
)
EDIT_REFUSED_MESSAGE = _("Only the owner and the project's managers can edit this card.")
SECTION_ELSEWHERE_MESSAGE = _("That section is not on this deliverable's card.")
LINK_STALE_MESSAGE = _(
    "Someone else changed this card's link or review while you were looking at it. Check "
    "what it shows now and try again."
)
SUBJECT_REFUSED_MESSAGE = _("Choose a deliverable of this project that this card can describe.")
REVIEW_REFUSED_MESSAGE = _("Only the owner and the project's managers can confirm the review.")
TEMPLATE_STALE_MESSAGE = _(
    "Someone else changed this card template while you were editing it. Nothing was saved; "
    "open it again to see the latest version."
)
REASON_LIMIT = 2000


def _lock_card(deliverable: Deliverable, *, allow_done: bool = False) -> tuple[int, int]:
    """Lock the card deliverable's row and refuse an archived project (and a done
    card, unless `allow_done`): (project id, type id)."""
    status, project_id, type_id = (
        Deliverable.objects.select_for_update()
        .filter(pk=deliverable.pk)
        .values_list("status", "project_id", "type_id")
        .get()
    )
    if Project.objects.filter(pk=project_id, archived_at__isnull=False).exists():
        raise ValidationError(ARCHIVED_MESSAGE, code="archived")
    if status == DeliverableStatus.DONE and not allow_done:
        raise ValidationError(DONE_LOCKED_MESSAGE, code="done")
    return project_id, type_id


@transaction.atomic
def card_answer_save(
    *,
    deliverable: Deliverable,
    section: CardSection,
    actor,
    answers: dict[str, str],
    version: int | None,
) -> CardAnswer:
    """Save one section's answers of a card.

    1. Whoever may change the deliverable's checklist edits its card, while the
       project is active and the deliverable not done.
    2. The section must be on the card template of the deliverable's type; only its
       prompts' keys are kept (`prompt_keys`), each answer trimmed of trailing space.
    3. `version` is the answers' as the page drew them (0: not answered yet); answers
       someone saved meanwhile are refused (code "stale") unless they already hold
       what is asked. None: whatever they are now.
    4. One history entry with the section and how complete it is after the save.
    """
    if not can_edit_card(actor, deliverable):
        raise ValidationError(EDIT_REFUSED_MESSAGE, code="permission")
    project_id, type_id = _lock_card(deliverable)
    if not CardSection.objects.filter(
        pk=section.pk, template__deliverable_type_id=type_id
    ).exists():
        raise ValidationError(SECTION_ELSEWHERE_MESSAGE, code="section")
    keys = prompt_keys(
        list(section.questions.order_by("position", "pk").values_list("pk", flat=True))
    )
    wanted = {}
    for key in keys:
        text = answers.get(key) or ""
        if not isinstance(text, str):
            raise ValidationError(_("Answers are text."), code="answer")
        if len(text) > ANSWER_MAX_LENGTH:
            raise ValidationError(
                _("An answer can be at most %(limit)s characters long.")
                % {"limit": ANSWER_MAX_LENGTH},
                code="answer",
            )
        if is_answered(text):
            wanted[key] = text.rstrip()
    row = CardAnswer.objects.filter(deliverable=deliverable, section=section).first()
    if row is not None and {k: row.answer(k) for k in keys if row.answer(k)} == wanted:
        return row  # already holds what is asked: nothing to write
    now = timezone.now()
    if row is not None:
        # Answers to questions since removed stay in the row (and come back with them).
        kept = {k: v for k, v in (row.answers or {}).items() if k not in keys}
        claim_version(
            row,
            version,
            message=ANSWER_STALE_MESSAGE,
            also={"answers": {**kept, **wanted}, "answered_by": actor, "answered_at": now},
        )
        row.answers, row.answered_by, row.answered_at = {**kept, **wanted}, actor, now
    else:
        if version not in (None, 0):
            raise ValidationError(ANSWER_STALE_MESSAGE, code="stale")
        if not wanted:  # nothing typed into a section nobody answered: nothing to keep
            return CardAnswer(deliverable=deliverable, section=section, version=0)
        row = CardAnswer(
            deliverable=deliverable,
            section=section,
            answers=wanted,
            answered_by=actor,
            answered_at=now,
        )
        try:
            with transaction.atomic():
                row.save()
        except IntegrityError as error:  # someone else's first answer to it won
            raise ValidationError(ANSWER_STALE_MESSAGE, code="stale") from error
    done = section_completeness(section.title, keys, wanted)
    deliverable_history_record(
        deliverable=deliverable,
        actor=actor,
        changes=[
            (
                EventKind.CARD,
                None,
                {
                    "card_section": section.title[:TEXT_LIMIT],
                    "answered": done.answered,
                    "prompts": done.prompts,
                },
            )
        ],
    )
    cache.project_changed(project_id)
    return row


def _subject_value(subject: Deliverable | None) -> dict | None:
    """A linked deliverable in a history entry: its type's source name and title."""
    if subject is None:
        return None
    return {"card_subject": subject.type.name, "title": subject.title[:TEXT_LIMIT]}


@transaction.atomic
def card_link_set(
    *, deliverable: Deliverable, actor, subject: Deliverable | None, version: int | None
) -> CardLink:
    """Link a card to the deliverable it describes (None: to nothing).

    The subject must be of the type its template names, in the card's project, and
    visible to `actor`; `version` is the link's as drawn (1 before any link)."""
    if not can_edit_card(actor, deliverable):
        raise ValidationError(EDIT_REFUSED_MESSAGE, code="permission")
    project_id, type_id = _lock_card(deliverable)
    template = CardTemplate.objects.filter(deliverable_type_id=type_id).first()
    if template is None:
        raise ValidationError(SECTION_ELSEWHERE_MESSAGE, code="template")
    if subject is not None and not (
        template.subject_type_id is not None
        and subject.pk != deliverable.pk
        and Deliverable.objects.visible_to(actor)
        .filter(pk=subject.pk, project_id=project_id, type_id=template.subject_type_id)
        .exclude(status=DeliverableStatus.CANCELLED)
        .exists()
    ):
        raise ValidationError(SUBJECT_REFUSED_MESSAGE, code="subject")
    link, _created = CardLink.objects.get_or_create(card=deliverable)
    before = (
        Deliverable.objects.select_related("type").filter(pk=link.subject_id).first()
        if link.subject_id
        else None
    )
    if link.subject_id == (subject.pk if subject else None):
        return link
    claim_version(
        link,
        version,
        message=LINK_STALE_MESSAGE,
        also={"subject_id": subject.pk if subject else None},
    )
    link.subject = subject
    deliverable_history_record(
        deliverable=deliverable,
        actor=actor,
        changes=[(EventKind.CARD_LINK, _subject_value(before), _subject_value(subject))],
    )
    cache.project_changed(project_id)
    return link


@transaction.atomic
def flag_for_review(
    *, deliverable: Deliverable, reason: str = "", change: dict | None = None, actor=None
) -> int:
    """Mark every card linked to `deliverable` as needing review, saying why: a typed
    `reason`, or the `change` that flagged it as values ({"old": "3", "new": "4"}: the
    model version moved), worded in each reader's language when shown. Each card gets
    the flag, the reason and one history entry. Returns how many cards were flagged.
    A card already flagged takes the newer reason. Safe to call again (a signal
    delivered twice, two polls seeing the same change): a card already flagged for
    this very reason is left as it is, without a second history entry or a new
    version under someone's open review form."""
    reason = (reason or "").strip()[:REASON_LIMIT]
    change = {
        key: str(value)[:TEXT_LIMIT]
        for key, value in (change or {}).items()
        if key in ("old", "new") and value not in (None, "")
    }
    links = [
        link
        for link in CardLink.objects.select_for_update()
        .filter(subject=deliverable)
        .select_related("card")
        .order_by("pk")
        if not (link.needs_review and link.review_reason == reason and link.review_change == change)
    ]
    if not links:
        return 0
    now = timezone.now()
    CardLink.objects.filter(pk__in=[link.pk for link in links]).update(
        needs_review=True,
        review_reason=reason,
        review_change=change,
        flagged_at=now,
        reviewed_by=None,
        reviewed_at=None,
        version=F("version") + 1,
    )
    entries = DeliverableEvent.objects.bulk_create(
        DeliverableEvent.new(
            actor=actor,
            deliverable=link.card,
            project_id=link.card.project_id,
            kind=EventKind.CARD_REVIEW,
            after={"flagged": reason[:TEXT_LIMIT], **({"change": change} if change else {})},
        )
        for link in links
    )
    history_announce(DeliverableEvent, entries)
    cache.project_changed(*{link.card.project_id for link in links})
    return len(links)


@transaction.atomic
def card_review_confirm(*, deliverable: Deliverable, actor, version: int | None) -> CardLink:
    """A person who may update the card confirms it still holds after what flagged it:
    the flag is cleared, with who and when, and one history entry."""
    if not can_confirm_card_review(actor, deliverable):
        raise ValidationError(REVIEW_REFUSED_MESSAGE, code="permission")
    project_id, _type_id = _lock_card(deliverable, allow_done=True)
    link = CardLink.objects.filter(card=deliverable).first()
    if link is None or not link.needs_review:
        raise ValidationError(
            _("This card is not waiting for a review (someone may have confirmed it already)."),
            code="stale",
        )
    now = timezone.now()
    claim_version(
        link,
        version,
        message=LINK_STALE_MESSAGE,
        also={"needs_review": False, "reviewed_by": actor, "reviewed_at": now},
    )
    link.needs_review, link.reviewed_by, link.reviewed_at = False, actor, now
    deliverable_history_record(
        deliverable=deliverable,
        actor=actor,
        changes=[
            (
                EventKind.CARD_REVIEW,
                None,
                {
                    "reviewed": link.review_reason[:TEXT_LIMIT],
                    **({"change": link.review_change} if link.review_change else {}),
                },
            )
        ],
    )
    cache.project_changed(project_id)
    return link


# --- the catalogue (edited in the admin) -------------------------------------------------
#
# A template, its sections and questions share the template's version: a change to any
# of them moves it, so a form drawn before is refused. Completeness everywhere reads the
# template, so every change drops every cached page (`cache.bump`).

TEMPLATE_FIELDS = ("deliverable_type", "kind", "name", "description", "subject_type")
SECTION_FIELDS = ("title", "guidance", "position")
QUESTION_FIELDS = ("text", "position")


def _check_fields(service: str, fields: dict, allowed: tuple[str, ...]) -> None:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise TypeError(f"{service}() got unexpected fields {sorted(unknown)}")


def catalogue_changed() -> None:
    cache.catalogue_changed()
    cache.bump()


@transaction.atomic
def card_template_create(**fields) -> CardTemplate:
    _check_fields("card_template_create", fields, TEMPLATE_FIELDS)
    template = CardTemplate(**fields)
    template.full_clean()
    template.save()
    catalogue_changed()
    return template


@transaction.atomic
def card_template_update(*, template: CardTemplate, version: int | None, **fields) -> CardTemplate:
    _check_fields("card_template_update", fields, TEMPLATE_FIELDS)
    claim_version(template, version, message=TEMPLATE_STALE_MESSAGE)
    for name, value in fields.items():
        setattr(template, name, value)
    template.full_clean()
    template.save()
    catalogue_changed()
    return template


@transaction.atomic
def card_section_add(*, template: CardTemplate, version: int | None, **fields) -> CardSection:
    _check_fields("card_section_add", fields, SECTION_FIELDS)
    claim_version(template, version, message=TEMPLATE_STALE_MESSAGE)
    section = CardSection(template=template, **fields)
    section.full_clean()
    section.save()
    catalogue_changed()
    return section


@transaction.atomic
def card_section_update(*, section: CardSection, version: int | None, **fields) -> CardSection:
    _check_fields("card_section_update", fields, SECTION_FIELDS)
    claim_version(section.template, version, message=TEMPLATE_STALE_MESSAGE)
    for name, value in fields.items():
        setattr(section, name, value)
    section.full_clean()
    section.save()
    catalogue_changed()
    return section


@transaction.atomic
def card_section_remove(*, section: CardSection, version: int | None) -> None:
    """Take a section off its template: refused while a card has answers to it (they
    are part of that card's record)."""
    if CardAnswer.objects.filter(section=section).exists():
        raise ValidationError(
            _("Cards have answers to this section; it cannot be removed."), code="answered"
        )
    claim_version(section.template, version, message=TEMPLATE_STALE_MESSAGE)
    section.delete()
    catalogue_changed()


@transaction.atomic
def card_question_add(*, section: CardSection, version: int | None, **fields) -> CardQuestion:
    _check_fields("card_question_add", fields, QUESTION_FIELDS)
    claim_version(section.template, version, message=TEMPLATE_STALE_MESSAGE)
    question = CardQuestion(section=section, **fields)
    question.full_clean()
    question.save()
    catalogue_changed()
    return question


@transaction.atomic
def card_question_update(*, question: CardQuestion, version: int | None, **fields) -> CardQuestion:
    _check_fields("card_question_update", fields, QUESTION_FIELDS)
    claim_version(question.section.template, version, message=TEMPLATE_STALE_MESSAGE)
    for name, value in fields.items():
        setattr(question, name, value)
    question.full_clean()
    question.save()
    catalogue_changed()
    return question


@transaction.atomic
def card_question_remove(*, question: CardQuestion, version: int | None) -> None:
    """Take a guiding question off its section. Answers given to it stay in the
    cards' rows, as part of their record, but are no longer shown or counted."""
    claim_version(question.section.template, version, message=TEMPLATE_STALE_MESSAGE)
    question.delete()
    catalogue_changed()
