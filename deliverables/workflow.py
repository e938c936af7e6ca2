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


def allowed_targets(current: str) -> dict[str, str]:
    return TRANSITIONS.get(current, {})


def is_allowed(current: str, target: str) -> bool:
    return target in allowed_targets(current)
