"""How every page shows a deliverable's status, due date and checklist progress:
`{% status_badge deliverable %}`, `{% due deliverable %}`, `{% progress deliverable %}`.

Each takes a deliverable or a WorkItem (anything with the attributes it reads).
Tags in Python rather than included templates: lists draw them in every row, and an
include costs a template render each (three a row were ~1 ms of a 25-row list).
"""

from functools import lru_cache

from django import template
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from mlteam.dates import format_day
from mlteam.links import row_url

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
        '<td class="text-end d-none d-md-table-cell stack-show" data-label="{}">{}</td>{}</tr>',
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
        _extra_cells(row.extra_cells),
    )


def _extra_cells(cells) -> str:
    """The registered columns' cells (deliverables.extensions.portfolio_columns)."""
    drawn = []
    for heading, cell in cells:
        if cell is None:
            content = "—"
        elif cell.url:
            content = format_html(
                '<a class="{}" href="{}">{}</a>',
                "text-danger fw-semibold" if cell.attention else "",
                cell.url,
                cell.text,
            )
        else:
            content = cell.text
        drawn.append(format_html('<td class="text-end" data-label="{}">{}</td>', heading, content))
    return format_html_join("", "{}", ((cell,) for cell in drawn))


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


def board_card_facts(card, with_project=False) -> str:
    """A board card's type (and project, on My work), its title linked to its page,
    its owner, due date and checklist progress (selectors.BoardCard)."""
    item = card.item
    # The type above the title, unless the title is the type's name (no own title).
    kind = card.type_name if card.title != card.type_name else ""
    if with_project:
        kind = format_html("{} · {}", kind, item.project_name) if kind else item.project_name
    owner = item.owner_name or format_html(
        '<span class="text-body-secondary">{}</span>', gettext("Nobody yet")
    )
    return format_html(
        '{}<a class="fw-semibold d-block" href="{}">{}</a>'
        '<div class="small d-flex flex-wrap column-gap-2 mt-1">'
        "<span>{}</span><span>{}</span><span>{} {}</span></div>",
        format_html('<div class="small text-body-secondary">{}</div>', kind) if kind else "",
        item.url,
        card.title,
        owner,
        due(item),
        gettext("Checklist"),
        progress(item),
    )


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


def _board_refusal(context, card, part: str) -> str:
    """What a refused card adds (rare: only the card of the move just refused): the
    message ("message") or, in its open menu, the boxes the move needs ("boxes")."""
    return render_to_string(
        "deliverables/_board_refusal.html",
        {"card": card, "form": card.refusal.form, "part": part},
        request=context.get("request"),
    )


@register.simple_tag(takes_context=True)
def board_card(context, card, board) -> str:
    """One card of the board (templates/deliverables/_board.html): its facts and,
    when the reader may move it, a plain form (works without JavaScript) with its
    "Move to…" menu, which htmx posts to swap the whole board. A tag rather than
    template markup: a column draws up to 20 cards, and the markup's ~30 template
    nodes a card were most of the board's rendering (bench/pages.py)."""
    item = card.item
    kind = "mine" if board.project is None else "project"
    facts = board_card_facts(card, with_project=board.project is None)
    refused = card.refusal is not None
    form = ""
    if card.moves:
        version = card.refusal.form["version"].value() if refused else card.version
        form = format_html(
            '<form method="post" action="{}" class="board-move mt-2" hx-post="{}" '
            'hx-target="#board" hx-swap="outerHTML">'
            '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
            '<input type="hidden" name="version" value="{}">'
            '<input type="hidden" name="board" value="{}">'
            '<details class="board-move-menu"{}>'
            '<summary class="btn btn-sm btn-outline-secondary">{}</summary>'
            '<div class="board-move-actions d-grid gap-1 mt-1" role="group" aria-label="{}">'
            "{}</div>{}</details></form>",
            card.move_url,
            card.move_url,
            _csrf_token(context),
            version,
            kind,
            mark_safe(" open") if refused else "",
            gettext("Move to…"),
            gettext("Move to…"),
            board_move_buttons(card),
            _board_refusal(context, card, "boxes") if refused else "",
        )
    return format_html(
        '<li class="card board-card{}" id="card-{}" data-status="{}" data-moves="{}"{}>'
        '<div class="card-body p-2">{}{}{}</div></li>',
        " board-card-overdue" if item.overdue else "",
        item.pk,
        item.status,
        card.move_names,
        mark_safe(' draggable="true"') if card.moves else "",
        facts,
        _board_refusal(context, card, "message") if refused else "",
        form,
    )


