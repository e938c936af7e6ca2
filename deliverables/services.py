"""Writes for deliverables.

Each service checks the deliverable's version (when the caller passes one),
validates, saves and records a `DeliverableEvent` in one transaction. A stale
version, an archived project or a move the workflow forbids raises a
`ValidationError` that the view shows as a form error; nothing is saved then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from mlteam import cache
from mlteam.history import date_value, history_announce, person_value, text_value
from mlteam.people import is_deactivated, person_name
from mlteam.versions import claim_version
from roles.models import Project
from roles.permissions import can_manage_project

from . import extensions, mentions, workflow
from .links import parse_link
from .models import (
    DONE_LOCKED_MESSAGE,
    AnswerKind,
    ChecklistItem,
    ChecklistItemTemplate,
    CommentMention,
    Deliverable,
    DeliverableComment,
    DeliverableEvent,
    DeliverableLink,
    DeliverableStatus,
    DeliverableType,
    EventKind,
    ReminderPreference,
    WorkView,
    progress_value,
    status_value,
    type_value,
    url_value,
)
from .permissions import can_manage_deliverable, can_view_deliverable

STALE_MESSAGE = _(
    "Someone else saved this deliverable while you were editing it. Your input is kept "
    "below; check the latest version and save again."
)
ARCHIVED_MESSAGE = _("This project is archived; its deliverables cannot be changed.")
PREFERENCE_STALE_MESSAGE = _(
    "These reminder settings were changed elsewhere while you were editing them. Your "
    "changes are kept below over the current settings; check them and save again."
)
TYPE_STALE_MESSAGE = _(
    "Someone else changed this deliverable type or its checklist while you were editing "
    "it. Nothing was saved; open it again to see the latest version."
)
# The moves that need a reason (`reason`), and what to say when it is missing.
REASON_REQUIRED = {
    DeliverableStatus.BLOCKED: _("Say why the deliverable is blocked."),
    DeliverableStatus.CANCELLED: _("Say why the deliverable is cancelled."),
}


def _check_new_owner(owner, current_owner_id: int | None) -> None:
    """A deactivated person takes no new work (they may stay owner of what they had)."""
    if owner is not None and owner.pk != current_owner_id and is_deactivated(owner):
        raise ValidationError(
            _("%(name)s is deactivated and cannot take on work.") % {"name": person_name(owner)},
            code="inactive",
        )


def _claim_version(deliverable: Deliverable, version: int | None) -> None:
    """`claim_version` for a deliverable, refused while its project is archived."""
    _ensure_open(deliverable)
    # The archived check is part of the UPDATE too. It must stay a condition on
    # project_id (not a join): a join makes Django write WHERE id IN (subquery),
    # and PostgreSQL would not re-check the version of a row updated meanwhile.
    claim_version(
        deliverable,
        version,
        message=STALE_MESSAGE,
        rows=Deliverable.objects.filter(
            project_id__in=Project.objects.filter(archived_at__isnull=True).values("pk")
        ),
    )


def _ensure_open(deliverable: Deliverable) -> None:
    """Refuse changes to deliverables of archived projects (read from the database)."""
    if Project.objects.filter(pk=deliverable.project_id, archived_at__isnull=False).exists():
        raise ValidationError(ARCHIVED_MESSAGE, code="archived")


def deliverable_history_record(*, deliverable: Deliverable, actor, changes) -> None:
    """The one way a deliverable's history is written: one entry per (kind, before,
    after) in `changes`, the values as `DeliverableEvent` stores them (one INSERT)."""
    entries = DeliverableEvent.objects.bulk_create(
        DeliverableEvent.new(
            actor=actor,
            deliverable=deliverable,
            project_id=deliverable.project_id,
            kind=kind,
            before=before,
            after=after,
        )
        for kind, before, after in changes
    )
    history_announce(DeliverableEvent, entries)


def _identity(value: dict | None):
    """What makes two stored values the same: a person's or type's id, else the value."""
    if value and "id" in value:
        return value["id"]
    return value


def _checklist_copy(deliverable: Deliverable) -> list[ChecklistItem]:
    return [
        ChecklistItem(
            deliverable=deliverable,
            area=item.area,
            text=item.text,
            answer_kind=item.answer_kind,
            required=item.required,
            position=item.position,
        )
        for item in deliverable.type.checklist_items.all()
    ]


@transaction.atomic
def deliverable_create(
    *,
    project: Project,
    type: DeliverableType,
    title: str = "",
    description: str = "",
    owner=None,
    due_date: date | None = None,
    status: str = DeliverableStatus.NOT_STARTED,
    blocked_reason: str = "",
    actor=None,
) -> Deliverable:
    if project.archived_at is not None:
        raise ValidationError(ARCHIVED_MESSAGE, code="archived")
    _check_new_owner(owner, None)
    if status == DeliverableStatus.DONE:
        # Its checklist is a fresh copy, all open: done comes through the workflow
        # (`deliverable_transition`), with the checklist gate and a manager's approval.
        raise ValidationError(
            _("A new deliverable cannot be done yet: mark it done once its work is reviewed."),
            code="done_on_create",
        )
    deliverable = Deliverable(
        project=project,
        type=type,
        title=title,
        description=description,
        owner=owner,
        due_date=due_date,
        status=status,
        blocked_reason=blocked_reason,
    )
    deliverable.full_clean()
    deliverable.save()
    ChecklistItem.objects.bulk_create(_checklist_copy(deliverable))
    deliverable_history_record(
        deliverable=deliverable, actor=actor, changes=[(EventKind.CREATED, None, None)]
    )
    cache.project_changed(project.pk)
    return deliverable


ADD_REFUSED_MESSAGE = _("Only the project's managers can add deliverables to it.")


@transaction.atomic
def deliverable_add(
    *,
    project: Project,
    actor,
    type: DeliverableType,
    title: str = "",
    description: str = "",
    owner=None,
    due_date: date | None = None,
) -> Deliverable:
    """A manager adds one deliverable by hand, at any time: of any type, proposed by
    the plan or not (the free-form "Other" needs its own title, `Deliverable.clean`).
    It starts not started, with its type's checklist, like a planned one."""
    if not can_manage_project(actor, project):
        raise ValidationError(ADD_REFUSED_MESSAGE, code="manager_only")
    return deliverable_create(
        project=project,
        type=type,
        title=title.strip(),
        description=description.strip(),
        owner=owner,
        due_date=due_date,
        actor=actor,
    )


