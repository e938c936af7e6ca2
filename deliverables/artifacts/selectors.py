"""Reads of artifact states for pages, digests and chat summaries. Every read goes
through `ArtifactState.objects.visible_to(user)` (the deliverables' visibility
rule); each returns plain data in a fixed number of queries, whatever the data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Case, Count, When
from django.utils.translation import gettext_lazy as _

from deliverables.links import link_summary
from deliverables.models import (
    Deliverable,
    DeliverableLink,
    DeliverableStatus,
    deliverable_label,
)

from .models import (
    POLLED_KINDS,
    SYSTEM_OF_KIND,
    ArtifactState,
    ArtifactStatus,
    ArtifactSystem,
    ErrorKind,
)

# Work whose red CI or failed pipeline is worth a digest line and a chat line.
ALERT_STATUSES = (DeliverableStatus.IN_REVIEW, DeliverableStatus.DONE)
PROJECT_PANEL_ROWS = 10


# The systems' own words for states (facts), as people read them.
FACT_WORDS = {
    "success": _("passing"),
    "failure": _("failing"),
    "error": _("failing"),
    "failed": _("failed"),
    "pending": _("pending"),
    "running": _("running"),
    "queued": _("queued"),
    "scheduled": _("scheduled"),
    "created": _("not started yet"),
    "finished": _("finished"),
    "killed": _("stopped"),
    "canceled": _("cancelled"),
    "skipped": _("skipped"),
    "manual": _("waiting for a manual step"),
    "open": _("open"),
    "opened": _("open"),
    "merged": _("merged"),
    "closed": _("closed"),
    "locked": _("locked"),
}


def fact_word(value: str) -> str:
    return str(FACT_WORDS.get(value, value))


def worded(facts: dict) -> dict:
    """The facts with the systems' state words in the active language."""
    return {
        **facts,
        **{key: fact_word(facts[key]) for key in ("ci", "pr_state", "run_state") if facts.get(key)},
    }


@dataclass(frozen=True)
class LinkStatus:
    """What the deliverable page shows beside a link (plain data)."""

    status: str  # ArtifactStatus, "" before the first answer
    status_label: str
    facts: dict
    observed_at: datetime | None
    error: str  # ErrorKind, shown in words to admins only
    error_label: str
    error_at: datetime | None
    polled: bool  # False: no active system serves this link


def _systems() -> list[ArtifactSystem]:
    return list(ArtifactSystem.objects.filter(active=True).only("kind", "link_host", "scopes"))


def _served(systems: list[ArtifactSystem], kind: str, target: dict) -> bool:
    wanted = SYSTEM_OF_KIND.get(kind)
    return any(s.kind == wanted and s.serves(target) for s in systems)


def link_statuses(*, user, deliverable: Deliverable, links) -> dict[int, LinkStatus]:
    """link id -> its live status, for the typed links among `links` (the page's own
    rows) that `user` may see. Two queries: the active systems, the states."""
    polled = [link for link in links if link.kind in POLLED_KINDS]
    if not polled:
        return {}
    systems = _systems()
    # The links again, as `user` may see them, each with its state (one query).
    seen = {
        row.pk: getattr(row, "artifact_state", None)
        for row in DeliverableLink.objects.filter(
            pk__in=[link.pk for link in polled],
            deliverable=deliverable,
            deliverable__in=Deliverable.objects.visible_to(user).values("pk"),
        ).select_related("artifact_state")
    }
    found = {}
    for link in polled:
        if link.pk not in seen:
            continue
        state = seen[link.pk]
        served = _served(systems, link.kind, link.target or {})
        if state is None:
            found[link.pk] = LinkStatus("", "", {}, None, "", "", None, served)
            continue
        found[link.pk] = LinkStatus(
            status=state.status,
            status_label=str(ArtifactStatus(state.status).label) if state.status else "",
            facts=worded(state.facts or {}),
            observed_at=state.observed_at,
            error=state.error,
            error_label=str(ErrorKind(state.error).label) if state.error else "",
            error_at=state.error_at,
            polled=served,
        )
    return found


@dataclass(frozen=True)
class ProjectArtifactRow:
    deliverable_id: int
    deliverable_label: str
    link_label: str
    kind_label: str
    status: str
    status_label: str
    observed_at: datetime | None


@dataclass(frozen=True)
class ProjectArtifacts:
    counts: dict  # status -> links
    rows: tuple[ProjectArtifactRow, ...]  # failing first, then in progress
    total: int


