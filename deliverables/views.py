"""Deliverable pages: lists, My work, the deliverable page and its actions, planning.

Views fetch through `selectors` (404 for what the user may not see), check the
rule in `permissions` (403 for what they see but may not change), validate a
form, call one service, and redirect with a message. A refused save re-renders
the page with the user's input kept.
"""

from __future__ import annotations

import csv
import unicodedata
from dataclasses import dataclass
from functools import partial
from operator import attrgetter

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.i18n import set_language

from mlteam.cache import KeptScope, cached
from mlteam.forms import NOT_DRAWN, QueryForm, form_add_service_errors, form_reoffer
from roles import selectors as roles_selectors
from roles.models import Project
from roles.permissions import can_manage_project, is_admin, is_manager

from . import extensions, reminders, selectors, services, workflow
from .forms import (
    CancelForm,
    ChecklistForm,
    CommentEditForm,
    CommentForm,
    CommentQueryForm,
    DeliverableAddForm,
    DeliverableEditForm,
    InlineEditForm,
    LinkForm,
    PlanFormSet,
    PlanQueryForm,
    PlanVersionForm,
    ReminderPreferenceForm,
    TransitionForm,
    WorkViewForm,
)
from .middleware import remember_time_zone
from .models import (
    AnswerKind,
    Deliverable,
    DeliverableLink,
    DeliverableStatus,
    DeliverableType,
    ReminderPreference,
    WorkView,
)
from .permissions import (
    can_answer_checklist,
    can_change_checklist,
    can_change_comment,
    can_manage_deliverable,
    can_update_deliverable,
)

PAGE_SIZE = 25


def _deliverable_or_404(request: HttpRequest, pk: int) -> Deliverable:
    deliverable = selectors.deliverable_get_for_user(user=request.user, pk=pk)
    if deliverable is None:
        raise Http404
    return deliverable


def _updatable_or_403(request: HttpRequest, pk: int) -> Deliverable:
    deliverable = _deliverable_or_404(request, pk)
    if not can_update_deliverable(request.user, deliverable):
        raise PermissionDenied
    return deliverable


def _managed_or_403(request: HttpRequest, pk: int) -> Deliverable:
    deliverable = _deliverable_or_404(request, pk)
    if not can_manage_deliverable(request.user, deliverable):
        raise PermissionDenied
    return deliverable


def _status(error: ValidationError) -> int:
    return 409 if getattr(error, "code", None) == "stale" else 422


# --- lists ------------------------------------------------------------------------------


def _filters(request: HttpRequest):
    """The list's filter form and the filters it validated (invalid fields are left
    out: a project since archived, a typo in the address; the valid ones still
    apply, so the list never widens silently)."""
    form = selectors.deliverable_filter_form(user=request.user, data=request.GET)
    return form, selectors.deliverable_filters(form.values())


@require_GET
def deliverable_list(request: HttpRequest) -> HttpResponse:
    form, filters = _filters(request)
    page = selectors.deliverable_list_page(
        user=request.user,
        filters=filters,
        today=timezone.localdate(),
        page_number=form.values()["page"],
        per_page=PAGE_SIZE,
    )
    return render(
        request,
        "deliverables/deliverable_list.html",
        {
            "filter_form": form,
            "page_obj": page,
            "rows": selectors.inline_rows(user=request.user, items=page.object_list),
            "filtered": bool(request.GET.dict().keys() - {"page", "sort"}),
            "sort": filters.sort,
            # Filtered to one project: its work can be seen as a board instead.
            "board_project": {"pk": filters.project} if filters.project else None,
        },
    )


@require_GET
def owner_options(request: HttpRequest) -> HttpResponse:
    """The list filter's every owner to choose from, as `<option>`s (`owner`
    selected): what `roles.forms.LazyPersonSelect` leaves out of a large page."""
    field = _filters(request)[0]["owner"]
    options = field.field.widget.all_options(field.value())
    return HttpResponse(options, content_type="text/html; charset=utf-8")


class _Echo:
    def write(self, value: str) -> str:
        return value


CSV_LINES_PER_PIECE = 200

# Cell starts a spreadsheet may run as a formula. Compared after NFKC folding, so
# their full-width (U+FF1D, U+FF0B, U+FF0D, U+FF20) and small (U+FE66, U+FE62,
# U+FE63, U+FE6B) forms, which spreadsheets read as the ASCII ones, are caught too.
CSV_FORMULA_STARTS = {"=", "+", "-", "@", "\t", "\r"}


def _csv_safe(value) -> str:
    """Quote a cell that a spreadsheet would run as a formula."""
    text = str(value)
    first = text[:1]
    if not first.isascii():  # ASCII characters fold to themselves
        first = unicodedata.normalize("NFKC", first)[:1]
    return "'" + text if first in CSV_FORMULA_STARTS else text


def _iso_date(value) -> str:
    return value.isoformat() if value else ""


def _yes_no(value) -> str:
    return "yes" if value else "no"


# Columns of the CSV export: header, the selectors.ExportRow field, how it is
# written. Text people typed goes through _csv_safe; numbers, dates and the
# product's own words, which no spreadsheet runs, are written as they are (guarding
# every cell was 600,000 calls, 0.3 s of the admin's 50,000-row export).
CSV_COLUMNS = [
    ("id", "pk", None),
    ("project", "project", _csv_safe),
    # Named as in the list: the own title, or the type when there is none (the type
    # has its own column).
    ("deliverable", "short_label", _csv_safe),
    ("type", "type", _csv_safe),
    ("role", "role", _csv_safe),
    ("owner", "owner_username", _csv_safe),
    ("owner_name", "owner_name", _csv_safe),
    ("status", "status", None),
    ("due_date", "due_date", _iso_date),
    ("overdue", "overdue", _yes_no),
    ("checklist_done", "items_done", None),
    ("checklist_total", "items_total", None),
]