@dataclass
class PlannedDeliverable:
    type: DeliverableType
    title: str  # what the planner typed, or "": the type names it
    owner: object | None
    due_date: date | None


@transaction.atomic
def deliverables_plan(
    *, project: Project, actor, version: int, rows: list[PlannedDeliverable]
) -> list[Deliverable]:
    """Save a whole plan at once: every row is created, or none is.

    The project's version guards against planning from a stale proposal (for
    example after the team changed).
    """
    from roles.services import _claim_version as claim_project_version

    claim_project_version(project, version)
    created = [
        deliverable_create(
            project=project,
            type=row.type,
            title=row.title,
            owner=row.owner,
            due_date=row.due_date,
            actor=actor,
        )
        for row in rows
    ]
    return created


def manager_only_message(current: str, target: str) -> str:
    """Why a move `workflow.manager_only` keeps for managers was refused."""
    if current == DeliverableStatus.CANCELLED:
        return _("Only the project's managers can restore a cancelled deliverable.")
    if target == DeliverableStatus.CANCELLED:
        return _("Only the project's managers can cancel a deliverable.")
    return _("Only the project's managers can mark a deliverable done.")


def required_items_open(deliverable: Deliverable) -> list[ChecklistItem]:
    """The required checklist items not complete yet: what keeps it from done."""
    return [
        item for item in deliverable.checklist_items.all() if item.required and not item.is_complete
    ]


def is_waivable(code: str | None) -> bool:
    """Whether a refusal of done (its code) is one a manager's reason
    (`override_reason`) gets past: open required checklist items, and each registered
    gate's (`extensions.done_gates`)."""
    return code == "checklist_open" or any(gate.code == code for gate in extensions.done_gates)


def done_gates_blocking(deliverable: Deliverable) -> list[tuple[object, list[str]]]:
    """The registered done gates `deliverable` does not meet, each with what it
    names as missing."""
    blocking = []
    for gate in extensions.done_gates:
        blockers = gate.blockers(deliverable)
        if blockers:
            blocking.append((gate, blockers))
    return blocking


