"""Receivers other apps' signals are wired to (the artifact links send
`on_model_version_changed` when the model version a deployed model points at moves
on). Each one only calls a service."""

from __future__ import annotations

from django.utils.translation import gettext

from .services import flag_for_review


def on_model_version_changed(sender, deliverable, old, new, **kwargs) -> int:
    """Flag every card describing `deliverable` for review: its model version went
    from `old` to `new`. Returns how many cards were flagged. A first sighting (no
    `old`: the link was just added or first polled) is no change."""
    if old in (None, ""):
        return 0
    reason = gettext("The linked model version changed from %(old)s to %(new)s.") % {
        "old": old if old not in (None, "") else "—",
        "new": new if new not in (None, "") else "—",
    }
    return flag_for_review(deliverable=deliverable, reason=reason)
