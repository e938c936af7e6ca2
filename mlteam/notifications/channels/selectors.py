"""Reads for the channel pages (the callers pass a project the reader manages) and
for a channel's daily summary (what the channel may tell, through the domain's
own querysets: `Deliverable.objects.visible_to/open/overdue/due_within`,
`Role.objects.unfilled_on`, `is_escalated`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import QuerySet

from deliverables import extensions
from deliverables.models import Deliverable, is_escalated
from roles.models import Project, Role

from .models import ChatChannel, ChatDelivery


def channel_list(*, project: Project) -> QuerySet[ChatChannel]:
    """A project's channels, oldest first, with who added them (one query)."""
    return ChatChannel.objects.filter(project=project).select_related("created_by")


def channel_get(*, project: Project, pk: int) -> ChatChannel | None:
    return channel_list(project=project).filter(pk=pk).first()


def delivery_log(*, channel: ChatChannel) -> QuerySet[ChatDelivery]:
    """A channel's messages, newest first (chat_delivery_log_idx), without payloads."""
    return (
        ChatDelivery.objects.filter(channel=channel).order_by("-created_at", "-id").defer("payload")
    )


@dataclass
class Summary:
    """What a channel's daily summary tells, each list in the order shown."""

    escalated: list[Deliverable] = field(default_factory=list)
    overdue: list[Deliverable] = field(default_factory=list)
    due_soon: list[Deliverable] = field(default_factory=list)
    unfilled: list[Role] = field(default_factory=list)
    # What apps registered in `deliverables.extensions.work_alerts` report (failing
    # CI and pipelines on work in review or done): (heading, alerts) per app.
    alerts: list[tuple[str, list[extensions.WorkAlert]]] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.escalated or self.overdue or self.due_soon or self.unfilled or self.alerts)


SUMMARY_ORDER = ("type__role__position", "type__role__name", "due_date", "pk")


def channel_summary(*, channel: ChatChannel, today: date) -> Summary:
    """The summary of `channel`'s project on `today` (its local day), as the person
    who added the channel may see it now (`Deliverable.objects.visible_to`: nothing
    once they lost the project). Three queries: overdue work, work due soon, the
    unfilled roles. Overdue work late by more than the project's escalation days is
    escalated (`is_escalated`, the digests' rule), the rest overdue."""
    project = channel.project
    work = (
        Deliverable.objects.visible_to(channel.created_by)
        .filter(project=project)
        .select_related("type__role", "owner")
        .order_by(*SUMMARY_ORDER)
    )
    summary = Summary()
    for deliverable in work.overdue(today):
        if is_escalated(deliverable.due_date, today, project.escalation_days):
            summary.escalated.append(deliverable)
        else:
            summary.overdue.append(deliverable)
    summary.due_soon = list(work.due_within(channel.due_soon_days, today))
    summary.unfilled = list(Role.objects.unfilled_on(project).order_by("position", "name"))
    for source in extensions.work_alerts:
        found = source.alerts(user=channel.created_by, project=project)
        if found:
            summary.alerts.append((str(source.heading), found))
    return summary
