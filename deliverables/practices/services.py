"""Writes for the team handbook, review cycles and reviews.

Each service validates, saves and records history in one transaction. Reviews
carry a version: a stale form is refused (nothing saved) and shown again with
the typed input kept, as deliverables are.
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mlteam.versions import claim_version
from roles.models import Project

from ..models import (
    QUESTION_ADDED,
    QUESTION_REMOVED,
    RATING_FIELDS,
    AnswerKind,
    ChecklistItem,
    Deliverable,
    EventKind,
    Review,
    ReviewCycle,
    ReviewEvent,
    ReviewEventKind,
    question_value,
)
from ..services import deliverable_history_record
from . import selectors

CYCLE_STALE_MESSAGE = _(
    "Someone else changed this review cycle while you were editing it. Your changes "
    "are kept below over the latest version; check them and save again."
)
QUESTION_STALE_MESSAGE = _(
    "The handbook changed while this page was open. Look at the question again and "
    "confirm if it should still go."
)
REVIEW_STALE_MESSAGE = _(
    "This review changed while you were looking at it. Your input is kept below; "
    "read the latest version and save again."
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


# --- cycles -------------------------------------------------------------------------------


def _check_cycle(cycle: ReviewCycle) -> None:
    cycle.full_clean(exclude=["created_by"])


@transaction.atomic
def cycle_create(
    *, actor, name: str, start_date: date, end_date: date, expectations_due_days: int
) -> ReviewCycle:
    cycle = ReviewCycle(
        name=name,
        start_date=start_date,
        end_date=end_date,
        expectations_due_days=expectations_due_days,
        created_by=actor,
    )
    _check_cycle(cycle)
    cycle.save()
    return cycle


@transaction.atomic
def cycle_update(
    *,
    cycle: ReviewCycle,
    version: int | None,
    name: str,
    start_date: date,
    end_date: date,
    expectations_due_days: int,
) -> ReviewCycle:
    """Save a cycle if it is still at `version` (the one the form was drawn from)."""
    claim_version(cycle, version, message=CYCLE_STALE_MESSAGE)
    cycle.name = name
    cycle.start_date = start_date
    cycle.end_date = end_date
    cycle.expectations_due_days = expectations_due_days
    _check_cycle(cycle)
    cycle.save()
    return cycle


# --- reviews ------------------------------------------------------------------------------


def _claim(
    review: Review,
    version: int | None,
    *,
    counter: str = "version",
    visible: bool = True,
    **changes,
) -> None:
    """Save `changes` if the review's `counter` is still `version`: of two saves
    drawn from the same version exactly one wins (a conditional UPDATE).

    `version` also moves with every change the person can see (`visible`), so
    their open forms notice it; a draft evaluation only moves `evaluation_version`.
    """
    rows = Review.objects.filter(pk=review.pk)
    if version is not None:
        rows = rows.filter(**{counter: version})
    bumps = {counter: F(counter) + 1}
    if visible:
        bumps["version"] = F("version") + 1
    if rows.update(updated_at=timezone.now(), **bumps, **changes) != 1:
        raise ValidationError(REVIEW_STALE_MESSAGE, code="stale")
    review.refresh_from_db()


def _record(review: Review, actor, kind: str, before: str = "", after: str = "") -> None:
    ReviewEvent.objects.create(review=review, actor=actor, kind=kind, before=before, after=after)


def _expectations_text(text: str, deliverables, review: Review) -> str:
    """The expectations as the history records them. The history is read by the
    person and the manager alike, so it names only the linked work both may see."""
    shown = Deliverable.objects.filter(
        pk__in=[deliverable.pk for deliverable in deliverables]
    ).visible_to(review.person)
    if review.manager is not None:
        shown = shown.visible_to(review.manager)
    shown = set(shown.values_list("pk", flat=True))
    titles = sorted(deliverable.label for deliverable in deliverables if deliverable.pk in shown)
    if not titles:
        return text
    return f"{text}\n\n{_('Linked deliverables')}: {'; '.join(titles)}"


def _evaluation_text(values: dict, comment: str, outcome: str) -> str:
    lines = [
        f"{Review._meta.get_field(name).verbose_name}: {values.get(name) or '-'}"
        for name in RATING_FIELDS
    ]
    lines += ["", comment]
    if outcome:
        lines += ["", f"{_('Project outcome (context only)')}: {outcome}"]
    return "\n".join(lines)


def _check_linkable(manager, person, deliverables, already_linked=()) -> None:
    """New links must be work `person` owns on projects `manager` manages; links
    already there stay allowed (their project may have been archived meanwhile)."""
    linkable = selectors.linkable_deliverables(manager=manager, person=person)
    allowed = set(linkable.values_list("pk", flat=True)) | set(already_linked)
    if any(deliverable.pk not in allowed for deliverable in deliverables):
        raise ValidationError(
            _("Link only deliverables this person owns on projects you manage."),
            code="deliverable",
        )


@transaction.atomic
def expectations_write(*, cycle: ReviewCycle, person, actor, text: str, deliverables) -> Review:
    """A manager's first expectations for a person in a cycle."""
    if not selectors.managed_people(user=actor).filter(pk=person.pk).exists():
        raise ValidationError(_("You can write expectations only for people you manage."))
    if not text.strip():
        raise ValidationError(_("Write what you expect."), code="required")
    _check_linkable(actor, person, deliverables)
    try:
        with transaction.atomic():
            review = Review.objects.create(
                cycle=cycle,
                person=person,
                manager=actor,
                expectations=text,
                expectations_set_at=timezone.now(),
            )
    except IntegrityError as error:
        raise ValidationError(
            _("You already wrote expectations for this person in this cycle."), code="exists"
        ) from error
    review.deliverables.set(deliverables)
    _record(review, actor, ReviewEventKind.EXPECTATIONS_WRITTEN)
    return review