@require_GET
def deliverable_export(request: HttpRequest) -> StreamingHttpResponse:
    """Exactly the filtered rows the user may see, as CSV (all pages)."""
    _form, filters = _filters(request)
    rows = selectors.deliverable_export_rows(
        user=request.user, filters=filters, today=timezone.localdate()
    )
    writer = csv.writer(_Echo())
    read = attrgetter(*(field for _name, field, _write in CSV_COLUMNS))
    writes = [write for _name, _field, write in CSV_COLUMNS]

    def lines():
        # The byte-order mark makes spreadsheet programs read UTF-8 (Japanese names).
        yield "\ufeff" + writer.writerow([name for name, _field, _write in CSV_COLUMNS])
        # Handed on CSV_LINES_PER_PIECE lines at a time: each piece the response
        # passes on costs the same, however short.
        piece = []
        for deliverable in rows:
            piece.append(
                writer.writerow(
                    [
                        write(value) if write else value
                        for write, value in zip(writes, read(deliverable), strict=True)
                    ]
                )
            )
            if len(piece) == CSV_LINES_PER_PIECE:
                yield "".join(piece)
                piece.clear()
        if piece:
            yield "".join(piece)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="deliverables-{timezone.localdate()}.csv"'
    )
    return response


@require_GET
def my_work(request: HttpRequest) -> HttpResponse:
    """The reader's work, as the list or the board, whichever they last chose."""
    today = timezone.localdate()
    if selectors.work_view_for(user=request.user) == WorkView.BOARD:
        board = selectors.my_work_board(user=request.user, today=today)
        return render(request, "deliverables/my_work.html", {"board": board, "today": today})
    rows = selectors.my_work(user=request.user, today=today)
    page = Paginator(rows, PAGE_SIZE).get_page(QueryForm(request.GET).values()["page"])
    page.object_list = [selectors.work_item(row, today=today) for row in page.object_list]
    return render(
        request,
        "deliverables/my_work.html",
        {
            "page_obj": page,
            "rows": selectors.inline_rows(user=request.user, items=page.object_list),
            "today": today,
        },
    )


# --- the board --------------------------------------------------------------------------


def _project_or_404(request: HttpRequest, pk: int) -> Project:
    project = Project.objects.visible_to(request.user).filter(pk=pk).first()
    if project is None:
        raise Http404
    return project


@require_GET
def project_board(request: HttpRequest, pk: int) -> HttpResponse:
    project = _project_or_404(request, pk)
    board = selectors.project_board(user=request.user, project=project, today=timezone.localdate())
    return render(request, "deliverables/project_board.html", {"board": board})


@dataclass
class _Refusal:
    """Why a card's move was refused, drawn on that card: the form as offered again
    (the reason typed kept, the version now), and for done the items still open."""

    pk: int
    form: TransitionForm
    missing: list[str]


def _board_of(request: HttpRequest, deliverable: Deliverable):
    """The board a card was moved on: the reader's own (My work) or its project's,
    with that card drawn even past its column's limit (the reader just moved it)."""
    today = timezone.localdate()
    if request.POST.get("board") == "mine":
        return selectors.my_work_board(user=request.user, today=today, keep=deliverable.pk)
    return selectors.project_board(
        user=request.user, project=deliverable.project, today=today, keep=deliverable.pk
    )


def _board_answer(
    request, deliverable: Deliverable, *, status: int = 200, refusal=None, moved=""
) -> HttpResponse:
    """The board after a move: its columns for htmx (swapped whole, with what happened
    said in the board's live region, 200 so that htmx swaps a refusal too), else the
    page of that board."""
    board = _board_of(request, deliverable)
    if refusal is not None:
        board = board.with_refusal(deliverable.pk, refusal)
    context = {"board": board, "moved": moved, "today": timezone.localdate()}
    if request.htmx:
        return render(request, "deliverables/_board.html", context)
    template = (
        "deliverables/my_work.html" if board.project is None else "deliverables/project_board.html"
    )
    return render(request, template, context, status=status)


def _move_refused(request, pk: int, form: TransitionForm, error: ValidationError) -> _Refusal:
    """The refusal of a move as drawn on its card (see `_Refusal`)."""
    fresh = _deliverable_or_404(request, pk)
    offered = form_reoffer(form, _transition_form(fresh), error)
    if getattr(error, "code", None) == "reason_required":  # next to the box it is about
        offered._errors.pop(NON_FIELD_ERRORS, None)
        offered._errors["reason"] = offered.error_class(error.messages)
    missing = []
    if services.is_waivable(getattr(error, "code", None)):
        missing = _done_blockers(fresh)
    return _Refusal(pk=pk, form=offered, missing=missing)


def _done_blockers(deliverable: Deliverable) -> list[str]:
    """What keeps it from done, worded: the required checklist items still open,
    then what the registered done gates name (the readiness rubric's)."""
    return [
        item.display_text for item in _in_area_order(services.required_items_open(deliverable))
    ] + services.done_gate_blockers(deliverable)


def _move(request: HttpRequest, deliverable: Deliverable, data: dict) -> None:
    """A status move asked for by a validated transition form (the deliverable's
    page, a board card, a list row): a move kept for managers is refused with 403 to
    anyone else (the service refuses it too, for every other path); the rest is the
    service's, which raises ValidationError for what it refuses."""
    if workflow.manager_only(deliverable.status, data["to_status"]) and not can_manage_deliverable(
        request.user, deliverable
    ):
        raise PermissionDenied
    services.deliverable_transition(
        deliverable=deliverable,
        actor=request.user,
        to_status=data["to_status"],
        version=data["version"],
        reason=data["reason"],
        override_reason=data["override_reason"],
    )


