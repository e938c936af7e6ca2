"""The readiness rubric's pages: the rubric of one deliverable (also drawn as a
panel of the deliverable's page, hooks.RubricPanel) and the save of one item's mark.

Fetched through deliverables' selectors (404 for what the reader may not see),
checked against `permissions` (403 for what they see but may not change), validated
by a form, saved by one service.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from deliverables import selectors as deliverable_selectors
from deliverables.models import Deliverable
from deliverables.permissions import can_update_deliverable
from deliverables.views import done_action_context

from . import hooks, selectors, services
from .forms import RubricMarkForm


def _deliverable_or_404(request: HttpRequest, pk: int) -> Deliverable:
    deliverable = deliverable_selectors.deliverable_get_for_user(user=request.user, pk=pk)
    if deliverable is None:
        raise Http404
    return deliverable


def _item_of(view: selectors.RubricView | None, item_pk: int):
    if view is not None:
        for section in view.sections:
            for item in section.items.all():
                if item.pk == item_pk:
                    return item
    raise Http404


@require_GET
def rubric_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The deliverable's rubric on a page of its own (printable; the forms' answer
    without JavaScript)."""
    deliverable = _deliverable_or_404(request, pk)
    context = hooks.rubric_context(request=request, deliverable=deliverable)
    if context is None:
        raise Http404
    return render(request, "readiness/rubric_page.html", context)


@require_POST
def rubric_mark(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    """One item's mark saved (htmx: the item drawn again, saved or with what refused
    it, and the scores brought up to date; else back to the deliverable's page, or
    the rubric's page with the input kept when refused)."""
    deliverable = _deliverable_or_404(request, pk)
    if not can_update_deliverable(request.user, deliverable):
        raise PermissionDenied
    view = selectors.deliverable_rubric(deliverable=deliverable)
    item = _item_of(view, item_pk)
    form = RubricMarkForm.for_item(item, deliverable, data=request.POST)
    saved = False
    status = 422
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.rubric_mark_save(
                deliverable=deliverable,
                item=item,
                actor=request.user,
                mark=data["mark"],
                evidence_url=data["evidence_url"],
                evidence_note=data["evidence_note"],
                version=data["version"],
            )
        except ValidationError as error:
            status = 409 if getattr(error, "code", None) == "stale" else 422
            for message in error.messages:
                form.add_error(None, message)
            # Redrawn with the mark as saved now (its version), the input kept.
            fresh_view = selectors.deliverable_rubric(deliverable=deliverable)
            fresh_item = _item_of(fresh_view, item_pk)
            fresh = RubricMarkForm.for_item(fresh_item, deliverable)
            form.data = form.data.copy()
            form.data[fresh.add_prefix("version")] = fresh.initial["version"]
            form.current = fresh_item.mark_row
        else:
            saved = True
    forms = {} if saved else {item_pk: form}
    deliverable = _deliverable_or_404(request, pk)  # its status and version as now
    context = hooks.rubric_context(request=request, deliverable=deliverable, forms=forms)
    if not request.htmx:
        if saved:
            messages.success(request, _("Mark saved."))
            return redirect(reverse("deliverables:detail", args=[pk]) + "#readiness")
        return render(request, "readiness/rubric_page.html", context, status=status)
    drawn = next(
        candidate
        for section, _score in context["sections"]
        for candidate in section.items.all()
        if candidate.pk == item_pk
    )
    # A saved mark may move the score across what done needs: the done action (its
    # waiver box and the items it names) is drawn again beside the score.
    done = done_action_context(request.user, deliverable) if saved else {}
    # htmx swaps only 2xx answers: a refusal is drawn inside the item.
    return render(
        request,
        "readiness/_rubric_item_saved.html",
        {**done, **context, "item": drawn, "saved": saved, "oob": True},
    )