def done_gate_blockers(deliverable: Deliverable) -> list[str]:
    """What the registered done gates name as missing, worded for the reader."""
    return [text for _gate, blockers in done_gates_blocking(deliverable) for text in blockers]


@transaction.atomic
def deliverable_transition(
    *,
    deliverable: Deliverable,
    actor,
    to_status: str,
    version: int | None,
    reason: str = "",
    override_reason: str = "",
) -> Deliverable:
    """Move the deliverable along the workflow.

    1. The move must be allowed from the current status (see `workflow`).
    2. Marking done, cancelling and restoring are for the project's managers
       (`workflow.manager_only`). Done needs every required checklist item
       complete, unless a manager gives an override reason.
    4. Done also needs every registered gate met (`extensions.done_gates`, such as
       the readiness rubric's score); the manager's reason waives them too, and each
       gate records its waiver in the same transaction.
    3. Blocking and cancelling need a reason (`reason`), kept on the deliverable
       while it stays there and in the history for good; leaving blocked, done or
       cancelled clears the old reasons.
    """
    before = deliverable.status
    if not workflow.is_allowed(before, to_status):
        raise ValidationError(
            _("A deliverable that is %(current)s cannot move to %(target)s.")
            % {
                "current": DeliverableStatus(before).label,
                "target": DeliverableStatus(to_status).label
                if to_status in DeliverableStatus.values
                else to_status,
            },
            code="transition",
        )
    if workflow.manager_only(before, to_status) and not can_manage_deliverable(actor, deliverable):
        raise ValidationError(manager_only_message(before, to_status), code="manager_only")
    override_reason = override_reason.strip()
    gates_waived: list[tuple[object, list[str]]] = []
    waiver_reason = ""
    if to_status == DeliverableStatus.DONE:
        open_items = required_items_open(deliverable)
        if open_items and not override_reason:
            raise ValidationError(
                _(
                    "%(count)s required checklist items are still open. Complete them, or give "
                    "a reason to mark the deliverable done anyway."
                )
                % {"count": len(open_items)},
                code="checklist_open",
            )
        # 4. Each registered gate (the readiness rubric's required score) refuses
        #    done too, unless the manager's reason waives it: the gate records its
        #    own waiver below, in this transaction.
        gates_waived = done_gates_blocking(deliverable)
        if gates_waived and not override_reason:
            gate, blockers = gates_waived[0]
            raise ValidationError(gate.refusal(deliverable, blockers), code=gate.code)
        waiver_reason = override_reason
        if not open_items:
            override_reason = ""
    reason = reason.strip()
    if to_status in REASON_REQUIRED and not reason:
        raise ValidationError(REASON_REQUIRED[to_status], code="reason_required")

    _claim_version(deliverable, version)
    deliverable.status = to_status
    deliverable.blocked_reason = reason if to_status == DeliverableStatus.BLOCKED else ""
    deliverable.cancelled_reason = reason if to_status == DeliverableStatus.CANCELLED else ""
    deliverable.done_override_reason = (
        override_reason if to_status == DeliverableStatus.DONE else ""
    )
    deliverable.full_clean()
    deliverable.save(
        update_fields=[
            "status",
            "blocked_reason",
            "cancelled_reason",
            "done_override_reason",
            "updated_at",
        ]
    )
    after = status_value(to_status, reason if to_status in REASON_REQUIRED else "")
    changes = [(EventKind.STATUS, status_value(before), after)]
    if to_status == DeliverableStatus.DONE and override_reason:
        changes.append((EventKind.DONE_OVERRIDE, None, text_value(override_reason)))
    for gate, blockers in gates_waived:
        changes.extend(
            gate.waive(
                deliverable=deliverable, actor=actor, reason=waiver_reason, blockers=blockers
            )
        )
    deliverable_history_record(deliverable=deliverable, actor=actor, changes=changes)
    cache.project_changed(deliverable.project_id)
    return deliverable