@require_POST
def deliverable_move(request: HttpRequest, pk: int) -> HttpResponse:
    """A card moved on the board (dragged, its "Move to" menu, or its form without
    JavaScript): the same move, rules and version check as the deliverable page's."""
    deliverable = _updatable_or_403(request, pk)
    form = _transition_form(deliverable, request.POST)
    if not form.is_valid():
        refusal = _Refusal(pk=pk, form=form, missing=[])
        return _board_answer(request, deliverable, status=422, refusal=refusal)
    data = form.cleaned_data
    try:
        _move(request, deliverable, data)
    except ValidationError as error:
        refusal = _move_refused(request, pk, form, error)
        return _board_answer(
            request, _deliverable_or_404(request, pk), status=_status(error), refusal=refusal
        )
    moved = _("%(deliverable)s is now %(status)s.") % {
        "deliverable": deliverable.label,
        "status": DeliverableStatus(data["to_status"]).label,
    }
    if request.htmx:
        return _board_answer(request, deliverable, moved=moved)
    messages.success(request, moved)
    if request.POST.get("board") == "mine":
        return redirect("deliverables:my_work")
    return redirect("deliverables:project_board", pk=deliverable.project_id)


# --- inline edits on the lists --------------------------------------------------------------


@dataclass
class _RowRefusal:
    """Why an inline change was refused, drawn in the row next to `field` ("status",
    "owner" or "due_date"): the messages, what was typed (a reason), and for done the
    required items still open."""

    field: str
    errors: list[str]
    to_status: str = ""
    reason: str = ""
    override_reason: str = ""
    missing: list[str] | None = None


def _row_answer(request, pk: int, *, status: int = 200, refusal=None, saved="") -> HttpResponse:
    """The row after an inline change: drawn again for htmx (200 so that htmx swaps a
    refusal too), else back to the list it was made on with a message."""
    on_my_work = request.POST.get("row") == "mine"
    if request.htmx:
        row = selectors.inline_row(user=request.user, pk=pk, today=timezone.localdate())
        if row is None:  # no longer on this list
            return HttpResponse(status=204)
        item, controls = row
        if refusal is not None:
            controls = controls.refused(refusal)
        template = "deliverables/_my_work_row.html" if on_my_work else "deliverables/_list_row.html"
        return render(
            request, template, {"deliverable": item, "controls": controls, "saved": saved}
        )
    if refusal is not None:
        for error in refusal.errors:
            messages.error(request, error)
    elif saved:
        messages.success(request, saved)
    return redirect("deliverables:my_work" if on_my_work else "deliverables:list")


def _inline_status(request, deliverable: Deliverable) -> HttpResponse:
    """The status changed on a row: the board's move (same service and rules)."""
    form = _transition_form(deliverable, request.POST)
    typed = {
        "to_status": request.POST.get("to_status", ""),
        "reason": request.POST.get("reason", ""),
        "override_reason": request.POST.get("override_reason", ""),
    }
    if not form.is_valid():
        errors = [error for errors in form.errors.values() for error in errors]
        refusal = _RowRefusal("status", errors, **typed)
        return _row_answer(request, deliverable.pk, status=422, refusal=refusal)
    data = form.cleaned_data
    try:
        _move(request, deliverable, data)
    except ValidationError as error:
        missing = None
        if services.is_waivable(getattr(error, "code", None)):
            missing = _done_blockers(_deliverable_or_404(request, deliverable.pk))
        refusal = _RowRefusal("status", error.messages, missing=missing, **typed)
        return _row_answer(request, deliverable.pk, status=_status(error), refusal=refusal)
    saved = _("Status is now %(status)s.") % {"status": DeliverableStatus(data["to_status"]).label}
    return _row_answer(request, deliverable.pk, saved=saved)


@require_POST
def deliverable_inline(request: HttpRequest, pk: int) -> HttpResponse:
    """A list row's status, owner or due date changed in place (lists and My work):
    the same services, rules and version check as the deliverable's pages."""
    deliverable = _updatable_or_403(request, pk)
    if request.POST.get("field") == "status":
        return _inline_status(request, deliverable)
    if not can_manage_deliverable(request.user, deliverable):
        raise PermissionDenied  # the owner and the due date are the managers'
    form = InlineEditForm(
        request.POST,
        owners=selectors.owner_choices(project=deliverable.project, current=deliverable.owner),
    )
    if not form.is_valid():
        field = request.POST.get("field") if request.POST.get("field") in form.fields else "owner"
        errors = [error for errors in form.errors.values() for error in errors]
        return _row_answer(request, pk, status=422, refusal=_RowRefusal(field, errors))
    field = form.cleaned_data["field"]
    owner = form.cleaned_data["owner"] if field == "owner" else deliverable.owner
    due_date = form.cleaned_data["due_date"] if field == "due_date" else deliverable.due_date
    try:
        if (owner, due_date) != (deliverable.owner, deliverable.due_date):  # else nothing to save
            services.deliverable_update(
                deliverable=deliverable,
                actor=request.user,
                version=form.cleaned_data["version"],
                title=deliverable.title,
                owner=owner,
                due_date=due_date,
                type=deliverable.type,
            )
    except ValidationError as error:
        return _row_answer(
            request, pk, status=_status(error), refusal=_RowRefusal(field, error.messages)
        )
    return _row_answer(request, pk, saved=_("Saved."))


