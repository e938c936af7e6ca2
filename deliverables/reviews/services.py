"""Writes for review cycles and reviews.

Each service validates, saves and records history in one transaction. Cycles
and reviews carry a version (`mlteam.versions.claim_version`): a stale form is
refused (nothing saved) and shown again with the typed input kept, as
deliverables are.
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from deliverables.models import Deliverable
from mlteam import cache
from mlteam.history import history_announce
from mlteam.versions import claim_version

from . import selectors
from .models import (
    RATING_FIELDS,
    Review,
    ReviewAccess,
    ReviewCycle,
    ReviewEvent,
    ReviewEventKind,
    ReviewPart,
    ReviewSurface,
    evaluation_value,
    expectations_value,
)

CYCLE_STALE_MESSAGE = _(
    "Someone else changed this review cycle while you were editing it. Your changes "
    "are kept below over the latest version; check them and save again."
)
REVIEW_STALE_MESSAGE = _(
    "This review changed while you were looking at it. Your input is kept below; "
    "read the latest version and save again."
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
    cache.person_changed(*cycle.reviews.values_list("person_id", flat=True))
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
    drawn from the same version exactly one wins (`claim_version`, which keeps
    the row locked until commit).

    `version` also moves with every change the person can see (`visible`), so
    their open forms notice it; a draft evaluation only moves `evaluation_version`.
    """
    if visible and counter != "version":
        changes["version"] = F("version") + 1
    claim_version(review, version, field=counter, message=REVIEW_STALE_MESSAGE, also=changes)
    review.refresh_from_db()


def _record(
    review: Review, actor, kind: str, before: dict | None = None, after: dict | None = None
) -> None:
    """History of every change to a review; what waits for the person on their home
    page follows it (their dashboard version moves). Announced like every history
    (`history_announce`): the surfaces that tell the person (the inbox) read it."""
    event = ReviewEvent.new(review=review, actor=actor, kind=kind, before=before, after=after)
    event.save()
    cache.person_changed(review.person_id)
    history_announce(ReviewEvent, [event])


def _expectations(text: str, deliverables, review: Review) -> dict:
    """The expectations as the history records them. The history is read by the
    person and the manager alike, so it names only the linked work both may see."""
    shown = Deliverable.objects.filter(
        pk__in=[deliverable.pk for deliverable in deliverables]
    ).visible_to(review.person)
    if review.manager is not None:
        shown = shown.visible_to(review.manager)
    shown = set(shown.values_list("pk", flat=True))
    return expectations_value(text, [d for d in deliverables if d.pk in shown])


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
    before = _expectations(review.expectations, linked, review)
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
        after=_expectations(text, deliverables, review),
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
    before = None
    if share and not already_shared:
        changes["evaluation_shared_at"] = now
        kind = ReviewEventKind.EVALUATION_SHARED
    elif already_shared:
        if not changed:
            return
        changes["evaluation_acknowledged_at"] = None
        kind = ReviewEventKind.EVALUATION_CHANGED
        before = evaluation_value(
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
    after = evaluation_value(ratings, comment, project_outcome)
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


# --- reads --------------------------------------------------------------------------------

# Where a request keeps the reads it recorded (`review_access_record`).
_REQUEST_READS = "_review_reads"


def review_access_record(
    *,
    review: Review,
    reader,
    parts: list[str],
    surface: str = ReviewSurface.WEB,
    request=None,
) -> ReviewAccess | None:
    """Record that `reader` was shown `parts` of `review` (`ReviewPart` values) on
    `surface`: every page that shows a review's content calls this, and nothing
    else writes the log. Returns the row, or None when nothing is recorded.

    1. Nothing is recorded for the person themselves, for nobody signed in, or
       when no part was shown.
    2. With `request`, one row per reader, review and surface per request: a
       second call adds its parts to the row the first one wrote.
    3. The row keeps the reader's name as text beside the link to their account.
    """
    unknown = set(parts) - set(ReviewPart.values)
    if unknown:
        raise ValueError(f"unknown review parts: {sorted(unknown)}")
    if surface not in ReviewSurface.values:
        raise ValueError(f"unknown review surface: {surface}")
    if not parts or reader is None or not reader.is_authenticated:
        return None
    if reader.pk == review.person_id:
        return None
    key = (reader.pk, review.pk, surface)
    recorded = getattr(request, _REQUEST_READS, None) if request is not None else None
    if recorded is not None and key in recorded:
        access = recorded[key]
        merged = _ordered_parts({*access.parts, *parts})
        if merged != access.parts:
            access.parts = merged
            access.save(update_fields=["parts"])
        return access
    access = ReviewAccess.objects.create(
        review=review,
        reader=reader,
        # As history keeps a person (`mlteam.history.person_value`): an anonymised
        # account's placeholder, not "Former member" in the writer's language.
        reader_name=(reader.get_full_name() or reader.get_username())[:300],
        parts=_ordered_parts(parts),
        surface=surface,
    )
    if request is not None:
        if recorded is None:
            recorded = {}
            setattr(request, _REQUEST_READS, recorded)
        recorded[key] = access
    return access


def _ordered_parts(parts) -> list[str]:
    """Parts without repeats, in the order of `ReviewPart`."""
    return [part for part in ReviewPart.values if part in set(parts)]


def review_reads_rename_reader(*, reader, name: str) -> int:
    """Rename `reader` in the reads they made (the name kept beside the link to their
    account): anonymising them (`mlteam.services.person_anonymise`) passes their
    placeholder. Returns how many reads were renamed."""
    return ReviewAccess.objects.filter(reader=reader).update(reader_name=name[:300])