@transaction.atomic
def deliverable_update(
    *,
    deliverable: Deliverable,
    actor,
    version: int | None,
    title: str,
    owner,
    due_date: date | None,
    type: DeliverableType,
    description: str | None = None,
) -> Deliverable:
    """Managers change what the deliverable is, who owns it and when it is due.
    `description`: its new description (None: unchanged)."""
    description = deliverable.description if description is None else description.strip()
    if deliverable.checklist_locked and type.pk != deliverable.type_id:
        raise ValidationError(DONE_LOCKED_MESSAGE, code="done")
    _check_new_owner(owner, deliverable.owner_id)
    _claim_version(deliverable, version)
    changes = [
        (EventKind.TITLE, text_value(deliverable.title), text_value(title)),
        (
            EventKind.DESCRIPTION,
            text_value(deliverable.description),
            text_value(description),
        ),
        (EventKind.OWNER, person_value(deliverable.owner), person_value(owner)),
        (EventKind.DUE_DATE, date_value(deliverable.due_date), date_value(due_date)),
        (EventKind.TYPE, type_value(deliverable.type), type_value(type)),
    ]
    type_changed = deliverable.type_id != type.pk
    deliverable.title, deliverable.description = title, description
    deliverable.owner, deliverable.due_date, deliverable.type = owner, due_date, type
    deliverable.full_clean()
    deliverable.save()
    if type_changed:
        # A new type brings its own checklist; answers to items it shares (same
        # text) carry over, the others are dropped (the edit form asked first).
        old = {item.text: item for item in deliverable.checklist_items.all()}
        new_items = _checklist_copy(deliverable)
        for item in new_items:
            if (kept := old.get(item.text)) is not None and kept.answer_kind == item.answer_kind:
                item.checked, item.answer, item.link = kept.checked, kept.answer, kept.link
                item.answered_by_id, item.answered_at = kept.answered_by_id, kept.answered_at
        deliverable.checklist_items.all().delete()
        ChecklistItem.objects.bulk_create(new_items)
    deliverable_history_record(
        deliverable=deliverable,
        actor=actor,
        changes=[change for change in changes if _identity(change[1]) != _identity(change[2])],
    )
    cache.project_changed(deliverable.project_id)
    return deliverable


@dataclass
class ChecklistAnswer:
    checked: bool = False
    answer: str = ""
    link: str = ""


def _answer_state(item: ChecklistItem, given: ChecklistAnswer) -> dict:
    """What an answer stores on `item`, by its kind."""
    return {
        "checked": given.checked if item.answer_kind == AnswerKind.TICK else False,
        "answer": given.answer.strip() if item.answer_kind == AnswerKind.TEXT else "",
        "link": given.link.strip() if item.answer_kind == AnswerKind.LINK else "",
    }


def _holds(item: ChecklistItem, state: dict) -> bool:
    return all(getattr(item, field) == value for field, value in state.items())


@transaction.atomic
def checklist_update(
    *,
    deliverable: Deliverable,
    actor,
    version: int | None,
    answers: dict[int, ChecklistAnswer],
    drawn: dict[int, ChecklistAnswer] | None = None,
) -> list[ChecklistItem]:
    """Save ticks, written answers and links of the deliverable's checklist in one go.

    A done deliverable's checklist is what was approved: reopen it to change it.

    `drawn`: for items saved one at a time as they are answered (the page's htmx),
    each item's answer as the page drew it. Then the item is what is checked, not
    the deliverable's version: people answering different items do not refuse each
    other, and an item someone else answered meanwhile is refused (ITEM_STALE_MESSAGE)
    unless it already holds what is asked.
    """
    if deliverable.checklist_locked:
        raise ValidationError(DONE_LOCKED_MESSAGE, code="done")
    _claim_version(deliverable, None if drawn is not None else version)
    # Marked done since the page was read? (Its row is ours now: this is final.)
    fresh = Deliverable.objects.only("status").get(pk=deliverable.pk) if drawn is not None else None
    if fresh is not None and fresh.checklist_locked:
        raise ValidationError(DONE_LOCKED_MESSAGE, code="done")
    items = {
        item.pk: item
        for item in ChecklistItem.objects.filter(deliverable=deliverable).select_for_update()
    }
    now = timezone.now()
    changed = []
    for pk, given in answers.items():
        item = items.get(pk)
        if item is None:
            raise ValidationError(
                _("That checklist item does not belong to this deliverable."), code="item"
            )
        new = _answer_state(item, given)
        if _holds(item, new):
            continue
        if drawn is not None and pk in drawn and not _holds(item, _answer_state(item, drawn[pk])):
            raise ValidationError(ITEM_STALE_MESSAGE, code="stale")
        for field, value in new.items():
            setattr(item, field, value)
        item.answered_by = actor
        item.answered_at = now
        item.full_clean()
        changed.append(item)
    if changed:
        ChecklistItem.objects.bulk_update(
            changed, ["checked", "answer", "link", "answered_by", "answered_at"]
        )
        done = sum(1 for item in items.values() if item.is_complete)
        deliverable_history_record(
            deliverable=deliverable,
            actor=actor,
            changes=[(EventKind.CHECKLIST, None, progress_value(done, len(items)))],
        )
        cache.project_changed(deliverable.project_id)
    return changed


