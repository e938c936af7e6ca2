"""The card's pages: the card of one deliverable with a form per section (its
summary is a panel of the deliverable's page, hooks.CardPanel), the saves of a
section, of the link and of a review, the Markdown export and the printable page.

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
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from deliverables import selectors as deliverable_selectors
from deliverables.models import Deliverable

from . import hooks, selectors, services
from .export import card_filename, card_markdown
from .forms import CardLinkForm, CardReviewForm, CardSectionForm
from .permissions import can_confirm_card_review, can_edit_card


def _deliverable_or_404(request: HttpRequest, pk: int) -> Deliverable:
    deliverable = deliverable_selectors.deliverable_get_for_user(user=request.user, pk=pk)
    if deliverable is None:
        raise Http404
    return deliverable


def _card_or_404(deliverable: Deliverable) -> selectors.CardView:
    view = selectors.deliverable_card(deliverable=deliverable)
    if view is None:
        raise Http404
    return view


def _page(request, deliverable, status=200, **kwargs) -> HttpResponse:
    context = hooks.card_context(request=request, deliverable=deliverable, **kwargs)
    return render(request, "cards/card_page.html", context, status=status)


def _back(pk: int, anchor: str = "") -> HttpResponse:
    return redirect(reverse("cards:card", args=[pk]) + (f"#{anchor}" if anchor else ""))


@require_GET
def card_page(request: HttpRequest, pk: int) -> HttpResponse:
    deliverable = _deliverable_or_404(request, pk)
    view = _card_or_404(deliverable)
    return _page(request, deliverable, view=view)


@require_POST
def card_section_save(request: HttpRequest, pk: int, section_pk: int) -> HttpResponse:
    """One section's answers saved; refused, the page again with the person's text
    kept, what is saved now beside it, and the current version to save over it."""
    deliverable = _deliverable_or_404(request, pk)
    view = _card_or_404(deliverable)
    if not can_edit_card(request.user, deliverable):
        raise PermissionDenied
    section = next((s for s in view.sections if s.section.pk == section_pk), None)
    if section is None:
        raise Http404
    form = CardSectionForm.for_section(section, data=request.POST)
    status = 422
    if form.is_valid():
        try:
            services.card_answer_save(
                deliverable=deliverable,
                section=section.section,
                actor=request.user,
                answers=form.answers(),
                version=form.cleaned_data["version"],
            )
        except ValidationError as error:
            status = 409 if getattr(error, "code", None) == "stale" else 422
            fresh_view = _card_or_404(deliverable)
            fresh = next((s for s in fresh_view.sections if s.section.pk == section_pk), None)
            if fresh is None:  # the section left the template meanwhile
                for message in error.messages:
                    messages.error(request, message)
                return _back(pk)
            for message in error.messages:
                form.add_error(None, message)
            form.data = form.data.copy()
            form.data[form.add_prefix("version")] = fresh.version
            form.current = fresh
        else:
            messages.success(
                request,
                _("Saved: %(section)s.") % {"section": section.section.display_title},
            )
            return _back(pk, f"card-section-{section_pk}")
    return _page(request, deliverable, status=status, forms={section_pk: form})


@require_POST
def card_link(request: HttpRequest, pk: int) -> HttpResponse:
    deliverable = _deliverable_or_404(request, pk)
    view = _card_or_404(deliverable)
    if not can_edit_card(request.user, deliverable) or view.template.subject_type_id is None:
        raise PermissionDenied
    choices = selectors.subject_choices(
        user=request.user, deliverable=deliverable, template=view.template
    )
    form = CardLinkForm(request.POST, choices=choices)
    status = 422
    if form.is_valid():
        try:
            services.card_link_set(
                deliverable=deliverable,
                actor=request.user,
                subject=form.cleaned_data["subject"],
                version=form.cleaned_data["version"],
            )
        except ValidationError as error:
            status = 409 if getattr(error, "code", None) == "stale" else 422
            for message in error.messages:
                form.add_error(None, message)
            # Offered again over the link as it is now (its version), the choice kept.
            current = selectors.deliverable_card(deliverable=deliverable).link
            form.data = form.data.copy()
            form.data["version"] = current.version if current is not None else 1
        else:
            messages.success(request, _("The card's link is saved."))
            return _back(pk, "card-link")
    return _page(
        request, deliverable, status=status, view=_card_or_404(deliverable), link_form=form
    )


@require_POST
def card_review(request: HttpRequest, pk: int) -> HttpResponse:
    deliverable = _deliverable_or_404(request, pk)
    _card_or_404(deliverable)
    if not can_confirm_card_review(request.user, deliverable):
        raise PermissionDenied
    form = CardReviewForm(request.POST)
    if form.is_valid():
        try:
            services.card_review_confirm(
                deliverable=deliverable, actor=request.user, version=form.cleaned_data["version"]
            )
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
            return _back(pk, "card-review")
        messages.success(request, _("Review confirmed: the card no longer needs review."))
        return _back(pk)
    messages.error(request, _("That form was out of date. Check the card and try again."))
    return _back(pk, "card-review")


@require_GET
def card_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The card as one Markdown document, downloaded."""
    deliverable = _deliverable_or_404(request, pk)
    view = _card_or_404(deliverable)
    response = HttpResponse(
        card_markdown(deliverable=deliverable, view=view),
        content_type="text/markdown; charset=utf-8",
    )
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=card_filename(deliverable)
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
def card_print(request: HttpRequest, pk: int) -> HttpResponse:
    """The card on a page made for printing: no navigation, no forms."""
    deliverable = _deliverable_or_404(request, pk)
    view = _card_or_404(deliverable)
    return render(
        request,
        "cards/card_print.html",
        {
            "deliverable": deliverable,
            "template": view.template,
            "sections": view.rows,
            "completeness": view.completeness,
            "link": view.link,
        },
    )
