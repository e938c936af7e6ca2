"""Who may do what with readiness rubrics (built on deliverables' rules).

- Whoever may see the deliverable reads its rubric, scores and waivers.
- The owner and the project's managers mark its items, while the project is
  active and the deliverable not done (`can_update_deliverable`, `checklist_locked`).
- Waivers are recorded by the done move, which is the managers' (deliverables.workflow).
"""

from __future__ import annotations

from deliverables.permissions import can_update_deliverable, can_view_deliverable


def can_view_rubric(user, deliverable) -> bool:
    return can_view_deliverable(user, deliverable)


def can_mark_rubric(user, deliverable) -> bool:
    return can_update_deliverable(user, deliverable) and not deliverable.checklist_locked