# --- inline edits on list rows (views.deliverable_inline; selectors.RowControls) -----------
# Tags rather than three included templates a row (~60 template nodes of form markup):
# the includes made the admin's 25-row list at 50,000 deliverables spend ~130 ms
# rendering, 8x the floor page; with the tags, ~60 ms (timed in-process).
# `row`: "list" or "mine" (which list the answer draws again); `target`: what htmx swaps.


def _inline_url(context, pk: int) -> str:
    """The row's inline-edit URL, reversed once for the row's three controls."""
    urls = context.render_context.setdefault("inline_urls", {})
    if pk not in urls:
        urls[pk] = reverse("deliverables:inline", args=[pk])
    return urls[pk]


def _edit_url(context, pk: int) -> str:
    """A deliverable's edit page, its URL pattern reversed once a page."""
    render = context.render_context
    if "edit_url" not in render:
        render["edit_url"] = row_url("deliverables:edit")
    return render["edit_url"](pk)


def _csrf_token(context) -> str:
    """The page's CSRF token as text: the context's is a lazy object, and each
    escape of it goes through its proxy (~0.3 ms a row of three forms)."""
    render = context.render_context
    if "inline_csrf_token" not in render:
        render["inline_csrf_token"] = str(context.get("csrf_token", ""))
    return render["inline_csrf_token"]


def _inline_form(context, deliverable, controls, *, field, row, target, trigger, body) -> str:
    url = _inline_url(context, deliverable.pk)
    return format_html(
        '<form method="post" action="{}" class="inline-edit" hx-post="{}" hx-trigger="{}" '
        'hx-target="{}" hx-swap="outerHTML">'
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
        '<input type="hidden" name="version" value="{}"><input type="hidden" name="field" '
        'value="{}"><input type="hidden" name="row" value="{}">{}</form>',
        url,
        url,
        trigger,
        target,
        _csrf_token(context),
        controls.version,
        field,
        row,
        body,
    )


def _refused_on(controls, field: str):
    refusal = controls.refusal
    return refusal if refusal is not None and refusal.field == field else None


def _invalid(refusal, control_id: str) -> str:
    """A control's invalid marks: its class suffix and ARIA attributes."""
    if refusal is None:
        return ""
    return format_html(' is-invalid" aria-describedby="{}-error" aria-invalid="true', control_id)


def _errors(refusal, control_id: str, more="") -> str:
    if refusal is None:
        return ""
    return format_html(
        '<div id="{}-error" class="invalid-feedback d-block" role="alert">{}{}</div>',
        control_id,
        format_html_join(
            "", '<p class="mb-0"><strong>{}</strong></p>', ((e,) for e in refusal.errors)
        ),
        more,
    )


def _noscript_save() -> str:
    return format_html(
        '<noscript><button type="submit" class="btn btn-sm btn-outline-secondary mt-1">{}'
        "</button></noscript>",
        gettext("Save"),
    )


@register.simple_tag(takes_context=True)
def inline_status(context, deliverable, controls, row: str, target: str) -> str:
    """The row's status: the moves the reader may make, posted when one is chosen; a
    refusal drawn under it, with the reason box the move needs. No move: the status
    is only shown."""
    if not controls.moves:
        return format_html(
            '<span class="badge status-{}">{}</span>', deliverable.status, deliverable.status_label
        )
    pk = deliverable.pk
    control_id = f"status-{pk}"
    refusal = _refused_on(controls, "status")
    chosen = refusal.to_status if refusal is not None else None
    options = _move_options(tuple(controls.moves), chosen)
    select = format_html(
        '<label class="visually-hidden" for="{}">{}</label>'
        '<select name="to_status" id="{}" class="form-select form-select-sm inline-select{}">'
        '<option value="">{}</option>{}</select>',
        control_id,
        gettext("Status"),
        control_id,
        _invalid(refusal, control_id),
        deliverable.status_label,
        options,
    )
    if refusal is None:
        after = _noscript_save()
    else:
        missing = ""
        if refusal.missing:
            missing = format_html(
                '<p class="mb-0">{}</p><ul class="mb-0">{}</ul>',
                gettext("Still open:"),
                format_html_join("", "<li>{}</li>", ((text,) for text in refusal.missing)),
            )
        after = _errors(refusal, control_id, missing)
        if any(move.asks_reason and move.status == chosen for move in controls.moves):
            after += format_html(
                '<label class="form-label small mt-1 mb-0" for="reason-{}">{}</label>'
                '<textarea class="form-control form-control-sm" name="reason" id="reason-{}" '
                'rows="2" maxlength="2000">{}</textarea>',
                pk,
                gettext("Reason, if you mark it blocked"),
                pk,
                refusal.reason,
            )
        if refusal.missing and controls.may_override:
            after += format_html(
                '<label class="form-label small mt-1 mb-0" for="override-{}">{}</label>'
                '<textarea class="form-control form-control-sm" name="override_reason" '
                'id="override-{}" rows="2" maxlength="2000">{}</textarea>',
                pk,
                gettext("Reason to mark done with required items open"),
                pk,
                refusal.override_reason,
            )
        after += format_html(
            '<button type="submit" class="btn btn-sm btn-primary mt-1">{}</button>',
            gettext("Save"),
        )
    return _inline_form(
        context,
        deliverable,
        controls,
        field="status",
        row=row,
        target=target,
        trigger="change from:find select, submit",
        body=select + after,
    )


