"""What artifacts add to deliverables through their registries (apps.py): the live
status beside each link on the deliverable page, a summary on the project page,
alerts for the chat summaries (`extensions.work_alerts`), and a section of the
owners' digests (`reminders.digest_sections`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _

from deliverables.extensions import Panel, WorkAlert
from deliverables.models import Digest, LinkKind
from deliverables.reminders import DigestSection, PlannedDigest
from roles.permissions import is_admin

from . import selectors
from .models import ArtifactStatus


def red_words(kind: str, facts: dict) -> str:
    """What is wrong with a failing artifact, in the active language."""
    if facts.get("ci") in ("failure", "failed"):
        return gettext("CI is failing")
    if kind == LinkKind.AIRFLOW_DAG_RUN:
        return gettext("the last pipeline run failed")
    if kind == LinkKind.MLFLOW_RUN:
        return gettext("the run ended as %(state)s") % {
            "state": selectors.fact_word(facts.get("run_state", ""))
        }
    if kind == LinkKind.MLFLOW_MODEL:
        return gettext("the model version failed to register")
    return gettext("failing")


class ArtifactLinksPanel:
    """The live status of the page's typed links, drawn beside each link (the links'
    own section reads `panel.statuses`)."""

    name = "artifacts"

    def panel(self, *, request, deliverable) -> Panel | None:
        links = list(deliverable.links.all())
        statuses = selectors.link_statuses(user=request.user, deliverable=deliverable, links=links)
        if not statuses:
            return None
        rows = [(link, statuses[link.pk]) for link in links if link.pk in statuses]
        return Panel(
            "artifacts/_link_statuses.html",
            {"rows": rows, "show_errors": is_admin(request.user)},
        )


class ProjectArtifactsPanel:
    name = "artifacts"

    def panel(self, *, user, project) -> Panel | None:
        found = selectors.project_artifacts(user=user, project_id=project.pk)
        if found is None:
            return None
        counts = [
            (status, str(ArtifactStatus(status).label), found.counts.get(status, 0))
            for status in ArtifactStatus.values
            if found.counts.get(status)
        ]
        return Panel(
            "artifacts/_project_artifacts.html",
            {"counts": counts, "rows": list(found.rows), "total": found.total},
        )


class RedArtifactAlerts:
    """Failing CI and pipeline runs on work in review or done, for chat summaries."""

    name = "artifacts"
    heading = _("Failing CI and pipelines")

    def alerts(self, *, user, project) -> list[WorkAlert]:
        return [
            WorkAlert(
                deliverable_id=red.deliverable_id,
                deliverable_label=red.deliverable_label,
                text=f"{red.link_label}: {red_words(red.kind, red.facts)}",
                owner_id=red.owner_id,
            )
            for red in selectors.red_artifacts(user=user, project_id=project.pk)
        ]


@dataclass(frozen=True)
class RedItem:
    deliverable_id: int


class ArtifactDigestSection(DigestSection):
    """Owners hear of failing CI or pipeline runs on their deliverables in review or
    done. Nothing is kept between the sweep and the send: at send time the section
    reads what is failing now, as the recipient may see it now (a fixed repair
    clears it from a digest not sent yet)."""

    name = "artifacts"
    text_template = "artifacts/emails/digest_section.txt"
    html_template = "artifacts/emails/digest_section.html"

    def recipients(self, today: date) -> Iterable[int]:
        return selectors.red_owner_ids()

    def plan(self, planned: dict[int, PlannedDigest], managed: dict[int, list[int]]) -> None:
        """One query for the batch: which planned recipients own failing work now.
        What each may see is checked at send time (`owed`), person by person."""
        if not planned:
            return
        for owner_id, deliverable_id in selectors.red_owned(owner_ids=list(planned)):
            planned[owner_id].extra.setdefault(self.name, []).append(RedItem(deliverable_id))

    def owed(self, carrier: Digest, group: list[Digest]) -> list:
        recipient = carrier.recipient
        if not recipient.is_active:
            return []
        return selectors.red_artifacts(user=recipient, owner_ids=[recipient.pk])

    def context(self, owed: list) -> dict:
        return {
            "red_artifacts": [
                {
                    "deliverable": red.deliverable_label,
                    "project": red.project_name,
                    "link": red.link_label,
                    "what": red_words(red.kind, red.facts),
                    "url": settings.SITE_URL
                    + reverse("deliverables:detail", args=[red.deliverable_id])
                    + "#links",
                }
                for red in owed
            ]
        }

    def subject_counts(self, context: dict) -> list[tuple]:
        return [
            (
                ngettext_lazy(
                    "%(count)s failing check on your work",
                    "%(count)s failing checks on your work",
                    "count",
                ),
                len(context.get("red_artifacts", [])),
            )
        ]

    def describe(self, items: list, names: dict) -> list[str]:
        deliverables = names.setdefault("artifact_deliverables", {})
        wanted = {item.deliverable_id for item in items} - set(deliverables)
        if wanted:
            from deliverables.models import Deliverable

            for deliverable in Deliverable.objects.filter(pk__in=wanted).select_related("type"):
                deliverables[deliverable.pk] = deliverable.label
        return [f"failing artifact: {deliverables[item.deliverable_id]}" for item in items]
