"""Writes for the team handbook (review cycles and reviews: `deliverables.reviews`).

Each service validates, saves and records history in one transaction.
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mlteam import cache
from mlteam.versions import claim_version
from roles.models import Project

from ..models import (
    QUESTION_ADDED,
    QUESTION_REMOVED,
    AnswerKind,
    ChecklistItem,
    Deliverable,
    EventKind,
    question_value,
)
from ..services import deliverable_history_record

QUESTION_STALE_MESSAGE = _(
    "The handbook changed while this page was open. Look at the question again and "
    "confirm if it should still go."
)

# --- handbook -----------------------------------------------------------------------------


def _open_project(project: Project) -> None:
    if Project.objects.filter(pk=project.pk, archived_at__isnull=False).exists():
        raise ValidationError(_("This project is archived; its handbook cannot be changed."))


@transaction.atomic
def handbook_review_date_set(
    *, project: Project, actor, review_on: date | None, version: int | None
) -> None:
    """Set the date by which the team reviews its handbook. `version` is the
    project's, as the form was drawn (None: whatever it is now)."""
    from roles.services import _claim_version as claim_project_version
    from roles.services import project_edit_record

    _open_project(project)
    claim_project_version(project, version)  # the row stays locked until commit
    before = Project.objects.values_list("handbook_review_on", flat=True).get(pk=project.pk)
    Project.objects.filter(pk=project.pk).update(handbook_review_on=review_on)
    project.handbook_review_on = review_on
    project_edit_record(
        project,
        actor,
        before={"handbook_review_on": before},
        after={"handbook_review_on": review_on},
    )
    cache.project_changed(project.pk)


@transaction.atomic
def handbook_question_add(
    *, deliverable: Deliverable, actor, area: str, text: str, answer_kind: str, required: bool
) -> ChecklistItem:
    """Add one of the project's own questions to its process documentation."""
    _open_project(deliverable.project)
    if deliverable.checklist_locked:
        raise ValidationError(
            _("The handbook deliverable is done. Reopen it before adding questions.")
        )
    if answer_kind not in AnswerKind.values:
        raise ValidationError(_("Choose how the question is answered."))
    if deliverable.checklist_items.filter(text__iexact=text.strip()).exists():
        raise ValidationError(_("The handbook already has this question."), code="duplicate")
    last = deliverable.checklist_items.aggregate(last=Max("position"))["last"] or 0
    item = ChecklistItem.objects.create(
        deliverable=deliverable,
        area=area,
        text=text,
        answer_kind=answer_kind,
        required=required,
        position=last + 1,
        project_question=True,
    )
    Deliverable.objects.filter(pk=deliverable.pk).update(
        version=F("version") + 1, updated_at=timezone.now()
    )
    deliverable_history_record(
        deliverable=deliverable,
        actor=actor,
        changes=[(EventKind.CHECKLIST, None, question_value(text, QUESTION_ADDED))],
    )
    cache.project_changed(deliverable.project_id)
    return item


@transaction.atomic
def handbook_question_remove(*, item: ChecklistItem, actor, version: int | None = None) -> None:
    """Remove one of the project's own questions (catalogue questions stay), if the
    handbook deliverable is still at `version` (the page asking was drawn from it;
    None: whatever it is now), so an answer written meanwhile is not lost unseen."""
    deliverable = item.deliverable
    _open_project(deliverable.project)
    if not item.project_question:
        raise ValidationError(_("Only the project's own questions can be removed."))
    if deliverable.checklist_locked:
        raise ValidationError(
            _("The handbook deliverable is done. Reopen it before removing questions.")
        )
    claim_version(deliverable, version, message=QUESTION_STALE_MESSAGE)
    text = item.text
    item.delete()
    deliverable_history_record(
        deliverable=deliverable,
        actor=actor,
        changes=[(EventKind.CHECKLIST, question_value(text, QUESTION_REMOVED), None)],
    )
    cache.project_changed(deliverable.project_id)
