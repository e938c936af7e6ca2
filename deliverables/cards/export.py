"""A card as one Markdown document: its title, the deliverable's facts, then each
section with its questions and answers, an unanswered one said as such. Worded in
the reader's language; the answers are the markdown people typed, made inert.

The file is opened in Markdown viewers, many of which render raw HTML and follow
any link. So everything typed (answers, titles, the review reason) goes through
`inert_markdown`: outside code blocks "&" and "<" become entities (they read the
same, yet no tag or entity trick survives), and a link whose address names a
scheme other than http, https or mailto has its colon percent-encoded (a harmless
relative address); an image is a link to it, as on the site (nothing is fetched
from someone else's server when the file is opened). Code blocks, as CommonMark
finds them, stay exactly as typed; inline code shows "&lt;" for "<" (the one
visible cost).
"""

from __future__ import annotations

import re
from functools import lru_cache

from django.utils import formats, timezone
from django.utils.text import slugify
from django.utils.translation import gettext

from deliverables.models import Deliverable
from mlteam.people import person_name

from .selectors import CardView

SAFE_SCHEMES = ("http", "https", "mailto")
# A link's address after "](" (inline links and images) or "]:" (a reference's
# definition), possibly on the next line.
_DESTINATION = re.compile(r"(\]\(|\]:)(\s*)([^\s)]+)")
# An image's "![" not escaped already (an even run of backslashes before it).
_IMAGE = re.compile(r"(?<!\\)((?:\\\\)*)!\[")


@lru_cache(maxsize=1)
def _parser():
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False})


def _code_lines(text: str) -> set[int]:
    """The lines CommonMark reads as code (fenced or indented blocks)."""
    lines: set[int] = set()
    for token in _parser().parse(text):
        if token.type in ("fence", "code_block") and token.map:
            lines.update(range(token.map[0], token.map[1]))
    return lines


def _safe_destination(match: re.Match) -> str:
    opener, space, address = match.groups()
    head = re.split(r"[/?#]", address, maxsplit=1)[0]
    if ":" in head:
        scheme = head.split(":", 1)[0].replace("\\", "").strip().lower()
        if scheme not in SAFE_SCHEMES:
            address = address.replace(":", "%3A", 1)
    return f"{opener}{space}{address}"


def _inert_text(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;")
    text = _IMAGE.sub(r"\1\\![", text)  # an image reads as a link, as on the site
    return _DESTINATION.sub(_safe_destination, text)


def inert_markdown(text: str) -> str:
    """Typed markdown that renders the same in any CommonMark viewer, but with no raw
    HTML, entity trick or script link left in it (see the module's docstring)."""
    text = str(text).replace("\r\n", "\n").replace("\r", "\n")  # lines as the parser counts
    code = _code_lines(text)
    if not code:
        return _inert_text(text)
    lines = text.split("\n")
    out: list[str] = []
    prose: list[str] = []
    for number, line in enumerate(lines):
        if number in code:
            if prose:
                out.append(_inert_text("\n".join(prose)))
                prose = []
            out.append(line)
        else:
            prose.append(line)
    if prose:
        out.append(_inert_text("\n".join(prose)))
    return "\n".join(out)


def _line(text: str) -> str:
    """A typed one-line value (a title) kept on one line of the document, inert."""
    return _inert_text(" ".join(str(text).split()))


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
        facts.append((gettext("Needs review"), view.link.review_words or "—"))
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
                inert_markdown(prompt.answer.strip())
                if prompt.answer.strip()
                else "_" + gettext("Not answered yet.") + "_",
            ]
    return "\n".join(lines) + "\n"


def card_filename(deliverable: Deliverable) -> str:
    """A safe file name for the export: letters, digits and dashes only."""
    stem = slugify(f"{deliverable.type.name} {deliverable.title}")[:80].strip("-")
    return f"{stem or 'card'}-{deliverable.pk}.md"
