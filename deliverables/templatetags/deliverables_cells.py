"""How every page shows a deliverable's status, due date and checklist progress:
`{% status_badge deliverable %}`, `{% due deliverable %}`, `{% progress deliverable %}`.

Each takes a deliverable or a WorkItem (anything with the attributes it reads).
Tags in Python rather than included templates: lists draw them in every row, and an
include costs a template render each (three a row were ~1 ms of a 25-row list).
"""

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext

from mlteam.dates import format_day

register = template.Library()


@register.simple_tag
def status_badge(deliverable) -> str:
    """The status as a coloured badge, worded in the reader's language."""
    return format_html(
        '<span class="badge status-{}">{}</span>', deliverable.status, deliverable.status_label
    )


@register.simple_tag
def due(deliverable) -> str:
    """The due date, marked when the work is overdue (`overdue`), or "no date"."""
    if not deliverable.due_date:
        return format_html('<span class="text-body-secondary">{}</span>', gettext("no date"))
    if deliverable.overdue:
        return format_html(
            '<span class="text-danger fw-semibold">{} <span class="badge text-bg-danger">{}'
            "</span></span>",
            format_day(deliverable.due_date),
            gettext("overdue"),
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
