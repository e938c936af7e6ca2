"""The status workflow: which moves are allowed, and who may make them."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from .models import DeliverableStatus as S

CANCEL = _("Cancel deliverable")

# from -> {to: label of the action}
TRANSITIONS: dict[str, dict[str, str]] = {
    S.NOT_STARTED: {S.IN_PROGRESS: _("Start"), S.BLOCKED: _("Mark blocked"), S.CANCELLED: CANCEL},
    S.IN_PROGRESS: {
        S.IN_REVIEW: _("Send for review"),
        S.BLOCKED: _("Mark blocked"),
        S.CANCELLED: CANCEL,
    },
    S.IN_REVIEW: {
        S.DONE: _("Mark done"),
        S.IN_PROGRESS: _("Request changes"),
        S.BLOCKED: _("Mark blocked"),
        S.CANCELLED: CANCEL,
    },
    S.BLOCKED: {S.IN_PROGRESS: _("Unblock"), S.CANCELLED: CANCEL},
    S.DONE: {S.IN_PROGRESS: _("Reopen")},
    # Back into the plan from the start: the owner takes it up again from there (its
    # checklist, links and comments were kept; the history says where it stood).
    S.CANCELLED: {S.NOT_STARTED: _("Restore")},
}

# Moves only the project's managers make: approving the work (into done), dropping it
# from the plan (into cancelled) and bringing it back (out of cancelled).
MANAGER_ONLY_TO = {S.DONE, S.CANCELLED}
MANAGER_ONLY_FROM = {S.CANCELLED}


# The board's columns, left to right: the way work moves, then where it rests. Blocked
# sits beside review rather than after done (the order); cancelled work is
# out of the plan and off the board (the list still shows it).
BOARD_COLUMNS = (S.NOT_STARTED, S.IN_PROGRESS, S.IN_REVIEW, S.BLOCKED, S.DONE)


def manager_only(current: str, target: str) -> bool:
    """Whether only the project's managers may move a deliverable from `current` to
    `target` (the owner makes every other allowed move)."""
    return target in MANAGER_ONLY_TO or current in MANAGER_ONLY_FROM


# The same move worded for the owner, who is not reviewing their own work: taking
# it back from review rather than requesting changes of it.
OWNER_LABELS: dict[tuple[str, str], str] = {
    (S.IN_REVIEW, S.IN_PROGRESS): _("Withdraw from review"),
}


def actions_for(current: str, *, manages: bool) -> dict[str, str]:
    """The moves offered from `current` with their labels, for a person who may
    update the deliverable: the project's managers get every move in the reviewer's
    words; the owner gets the moves that are not `manager_only`, in the owner's words."""
    if manages:
        return dict(allowed_targets(current))
    return {
        target: OWNER_LABELS.get((current, target), label)
        for target, label in allowed_targets(current).items()
        if not manager_only(current, target)
    }


def allowed_targets(current: str) -> dict[str, str]:
    return TRANSITIONS.get(current, {})


def is_allowed(current: str, target: str) -> bool:
    return target in allowed_targets(current)
