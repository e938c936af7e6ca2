"""Writes for readiness: marking a rubric item of a deliverable, recording a waiver
(called by the done gate, inside the status move), and the rubric catalogue the
admin edits.

Each write validates, saves and records the deliverable's history in one
transaction; a refusal is a ValidationError and nothing is saved then.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from deliverables.models import (
    DONE_LOCKED_MESSAGE,
    Deliverable,
    DeliverableStatus,
    DeliverableType,
    EventKind,
)
from deliverables.services import ARCHIVED_MESSAGE, deliverable_history_record
from mlteam import cache
from mlteam.history import TEXT_LIMIT
from mlteam.versions import claim_version
from roles.models import Project

from .models import (
    Mark,
    ReadinessScore,
    Rubric,
    RubricItem,
    RubricMark,
    RubricSection,
    RubricWaiver,
)
from .permissions import can_mark_rubric
from .selectors import scores_for

MARK_STALE_MESSAGE = _(
    "Someone else marked this item while you were editing it: their mark is shown now. "
    "Check it, and save yours again if it should replace theirs."
)
MARK_REFUSED_MESSAGE = _("Only the owner and the project's managers can mark the rubric.")
ITEM_ELSEWHERE_MESSAGE = _("That item is not on this deliverable's rubric.")
RUBRIC_STALE_MESSAGE = _(
    "Someone else changed this rubric while you were editing it. Nothing was saved; open it "
    "again to see the latest version."
)


def _keep_scores(scores: dict, deliverable_ids) -> None:
    """Store these deliverables' scores (`ReadinessScore`); those of `deliverable_ids`
    left without one (their type's rubric has no items now) lose their row."""
    ReadinessScore.objects.bulk_create(
        [
            ReadinessScore(deliverable_id=pk, overall=score.overall, ready=score.ready)
            for pk, score in scores.items()
        ],
        update_conflicts=True,
        unique_fields=["deliverable"],
        update_fields=["overall", "ready"],
        batch_size=2000,
    )
    unscored = set(deliverable_ids) - set(scores)
    if unscored:
        ReadinessScore.objects.filter(deliverable_id__in=unscored).delete()


def rescore_type(type_id: int) -> int:
    """Score again the marked deliverables of one type, after its rubric changed (the
    score needed, its sections or items); how many were scored. Deliverables
    without marks have no row to change."""
    marked = Deliverable.objects.filter(
        pk__in=RubricMark.objects.filter(deliverable__type_id=type_id).values("deliverable_id")
    )
    rows = list(marked.order_by().values_list("pk", "type_id"))
    scores = scores_for(rows, among=marked)
    _keep_scores(scores, [pk for pk, _type in rows])
    return len(scores)


def _mark_value(item: RubricItem, mark: str, score) -> dict:
    """A mark in a history entry: the item's source text, the mark's code, and the
    rubric's overall score after it (worded by hooks.HISTORY_VALUES)."""
    value = {"rubric_item": item.text[:TEXT_LIMIT], "mark": str(mark)}
    if score is not None:
        value["score"] = f"{score:.1f}"
    return value


@transaction.atomic
def rubric_mark_save(
    *,
    deliverable: Deliverable,
    item: RubricItem,
    actor,
    mark: str,
    evidence_url: str = "",
    evidence_note: str = "",
    version: int | None,
) -> RubricMark:
    """Mark one item of the deliverable's rubric.

    1. The owner and the project's managers mark, while the project is active and
       the deliverable not done (done, its rubric is what was approved).
    2. The item must be on the rubric of the deliverable's type.
    3. `version` is the mark's as the page drew it (0: not marked yet); a mark
       someone changed meanwhile is refused (code "stale") unless it already holds
       what is asked. None: whatever it is now.
    4. A mark above "not done" needs evidence (a link or a note); "not done" keeps
       none.
    5. Saved with who and when, and one history entry with the score after it.
    """
    if mark not in Mark.values:
        raise ValidationError(_("Choose not done, done manually or automated."), code="mark")
    if not can_mark_rubric(actor, deliverable):
        raise ValidationError(MARK_REFUSED_MESSAGE, code="permission")
    # Lock the deliverable's row: marks and the status move are read and written in
    # turn (a done move re-reads the score under this same lock).
    locked = (
        Deliverable.objects.select_for_update()
        .filter(pk=deliverable.pk)
        .values_list("status", "project_id", "type_id")
        .first()
    )
    status, project_id, type_id = locked
    if Project.objects.filter(pk=project_id, archived_at__isnull=False).exists():
        raise ValidationError(ARCHIVED_MESSAGE, code="archived")
    if status == DeliverableStatus.DONE:
        raise ValidationError(DONE_LOCKED_MESSAGE, code="done")
    if not RubricItem.objects.filter(
        pk=item.pk, section__rubric__deliverable_type_id=type_id
    ).exists():
        raise ValidationError(ITEM_ELSEWHERE_MESSAGE, code="item")
    evidence_url, evidence_note = evidence_url.strip(), evidence_note.strip()
    if mark == Mark.NOT_DONE:
        evidence_url = evidence_note = ""
    row = RubricMark.objects.select_for_update().filter(deliverable=deliverable, item=item).first()
    wanted = (mark, evidence_url, evidence_note)
    if row is not None and (row.mark, row.evidence_url, row.evidence_note) == wanted:
        return row  # already holds what is asked: nothing to write
    current = row.version if row is not None else 0
    if version is not None and version != current:
        raise ValidationError(MARK_STALE_MESSAGE, code="stale")
    if row is None:
        if mark == Mark.NOT_DONE:
            return RubricMark(deliverable=deliverable, item=item, version=0)
        row = RubricMark(deliverable=deliverable, item=item, version=0)
    row.mark, row.evidence_url, row.evidence_note = wanted
    row.marked_by, row.marked_at = actor, timezone.now()
    row.version = current + 1
    row.full_clean(exclude=["deliverable", "item"] if row.pk is None else None)
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError as error:  # someone else's first mark of the item won
        raise ValidationError(MARK_STALE_MESSAGE, code="stale") from error
    score = scores_for([(deliverable.pk, type_id)]).get(deliverable.pk)
    _keep_scores({deliverable.pk: score} if score is not None else {}, [deliverable.pk])
    deliverable_history_record(
        deliverable=deliverable,
        actor=actor,
        changes=[(EventKind.RUBRIC, None, _mark_value(item, mark, score and score.overall))],
    )
    cache.project_changed(project_id)
    return row


def rubric_waiver_record(
    *, deliverable: Deliverable, actor, reason: str, score, missing: list[dict]
) -> tuple[RubricWaiver, list[tuple]]:
    """A manager marks the deliverable done below its type's required score: keep the
    waiver (what was missing, the scores, why) and return the history change. Called
    by the done gate inside `deliverable_transition`'s transaction."""
    waiver = RubricWaiver(
        deliverable=deliverable,
        reason=reason.strip(),
        score=score.overall if score.overall is not None else Decimal("0"),
        required_score=score.required,
        missing=missing,
        waived_by=actor if actor is not None and actor.is_authenticated else None,
    )
    waiver.full_clean()
    waiver.save()
    after = {
        "waiver": reason.strip()[:TEXT_LIMIT],
        "items": [
            {"section": entry["section"][:TEXT_LIMIT], "item": entry["item"][:TEXT_LIMIT]}
            for entry in missing
        ][:40],
        "score": f"{waiver.score:.1f}",
        "required": f"{waiver.required_score:.1f}",
    }
    return waiver, [(EventKind.RUBRIC_WAIVER, None, after)]


# --- the catalogue (edited in the admin) -------------------------------------------------
#
# A rubric, its sections and items share the rubric's version: a change to any of them
# moves it, so a form drawn before is refused. Scores everywhere read the rubric, so
# every change drops every cached dashboard (`cache.bump`).

RUBRIC_FIELDS = ("deliverable_type", "name", "description", "required_score")
SECTION_FIELDS = ("name", "position")
ITEM_FIELDS = ("section", "text", "guidance", "position")


def _check_fields(service: str, fields: dict, allowed: tuple[str, ...]) -> None:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise TypeError(f"{service}() got unexpected fields {sorted(unknown)}")


def _changed(rubric: Rubric | None = None) -> None:
    """After a change to `rubric`: its type's stored scores again (a rubric deleted
    had no marks: nothing to score), every cached dashboard dropped."""
    if rubric is not None:
        rescore_type(rubric.deliverable_type_id)
    cache.catalogue_changed()
    cache.bump()


@transaction.atomic
def rubric_create(**fields) -> Rubric:
    _check_fields("rubric_create", fields, RUBRIC_FIELDS)
    rubric = Rubric(**fields)
    rubric.full_clean()
    rubric.save()
    _changed(rubric)
    return rubric


@transaction.atomic
def rubric_update(*, rubric: Rubric, version: int | None, **fields) -> Rubric:
    _check_fields("rubric_update", fields, RUBRIC_FIELDS)
    claim_version(rubric, version, message=RUBRIC_STALE_MESSAGE)
    for name, value in fields.items():
        setattr(rubric, name, value)
    rubric.full_clean()
    rubric.save()
    _changed(rubric)
    return rubric


@transaction.atomic
def rubric_section_add(*, rubric: Rubric, version: int | None, **fields) -> RubricSection:
    _check_fields("rubric_section_add", fields, SECTION_FIELDS)
    claim_version(rubric, version, message=RUBRIC_STALE_MESSAGE)
    section = RubricSection(rubric=rubric, **fields)
    section.full_clean()
    section.save()
    _changed(section.rubric)
    return section


@transaction.atomic
def rubric_section_update(
    *, section: RubricSection, version: int | None, **fields
) -> RubricSection:
    _check_fields("rubric_section_update", fields, SECTION_FIELDS)
    claim_version(section.rubric, version, message=RUBRIC_STALE_MESSAGE)
    for name, value in fields.items():
        setattr(section, name, value)
    section.full_clean()
    section.save()
    _changed(section.rubric)
    return section


@transaction.atomic
def rubric_section_remove(*, section: RubricSection, version: int | None) -> None:
    """Take a section off its rubric: refused while a deliverable has a mark on one of
    its items (the mark is part of that deliverable's record)."""
    if RubricMark.objects.filter(item__section=section).exists():
        raise ValidationError(
            _("Deliverables have marks on this section's items; it cannot be removed."),
            code="marked",
        )
    claim_version(section.rubric, version, message=RUBRIC_STALE_MESSAGE)
    rubric = section.rubric
    section.delete()
    _changed(rubric)


@transaction.atomic
def rubric_item_add(*, rubric: Rubric, version: int | None, **fields) -> RubricItem:
    _check_fields("rubric_item_add", fields, ITEM_FIELDS)
    if fields.get("section") is not None and fields["section"].rubric_id != rubric.pk:
        raise ValidationError(_("Choose a section of this rubric."), code="section")
    claim_version(rubric, version, message=RUBRIC_STALE_MESSAGE)
    item = RubricItem(**fields)
    item.full_clean()
    item.save()
    _changed(item.section.rubric)
    return item


@transaction.atomic
def rubric_item_update(*, item: RubricItem, version: int | None, **fields) -> RubricItem:
    _check_fields("rubric_item_update", fields, ITEM_FIELDS)
    rubric = item.section.rubric
    if fields.get("section") is not None and fields["section"].rubric_id != rubric.pk:
        raise ValidationError(_("Choose a section of this rubric."), code="section")
    claim_version(rubric, version, message=RUBRIC_STALE_MESSAGE)
    for name, value in fields.items():
        setattr(item, name, value)
    item.full_clean()
    item.save()
    _changed(item.section.rubric)
    return item


@transaction.atomic
def rubric_item_remove(*, item: RubricItem, version: int | None) -> None:
    if RubricMark.objects.filter(item=item).exists():
        raise ValidationError(
            _("Deliverables have marks on this item; it cannot be removed."), code="marked"
        )
    claim_version(item.section.rubric, version, message=RUBRIC_STALE_MESSAGE)
    rubric = item.section.rubric
    item.delete()
    _changed(rubric)


def rubric_type_choices():
    """Deliverable types without a rubric yet (one rubric per type)."""
    return DeliverableType.objects.filter(readiness_rubric__isnull=True)