@require_POST
def work_view_choose(request: HttpRequest) -> HttpResponse:
    """Remember list or board, and show it: My work, or the project's work when the
    choice was made there."""
    form = WorkViewForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose the list or the board."))
        return redirect("deliverables:my_work")
    view, project = form.cleaned_data["view"], form.cleaned_data["project"]
    services.work_view_remember(user=request.user, view=view)
    if project is None:
        return redirect("deliverables:my_work")
    if view == WorkView.BOARD:
        return redirect("deliverables:project_board", pk=project)
    return redirect(reverse("deliverables:list") + f"?project={project}")


# --- one deliverable --------------------------------------------------------------------


def _detail(request, deliverable: Deliverable, *, status: int = 200, **forms) -> HttpResponse:
    """The deliverable page (also re-drawn, at its own address, with a refused form)."""
    return render(
        request,
        "deliverables/deliverable_detail.html",
        _detail_context(request, deliverable, **forms),
        status=status,
    )


def _detail_context(request, deliverable: Deliverable, **forms) -> dict:
    can_update = can_update_deliverable(request.user, deliverable)
    can_manage = can_manage_deliverable(request.user, deliverable)
    items = _in_area_order(deliverable.checklist_items.all())
    transition_form = forms.get("transition_form") or _transition_form(deliverable)
    comments = list(deliverable.comments.all())
    for comment in comments:  # the edit and delete links, for the author only
        comment.can_change = can_change_comment(request.user, comment)
    editing = forms.get("comment_edit_form")
    if editing is None:
        editing = _comment_edit_form_asked(request, comments)
    context = {
        "deliverable": deliverable,
        "can_update": can_update,
        # Drawn editable only while it may change; done, it shows the approved answers.
        "can_answer": can_change_checklist(request.user, deliverable),
        "can_manage": can_manage,
        "transition_form": transition_form,
        "checklist_form": forms.get("checklist_form") or _checklist_form(deliverable, items),
        "link_form": forms.get("link_form") or LinkForm(),
        "comment_form": forms.get("comment_form") or CommentForm(),
        "comments": comments,
        "comment_edit_form": editing,
        "history": selectors.deliverable_history(deliverable=deliverable),
        "reminders_sent": selectors.deliverable_reminders(
            deliverable=deliverable, user=request.user
        ),
        "overdue": deliverable.is_overdue(timezone.localdate()),
        # What nested apps add to the page (the readiness rubric): extensions.py.
        "panels": [
            panel
            for entry in extensions.deliverable_panels
            if (panel := entry.panel(request=request, deliverable=deliverable)) is not None
        ],
        **_status_context(request.user, deliverable, items, transition_form),
    }
    return context


def _status_context(user, deliverable: Deliverable, items, transition_form) -> dict:
    """The status actions the reader may take, each with the reason box it needs (if
    any): blocking asks why; a manager marking done with required items open names
    them and asks why. The action whose form was refused is drawn open."""
    can_update = can_update_deliverable(user, deliverable)
    can_manage = can_manage_deliverable(user, deliverable)
    moves = workflow.actions_for(deliverable.status, manages=can_manage) if can_update else {}
    missing = [item for item in items if item.required and not item.is_complete]
    # What the registered done gates name (the readiness rubric's score), asked only
    # of those who may mark it done.
    gate_blockers = (
        services.done_gate_blockers(deliverable)
        if DeliverableStatus.DONE in moves and can_manage
        else []
    )
    refused = transition_form["to_status"].value() if transition_form.is_bound else None
    actions = []
    # Cancelling asks for a reason and a confirmation on a page of its own.
    for target, label in moves.items():
        if target == DeliverableStatus.CANCELLED:
            continue
        reason_field = None
        if target in services.REASON_REQUIRED:
            reason_field = "reason"
        elif target == DeliverableStatus.DONE and (missing or gate_blockers):
            reason_field = "override_reason"
        actions.append(
            {
                "status": target,
                "label": label,
                "reason_field": reason_field and transition_form[reason_field],
                "refused": refused == target,
            }
        )
    return {
        "actions": actions,
        "statuses": DeliverableStatus,  # the actions' buttons are drawn by their target
        "can_cancel": DeliverableStatus.CANCELLED in moves and not deliverable.project.is_archived,
        "can_reopen": deliverable.checklist_locked
        and can_update
        and not deliverable.project.is_archived
        and DeliverableStatus.IN_PROGRESS in moves,
        "missing_items": missing,
        "gate_blockers": gate_blockers,
        "required_open": len(missing),
        "items_done": sum(1 for item in items if item.is_complete),
        "items_total": len(items),
    }


def _comment_edit_form_asked(request, comments) -> CommentEditForm | None:
    """`?edit_comment=<id>`: the reader's own comment, drawn as a form to rewrite it."""
    asked = CommentQueryForm(request.GET).values()["edit_comment"]
    for comment in comments:
        if comment.pk == asked and can_change_comment(request.user, comment):
            return _comment_edit_form(comment)
    return None


def _comment_edit_form(comment, data=None) -> CommentEditForm:
    form = CommentEditForm(data, initial={"version": comment.version, "body": comment.body})
    form.comment = comment
    return form


def done_action_context(user, deliverable: Deliverable) -> dict:
    """What drawing the deliverable's done action again needs (`_status_action.html`
    with `oob`), after a change elsewhere on its page moved what done asks for: a
    checklist answer here, a readiness mark (deliverables.readiness)."""
    items = _in_area_order(deliverable.checklist_items.all())
    return {
        **_status_context(user, deliverable, items, _transition_form(deliverable)),
        "deliverable": deliverable,
    }


