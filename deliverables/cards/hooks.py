"""What cards add to deliverables through `deliverables.extensions`: the card's
summary on the deliverable page, the cards' completeness on the project page, and
the wording of its history entries. Registered in apps.py."""

from __future__ import annotations

from django.utils.translation import gettext

from deliverables.extensions import Panel
from deliverables.models import deliverable_label

from . import selectors
from .forms import CardLinkForm, CardReviewForm, CardSectionForm
from .models import review_words
from .permissions import can_confirm_card_review, can_edit_card


def card_context(
    *, request, deliverable, view=None, forms=None, link_form=None, review_form=None
) -> dict | None:
    """What the card's templates draw: the template, each section with its answers,
    its completeness and (for those who may edit) its form, the link and its review."""
    view = view or selectors.deliverable_card(deliverable=deliverable)
    if view is None:
        return None
    can_edit = can_edit_card(request.user, deliverable)
    forms = forms or {}
    for section in view.sections:
        section.form = forms.get(section.section.pk) or (
            CardSectionForm.for_section(section) if can_edit else None
        )
    link = view.link
    link_version = link.version if link is not None else 1
    if can_edit and view.template.subject_type_id is not None and link_form is None:
        link_form = CardLinkForm(
            initial={"version": link_version, "subject": link.subject_id if link else None},
            choices=selectors.subject_choices(
                user=request.user, deliverable=deliverable, template=view.template
            ),
        )
    needs_review = link is not None and link.needs_review
    if needs_review and review_form is None and can_confirm_card_review(request.user, deliverable):
        review_form = CardReviewForm(initial={"version": link_version})
    return {
        "deliverable": deliverable,
        "template": view.template,
        "sections": view.rows,
        "completeness": view.completeness,
        "link": link,
        "needs_review": needs_review,
        "can_edit": can_edit,
        "link_form": link_form if can_edit else None,
        "review_form": review_form if needs_review else None,
    }


class CardPanel:
    name = "cards"

    def panel(self, *, request, deliverable) -> Panel | None:
        view = selectors.deliverable_card(deliverable=deliverable)
        if view is None:
            return None
        return Panel(
            "cards/_card_panel.html",
            {
                "deliverable": deliverable,
                "template": view.template,
                "completeness": view.completeness,
                "link": view.link,
                "needs_review": view.link is not None and view.link.needs_review,
            },
        )


class ProjectCardsPanel:
    name = "cards"

    def panel(self, *, user, project) -> Panel | None:
        rows, total = selectors.project_cards(project_id=project.pk)
        if not total:
            return None
        return Panel("cards/_project_cards.html", {"rows": rows, "total": total})


def _section_words(value: dict) -> str:
    return gettext("%(section)s (%(answered)s of %(prompts)s answered)") % {
        "section": gettext(value.get("card_section", "")),
        "answered": value.get("answered", 0),
        "prompts": value.get("prompts", 0),
    }


def _subject_words(value: dict) -> str:
    name = value.get("card_subject", "")
    return deliverable_label(gettext(name) if name else "", value.get("title", ""))


def _review_words(value: dict) -> str:
    if "flagged" in value:
        reason = review_words(value["flagged"], value.get("change"))
        return (
            gettext("flagged for review: %(reason)s") % {"reason": reason}
            if reason
            else (gettext("flagged for review"))
        )
    return gettext("confirmed the card after review")


HISTORY_VALUES = {"card": _section_words, "card_link": _subject_words, "card_review": _review_words}
