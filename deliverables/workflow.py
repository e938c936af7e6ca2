"""The status workflow: which moves are allowed, and who may make them."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from .models import DeliverableStatus as S

# from -> {to: label of the action}
TRANSITIONS: dict[str, dict[str, str]] = {
    S.NOT_STARTED: {S.IN_PROGRESS: _("Start"), S.BLOCKED: _("Mark blocked")},
    S.IN_PROGRESS: {S.IN_REVIEW: _("Send for review"), S.BLOCKED: _("Mark blocked")},
    S.IN_REVIEW: {
        S.DONE: _("Mark done"),
        S.IN_PROGRESS: _("Request changes"),
        S.BLOCKED: _("Mark blocked"),
    },
    S.BLOCKED: {S.IN_PROGRESS: _("Unblock")},
    S.DONE: {S.IN_PROGRESS: _("Reopen")},
}

# Moves only the project's managers make: approving the work.
MANAGER_ONLY = {S.DONE}


# The same move worded for the owner, who is not reviewing their own work: taking
# it back from review rather than requesting changes of it.
OWNER_LABELS: dict[tuple[str, str], str] = {
    (S.IN_REVIEW, S.IN_PROGRESS): _("Withdraw from review"),
}


def actions_for(current: str, *, manages: bool) -> dict[str, str]:
    """The moves offered from `current` with their labels, for a person who may
    update the deliverable: the project's managers get every move in the reviewer's
    words; the owner gets the moves that are not MANAGER_ONLY, in the owner's words."""
    if manages:
        return dict(allowed_targets(current))
    return {
        target: OWNER_LABELS.get((current, target), label)
        for target, label in allowed_targets(current).items()
        if target not in MANAGER_ONLY
    }


def allowed_targets(current: str) -> dict[str, str]:
    return TRANSITIONS.get(current, {})


def is_allowed(current: str, target: str) -> bool:
    return target in allowed_targets(current)