@transaction.atomic
def link_add(
    *, deliverable: Deliverable, actor, kind: str, url: str, label: str = ""
) -> DeliverableLink:
    """Add a link; an empty `kind` is detected from the address (deliverables.links)."""
    _ensure_open(deliverable)
    try:
        parsed = parse_link(kind, url)
    except ValidationError as error:
        raise ValidationError({"url": error.messages}) from error
    link = DeliverableLink(
        deliverable=deliverable,
        kind=parsed.kind,
        url=parsed.url,
        target=parsed.target,
        label=label.strip(),
        added_by=actor,
    )
    link.full_clean()
    link.save()
    deliverable_history_record(
        deliverable=deliverable, actor=actor, changes=[(EventKind.LINK_ADDED, None, url_value(url))]
    )
    cache.project_changed(deliverable.project_id)
    return link


@transaction.atomic
def link_remove(*, link: DeliverableLink, actor) -> None:
    deliverable = link.deliverable
    _ensure_open(deliverable)
    url = link.url
    link.delete()
    deliverable_history_record(
        deliverable=deliverable,
        actor=actor,
        changes=[(EventKind.LINK_REMOVED, url_value(url), None)],
    )
    cache.project_changed(deliverable.project_id)


@transaction.atomic
def comment_add(*, deliverable: Deliverable, actor, body: str) -> DeliverableComment:
    _ensure_open(deliverable)
    comment = DeliverableComment(deliverable=deliverable, author=actor, body=body.strip())
    comment.full_clean()
    comment.save()
    deliverable_history_record(
        deliverable=deliverable,
        actor=actor,
        changes=[(EventKind.COMMENT, None, text_value(comment.body, limit=120))],
    )
    comment_mentions_record(comment=comment, deliverable=deliverable)
    cache.project_changed(deliverable.project_id)
    return comment


ITEM_STALE_MESSAGE = _(
    "Someone else answered this item while you were editing it: their answer is shown "
    "beside yours. Change yours again to save it over theirs."
)
COMMENT_STALE_MESSAGE = _(
    "This comment was changed elsewhere while you were editing it. Nothing was saved; "
    "check the latest text and try again."
)
COMMENT_NOT_YOURS = _("Only the person who wrote a comment can change or delete it.")
COMMENT_DELETED_MESSAGE = _("This comment was deleted; it cannot be changed.")


def _check_comment(comment: DeliverableComment, actor) -> Deliverable:
    """The rule for editing and deleting a comment: its author, while the project is
    active and the comment not deleted."""
    if actor is None or comment.author_id != actor.pk:
        raise ValidationError(COMMENT_NOT_YOURS, code="not_author")
    deliverable = comment.deliverable
    _ensure_open(deliverable)
    if comment.is_deleted:
        raise ValidationError(COMMENT_DELETED_MESSAGE, code="deleted")
    return deliverable


def _claim_comment(comment: DeliverableComment, actor, version: int | None) -> Deliverable:
    deliverable = _check_comment(comment, actor)
    claim_version(
        comment,
        version,
        message=COMMENT_STALE_MESSAGE,
        rows=DeliverableComment.objects.shown(),
    )
    return deliverable


