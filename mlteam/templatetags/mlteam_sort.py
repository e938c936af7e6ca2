"""Column headings that sort a list: `{% sortable "Project" "name" "-name" %}`.

Links to the same page with `sort` set (and `page` dropped): the ascending key
first, the other one when the column is already sorted that way. The current
sort shows as an arrow, and in words for screen readers.
"""

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

register = template.Library()


@register.simple_tag(takes_context=True)
def sortable(context, label, first: str, second: str = ""):
    request = context["request"]
    current = context.get("sort") or request.GET.get("sort", "")
    if current == first:
        target, state = (second or first), "first"
    elif second and current == second:
        target, state = first, "second"
    else:
        target, state = first, ""
    params = request.GET.copy()
    params["sort"] = target
    params.pop("page", None)
    if not state:
        return format_html('<a href="?{}">{}</a>', params.urlencode(), label)
    descending = (first if state == "first" else second).startswith("-")
    arrow = "▼" if descending else "▲"
    words = _("sorted descending") if descending else _("sorted ascending")
    return format_html(
        '<a href="?{}" aria-current="true">{} <span aria-hidden="true">{}</span>'
        '<span class="visually-hidden"> ({})</span></a>',
        params.urlencode(),
        label,
        arrow,
        words,
    )