@transaction.atomic
def expectations_update(*, review: Review, actor, version: int, text: str, deliverables) -> bool:
    """Change the expectations. A change the person already acknowledged needs a
    new acknowledgement. Returns whether anything changed."""
    if not text.strip():
        raise ValidationError(_("Write what you expect."), code="required")
    if version is None:
        raise ValidationError(REVIEW_STALE_MESSAGE, code="stale")
    linked = list(review.deliverables.all())
    # Links to work `actor` may no longer see were not on their form: they stay.
    seen = set(review.deliverables.visible_to(actor).values_list("pk", flat=True))
    chosen = {d.pk for d in deliverables}
    deliverables = [*deliverables, *(d for d in linked if d.pk not in seen | chosen)]
    _check_linkable(actor, review.person, deliverables, [d.pk for d in linked])
    if text == review.expectations and {d.pk for d in linked} == {d.pk for d in deliverables}:
        return False
    before = _expectations_text(review.expectations, linked, review)
    _claim(
        review,
        version,
        expectations=text,
        expectations_set_at=timezone.now(),
        expectations_acknowledged_at=None,
    )
    review.deliverables.set(deliverables)
    _record(
        review,
        actor,
        ReviewEventKind.EXPECTATIONS_CHANGED,
        before=before,
        after=_expectations_text(text, deliverables, review),
    )
    return True


@transaction.atomic
def expectations_acknowledge(*, review: Review, actor, version: int) -> None:
    if review.expectations_acknowledged_at:
        return
    _claim(review, version, expectations_acknowledged_at=timezone.now())
    _record(review, actor, ReviewEventKind.EXPECTATIONS_ACKNOWLEDGED)


@transaction.atomic
def evaluation_save(
    *,
    review: Review,
    actor,
    version: int,
    ratings: dict[str, int | None],
    comment: str,
    project_outcome: str,
    share: bool,
) -> None:
    """Save the evaluation as a draft, or share it with the person.

    Sharing needs every rating and a comment. Changing a shared evaluation asks
    the person to acknowledge it again.
    """
    if set(ratings) != set(RATING_FIELDS):
        raise ValueError("ratings must name every rating field")
    if share and (not all(ratings.values()) or not comment.strip()):
        raise ValidationError(
            _("Give every rating and write a comment before sharing the evaluation."),
            code="incomplete",
        )
    changed = (
        any(getattr(review, name) != value for name, value in ratings.items())
        or comment != review.evaluation_comment
        or project_outcome != review.project_outcome
    )
    now = timezone.now()
    changes = {
        **ratings,
        "evaluation_comment": comment,
        "project_outcome": project_outcome,
        "evaluation_written_at": now if changed else review.evaluation_written_at,
    }
    already_shared = review.evaluation_shared_at is not None
    before = ""
    if share and not already_shared:
        changes["evaluation_shared_at"] = now
        kind = ReviewEventKind.EVALUATION_SHARED
    elif already_shared:
        if not changed:
            return
        changes["evaluation_acknowledged_at"] = None
        kind = ReviewEventKind.EVALUATION_CHANGED
        before = _evaluation_text(
            {name: getattr(review, name) for name in RATING_FIELDS},
            review.evaluation_comment,
            review.project_outcome,
        )
    else:
        if not changed:
            return
        kind = ReviewEventKind.EVALUATION_SAVED
    # A draft is the manager's alone: it must not make the person's forms stale.
    _claim(
        review,
        version,
        counter="evaluation_version",
        visible=kind != ReviewEventKind.EVALUATION_SAVED,
        **changes,
    )
    after = _evaluation_text(ratings, comment, project_outcome)
    _record(review, actor, kind, before=before, after=after)


@transaction.atomic
def self_assessment_save(*, review: Review, actor, version: int, text: str) -> None:
    if review.evaluation_acknowledged_at:
        raise ValidationError(
            _("You acknowledged the evaluation; the self-assessment is closed."), code="closed"
        )
    if text == review.self_assessment:
        return
    _claim(review, version, self_assessment=text, self_assessment_at=timezone.now())
    _record(review, actor, ReviewEventKind.SELF_ASSESSMENT)


@transaction.atomic
def evaluation_acknowledge(*, review: Review, actor, version: int) -> None:
    if review.evaluation_shared_at is None:
        raise ValidationError(_("There is no shared evaluation to acknowledge yet."))
    if review.evaluation_acknowledged_at:
        return
    _claim(review, version, evaluation_acknowledged_at=timezone.now())
    _record(review, actor, ReviewEventKind.EVALUATION_ACKNOWLEDGED)
