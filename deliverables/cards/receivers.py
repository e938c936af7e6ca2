"""Receivers other apps' signals are wired to (the artifact links send
`on_model_version_changed` when the model version a deployed model points at moves
on). Each one only calls a service."""

from __future__ import annotations

from .services import flag_for_review


def on_model_version_changed(sender, deliverable, old, new, **kwargs) -> int:
    """Flag every card describing `deliverable` for review: its model version went
    from `old` to `new`. Returns how many cards were flagged. A first sighting (no
    `old`: the link was just added or first polled) is no change."""
    if old in (None, ""):
        return 0
    # The change as values: each reader sees it worded in their own language.
    return flag_for_review(deliverable=deliverable, change={"old": old, "new": new})