@transaction.atomic
def comment_edit(
    *, comment: DeliverableComment, actor, version: int | None, body: str
) -> DeliverableComment:
    """The author rewrites their comment; the history keeps the text before and after."""
    if body.strip() == comment.body:  # unchanged: nothing written, no new version
        _check_comment(comment, actor)
        return comment
    deliverable = _claim_comment(comment, actor, version)
    before, comment.body = comment.body, body.strip()
    comment.edited_at = timezone.now()
    comment.full_clean()
    comment.save(update_fields=["body", "edited_at"])
    # The new text is shown with the comment; the old one is not repeated in the
    # history, where it would outlive an edit made to take it back.
    _comment_quotes_remove(deliverable, before)
    deliverable_history_record(
        deliverable=deliverable,
        actor=actor,
        changes=[(EventKind.COMMENT_EDITED, None, text_value(comment.body, limit=120))],
    )
    comment_mentions_record(comment=comment, deliverable=deliverable)
    cache.project_changed(deliverable.project_id)
    return comment


def _comment_quotes_remove(deliverable: Deliverable, text: str) -> int:
    """Take a comment's text out of the history entries that quote it (its "commented"
    and "edited" entries on this deliverable): a comment deleted or edited to take
    something back must not stay readable in the history, its feed or the API."""
    quote = text_value(text, limit=120)
    if quote is None:
        return 0
    return DeliverableEvent.objects.filter(
        deliverable=deliverable,
        kind__in=[EventKind.COMMENT, EventKind.COMMENT_EDITED],
        payload__after=quote,
    ).update(payload={})


@transaction.atomic
def comment_delete(*, comment: DeliverableComment, actor, version: int | None) -> None:
    """The author withdraws their comment: it stays in place as "deleted" (its row is
    kept, its text no longer shown anywhere: the history's quotes of it are taken
    out, `_comment_quotes_remove`), and mentions not yet sent are not sent."""
    deliverable = _claim_comment(comment, actor, version)
    comment.deleted_at = timezone.now()
    comment.save(update_fields=["deleted_at"])
    _comment_quotes_remove(deliverable, comment.body)
    deliverable_history_record(
        deliverable=deliverable, actor=actor, changes=[(EventKind.COMMENT_DELETED, None, None)]
    )
    cache.project_changed(deliverable.project_id)


@transaction.atomic
def comment_mentions_record(
    *, comment: DeliverableComment, deliverable: Deliverable | None = None
) -> list[CommentMention]:
    """THE place a comment's `@username` mentions become notifications.

    1. Read the names the comment mentions (`mentions.mentioned_usernames`), at most
       `mentions.MENTION_LIMIT`.
    2. Keep the active people with those usernames who may see the deliverable
       (`permissions.can_view_deliverable`), never the author.
    3. Record one `CommentMention` per person and comment (a mention kept through an
       edit is not recorded twice); the reminder digest tells each person in their
       next digest (`mentions.MentionDigestSection`).

    4. Send `mentions.mentions_recorded` with the new rows (in this transaction):
       the in-app inbox is fed from there, so email and inbox agree on who was
       mentioned.

    Returns the mentions new with this call.
    """
    deliverable = deliverable or comment.deliverable
    people = [
        person
        for person in mentions.people_named(comment.body)
        if person.pk != comment.author_id and can_view_deliverable(person, deliverable)
    ]
    if not people:
        return []
    told = set(
        CommentMention.objects.filter(comment=comment, person__in=people).values_list(
            "person_id", flat=True
        )
    )
    recorded = CommentMention.objects.bulk_create(
        [
            CommentMention(comment=comment, person=person)
            for person in people
            if person.pk not in told
        ]
    )
    if recorded:
        comment.deliverable = deliverable
        mentions.mentions_recorded.send(sender=CommentMention, comment=comment, mentions=recorded)
    return recorded


# --- the catalogue: deliverable types and their checklist templates (edited in the admin) ---
#
# A type and its checklist templates share the type's version: a change to either
# moves it, so a form drawn before (the type's, or a template's) is refused.

DELIVERABLE_TYPE_FIELDS = (
    "name",
    "slug",
    "role",
    "description",
    "default_due_offset_days",
    "position",
    "proposed",
)
CHECKLIST_TEMPLATE_FIELDS = ("area", "text", "answer_kind", "required", "position")


def _check_fields(service: str, fields: dict, allowed: tuple[str, ...]) -> None:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise TypeError(f"{service}() got unexpected fields {sorted(unknown)}")


@transaction.atomic
def deliverable_type_create(**fields) -> DeliverableType:
    """Add a deliverable type to the catalogue (its checklist: `checklist_template_add`)."""
    _check_fields("deliverable_type_create", fields, DELIVERABLE_TYPE_FIELDS)
    deliverable_type = DeliverableType(**fields)
    deliverable_type.full_clean()
    deliverable_type.save()
    cache.catalogue_changed()
    return deliverable_type