def project_artifacts(*, user, project_id: int) -> ProjectArtifacts | None:
    """The project's polled links `user` may see: how many in each state, and the
    failing and running ones (at most PROJECT_PANEL_ROWS). Two queries."""
    visible = ArtifactState.objects.visible_to(user).filter(
        link__deliverable__project_id=project_id
    )
    counts = dict(
        visible.exclude(status="")
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    total = sum(counts.values())
    if not total:
        return None
    rows = []
    if counts.get(ArtifactStatus.FAILURE) or counts.get(ArtifactStatus.RUNNING):
        failing_first = Case(When(status=ArtifactStatus.FAILURE, then=0), default=1)
        for values in (
            visible.filter(status__in=[ArtifactStatus.FAILURE, ArtifactStatus.RUNNING])
            .order_by(failing_first, "-changed_at", "pk")
            .values(
                "link__deliverable_id",
                "link__deliverable__title",
                "link__deliverable__type__name",
                "link__label",
                "link__url",
                "link__kind",
                "link__target",
                "status",
                "observed_at",
            )[:PROJECT_PANEL_ROWS]
        ):
            rows.append(_row(values))
    return ProjectArtifacts(counts=counts, rows=tuple(rows), total=total)


def _row(values: dict) -> ProjectArtifactRow:
    from deliverables.models import DeliverableType, LinkKind

    kind = values["link__kind"]
    return ProjectArtifactRow(
        deliverable_id=values["link__deliverable_id"],
        deliverable_label=deliverable_label(
            DeliverableType(name=values["link__deliverable__type__name"]).display_name,
            values["link__deliverable__title"],
        ),
        link_label=values["link__label"]
        or link_summary(kind, values["link__target"] or {})
        or values["link__url"],
        kind_label=str(LinkKind(kind).label) if kind in LinkKind.values else kind,
        status=values["status"],
        status_label=str(ArtifactStatus(values["status"]).label),
        observed_at=values["observed_at"],
    )


@dataclass(frozen=True)
class RedArtifact:
    deliverable_id: int
    deliverable_label: str
    project_name: str
    owner_id: int | None
    link_label: str
    kind: str
    facts: dict


def red_artifacts(*, user, project_id: int | None = None, owner_ids=None) -> list[RedArtifact]:
    """Failing artifacts on deliverables in review or done that `user` may see, on
    one project or owned by some people. One query."""
    states = (
        ArtifactState.objects.visible_to(user)
        .red()
        .filter(
            link__deliverable__status__in=ALERT_STATUSES,
            link__deliverable__project__archived_at__isnull=True,
        )
    )
    if project_id is not None:
        states = states.filter(link__deliverable__project_id=project_id)
    if owner_ids is not None:
        states = states.filter(link__deliverable__owner_id__in=list(owner_ids))
    return _red(states)


def _red(states) -> list[RedArtifact]:
    from deliverables.models import DeliverableType

    found = []
    for values in states.order_by(
        "link__deliverable__due_date", "link__deliverable_id", "pk"
    ).values(
        "link__deliverable_id",
        "link__deliverable__title",
        "link__deliverable__type__name",
        "link__deliverable__project__name",
        "link__deliverable__owner_id",
        "link__label",
        "link__url",
        "link__kind",
        "link__target",
        "facts",
    ):
        kind = values["link__kind"]
        found.append(
            RedArtifact(
                deliverable_id=values["link__deliverable_id"],
                deliverable_label=deliverable_label(
                    DeliverableType(name=values["link__deliverable__type__name"]).display_name,
                    values["link__deliverable__title"],
                ),
                project_name=values["link__deliverable__project__name"],
                owner_id=values["link__deliverable__owner_id"],
                link_label=values["link__label"]
                or link_summary(kind, values["link__target"] or {})
                or values["link__url"],
                kind=kind,
                facts=values["facts"] or {},
            )
        )
    return found


def _red_links():
    return DeliverableLink.objects.filter(
        artifact_state__status__in=[ArtifactStatus.FAILURE],
        deliverable__status__in=ALERT_STATUSES,
        deliverable__project__archived_at__isnull=True,
        deliverable__owner__isnull=False,
    )


def red_owned(*, owner_ids: list[int]) -> list[tuple[int, int]]:
    """(owner, deliverable) pairs of failing work in review or done among these
    owners', each once. One query; visibility is checked when a digest is sent."""
    return list(
        _red_links()
        .filter(deliverable__owner_id__in=owner_ids)
        .values_list("deliverable__owner_id", "deliverable_id")
        .distinct()
        .order_by("deliverable__owner_id", "deliverable_id")
    )


def red_owner_ids() -> list[int]:
    """Owners of deliverables in review or done with a failing artifact, on active
    projects (the digest sweep's extra recipients; checked per person later)."""
    return list(_red_links().values_list("deliverable__owner_id", flat=True).distinct().order_by())
