"""What a channel's messages say, in the active language (the sender switches to
the channel's own first), as `payloads.Message`: the platforms' layouts come after.
Links are absolute (SITE_URL), back to the product's own pages."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext, ngettext

from deliverables.models import Deliverable
from mlteam.dates import format_day
from mlteam.people import person_name
from roles.models import Project, Role

from .models import ChatChannel, ChatEvent
from .payloads import Group, Line, Message, Section
from .selectors import Summary

# A summary lists at most this many deliverables per section; the rest are counted.
SUMMARY_LINES = 15


def site_url(name: str, *args) -> str:
    return settings.SITE_URL + reverse(name, args=args)


def _footer(channel: ChatChannel) -> str:
    return gettext("MLTeam · %(project)s · sent to %(channel)s") % {
        "project": channel.project.name,
        "channel": channel.name,
    }


def _open_project(project: Project) -> tuple[str, str]:
    return (gettext("Open the project"), site_url("roles:project_detail", project.pk))


def _days_late(deliverable: Deliverable, today: date) -> str:
    late = (today - deliverable.due_date).days
    return ngettext("%(count)s day late", "%(count)s days late", late) % {"count": late}


def _due_in(deliverable: Deliverable, today: date) -> str:
    left = (deliverable.due_date - today).days
    if left == 0:
        return gettext("due today")
    return ngettext("due in %(count)s day", "due in %(count)s days", left) % {"count": left}


def _owner(deliverable: Deliverable) -> str:
    return person_name(deliverable.owner) or gettext("no owner")


def _work_line(deliverable: Deliverable, when: str) -> Line:
    return Line(
        text=deliverable.label,
        url=site_url("deliverables:detail", deliverable.pk),
        detail=f"{_owner(deliverable)} · {when}",
    )


def _by_role(deliverables: list[Deliverable], when, budget: list[int]) -> tuple[list[Group], int]:
    """The deliverables under their roles' names (in the order given), as many as
    the summary's remaining `budget` allows; returns the groups and how many were
    left out."""
    groups: list[Group] = []
    left_out = 0
    for deliverable in deliverables:
        if budget[0] <= 0:
            left_out += 1
            continue
        budget[0] -= 1
        role = deliverable.type.role.display_name
        if not groups or groups[-1].name != role:
            groups.append(Group(name=role))
        groups[-1].lines.append(_work_line(deliverable, when(deliverable)))
    return groups, left_out


def _more(left_out: int) -> str:
    if not left_out:
        return ""
    return ngettext(
        "and %(count)s more on the project page",
        "and %(count)s more on the project page",
        left_out,
    ) % {"count": left_out}


def summary_message(channel: ChatChannel, summary: Summary, today: date) -> Message:
    """The daily summary: escalated, overdue and due-soon work grouped by role, then
    the unfilled roles."""
    project = channel.project
    sections = []
    budget = [SUMMARY_LINES * 3]
    parts = [
        (
            summary.escalated,
            ngettext(
                "Escalated: overdue by more than %(count)s day",
                "Escalated: overdue by more than %(count)s days",
                project.escalation_days,
            )
            % {"count": project.escalation_days},
            lambda d: _days_late(d, today),
        ),
        (summary.overdue, gettext("Overdue"), lambda d: _days_late(d, today)),
        (
            summary.due_soon,
            ngettext(
                "Due within %(count)s day",
                "Due within %(count)s days",
                channel.due_soon_days,
            )
            % {"count": channel.due_soon_days},
            lambda d: _due_in(d, today),
        ),
    ]
    for deliverables, heading, when in parts:
        if deliverables:
            groups, left_out = _by_role(deliverables, when, budget)
            sections.append(Section(heading=heading, groups=groups, more=_more(left_out)))
    for heading, alerts in summary.alerts:
        shown = alerts[:SUMMARY_LINES]
        sections.append(
            Section(
                heading=heading,
                lines=[
                    Line(
                        text=alert.deliverable_label,
                        url=site_url("deliverables:detail", alert.deliverable_id),
                        detail=alert.text,
                    )
                    for alert in shown
                ],
                more=_more(len(alerts) - len(shown)),
            )
        )
    if summary.unfilled:
        sections.append(
            Section(
                heading=gettext("Unfilled roles"),
                lines=[Line(text=role.display_name) for role in summary.unfilled],
            )
        )
    counts = {
        "overdue": len(summary.escalated) + len(summary.overdue),
        "due_soon": len(summary.due_soon),
        "unfilled": len(summary.unfilled),
    }
    facts = [
        (gettext("Overdue"), str(counts["overdue"])),
        (gettext("Due soon"), str(counts["due_soon"])),
        (gettext("Unfilled roles"), str(counts["unfilled"])),
    ]
    return Message(
        title=gettext("%(project)s: daily summary") % {"project": project.name},
        summary=gettext(
            "%(project)s on %(day)s: %(overdue)s overdue, %(due_soon)s due soon, "
            "%(unfilled)s unfilled roles"
        )
        % {"project": project.name, "day": format_day(today), **counts},
        intro=format_day(today),
        facts=facts,
        sections=sections,
        footer=_footer(channel),
        button=_open_project(project),
    )


# What each subscribed status move is called, in a message's title and summary.
STATUS_TITLES = {
    ChatEvent.SENT_FOR_REVIEW: lambda: gettext("Sent for review: %(deliverable)s"),
    ChatEvent.BLOCKED: lambda: gettext("Blocked: %(deliverable)s"),
    ChatEvent.DONE: lambda: gettext("Done: %(deliverable)s"),
}
STATUS_SUMMARIES = {
    ChatEvent.SENT_FOR_REVIEW: lambda: gettext(
        "%(actor)s sent %(deliverable)s for review on %(project)s"
    ),
    ChatEvent.BLOCKED: lambda: gettext("%(actor)s marked %(deliverable)s blocked on %(project)s"),
    ChatEvent.DONE: lambda: gettext("%(actor)s marked %(deliverable)s done on %(project)s"),
}


def status_message(
    channel: ChatChannel, event: str, deliverable: Deliverable, *, actor, reason: str
) -> Message:
    """A deliverable sent for review, blocked or done (`event`), as it is now."""
    names = {
        "deliverable": deliverable.label,
        "project": channel.project.name,
        "actor": person_name(actor) or gettext("Someone"),
    }
    facts = [
        (gettext("Project"), channel.project.name),
        (gettext("Owner"), _owner(deliverable)),
    ]
    if deliverable.due_date:
        facts.append((gettext("Due"), format_day(deliverable.due_date)))
    facts.append((gettext("By"), names["actor"]))
    if reason:
        facts.append((gettext("Reason"), reason))
    return Message(
        title=STATUS_TITLES[event]() % names,
        summary=STATUS_SUMMARIES[event]() % names,
        facts=facts,
        footer=_footer(channel),
        button=(gettext("Open the deliverable"), site_url("deliverables:detail", deliverable.pk)),
    )


def gap_message(channel: ChatChannel, role: Role, *, cause: str, person, actor) -> Message:
    """A required role nobody on the team holds any more (`cause`: how it came)."""
    names = {
        "role": role.display_name,
        "project": channel.project.name,
        "person": person_name(person) or gettext("Someone"),
        "actor": person_name(actor) or gettext("Someone"),
    }
    if cause == "unassigned":
        intro = gettext("%(actor)s took the role %(role)s from %(person)s.") % names
    elif cause == "removed":
        intro = gettext("%(person)s left the team; they held the role %(role)s.") % names
    else:
        intro = gettext("%(actor)s made %(role)s a required role.") % names
    intro = f"{intro} " + gettext("Nobody on the team of %(project)s holds it now.") % names
    return Message(
        title=gettext("Role gap: %(role)s") % names,
        summary=gettext("Nobody on %(project)s holds the role %(role)s any more") % names,
        intro=intro,
        footer=_footer(channel),
        button=(gettext("Open the team"), site_url("roles:project_detail", channel.project.pk)),
    )


def connected_message(channel: ChatChannel) -> Message:
    """What "Send a test message" sends: what the channel is set up to get."""
    project = channel.project
    facts = [(gettext("Project"), project.name)]
    if channel.events:
        facts.append((gettext("Events"), ", ".join(channel.event_labels)))
    if channel.daily_summary:
        facts.append(
            (
                gettext("Daily summary"),
                gettext("at %(hour)s:00 (%(zone)s) on working days")
                % {"hour": channel.hour, "zone": channel.time_zone},
            )
        )
    return Message(
        title=gettext("MLTeam is connected"),
        summary=gettext("A test message from MLTeam for %(project)s") % {"project": project.name},
        intro=gettext("This channel will hear about %(project)s here.") % {"project": project.name},
        facts=facts,
        footer=_footer(channel),
        button=_open_project(project),
    )
