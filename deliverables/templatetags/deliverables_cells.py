"""How every page shows a deliverable's status, due date and checklist progress:
`{% status_badge deliverable %}`, `{% due deliverable %}`, `{% progress deliverable %}`.

Each takes a deliverable or a WorkItem (anything with the attributes it reads).
Tags in Python rather than included templates: lists draw them in every row, and an
include costs a template render each (three a row were ~1 ms of a 25-row list).
"""

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from mlteam.dates import format_day

register = template.Library()

# Each status's Bootstrap Icons glyph; its colours are the --mlt-status-* custom
# properties in static/css/mlteam.css (`.status-<status>`). The icon repeats what the
# word says, so it is hidden from screen readers.
STATUS_ICONS = {
    "not_started": "circle",
    "in_progress": "play-circle",
    "in_review": "eye",
    "blocked": "slash-circle",
    "done": "check-circle-fill",
    "cancelled": "x-circle",
    "overdue": "alarm",
}


def icon(name: str) -> str:
    """A Bootstrap Icons glyph beside a text label (decorative, hidden from screen readers)."""
    return format_html('<i class="bi bi-{}" aria-hidden="true"></i>', name)


@register.simple_tag
def status_badge(deliverable) -> str:
    """The status as a coloured badge with its icon, worded in the reader's language."""
    return format_html(
        '<span class="badge status-{}">{}{}</span>',
        deliverable.status,
        icon(STATUS_ICONS.get(deliverable.status, "circle")),
        deliverable.status_label,
    )


@register.simple_tag
def overdue_badge() -> str:
    """The "overdue" badge: the overdue status colours and icon."""
    return format_html(
        '<span class="badge status-overdue">{}{}</span>',
        icon(STATUS_ICONS["overdue"]),
        gettext("overdue"),
    )


@register.simple_tag
def due(deliverable) -> str:
    """The due date, marked when the work is overdue (`overdue`), or "no date"."""
    if not deliverable.due_date:
        return format_html('<span class="text-body-secondary">{}</span>', gettext("no date"))
    if deliverable.overdue:
        return format_html(
            '<span class="text-danger fw-semibold">{} {}</span>',
            format_day(deliverable.due_date),
            overdue_badge(),
        )
    return format_html("<span>{}</span>", format_day(deliverable.due_date))


@register.simple_tag
def progress(deliverable) -> str:
    """Checklist items complete out of all, green once no required item is open."""
    if not deliverable.items_total:
        return "—"
    return format_html(
        '<span class="small text-nowrap {}" title="{}">{}/{}</span>',
        "text-body-secondary" if deliverable.required_open else "text-success",
        gettext("Checklist items complete"),
        deliverable.items_done,
        deliverable.items_total,
    )


