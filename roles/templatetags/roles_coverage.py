"""How pages draw the coverage matrix (roles/_coverage_matrix.html, a
`selectors.CoverageMatrix`): `{% coverage_people matrix %}` heads the columns
with the people, `{% coverage_row row %}` draws a role's row.

Tags in Python rather than template markup: the matrix has a cell per role and
person (60 for a team of ten), and each template node costs ~50 calls to
resolve, localize and escape (a fifth of the project page's rendering,
bench/pages.py).
"""

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext

from mlteam.text import list_separator

register = template.Library()


@register.simple_tag
def coverage_people(matrix) -> str:
    """A header cell per person: their name and their share of time here."""
    return format_html_join(
        "",
        '<th scope="col" class="small">{}<div class="fw-normal text-body-secondary">{}</div></th>',
        (
            (person.name, gettext("%(here)s%% here") % {"here": person.allocation_here})
            for person in matrix.people
        ),
    )


@register.simple_tag
def coverage_row(row) -> str:
    """A role's row: its name (flagged unfilled or optional), who holds it on other
    projects when nobody does here, and a cell per person with their allocation in
    it (a dot when they do not hold it)."""
    if row.required and not row.filled:
        flag = format_html(
            '<span class="badge text-bg-warning ms-1">{}</span>', gettext("unfilled")
        )
    elif not row.required:
        flag = format_html(
            '<span class="badge text-bg-light border ms-1">{}</span>', gettext("optional")
        )
    else:
        flag = ""
    if row.suggestions:
        suggestions = format_html(
            '<div class="fw-normal text-body-secondary mt-1">{} {}</div>',
            gettext("Holds this role elsewhere:"),
            format_html_join(
                list_separator(),
                "{} ({})",
                ((suggestion.name, suggestion.project_name) for suggestion in row.suggestions),
            ),
        )
    else:
        suggestions = ""
    not_held = gettext("not held")
    cells = format_html_join(
        "",
        "<td>{}</td>",
        (
            (
                format_html('<span class="badge text-bg-primary">{}%</span>', cell)
                if cell is not None
                else format_html(
                    '<span class="text-body-tertiary" aria-label="{}">·</span>', not_held
                ),
            )
            for cell in row.cells
        ),
    )
    return format_html(
        '<tr{}><th scope="row" class="text-start small"><a href="{}">{}</a>{}{}</th>{}</tr>',
        format_html(' class="{}"', "table-warning") if row.required and not row.filled else "",
        row.role_url,
        row.role_name,
        flag,
        suggestions,
        cells,
    )
