"""Who may do what with model cards and datasheets (built on deliverables' rules).

- Whoever may see the deliverable reads its card, its export and printable page.
- Its answers and its link are edited by whoever may change the deliverable's
  checklist (`can_change_checklist`: the owner and the project's managers, while
  the project is active and the deliverable not done).
- A "needs review" flag is cleared by the owner or a manager (`can_update_deliverable`),
  also on a done card: confirming the card still holds changes none of its text.
"""

from __future__ import annotations

from deliverables.permissions import (
    can_change_checklist,
    can_update_deliverable,
    can_view_deliverable,
)


def can_view_card(user, deliverable) -> bool:
    return can_view_deliverable(user, deliverable)


def can_edit_card(user, deliverable) -> bool:
    return can_change_checklist(user, deliverable)


def can_confirm_card_review(user, deliverable) -> bool:
    return can_update_deliverable(user, deliverable)
