"""How pages show recent activity and the portfolio's workload:
`{% activity_item entry %}` (an ActivityEntry, with what changed) or
`{% activity_item entry brief=True %}` (the portfolio's: with its project, without
the details), and `{% workload_row person list_url %}` (a PersonLoad).

Tags in Python rather than template markup for the reason given in
deliverables_cells: dashboards draw these 15 at a time, and each template node
costs ~50 calls to resolve, localize and escape.
"""

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext

from mlteam.dates import format_ago
from mlteam.markdown import render_markdown_inline

register = template.Library()


@register.simple_tag
def event_change(entry) -> str:
    """`{% event_change event %}`: what a deliverable change changed (its before and
    after values), typed text rendered inline and sanitised."""
    return _change(entry.display_before, entry.display_after)


def _change(before: str, after: str) -> str:
    """A deliverable change's values, typed text rendered inline and sanitised."""
    if before and after:
        return format_html(
            " · {} → {}", render_markdown_inline(str(before)), render_markdown_inline(str(after))
        )
    if before or after:
        return format_html(" · {}", render_markdown_inline(str(before or after)))
    return ""


def _team_details(entry) -> str:
    """A team change's person, role, note and changed fields, each after its separator."""
    parts = [
        (separator, value)
        for separator, value in (
            (": ", entry.person_name),
            (" · ", entry.role_name),
            (" · ", entry.detail),
        )
        if value
    ]
    for field, before, after in entry.change_lines:
        if before or after:
            line = gettext("%(field)s: %(before)s → %(after)s") % {
                "field": field,
                "before": before,
                "after": after,
            }
        else:
            line = gettext("%(field)s changed") % {"field": field}
        parts.append((" · ", line))
    return format_html_join("", "{}{}", parts)


@register.simple_tag
def activity_item(entry, brief: bool = False) -> str:
    """One change as a list item: when, who (or the system), and what.
    `brief`: with the project's name, and for a team change only whom it was about."""
    when = format_ago(entry.created_at)
    if brief:
        when = format_html("{} · {}", when, entry.project_name)
    if entry.deliverable_id:
        what = format_html(
            '{}: <a href="{}">{}</a>{}',
            entry.label,
            entry.deliverable_url,
            entry.deliverable_label,
            "" if brief else _change(entry.display_before, entry.display_after),
        )
    elif brief:
        what = format_html(
            "{}{}", entry.label, format_html(": {}", entry.person_name) if entry.person_name else ""
        )
    else:
        what = format_html("{}{}", entry.label, _team_details(entry))
    return format_html(
        '<li class="list-group-item px-0"><span class="text-body-secondary">{}</span> — '
        "<strong>{}</strong> {}</li>",
        when,
        entry.actor_name or gettext("System"),
        what,
    )


@register.simple_tag
def workload_row(person, list_url: str) -> str:
    """A person's row of the workload table: roles, allocation (flagged over 100%),
    open and overdue work, each count linking to that work in the list."""
    if person.total_allocation > 100:
        allocation = format_html(
            '<span class="badge text-bg-danger">{}%</span>', person.total_allocation
        )
    else:
        allocation = format_html("{}%", person.total_allocation)
    prefix = f"{list_url}?owner={person.pk}&"
    # data-label names each cell's column when a phone stacks the table (.table-stack).
    return format_html(
        '<tr><th scope="row">{}</th><td class="text-end" data-label="{}">{}</td>'
        '<td class="text-end" data-label="{}">{}</td>'
        '<td class="text-end" data-label="{}"><a href="{}">{}</a></td>'
        '<td class="text-end" data-label="{}"><a class="{}" href="{}">{}</a></td></tr>',
        person.name,
        gettext("Roles"),
        person.role_count,
        gettext("Allocation"),
        allocation,
        gettext("Open"),
        f"{prefix}status=open",
        person.open_deliverable_count,
        gettext("Overdue"),
        "text-danger fw-semibold" if person.overdue_count else "",
        f"{prefix}overdue=on",
        person.overdue_count,
    )
