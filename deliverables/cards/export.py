"""A card as one Markdown document: its title, the deliverable's facts, then each
section with its questions and answers, an unanswered one said as such. Worded in
the reader's language; the answers are the markdown people typed, as they typed it."""

from __future__ import annotations

from django.utils import formats, timezone
from django.utils.text import slugify
from django.utils.translation import gettext

from deliverables.models import Deliverable
from mlteam.people import person_name

from .selectors import CardView


def _line(text: str) -> str:
    """A typed one-line value (a title) kept on one line of the document."""
    return " ".join(str(text).split())


def card_markdown(*, deliverable: Deliverable, view: CardView) -> str:
    completeness = view.completeness
    facts = [
        (gettext("Kind"), view.template.get_kind_display()),
        (gettext("Template"), view.template.display_name),
        (gettext("Project"), deliverable.project.name),
        (gettext("Owner"), person_name(deliverable.owner) if deliverable.owner else "—"),
        (gettext("Status"), deliverable.status_label),
        (
            gettext("Due"),
            formats.date_format(deliverable.due_date, "DATE_FORMAT")
            if deliverable.due_date
            else "—",
        ),
    ]
    if view.template.subject_type_id is not None:
        subject = view.link.subject if view.link is not None else None
        facts.append((gettext("Describes"), subject.label if subject else gettext("nothing yet")))
    facts.append(
        (
            gettext("Completeness"),
            gettext("%(percent)s%% (%(answered)s of %(prompts)s questions answered)")
            % {
                "percent": completeness.percent,
                "answered": completeness.answered,
                "prompts": completeness.prompts,
            },
        )
    )
    if view.link is not None and view.link.needs_review:
        facts.append((gettext("Needs review"), view.link.review_reason or "—"))
    facts.append((gettext("Exported"), formats.date_format(timezone.localdate(), "DATE_FORMAT")))
    lines = [f"# {_line(deliverable.label)}", ""]
    lines += [f"- **{name}:** {_line(value)}" for name, value in facts]
    for n, (section, done) in enumerate(view.rows, start=1):
        lines += [
            "",
            f"## {n}. {_line(section.section.display_title)}",
            "",
            "_"
            + gettext("%(answered)s of %(prompts)s answered")
            % {"answered": done.answered, "prompts": done.prompts}
            + "_",
        ]
        for prompt in section.prompts:
            if prompt.question is not None:
                lines += ["", f"### {_line(prompt.question.display_text)}"]
            lines += [
                "",
                prompt.answer.strip()
                if prompt.answer.strip()
                else "_" + gettext("Not answered yet.") + "_",
            ]
    return "\n".join(lines) + "\n"


def card_filename(deliverable: Deliverable) -> str:
    """A safe file name for the export: letters, digits and dashes only."""
    stem = slugify(f"{deliverable.type.name} {deliverable.title}")[:80].strip("-")
    return f"{stem or 'card'}-{deliverable.pk}.md"