@lru_cache(maxsize=512)
def _move_options(moves: tuple, chosen: str | None) -> str:
    """The status moves as options (`selectors.BoardMove`s, worded in the reader's
    language: part of the key), drawn once for the rows that offer the same moves."""
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        (
            (move.status, mark_safe(" selected") if move.status == chosen else "", move.label)
            for move in moves
        ),
    )


@lru_cache(maxsize=512)
def _owner_options(owners: tuple[tuple[int, str], ...]) -> str:
    """The owner choices as options, drawn once for the rows that share them (a
    project's rows do, `selectors.inline_controls`): plain data in, markup out."""
    return format_html_join("", '<option value="{}">{}</option>', owners)


@register.simple_tag(takes_context=True)
def inline_owner(context, deliverable, controls, row: str, target: str) -> str:
    """The row's owner, changed in place by the project's managers; others read it."""
    if not controls.manages:
        if deliverable.owner_name:
            return deliverable.owner_name
        return format_html('<span class="text-body-secondary">{}</span>', gettext("Nobody yet"))
    control_id = f"owner-{deliverable.pk}"
    refusal = _refused_on(controls, "owner")
    options = _owner_options(tuple(controls.owners))
    if deliverable.owner_id:
        chosen = f'<option value="{int(deliverable.owner_id)}">'
        # Escaped options, with a constant attribute added to one of them.
        options = mark_safe(options.replace(chosen, chosen[:-1] + " selected>", 1))  # noqa: S308
    body = format_html(
        '<label class="visually-hidden" for="{}">{}</label>'
        '<select name="owner" id="{}" class="form-select form-select-sm inline-select{}">'
        '<option value="">{}</option>{}</select>{}{}',
        control_id,
        gettext("Owner"),
        control_id,
        _invalid(refusal, control_id),
        gettext("Nobody yet"),
        options,
        _errors(refusal, control_id),
        _noscript_save(),
    )
    return _inline_form(
        context,
        deliverable,
        controls,
        field="owner",
        row=row,
        target=target,
        trigger="change, submit",
        body=body,
    )


@register.simple_tag(takes_context=True)
def inline_due(context, deliverable, controls, row: str, target: str) -> str:
    """The row's due date, changed in place by the project's managers; others read it,
    overdue marked."""
    if not controls.manages:
        return due(deliverable)
    control_id = f"due-{deliverable.pk}"
    refusal = _refused_on(controls, "due_date")
    body = format_html(
        '<label class="visually-hidden" for="{}">{}</label>'
        '<input type="date" name="due_date" id="{}" value="{}" '
        'class="form-control form-control-sm inline-date{}">{}{}{}',
        control_id,
        gettext("Due date"),
        control_id,
        deliverable.due_date.isoformat() if deliverable.due_date else "",
        _invalid(refusal, control_id),
        format_html(' <span class="badge text-bg-danger">{}</span>', gettext("overdue"))
        if deliverable.overdue
        else "",
        _errors(refusal, control_id),
        _noscript_save(),
    )
    form = _inline_form(
        context,
        deliverable,
        controls,
        field="due_date",
        row=row,
        target=target,
        trigger="change, submit",
        body=body,
    )
    if refusal is not None:
        return form  # the refused field, with its message, on every screen
    # A date field does not fit a phone's row beside the status: there the row reads
    # the date, with a link to the deliverable's edit page, which changes it.
    return format_html(
        '<span class="d-sm-none">{} <a class="touch-target" href="{}" aria-label="{}">{}</a>'
        '</span><span class="d-none d-sm-inline">{}</span>',
        due(deliverable),
        _edit_url(context, deliverable.pk),
        gettext("Change the due date of %(deliverable)s") % {"deliverable": deliverable.label},
        gettext("Change"),
        form,
    )