@transaction.atomic
def deliverable_type_update(
    *, deliverable_type: DeliverableType, version: int | None, **fields
) -> DeliverableType:
    """Change a type if it is still at `version`. Deliverables keep the checklist
    copies they were planned with; only new deliverables get the changed type."""
    _check_fields("deliverable_type_update", fields, DELIVERABLE_TYPE_FIELDS)
    claim_version(deliverable_type, version, message=TYPE_STALE_MESSAGE)
    for field, value in fields.items():
        setattr(deliverable_type, field, value)
    deliverable_type.full_clean()
    deliverable_type.save()
    cache.catalogue_changed()
    return deliverable_type


@transaction.atomic
def checklist_template_add(
    *, deliverable_type: DeliverableType, version: int | None, **fields
) -> ChecklistItemTemplate:
    """Add an item to a type's checklist if the type is still at `version`."""
    _check_fields("checklist_template_add", fields, CHECKLIST_TEMPLATE_FIELDS)
    claim_version(deliverable_type, version, message=TYPE_STALE_MESSAGE)
    template = ChecklistItemTemplate(deliverable_type=deliverable_type, **fields)
    template.full_clean()
    template.save()
    cache.catalogue_changed()
    return template


@transaction.atomic
def checklist_template_update(
    *, template: ChecklistItemTemplate, version: int | None, **fields
) -> ChecklistItemTemplate:
    """Change an item of a type's checklist if the type is still at `version`."""
    _check_fields("checklist_template_update", fields, CHECKLIST_TEMPLATE_FIELDS)
    claim_version(template.deliverable_type, version, message=TYPE_STALE_MESSAGE)
    for field, value in fields.items():
        setattr(template, field, value)
    template.full_clean()
    template.save()
    cache.catalogue_changed()
    return template


@transaction.atomic
def checklist_template_remove(*, template: ChecklistItemTemplate, version: int | None) -> None:
    """Take an item off a type's checklist if the type is still at `version`."""
    claim_version(template.deliverable_type, version, message=TYPE_STALE_MESSAGE)
    template.delete()
    cache.catalogue_changed()


# --- reminder settings and languages -----------------------------------------------------


def reminder_preference_update(
    *, user, changes: dict[str, object], version: int | None = None
) -> ReminderPreference:
    """Save these settings of `user`, and only these, if the settings are still at
    `version` (the one the form was drawn from; None: whatever they are now, as for
    a language switch). A person without settings gets a row holding the defaults
    for the rest; with no changes, nothing is written."""
    if not changes:
        return ReminderPreference.objects.filter(user=user).first() or ReminderPreference(user=user)
    with transaction.atomic():
        preference, _created = ReminderPreference.objects.select_for_update().get_or_create(
            user=user
        )
        claim_version(preference, version, message=PREFERENCE_STALE_MESSAGE)
        for name, value in changes.items():
            setattr(preference, name, value)
        preference.full_clean()
        preference.save(update_fields=list(changes))
    return preference


def interface_language_remember(*, user, language: str | None) -> str | None:
    """Remember the interface language a signed-in person chose, so that their
    emails follow it and a new browser starts in it. Returns the language kept
    (a supported variant, "ja" for "ja-jp"), or None for one the site does not offer."""
    try:
        code = translation.get_supported_language_variant(language or "")
    except LookupError:
        return None
    current = ReminderPreference.objects.filter(user=user).values_list(
        "interface_language", flat=True
    )
    if list(current) != [code]:
        reminder_preference_update(user=user, changes={"interface_language": code})
    return code


def work_view_remember(*, user, view: str) -> str:
    """Remember whether `user` sees their deliverables as a list or a board (kept
    with their other settings, so every browser they use opens the same way).
    Returns the view kept; an unknown one is refused."""
    if view not in WorkView.values:
        raise ValidationError(_("Choose the list or the board."), code="work_view")
    current = ReminderPreference.objects.filter(user=user).values_list("work_view", flat=True)
    if list(current) != [view] and not (not current and view == WorkView.LIST):
        reminder_preference_update(user=user, changes={"work_view": view})
    return view
