"""What nested apps add to deliverables without deliverables importing them.

A nested app (deliverables.readiness) registers its pieces in its
AppConfig.ready(); deliverables' services and pages call whatever is registered:

- `done_gates`: rules a deliverable must meet before it is marked done
  (`services.deliverable_transition` asks each one; a manager's reason waives
  them, and the gate records its own waiver in the same transaction).
- `deliverable_panels`: sections of the deliverable's page.
- `project_panels`: sections of the project page (plain data: the page is cached).
- `portfolio_columns`: columns of the portfolio dashboard, one query per page of
  rows whatever the page holds (plain data: the dashboard is cached).
- `history_values`: how a history entry of a kind the app writes is worded.
- `work_alerts`: deliverables needing attention that an app knows of (a failing
  pipeline or red CI on work in review or done), for surfaces that summarise a
  project, such as the chat channels' daily summary.

Each registry keeps one entry per name; registering again replaces it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


class DoneGate(Protocol):
    name: str
    code: str  # the ValidationError code of its refusal (`services.WAIVABLE_CODES`)

    def blockers(self, deliverable) -> list[str]:
        """What keeps `deliverable` from done, worded for the reader; [] when it passes."""

    def refusal(self, deliverable, blockers: list[str]) -> str:
        """Why done is refused, and how to get past it."""

    def waive(self, *, deliverable, actor, reason: str, blockers: list[str]) -> list[tuple]:
        """Record that a manager marked it done anyway (inside the move's transaction);
        returns the history changes (kind, before, after) to record with the move."""


@dataclass(frozen=True)
class Panel:
    template: str
    context: dict


class DeliverablePanel(Protocol):
    name: str

    def panel(self, *, request, deliverable) -> Panel | None: ...


class ProjectPanel(Protocol):
    name: str

    def panel(self, *, user, project) -> Panel | None:
        """Plain data only in `context` (the project page is cached)."""


@dataclass(frozen=True)
class PortfolioCell:
    text: str
    url: str = ""
    attention: bool = False  # drawn to catch the eye (below what is needed)


class PortfolioColumn(Protocol):
    name: str
    heading: str

    def cells(self, *, project_ids: list[int]) -> dict[int, PortfolioCell]:
        """One cell per project of the page (absent: nothing to show), in a number of
        queries that does not grow with the page or the data."""


@dataclass(frozen=True)
class WorkAlert:
    deliverable_id: int
    deliverable_label: str
    text: str  # what is wrong, in the active language
    owner_id: int | None = None


class WorkAlerts(Protocol):
    name: str
    heading: str

    def alerts(self, *, user, project) -> list[WorkAlert]:
        """The alerts on `project`'s deliverables that `user` may see (through
        `Deliverable.objects.visible_to`), in a fixed number of queries."""


class _Registry:
    def __init__(self):
        self._entries: dict[str, object] = {}

    def register(self, entry) -> None:
        self._entries[entry.name] = entry

    def unregister(self, name: str) -> None:
        self._entries.pop(name, None)

    def __iter__(self):
        return iter(list(self._entries.values()))


done_gates = _Registry()
deliverable_panels = _Registry()
project_panels = _Registry()
portfolio_columns = _Registry()
work_alerts = _Registry()

# history kind -> function(value: dict) -> str, for the payload shapes an app writes.
history_values: dict[str, Callable[[dict], str]] = {}