def _transition_form(deliverable: Deliverable, data=None) -> TransitionForm:
    return TransitionForm(data, initial={"version": deliverable.version})


def _checklist_form(deliverable: Deliverable, items=None, data=None) -> ChecklistForm:
    """The checklist as saved now (`items`: already read, in area order)."""
    if items is None:
        items = _in_area_order(deliverable.checklist_items.all())
    return ChecklistForm(data, items=items, initial={"version": deliverable.version})


_in_area_order = selectors.in_area_order


@require_http_methods(["GET", "POST"])
def deliverable_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The page, and every form on it: each posts here with its name in `form`, so a
    refused form is shown again at the deliverable's own address (a saved one
    redirects back to it)."""
    if request.method == "GET":
        return _detail(request, _deliverable_or_404(request, pk))
    handler = PAGE_FORMS.get(request.POST.get("form", ""))
    if handler is None:
        _deliverable_or_404(request, pk)
        return HttpResponse(_("This form is unknown here; reload the page."), status=400)
    return handler(request, pk)


@require_POST
def deliverable_transition(request: HttpRequest, pk: int) -> HttpResponse:
    return _transition(request, pk)


def _transition(request: HttpRequest, pk: int) -> HttpResponse:
    deliverable = _updatable_or_403(request, pk)
    form = _transition_form(deliverable, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            _move(request, deliverable, data)
        except ValidationError as error:
            code = getattr(error, "code", None)
            field = "override_reason" if services.is_waivable(code) else None
            field = TRANSITION_ERROR_FIELDS.get(code, field)
            if field is not None:  # nothing was saved: shown next to the box it is about
                form.add_error(field, error)
                return _detail(request, deliverable, status=422, transition_form=form)
            fresh = _deliverable_or_404(request, pk)
            form = form_reoffer(form, _transition_form(fresh), error)
            return _detail(request, fresh, status=_status(error), transition_form=form)
        messages.success(
            request,
            _("Status is now %(status)s.") % {"status": DeliverableStatus(data["to_status"]).label},
        )
        return redirect("deliverables:detail", pk=pk)
    return _detail(request, deliverable, status=422, transition_form=form)


# The service's refusals that are about one box of the status form.
TRANSITION_ERROR_FIELDS = {"reason_required": "reason", "checklist_open": "override_reason"}


@require_http_methods(["GET", "POST"])
def deliverable_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Managers cancel a deliverable: a page that asks why, and confirms."""
    deliverable = _managed_or_403(request, pk)
    if request.method == "GET":  # a POST gets the service's refusal on the form
        if deliverable.project.is_archived:
            messages.error(request, services.ARCHIVED_MESSAGE)
            return redirect("deliverables:detail", pk=pk)
        if not workflow.is_allowed(deliverable.status, DeliverableStatus.CANCELLED):
            messages.error(
                request,
                _("This deliverable is %(status)s: only open work can be cancelled.")
                % {"status": deliverable.status_label},
            )
            return redirect("deliverables:detail", pk=pk)
    form = CancelForm(request.POST or None, initial={"version": deliverable.version})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.deliverable_transition(
                    deliverable=deliverable,
                    actor=request.user,
                    to_status=DeliverableStatus.CANCELLED,
                    version=form.cleaned_data["version"],
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as error:
                status = _status(error)
                deliverable = _deliverable_or_404(request, pk)  # as saved now
                form = form_reoffer(
                    form, CancelForm(initial={"version": deliverable.version}), error
                )
            else:
                messages.success(
                    request,
                    _("Deliverable cancelled. It stays on the project, out of the open work."),
                )
                return redirect("deliverables:detail", pk=pk)
        else:
            status = 422
    return render(
        request,
        "deliverables/deliverable_cancel.html",
        {"deliverable": deliverable, "form": form},
        status=status,
    )


@require_POST
def deliverable_checklist(request: HttpRequest, pk: int) -> HttpResponse:
    return _checklist(request, pk)


def _checklist(request: HttpRequest, pk: int) -> HttpResponse:
    deliverable = _deliverable_or_404(request, pk)
    if not can_answer_checklist(request.user, deliverable):
        raise PermissionDenied
    items = _in_area_order(deliverable.checklist_items.all())
    form = _checklist_form(deliverable, items, request.POST)
    if form.is_valid():
        answers = {item.pk: _answer(item, form.cleaned_data[item.field_name]) for item in items}
        try:
            if form.changes():  # unchanged: nothing written, no new version
                services.checklist_update(
                    deliverable=deliverable,
                    actor=request.user,
                    version=form.cleaned_data["version"],
                    answers=answers,
                )
        except ValidationError as error:
            fresh = _deliverable_or_404(request, pk)
            form = form_reoffer(form, _checklist_form(fresh), error)
            return _detail(request, fresh, status=_status(error), checklist_form=form)
        messages.success(request, _("Checklist saved."))
        return redirect(reverse("deliverables:detail", args=[pk]) + "#checklist")
    return _detail(request, deliverable, status=422, checklist_form=form)


@require_http_methods(["GET", "POST"])
def deliverable_edit(request: HttpRequest, pk: int) -> HttpResponse:
    deliverable = _managed_or_403(request, pk)
    form = _edit_form(deliverable, request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = dict(form.cleaned_data)
            data.pop("confirm_type_change")
            try:
                # Unchanged, nothing is written: no new version to refuse someone
                # else's form with nothing to point out.
                if form.changes():
                    services.deliverable_update(deliverable=deliverable, actor=request.user, **data)
            except ValidationError as error:
                status = _status(error)
                deliverable = _deliverable_or_404(request, pk)  # as saved now
                form = form_reoffer(form, _edit_form(deliverable), error)
            else:
                messages.success(request, _("Deliverable saved."))
                return redirect("deliverables:detail", pk=pk)
        else:
            status = 422
    return render(
        request,
        "deliverables/deliverable_form.html",
        {"deliverable": deliverable, "form": form},
        status=status,
    )


def _edit_form(deliverable: Deliverable, data=None) -> DeliverableEditForm:
    return DeliverableEditForm(
        data,
        owners=selectors.owner_choices(project=deliverable.project, current=deliverable.owner),
        deliverable=deliverable,
        initial={
            "version": deliverable.version,
            "title": deliverable.title,
            "description": deliverable.description,
            "type": deliverable.type_id,
            "owner": deliverable.owner_id,
            "due_date": deliverable.due_date,
        },
    )


@require_POST
def checklist_item_save(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    """One checklist item, saved as it is ticked or answered (htmx): the item comes
    back drawn as saved (or with what refused it), with the page's versions, the
    checklist's progress and the done action brought up to date alongside.
    Without htmx, back to the page."""
    deliverable = _deliverable_or_404(request, pk)
    if not can_answer_checklist(request.user, deliverable):
        raise PermissionDenied
    items = _in_area_order(deliverable.checklist_items.all())
    item = next((item for item in items if item.pk == item_pk), None)
    if item is None:
        raise Http404
    form = ChecklistForm(request.POST, items=[item])
    saved = False
    if form.is_valid():
        try:
            if form.changes():
                drawn = form[item.field_name].drawn_value()
                services.checklist_update(
                    deliverable=deliverable,
                    actor=request.user,
                    version=form.cleaned_data["version"],
                    answers={item.pk: _answer(item, form.cleaned_data[item.field_name])},
                    # The item as drawn, when the page sent it: then only this item is
                    # checked for someone else's answer, not the whole deliverable.
                    drawn=None if drawn is NOT_DRAWN else {item.pk: _answer(item, drawn)},
                )
        except ValidationError as error:
            deliverable = _deliverable_or_404(request, pk)  # as saved now
            items = _in_area_order(deliverable.checklist_items.all())
            item = next(fresh for fresh in items if fresh.pk == item_pk)
            form = form_reoffer(
                form, ChecklistForm(items=[item], initial=_versioned(deliverable)), error
            )
        else:
            saved = True  # `deliverable.version` is the one the save moved to
            items = _in_area_order(deliverable.checklist_items.select_related("answered_by"))
            item = next(fresh for fresh in items if fresh.pk == item_pk)
            form = ChecklistForm(items=[item], initial=_versioned(deliverable))
    if not request.htmx:
        if saved:
            messages.success(request, _("Checklist saved."))
            return redirect(reverse("deliverables:detail", args=[pk]) + "#checklist")
        for message in form.non_field_errors() + form[item.field_name].errors:
            messages.error(request, message)
        return redirect(reverse("deliverables:detail", args=[pk]) + "#checklist")
    context = {
        # What the swap brings up to date besides the item: the versions of the
        # page's forms, the checklist's progress, and the done action (which names
        # the required items still open).
        **_status_context(request.user, deliverable, items, _transition_form(deliverable)),
        "deliverable": deliverable,
        "can_answer": can_change_checklist(request.user, deliverable),
        "checklist_form": form,
        "item": item,
        "field": form[item.field_name],
        "saved": saved,
        "item_errors": form.non_field_errors(),
        "oob": True,
    }
    # htmx swaps only 2xx answers: a refusal is drawn inside the item.
    return render(request, "deliverables/_checklist_item_saved.html", context)


def _versioned(deliverable: Deliverable) -> dict:
    return {"version": deliverable.version}


def _answer(item, value) -> services.ChecklistAnswer:
    """A checklist field's cleaned value as the service takes it, by the item's kind."""
    return services.ChecklistAnswer(
        checked=bool(value) if item.answer_kind == AnswerKind.TICK else False,
        answer=value if item.answer_kind == AnswerKind.TEXT else "",
        link=value if item.answer_kind == AnswerKind.LINK else "",
    )


@require_POST
def link_add(request: HttpRequest, pk: int) -> HttpResponse:
    return _link_add(request, pk)


def _link_add(request: HttpRequest, pk: int) -> HttpResponse:
    deliverable = _updatable_or_403(request, pk)
    form = LinkForm(request.POST)
    if form.is_valid():
        try:
            services.link_add(deliverable=deliverable, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            messages.success(request, _("Link added."))
            return redirect(reverse("deliverables:detail", args=[pk]) + "#links")
    return _detail(request, deliverable, status=422, link_form=form)


@require_http_methods(["GET", "POST"])
def link_remove(request: HttpRequest, pk: int, link_pk: int) -> HttpResponse:
    deliverable = _updatable_or_403(request, pk)
    link = get_object_or_404(DeliverableLink, pk=link_pk, deliverable=deliverable)
    if request.method == "POST":
        try:
            services.link_remove(link=link, actor=request.user)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("Link removed."))
        return redirect(reverse("deliverables:detail", args=[pk]) + "#links")
    return render(
        request, "deliverables/link_confirm.html", {"deliverable": deliverable, "link": link}
    )


@require_POST
def comment_add(request: HttpRequest, pk: int) -> HttpResponse:
    return _comment_add(request, pk)


def _comment_add(request: HttpRequest, pk: int) -> HttpResponse:
    deliverable = _updatable_or_403(request, pk)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.comment_add(
                deliverable=deliverable, actor=request.user, body=form.cleaned_data["body"]
            )
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            messages.success(request, _("Comment added."))
            return redirect(reverse("deliverables:detail", args=[pk]) + "#comments")
    return _detail(request, deliverable, status=422, comment_form=form)


def _own_comment_or_403(request: HttpRequest, deliverable: Deliverable):
    """The comment named in the form, of this deliverable (404 otherwise); only its
    author may change it (403)."""
    asked = CommentQueryForm(request.POST).values()["comment"]
    comment = next((c for c in deliverable.comments.all() if c.pk == asked), None)
    if comment is None:
        raise Http404
    if not can_change_comment(request.user, comment):
        raise PermissionDenied
    return comment


def _comment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    deliverable = _deliverable_or_404(request, pk)
    comment = _own_comment_or_403(request, deliverable)
    form = _comment_edit_form(comment, request.POST)
    if form.is_valid():
        try:
            services.comment_edit(
                comment=comment,
                actor=request.user,
                version=form.cleaned_data["version"],
                body=form.cleaned_data["body"],
            )
        except ValidationError as error:
            fresh = _deliverable_or_404(request, pk)
            again = next((c for c in fresh.comments.all() if c.pk == comment.pk), comment)
            form = form_reoffer(form, _comment_edit_form(again), error)
            form.comment = again
            return _detail(request, fresh, status=_status(error), comment_edit_form=form)
        messages.success(request, _("Comment saved."))
        return redirect(reverse("deliverables:detail", args=[pk]) + f"#comment-{comment.pk}")
    return _detail(request, deliverable, status=422, comment_edit_form=form)


def _comment_delete(request: HttpRequest, pk: int) -> HttpResponse:
    deliverable = _deliverable_or_404(request, pk)
    comment = _own_comment_or_403(request, deliverable)
    version = CommentQueryForm(request.POST).values()["version"]
    try:
        if version is None:  # the version says which text the person chose to delete
            raise ValidationError(_("The form was incomplete; reload the page and try again."))
        services.comment_delete(comment=comment, actor=request.user, version=version)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Comment deleted."))
    return redirect(reverse("deliverables:detail", args=[pk]) + f"#comment-{comment.pk}")


# The forms of the deliverable page, by the name each posts in `form`.
PAGE_FORMS = {
    "status": _transition,
    "checklist": _checklist,
    "link": _link_add,
    "comment": _comment_add,
    "comment_edit": _comment_edit,
    "comment_delete": _comment_delete,
}


# --- planning ---------------------------------------------------------------------------


def _managed_project_or_403(request: HttpRequest, pk: int) -> Project:
    """The project, for its managers: 404 for who may not see it, 403 for who only may."""
    project = Project.objects.visible_to(request.user).filter(pk=pk).first()
    if project is None:
        raise Http404
    if not can_manage_project(request.user, project):
        raise PermissionDenied
    return project


def _add_errors_by_field(form, error: ValidationError) -> None:
    """A service's refusal on the form: next to the field it names, when the form has
    that field (the model's checks name theirs), else above the form."""
    if not hasattr(error, "error_dict"):
        form_add_service_errors(form, error)
        return
    for field, errors in error.error_dict.items():
        for message in ValidationError(errors).messages:
            form.add_error(field if field in form.fields else None, message)


@require_http_methods(["GET", "POST"])
def deliverable_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Managers add one deliverable of any type (or "Other") to the project, at any time."""
    project = _managed_project_or_403(request, pk)
    if project.is_archived:
        messages.error(request, services.ARCHIVED_MESSAGE)
        return redirect("roles:project_detail", pk=pk)
    form = DeliverableAddForm(
        request.POST or None,
        owners=selectors.owner_choices(project=project),
        initial={"type": request.GET.get("type")},
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                deliverable = services.deliverable_add(
                    project=project, actor=request.user, **form.cleaned_data
                )
            except ValidationError as error:
                _add_errors_by_field(form, error)
                status = _status(error)
            else:
                messages.success(
                    request,
                    _("%(deliverable)s added to the project.") % {"deliverable": deliverable.label},
                )
                return redirect("deliverables:detail", pk=deliverable.pk)
        else:
            status = 422
    return render(
        request,
        "deliverables/deliverable_add.html",
        {"project": project, "form": form},
        status=status,
    )


@require_http_methods(["GET", "POST"])
def project_plan(request: HttpRequest, pk: int) -> HttpResponse:
    project = _managed_project_or_403(request, pk)
    if project.is_archived:
        messages.error(request, _("This project is archived; its deliverables cannot be changed."))
        return redirect("roles:project_detail", pk=pk)
    owners = list(selectors.owner_choices(project=project))
    include_cancelled = bool(PlanQueryForm(request.GET).values()["cancelled"])
    proposal = selectors.plan_proposal(project=project, include_cancelled=include_cancelled)
    formset = PlanFormSet(
        request.POST or None,
        initial=proposal,
        owners=owners,
        types=[row["type"] for row in proposal],
        prefix="plan",
    )
    status = 200
    if request.method == "POST":
        if formset.is_valid():
            rows = [
                services.PlannedDeliverable(
                    type=row["type"],
                    title=row["title"],
                    owner=row["owner"],
                    due_date=row["due_date"],
                )
                for row in formset.cleaned_data
                if row.get("include")
            ]
            version_form = PlanVersionForm(request.POST)
            version_ok = version_form.is_valid()
            version = version_form.cleaned_data.get("version")
            if not rows:
                messages.error(request, _("Tick at least one deliverable to plan."))
                status = 422
            elif version_ok:
                try:
                    created = services.deliverables_plan(
                        project=project, actor=request.user, version=version, rows=rows
                    )
                except ValidationError as error:
                    for message in error.messages:
                        messages.error(request, message)
                    status = _status(error)
                    project.refresh_from_db()
                else:
                    planned = ngettext(
                        "%(count)s deliverable planned.",
                        "%(count)s deliverables planned.",
                        len(created),
                    )
                    messages.success(request, planned % {"count": len(created)})
                    return redirect(reverse("deliverables:list") + f"?project={project.pk}")
            else:
                messages.error(
                    request, _("The form was incomplete; reload the page and try again.")
                )
                status = 422
        else:
            status = 422
    types = {t.pk: t for t in DeliverableType.objects.select_related("role")}
    cancelled_before = {row["type"] for row in proposal if row["cancelled_before"]}
    rows = [
        (
            form,
            types.get(_int(form["type"].value())),
            _int(form["type"].value()) in cancelled_before,
        )
        for form in formset.forms
    ]
    return render(
        request,
        "deliverables/project_plan.html",
        {
            "project": project,
            "formset": formset,
            "rows": rows,
            "version": project.version,
            "include_cancelled": include_cancelled,
            # Joined here, as the reader's language lists things ("A, B" / "A、B").
            "cancelled_types": ""
            if include_cancelled
            else _(", ").join(
                str(t.display_name) for t in selectors.plan_cancelled_types(project=project)
            ),
        },
        status=status,
    )


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _portfolio_reader(request: HttpRequest) -> None:
    """The portfolio is for managers and admins (PermissionDenied for others)."""
    if not (is_manager(request.user) or is_admin(request.user)):
        raise PermissionDenied(
            _("The portfolio dashboard is for managers and admins. Your home page shows your work.")
        )


@require_GET
def portfolio_dashboard(request: HttpRequest) -> HttpResponse:
    """Managers and admins: where the projects they may see stand. The workload and
    the recent activity are fetched by the page once drawn (portfolio_activity)."""
    _portfolio_reader(request)
    today, page_number = timezone.localdate(), QueryForm(request.GET).values()["page"] or 1
    scope = KeptScope(partial(roles_selectors.dashboard_scope, user=request.user))
    # ("portfolio-projects": entries from before the workload and activity moved out
    # are not read.)
    dashboard = cached(
        "portfolio-projects",
        request.user,
        (today, page_number),
        lambda: selectors.portfolio_dashboard(
            user=request.user, today=today, page_number=page_number, visible=scope.ids()
        ),
        scope,
    )
    status_chart = {
        "projects": [project.name for project in dashboard.projects],
        "series": [
            {
                "status": status,
                "label": str(label),
                "counts": [project.count_of(status) for project in dashboard.projects],
            }
            for status, label in DeliverableStatus.choices
        ],
    }
    overdue_chart = {
        "label": _("Overdue"),
        "roles": [row.role_name for row in dashboard.overdue_by_role],
        "counts": [row.count for row in dashboard.overdue_by_role],
    }
    return render(
        request,
        "deliverables/dashboard_portfolio.html",
        {
            "dashboard": dashboard,
            "page_obj": dashboard.page,
            "status_chart": status_chart,
            "overdue_chart": overdue_chart,
        },
    )


@require_GET
def portfolio_activity(request: HttpRequest) -> HttpResponse:
    """The portfolio's workload and recent activity, fetched by the portfolio once it
    is drawn, so that its first answer does not wait for them. Cached like the
    portfolio, under the same versions. Without JavaScript the portfolio links here,
    and this answers a page of its own."""
    _portfolio_reader(request)
    today = timezone.localdate()
    scope = KeptScope(partial(roles_selectors.dashboard_scope, user=request.user))
    sections = cached(
        "portfolio-activity",
        request.user,
        (today,),
        lambda: selectors.portfolio_activity(user=request.user, today=today, visible=scope.ids()),
        scope,
    )
    template = (
        "deliverables/_portfolio_activity.html"
        if request.htmx
        else "deliverables/portfolio_activity.html"
    )
    return render(request, template, {"sections": sections})


@require_http_methods(["GET", "POST"])
def reminder_preferences(request: HttpRequest) -> HttpResponse:
    preference = reminders.preference_for(request.user)
    form = ReminderPreferenceForm(request.POST or None, instance=preference)
    status = 422 if request.method == "POST" else 200
    if request.method == "POST" and form.is_valid():
        changes = form.changes()
        try:
            services.reminder_preference_update(
                user=request.user, changes=changes, version=form.cleaned_data["version"]
            )
        except ValidationError as error:
            status = _status(error)
            saved = ReminderPreference.objects.filter(user=request.user).first()
            fresh = ReminderPreferenceForm(
                instance=saved or reminders.default_preference(request.user)
            )
            form = form_reoffer(form, fresh, error)
        else:
            if "time_zone" in changes:
                remember_time_zone(request.session, changes["time_zone"])  # from the next page on
            messages.success(request, _("Reminder settings saved."))
            return redirect("deliverables:reminder_preferences")
    return render(
        request,
        "deliverables/reminder_preferences.html",
        {"form": form},
        status=status,
    )


# --- the person's interface language ------------------------------------------------------


@login_not_required
def language_switch(request: HttpRequest) -> HttpResponse:
    """Django's set_language; a signed-in person's choice is also remembered, for
    their emails and their next browser."""
    response = set_language(request)
    chosen = response.cookies.get(settings.LANGUAGE_COOKIE_NAME)
    if chosen is not None and request.user.is_authenticated:
        services.interface_language_remember(user=request.user, language=chosen.value)
    return response
