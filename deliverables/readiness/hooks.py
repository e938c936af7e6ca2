"""What readiness adds to deliverables through `deliverables.extensions`: the done
gate, the rubric on the deliverable page, the scores on the project page and the
portfolio, and the wording of its history entries. Registered in apps.py."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from deliverables.extensions import Panel, PortfolioCell

from . import selectors, services
from .forms import RubricMarkForm
from .models import Mark, format_score, missing_label
from .permissions import can_mark_rubric


def _missing(view: selectors.RubricView) -> list[dict]:
    """The items that keep the score below what is needed: in each section scoring
    less than the required score, those not automated yet."""
    required = view.score.required
    missing = []
    for section, scored in zip(view.sections, view.score.sections, strict=True):
        if not scored.items or scored.points >= required:
            continue
        for item in section.items.all():
            mark = item.mark_row.mark if item.mark_row is not None else Mark.NOT_DONE
            if mark != Mark.AUTOMATED:
                missing.append({"section": section.name, "item": item.text, "mark": str(mark)})
    return missing


class ReadinessGate:
    """Done needs the rubric's score (its lowest section's) at the type's required
    score; below it, a manager's reason records a waiver naming the missing items."""

    name = "readiness"
    code = "readiness_below"

    def _view(self, deliverable):
        view = selectors.deliverable_rubric(deliverable=deliverable)
        if view is None or view.score.ready:
            return None
        return view

    def blockers(self, deliverable) -> list[str]:
        view = self._view(deliverable)
        if view is None:
            return []
        missing = [missing_label(entry) for entry in _missing(view)]
        summary = gettext("Readiness score %(score)s of %(required)s needed") % {
            "score": format_score(view.score.overall),
            "required": format_score(view.score.required),
        }
        return [summary, *missing]

    def refusal(self, deliverable, blockers: list[str]) -> str:
        view = selectors.deliverable_rubric(deliverable=deliverable)
        return gettext(
            "The readiness score is %(score)s; %(required)s is needed to mark it done. Raise "
            "the sections below it, or record a waiver: give a reason to mark it done anyway."
        ) % {
            "score": format_score(view.score.overall if view else None),
            "required": format_score(view.score.required if view else None),
        }

    def waive(self, *, deliverable, actor, reason: str, blockers: list[str]) -> list[tuple]:
        view = self._view(deliverable)
        if view is None:
            return []
        _waiver, changes = services.rubric_waiver_record(
            deliverable=deliverable,
            actor=actor,
            reason=reason,
            score=view.score,
            missing=_missing(view),
        )
        return changes


def rubric_context(*, request, deliverable, view=None, forms=None) -> dict | None:
    """What the rubric's templates draw: the rubric, each item's form (for those who
    may mark) or its mark, the score."""
    view = view or selectors.deliverable_rubric(deliverable=deliverable)
    if view is None:
        return None
    can_mark = can_mark_rubric(request.user, deliverable)
    forms = forms or {}
    for section in view.sections:
        for item in section.items.all():
            item.form = forms.get(item.pk) or (
                RubricMarkForm.for_item(item, deliverable) if can_mark else None
            )
    return {
        "deliverable": deliverable,
        "rubric": view.rubric,
        "sections": list(zip(view.sections, view.score.sections, strict=True)),
        "score": view.score,
        "overall": format_score(view.score.overall),
        "required": format_score(view.score.required),
        "waiver": view.waiver,
        "can_mark": can_mark,
    }


class RubricPanel:
    name = "readiness"

    def panel(self, *, request, deliverable) -> Panel | None:
        context = rubric_context(request=request, deliverable=deliverable)
        if context is None:
            return None
        return Panel("readiness/_rubric_panel.html", context)


class ProjectReadinessPanel:
    name = "readiness"

    def panel(self, *, user, project) -> Panel | None:
        rows, total = selectors.project_readiness(project_id=project.pk)
        if not total:
            return None
        return Panel(
            "readiness/_project_readiness.html",
            {"rows": rows, "total": total, "project_id": project.pk},
        )


class PortfolioReadinessColumn:
    name = "readiness"
    heading = _("Ready")

    def cells(self, *, project_ids: list[int]) -> dict[int, PortfolioCell]:
        found = selectors.portfolio_readiness(project_ids=project_ids)
        cells = {}
        for project_id, (ready, total) in found.items():
            cells[project_id] = PortfolioCell(
                text=gettext("%(ready)s of %(total)s") % {"ready": ready, "total": total},
                url=reverse("roles:project_panels", args=[project_id]) + "#readiness-heading",
                attention=ready < total,
            )
        return cells


def _mark_words(value: dict) -> str:
    mark = value.get("mark", "")
    label = str(Mark(mark).label) if mark in Mark.values else mark
    words = f"{gettext(value.get('rubric_item', ''))}: {label}"
    if value.get("score"):
        words += " " + gettext("(score %(score)s)") % {"score": value["score"]}
    return words


HISTORY_ITEMS = 3


def _waiver_words(value: dict) -> str:
    # The waiver on the deliverable names every item; its history entry the first few.
    named = [missing_label(entry) for entry in value.get("items", [])]
    items = "; ".join(named[:HISTORY_ITEMS])
    if len(named) > HISTORY_ITEMS:
        items += " " + ngettext(
            "and %(count)s more", "and %(count)s more", len(named) - HISTORY_ITEMS
        ) % {"count": len(named) - HISTORY_ITEMS}
    words = gettext("score %(score)s of %(required)s needed") % {
        "score": value.get("score", "—"),
        "required": value.get("required", "—"),
    }
    if items:
        words += " — " + gettext("missing: %(items)s") % {"items": items}
    if value.get("waiver"):
        words += " — " + gettext("reason: %(reason)s") % {"reason": value["waiver"]}
    return words


HISTORY_VALUES = {"rubric": _mark_words, "rubric_waiver": _waiver_words}