@register.simple_tag
def portfolio_row(row, list_url: str) -> str:
    """One project's row of the portfolio table (a `ProjectSummary`): its name,
    unfilled roles, a count per status, overdue work, work due within 7 days,
    completion and handbook, each number linking to what is behind it.

    A tag rather than template markup: a page draws 20 rows of about 20 template
    nodes each, and each node costs ~50 calls to resolve, localize and escape
    (about a third of the portfolio's rendering, bench/pages.py)."""
    if row.gap_count:
        gaps = format_html(
            '<a class="text-decoration-none" href="{}#coverage-heading">'
            '<span class="badge text-bg-warning">{}</span></a>',
            row.url,
            row.gap_count,
        )
    else:
        gaps = mark_safe('<span class="text-success">0</span>')  # a constant
    prefix = f"{list_url}?project={row.pk}&"
    if row.completion is None:
        completion = "—"
    else:
        completion = format_html('<a href="{}">{}%</a>', f"{prefix}status=done", row.completion)
    if row.handbook is None:
        handbook = "—"
    else:
        handbook = format_html('<a href="{}">{}%</a>', row.handbook_url, row.handbook)
    # data-label names each cell's column when a phone stacks the table (.table-stack).
    return format_html(
        '<tr><th scope="row"><a href="{}">{}</a></th>'
        '<td class="text-end" data-label="{}">{}</td>{}'
        '<td class="text-end" data-label="{}"><a class="{}" href="{}">{}</a></td>'
        '<td class="text-end" data-label="{}"><a href="{}">{}</a></td>'
        '<td class="text-end" data-label="{}">{}</td>'
        '<td class="text-end d-none d-md-table-cell stack-show" data-label="{}">{}</td></tr>',
        row.url,
        row.name,
        gettext("Unfilled roles"),
        gaps,
        format_html_join(
            "",
            '<td class="text-end d-none d-lg-table-cell" data-label="{}"><a href="{}">{}</a></td>',
            (
                (label, url, count)
                for (_status, label, _n), (url, count) in zip(
                    row.by_status, row.status_links, strict=True
                )
            ),
        ),
        gettext("Overdue"),
        "text-danger fw-semibold" if row.overdue else "",
        f"{prefix}overdue=on",
        row.overdue,
        gettext("Due in 7 days"),
        f"{prefix}due_within=7",
        row.due_soon,
        gettext("Completion"),
        completion,
        gettext("Handbook"),
        handbook,
    )


@register.simple_tag
def overdue_line(item) -> str:
    """A late deliverable (a WorkItem) as a list item: its name, due date and owner."""
    return format_html(
        '<li><a href="{}">{}</a> — {}{}</li>',
        item.url,
        item.label,
        due(item),
        format_html(" · {}", item.owner_name) if item.owner_name else "",
    )


@register.simple_tag
def timeline_item(item) -> str:
    """A deliverable due soon (a WorkItem) on the timeline: day, name and status."""
    return format_html(
        '<li><time datetime="{}">{}</time> <a href="{}">{}</a> {}</li>',
        item.due_date.isoformat(),
        format_day(item.due_date),
        item.url,
        item.label,
        status_badge(item),
    )


@register.simple_tag
def progress_row(item) -> str:
    """A deliverable (a WorkItem) with its status and checklist progress as a bar."""
    return format_html(
        '<tr><th scope="row" class="fw-normal"><a href="{}">{}</a></th>'
        '<td data-label="{}">{}</td><td class="text-nowrap" data-label="{}">'
        '<span><progress class="checklist-progress" value="{}" max="{}"></progress> {}/{}</span>'
        "</td></tr>",
        item.url,
        item.label,
        gettext("Status"),
        status_badge(item),
        gettext("Checklist"),
        item.items_done,
        item.items_total or 1,
        item.items_done,
        item.items_total,
    )


@register.simple_tag
def board_card_facts(card, with_project=False) -> str:
    """A board card's type (and project, on My work), its title linked to its page,
    its owner, due date and checklist progress (selectors.BoardCard)."""
    item = card.item
    kind = (
        format_html("{} · {}", card.type_name, item.project_name)
        if with_project
        else card.type_name
    )
    owner = item.owner_name or format_html(
        '<span class="text-body-secondary">{}</span>', gettext("Nobody yet")
    )
    return format_html(
        '<div class="small text-body-secondary">{}</div>'
        '<a class="fw-semibold d-block" href="{}">{}</a>'
        '<div class="small d-flex flex-wrap column-gap-2 mt-1">'
        "<span>{}</span><span>{}</span><span>{} {}</span></div>",
        kind,
        item.url,
        card.title,
        owner,
        due(item),
        gettext("Checklist"),
        progress(item),
    )


@register.simple_tag
def board_move_buttons(card) -> str:
    """The buttons of a board card's "Move to…" menu, one per move it offers."""
    return format_html_join(
        "",
        '<button type="submit" class="btn btn-sm btn-light text-start" name="to_status"'
        ' value="{}"{}>{}</button>',
        (
            (move.status, mark_safe(" data-asks-reason") if move.asks_reason else "", move.label)
            for move in card.moves
        ),
    )
